using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>A ledger that cannot be written answers UNAVAILABLE LEDGER_UNAVAILABLE and leaves nothing half-written.</summary>
public sealed class SqliteLedgerUnavailableTests() : LedgerTestBase(new SqliteTestDatabase())
{
    private string DatabasePath => ((SqliteTestDatabase)Database).DatabasePath;

    [Fact]
    public async Task BeginAsync_FileLockedPastTheBusyTimeout_UnavailableAndNoClaimWritten()
    {
        // Arrange
        using var ledger = QuickLedger();
        TokenizerException error;

        // Act
        await using (await LockAsync())
        {
            error = await Assert.ThrowsAsync<TokenizerException>(() => ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None));
        }

        // Assert
        Assert.Equal(ErrorKind.Unavailable, error.Kind);
        Assert.Equal(ErrorReasons.LedgerUnavailable, error.Reason);
        Assert.Null(error.InnerException);
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task CompleteAsync_FileLockedPastTheBusyTimeout_UnavailableNoTokenRowAndTheClaimStaysPending()
    {
        // Arrange
        using var ledger = QuickLedger();
        Assert.Equal(IdempotencyState.Started, (await ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None)).State);
        var token = TestData.Card("pm_1", T0);
        TokenizerException error;

        // Act
        await using (await LockAsync())
        {
            error = await Assert.ThrowsAsync<TokenizerException>(() => ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None));
        }

        // Assert: the token row and the completion are one transaction: neither was written.
        Assert.Equal(ErrorReasons.LedgerUnavailable, error.Reason);
        Assert.Equal(0, await CountRowsAsync("tokens"));
        Assert.Equal(IdempotencyState.InFlight, (await ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(1), T0), CancellationToken.None)).State);
    }

    private SqliteTokenLedger QuickLedger() => new(
        new SqliteLedgerOptions { DatabasePath = DatabasePath, BusyTimeout = TimeSpan.FromMilliseconds(50) },
        Clock,
        NullLogger<SqliteTokenLedger>.Instance);

    /// <summary>Another process's exclusive transaction on the file; disposing the connection releases it.</summary>
    private async Task<SqliteConnection> LockAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "BEGIN EXCLUSIVE";
        await command.ExecuteNonQueryAsync();
        return connection;
    }
}
