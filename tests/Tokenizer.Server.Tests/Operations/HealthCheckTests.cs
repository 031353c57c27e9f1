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
        var tokenRepository = Substitute.For<ITokenRepository>();
        tokenRepository.GetTokenAsync(LedgerHealthCheck.ProbeToken, Arg.Any<CancellationToken>()).Returns((TokenRecord?)null);

        var result = await new LedgerHealthCheck(tokenRepository).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
    }

    [Fact]
    public async Task LedgerHealthCheck_LedgerThrows_UnhealthyNamingOnlyTheExceptionType()
    {
        var tokenRepository = Substitute.For<ITokenRepository>();
        tokenRepository.GetTokenAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).ThrowsAsync(new SqliteException("disk I/O error 4111111111111111", 10));

        var result = await new LedgerHealthCheck(tokenRepository).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.Exception);
        Assert.DoesNotContain("4111", result.Description, StringComparison.Ordinal);
        Assert.Contains("SqliteException", result.Description, StringComparison.Ordinal);
    }
}
