using Microsoft.Extensions.Hosting;
using NSubstitute;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Tests.Hosting;

/// <summary>Start-up refuses recovery settings that would race live requests or never run; messages name the setting.</summary>
public sealed class RecoveryOptionsValidationTests
{
    public static TheoryData<int, int, int, int, string?> Cases => new()
    {
        // lease, interval, grace, batch, the failure expected (null: valid)
        { 120, 60, 600, 100, null },
        { 120, 60, 120, 100, null },                                                  // grace equal to the lease
        { 120, 60, 119, 100, "Tokenizer:Recovery:GracePeriodSeconds must be at least" }, // would take over live claims
        { 1, 60, 86401, 100, "Tokenizer:Recovery:GracePeriodSeconds must be at least" },
        { 120, 0, 600, 100, "Tokenizer:Recovery:IntervalSeconds must be between 1 and 86400." },
        { 120, 86401, 600, 100, "Tokenizer:Recovery:IntervalSeconds must be between 1 and 86400." },
        { 120, 60, 600, 0, "Tokenizer:Recovery:BatchSize must be between 1 and 1000." },
        { 120, 60, 600, 1001, "Tokenizer:Recovery:BatchSize must be between 1 and 1000." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_RecoverySettings(int lease, int interval, int grace, int batch, string? expected)
    {
        var environment = Substitute.For<IHostEnvironment>();
        environment.EnvironmentName.Returns(Environments.Development);
        var options = new TokenizerOptions
        {
            PendingLeaseSeconds = lease,
            Recovery = new RecoveryOptions { IntervalSeconds = interval, GracePeriodSeconds = grace, BatchSize = batch },
        };

        var result = new TokenizerOptionsValidator(environment).Validate(null, options);

        if (expected is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.True(result.Failed);
            Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("Development", 1, true)]
    [InlineData("Production", 30, true)]
    [InlineData("Production", 29, false)]
    public void Validate_LeaseShorterThanTheCallCap_RefusedOutsideDevelopment(string environmentName, int lease, bool valid)
    {
        var environment = Substitute.For<IHostEnvironment>();
        environment.EnvironmentName.Returns(environmentName);
        var options = new TokenizerOptions
        {
            PendingLeaseSeconds = lease,
            Limits = new LimitSettings { CallTimeoutSeconds = 30 },
            Recovery = new RecoveryOptions { GracePeriodSeconds = 600 },
        };

        var result = new TokenizerOptionsValidator(environment).Validate(null, options);

        Assert.Equal(
            valid,
            !(result.Failures ?? []).Any(f => f.StartsWith("Tokenizer:PendingLeaseSeconds must be at least Tokenizer:Limits:CallTimeoutSeconds", StringComparison.Ordinal)));
    }
}
