using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

public abstract class IdempotencyTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly byte[] HmacA = TestData.Hmac(0xA);
    private static readonly byte[] HmacB = TestData.Hmac(0xB);

    [Fact]
    public async Task BeginAsync_NoRecord_ReturnsStartedAndStoresPendingClaim()
    {
        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Assert
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Started), outcome);
        Assert.Equal(1, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task BeginAsync_SameRequestPendingWithinLease_ReturnsInFlight()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(
            TestData.Claim("k1", HmacA, T0 + TestData.Lease - TimeSpan.FromMicroseconds(1)),
            CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.InFlight, outcome.State);
        Assert.Null(outcome.ResponseJson);
    }

    [Fact]
    public async Task BeginAsync_SameRequestPendingLeaseExpired_TakesOverAndRenewsLease()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        var takeOverAt = T0 + TestData.Lease;

        // Act
        var takeOver = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, takeOverAt), CancellationToken.None);
        var afterTakeOver = await Ledger.Claims.ClaimAsync(
            TestData.Claim("k1", HmacA, takeOverAt + TimeSpan.FromSeconds(1)),
            CancellationToken.None);

        // Assert: the lease is exactly Lease long, and the taker's lease starts at its own Now.
        Assert.Equal(IdempotencyState.Started, takeOver.State);
        Assert.Equal(IdempotencyState.InFlight, afterTakeOver.State);
        Assert.Equal(1, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task BeginAsync_DifferentHmacWhilePending_ReturnsConflict()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacB, T0), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Conflict, outcome.State);
    }

    [Fact]
    public async Task BeginAsync_DifferentHmacAfterLeaseExpired_ReturnsConflictNotTakeOver()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacB, T0.AddDays(1)), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Conflict, outcome.State);
    }

    [Fact]
    public async Task BeginAsync_DifferentOperationSameHmac_ReturnsConflict()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0, operation: "revoke_token"), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Conflict, outcome.State);
    }

    [Fact]
    public async Task BeginAsync_CompletedSameRequest_ReturnsReplayWithStoredResponse()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        var response = TestData.Response(token);
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", response, token, CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0.AddDays(30)), CancellationToken.None);

        // Assert
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Replay, response), outcome);
    }

    [Fact]
    public async Task BeginAsync_CompletedDifferentRequest_ReturnsConflictWithoutResponse()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacB, T0), CancellationToken.None);

        // Assert
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Conflict), outcome);
    }

    [Fact]
    public async Task BeginAsync_SameKeyOtherCaller_ReturnsStarted()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacB, T0, caller: "caller_b"), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Started, outcome.State);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public async Task BeginAsync_HmacNot32Bytes_ThrowsArgumentException(int length)
    {
        // Act + Assert
        await Assert.ThrowsAsync<ArgumentException>(
            () => Ledger.Claims.ClaimAsync(TestData.Claim("k1", new byte[length], T0), CancellationToken.None));
    }

    [Fact]
    public async Task BeginAsync_NegativeLease_ThrowsArgumentException()
    {
        // Act + Assert
        await Assert.ThrowsAsync<ArgumentException>(
            () => Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0, lease: TimeSpan.FromSeconds(-1)), CancellationToken.None));
    }

    [Fact]
    public async Task CompleteAsync_PendingClaim_UpsertsTokenAndMarksCompleted()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);

        // Assert
        Assert.Equal(token, await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None));
        var replay = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        Assert.Equal(IdempotencyState.Replay, replay.State);
    }

    [Fact]
    public async Task CompleteAsync_CompletedTwice_KeepsFirstResponse()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", "{\"first\":true}", token, CancellationToken.None);

        // Act
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", "{\"second\":true}", token, CancellationToken.None);

        // Assert
        var replay = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        Assert.Equal("{\"first\":true}", replay.ResponseJson);
    }

    [Fact]
    public async Task CompleteAsync_NoPendingClaim_StillRecordsTokenButNoRecord()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);

        // Act
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "released", TestData.Response(token), token, CancellationToken.None);

        // Assert
        Assert.Equal(token, await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None));
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task CompleteAsync_ExistingTokenRevoked_UpdatesStatusAndKeepsIdentity()
    {
        // Arrange
        var original = TestData.Card("pm_1", T0);
        await SeedAsync(Ledger, [original]);
        var revoked = original with
        {
            Status = TokenStatus.Revoked,
            RevokedAt = T0.AddHours(1),
            CallerId = "caller_b",
            CustomerReference = "someone_else",
            CreatedAt = T0.AddYears(1),
        };

        // Act
        await Ledger.Claims.CompleteWithTokenAsync("caller_b", "revoke-1", TestData.Response(revoked), revoked, CancellationToken.None);

        // Assert
        var stored = await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None);
        Assert.Equal(original with { Status = TokenStatus.Revoked, RevokedAt = T0.AddHours(1) }, stored);
        Assert.Equal(1, await CountRowsAsync("tokens"));
    }

    [Fact]
    public async Task CompleteAsync_RevokedTokenWrittenAsActive_StaysRevokedWithFirstRevokedAt()
    {
        // Arrange
        var revoked = TestData.Card("pm_1", T0, status: TokenStatus.Revoked);
        await SeedAsync(Ledger, [revoked]);
        var stale = revoked with { Status = TokenStatus.Active, RevokedAt = null };

        // Act
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "stale", TestData.Response(stale), stale, CancellationToken.None);

        // Assert
        Assert.Equal(revoked, await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None));
    }

    [Fact]
    public async Task CompleteAsync_CardMetadataOnBankToken_ThrowsAndRecordsNothing()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0) with { Type = TokenType.SepaDebit };
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        await Assert.ThrowsAsync<ArgumentException>(
            () => Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", "{}", token, CancellationToken.None));

        // Assert
        Assert.Equal(0, await CountRowsAsync("tokens"));
        var retry = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        Assert.Equal(IdempotencyState.InFlight, retry.State);
    }

    [Theory]
    [InlineData("pm-1")]
    [InlineData("")]
    [InlineData("pm 1")]
    public async Task CompleteAsync_MalformedTokenId_ThrowsArgumentException(string id)
    {
        // Arrange
        var token = TestData.Card(id, T0);

        // Act + Assert
        await Assert.ThrowsAsync<ArgumentException>(
            () => Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", "{}", token, CancellationToken.None));
    }

    [Fact]
    public async Task ReleaseOwnedAsync_PendingClaim_DeletesItSoARetryStarts()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Act
        var released = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);

        // Assert
        Assert.True(released);
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
        var retry = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacB, T0), CancellationToken.None);
        Assert.Equal(IdempotencyState.Started, retry.State);
    }

    [Fact]
    public async Task ReleaseOwnedAsync_CompletedClaim_KeepsRecordAndReplay()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);

        // Act
        var released = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);

        // Assert
        Assert.False(released);
        var replay = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Replay, TestData.Response(token)), replay);
    }

    [Fact]
    public async Task ReleaseOwnedAsync_UnknownKey_DoesNothing()
    {
        // Act
        var released = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "never-claimed", T0, IntentState.Closed, CancellationToken.None);

        // Assert
        Assert.False(released);
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
    }
}
