using Grpc.Core;
using Microsoft.Data.Sqlite;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>A server whose ledger gives up on a held lock quickly.</summary>
public sealed class LedgerFaultServer : IAsyncLifetime
{
    public TokenizerServerFixture Fixture { get; } = new(
        null,
        "--Tokenizer:LedgerBusyTimeoutMilliseconds=100",
        "--Tokenizer:DuplicateWaitSeconds=0");

    public Task InitializeAsync() => Fixture.InitializeAsync();

    public Task DisposeAsync() => Fixture.DisposeAsync();
}

/// <summary>
/// The ledger unreachable (its SQLite file locked by another process's exclusive transaction): UNAVAILABLE
/// LEDGER_UNAVAILABLE before any gateway call, and never a half-written record.
/// </summary>
public sealed class LedgerFaultTests(LedgerFaultServer fixture) : IClassFixture<LedgerFaultServer>
{
    private readonly TokenizerServerFixture server = fixture.Fixture;

    private string LedgerPath => Path.Combine(server.DataDirectory, "ledger", "tokenizer.db");

    [Fact]
    public async Task TokenizeCard_LedgerLocked_UnavailableLedgerUnavailableAndNoGatewayCallThenSameKeySucceeds()
    {
        // Arrange
        var key = Requests.NewKey();
        server.Sandbox.Requests.Clear();
        var before = server.Sandbox.GetStats();

        // Act
        RpcException error;
        await using (await LockLedgerAsync())
        {
            error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key)).ResponseAsync);
        }

        // Assert: nothing reached the gateway, so no card data went anywhere, and nothing waits for a later retry.
        FaultTests.AssertStatus(error, StatusCode.Unavailable, "LEDGER_UNAVAILABLE");
        Assert.Empty(server.Sandbox.Requests.Snapshot());
        Assert.Equal(before, server.Sandbox.GetStats());

        // Act: the ledger is back; the same key runs the request for the first time.
        var response = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));

        // Assert
        Assert.False(response.Replayed);
        Assert.Equal(before.PaymentMethods + 1, server.Sandbox.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task TokenizeCard_LedgerLockedAfterGatewaySuccess_UnavailableNoHalfWrittenRecordPendingClaimKept()
    {
        // Arrange: the SetupIntent (which attaches the PaymentMethod) is slow, and the ledger is locked while it runs, so
        // the final write (token row and idempotency completion, one transaction) fails after the gateway succeeded.
        var key = Requests.NewKey();
        server.Sandbox.Requests.Clear();
        server.Sandbox.Faults.Add("POST /v1/setup_intents", SandboxFault.Latency(TimeSpan.FromSeconds(1)));
        var tokensBefore = await CountTokensAsync();

        // Act
        var call = server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key)).ResponseAsync;
        RpcException error;
        await using (var held = await LockLedgerWhenAsync(() => server.Sandbox.Requests.Snapshot("POST /v1/setup_intents").Count > 0))
        {
            error = await Assert.ThrowsAsync<RpcException>(() => call);
        }

        // Assert: a clean error; no token row was written (the transaction rolled back as a whole).
        FaultTests.AssertStatus(error, StatusCode.Unavailable, "LEDGER_UNAVAILABLE");
        Assert.Equal(tokensBefore, await CountTokensAsync());

        // Act: an immediate retry finds the claim still pending (it is not released: the gateway holds the result).
        var retry = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key)).ResponseAsync);

        // Assert: once the lease passes, a retry takes the claim over and the gateway replays the same PaymentMethod.
        FaultTests.AssertStatus(retry, StatusCode.Aborted, "IDEMPOTENCY_KEY_IN_FLIGHT");
    }

    private async Task<long> CountTokensAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = LedgerPath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM tokens";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private Task<SqliteConnection> LockLedgerAsync() => LockLedgerWhenAsync(() => true);

    /// <summary>Another connection's exclusive transaction on the ledger file, taken once <paramref name="when"/> holds; disposing releases it.</summary>
    private async Task<SqliteConnection> LockLedgerWhenAsync(Func<bool> when)
    {
        for (var i = 0; i < 500 && !when(); i++)
        {
            await Task.Delay(10);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = LedgerPath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "BEGIN EXCLUSIVE";
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}
