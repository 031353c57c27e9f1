using Tokenizer.Server.Events;

namespace Tokenizer.Server.Tests.Events;

public sealed class TokenEventOptionsValidatorTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var result = new TokenEventOptionsValidator().Validate(null, new TokenEventOptions());

        Assert.True(result.Succeeded);
        Assert.Equal(TimeSpan.FromDays(30), new TokenEventOptions().Retention);
    }

    [Theory]
    [InlineData(0.5, 1000, 4, "Tokenizer:TokenEvents:Retention")]
    [InlineData(3651 * 24.0, 1000, 4, "Tokenizer:TokenEvents:Retention")]
    [InlineData(24.0, 99, 4, "Tokenizer:TokenEvents:WatchPollIntervalMilliseconds")]
    [InlineData(24.0, 60001, 4, "Tokenizer:TokenEvents:WatchPollIntervalMilliseconds")]
    [InlineData(24.0, 1000, 0, "Tokenizer:TokenEvents:MaxWatchesPerCaller")]
    [InlineData(24.0, 1000, 65, "Tokenizer:TokenEvents:MaxWatchesPerCaller")]
    public void Validate_OutOfRange_FailsNamingTheSetting(double retentionHours, int pollMs, int maxWatches, string setting)
    {
        var options = new TokenEventOptions
        {
            Retention = TimeSpan.FromHours(retentionHours),
            WatchPollIntervalMilliseconds = pollMs,
            MaxWatchesPerCaller = maxWatches,
        };

        var result = new TokenEventOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failure = Assert.Single(result.Failures!);
        Assert.StartsWith(setting + " ", failure, StringComparison.Ordinal);
    }
}
