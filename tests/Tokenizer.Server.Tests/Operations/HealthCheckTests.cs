using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Server.Health;

namespace Tokenizer.Server.Tests.Operations;

public sealed class HealthCheckTests
{
    [Fact]
    public async Task LedgerHealthCheck_LedgerAnswers_Healthy()
    {
        var ledger = Substitute.For<ITokenLedger>();
        ledger.GetTokenAsync(LedgerHealthCheck.ProbeToken, Arg.Any<CancellationToken>()).Returns((TokenRecord?)null);

        var result = await new LedgerHealthCheck(ledger).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task LedgerHealthCheck_LedgerThrows_UnhealthyNamingOnlyTheExceptionType()
    {
        var ledger = Substitute.For<ITokenLedger>();
        ledger.GetTokenAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).ThrowsAsync(new SqliteException("disk I/O error 4111111111111111", 10));

        var result = await new LedgerHealthCheck(ledger).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
        Assert.DoesNotContain("4111", result.Description, StringComparison.Ordinal);
        Assert.Contains("SqliteException", result.Description, StringComparison.Ordinal);
    }
}
