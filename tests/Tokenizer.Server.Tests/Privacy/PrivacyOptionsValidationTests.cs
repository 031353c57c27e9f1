using Microsoft.Extensions.Hosting;
using NSubstitute;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Privacy;

namespace Tokenizer.Server.Tests.Privacy;

/// <summary>Start-up refuses retention settings out of range and the erasure fail point outside Development; messages name the setting.</summary>
public sealed class PrivacyOptionsValidationTests
{
    public static TheoryData<int, int, int, string?> Cases => new()
    {
        // revoked tokens days, idempotency days, purge interval, the failure expected (null: valid)
        { 365, 30, 3600, null },
        { 1, 1, 60, null },
        { 0, 30, 3600, "Tokenizer:Privacy:RevokedTokenRetentionDays must be between 1 and 3650." },
        { 3651, 30, 3600, "Tokenizer:Privacy:RevokedTokenRetentionDays must be between 1 and 3650." },
        { 365, 0, 3600, "Tokenizer:Privacy:IdempotencyRetentionDays must be between 1 and 3650." },
        { 365, 30, 59, "Tokenizer:Privacy:PurgeIntervalSeconds must be between 60 and 86400." },
        { 365, 30, 86401, "Tokenizer:Privacy:PurgeIntervalSeconds must be between 60 and 86400." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_RetentionSettings(int revokedDays, int idempotencyDays, int interval, string? expected)
    {
        var options = new PrivacyOptions { RevokedTokenRetentionDays = revokedDays, IdempotencyRetentionDays = idempotencyDays, PurgeIntervalSeconds = interval };

        var result = new PrivacyOptionsValidator().Validate(null, options);

        if (expected is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.Equal([expected], result.Failures);
        }
    }

    [Theory]
    [InlineData("Development", "kill-erasure-after-first-detach", true)]
    [InlineData("Production", "kill-erasure-after-first-detach", false)]
    [InlineData("Development", "kill-erasure-somewhere-else", false)]
    public void Validate_ErasureFailPoint_DevelopmentOnly(string environmentName, string failPoint, bool valid)
    {
        var environment = Substitute.For<IHostEnvironment>();
        environment.EnvironmentName.Returns(environmentName);
        var options = new TokenizerOptions { FailPoint = failPoint };

        var result = new TokenizerOptionsValidator(environment).Validate(null, options);

        Assert.Equal(valid, !result.Failures?.Any(f => f.StartsWith("Tokenizer:FailPoint", StringComparison.Ordinal)) ?? true);
    }
}
