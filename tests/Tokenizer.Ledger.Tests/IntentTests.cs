using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

/// <summary>The intent recorded with a claim, moved by completion and release, and listed for the recovery worker.</summary>
public abstract class IntentTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly byte[] HmacA = TestData.Hmac(0xA);

    private static IdempotencyClaim Claim(string key, DateTimeOffset now, string intentId = "tkz_intent_1") =>
        TestData.Claim(key, HmacA, now) with { Intent = new IntentInfo(intentId, "cust_1") };

    [Fact]
    public async Task BeginAsync_StartedWithIntent_RecordsItPendingWithTheClaimsFields()
    {
        // Act
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);

        // Assert
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddSeconds(1), 10, CancellationToken.None));
        Assert.Equal("tkz_intent_1", intent.IntentId);
        Assert.Equal(TestData.Caller, intent.CallerId);
        Assert.Equal("k1", intent.Key);
        Assert.Equal(TestData.Operation, intent.Operation);
        Assert.Equal("cust_1", intent.CustomerReference);
        Assert.Equal(HmacA, intent.RequestHmac);
        Assert.Equal(IntentState.Pending, intent.State);
        Assert.Null(intent.Token);
        Assert.Equal(T0, intent.CreatedAt);
        Assert.Equal(T0, intent.UpdatedAt);
    }

    [Fact]
    public async Task BeginAsync_WithoutIntent_RecordsNone()
    {
        // Act
        await Ledger.Claims.ClaimAsync(TestData.Claim("k1", HmacA, T0), CancellationToken.None);

        // Assert
        Assert.Equal(0, await CountRowsAsync("intents"));
    }

    [Fact]
    public async Task BeginAsync_NotStarted_LeavesTheIntentAlone()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);

        // Act: a duplicate within the lease is in flight and must not renew the intent.
        var duplicate = await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddSeconds(30)), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.InFlight, duplicate.State);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(T0, intent.UpdatedAt);
    }

    [Fact]
    public async Task CompleteAsync_MarksTheIntentCompletedWithItsToken()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0);
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);

        // Act
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);

        // Assert
        Assert.Empty(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
        var completed = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Completed, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal("pm_1", completed.Token);
    }

    [Theory]
    [InlineData(IntentState.Failed)]
    [InlineData(IntentState.Closed)]
    public async Task ReleaseOwnedAsync_MovesThePendingIntentToTheOutcome(IntentState outcome)
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(5));

        // Act
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, outcome, CancellationToken.None);

        // Assert
        var released = Assert.Single(await Ledger.Intents.ListIntentsAsync(outcome, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(T0.AddSeconds(5), released.UpdatedAt);
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
    }

    [Theory]
    [InlineData(IntentState.Pending)]
    [InlineData(IntentState.Completed)]
    public async Task ReleaseOwnedAsync_OutcomeNotFailedOrClosed_Throws(IntentState outcome)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, outcome, CancellationToken.None));
    }

    [Fact]
    public async Task BeginAsync_AfterRelease_StartsTheSameIntentPendingAgainKeepingItsCreatedAt()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);

        // Act
        var retry = await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddMinutes(1)), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Started, retry.State);
        Assert.Empty(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None));
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(T0, intent.CreatedAt);
        Assert.Equal(T0.AddMinutes(1), intent.UpdatedAt);
    }

    [Fact]
    public async Task BeginAsync_TakeOverOfExpiredLease_RenewsTheIntent()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);

        // Act
        var takeOver = await Ledger.Claims.ClaimAsync(Claim("k1", T0 + TestData.Lease + TimeSpan.FromSeconds(1)), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Started, takeOver.State);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(T0 + TestData.Lease + TimeSpan.FromSeconds(1), intent.UpdatedAt);
    }

    [Fact]
    public async Task ListIntentsAsync_FiltersByStateAndAgeOldestFirstUpToTheLimit()
    {
        // Arrange: three pending at T0, T0+1 s, T0+2 s, and one closed.
        for (var i = 0; i < 3; i++)
        {
            await Ledger.Claims.ClaimAsync(Claim($"k{i}", T0.AddSeconds(i), $"tkz_intent_{i}"), CancellationToken.None);
        }

        await Ledger.Claims.ClaimAsync(Claim("k9", T0, "tkz_intent_9"), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k9", T0, IntentState.Closed, CancellationToken.None);

        // Act
        var olderThan2 = await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddSeconds(2), 10, CancellationToken.None);
        var firstOne = await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 1, CancellationToken.None);

        // Assert: the cut-off is exclusive.
        Assert.Equal(["tkz_intent_0", "tkz_intent_1"], olderThan2.Select(i => i.IntentId));
        Assert.Equal(["tkz_intent_0"], firstOne.Select(i => i.IntentId));
    }

    [Fact]
    public async Task BeginAsync_DifferentRequestReusingAFailedKey_ConflictsAndLeavesTheFailedIntentForTheSweep()
    {
        // Arrange: the first request failed with an unknown outcome; its PaymentMethod may be attached under cust_1.
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);

        // Act: another request (another HMAC, another customer) reuses the key; the same request may still retry.
        var other = TestData.Claim("k1", TestData.Hmac(0xC), T0.AddMinutes(1)) with { Intent = new IntentInfo("tkz_intent_1", "cust_2") };
        var reused = await Ledger.Claims.ClaimAsync(other, CancellationToken.None);
        var retry = await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddMinutes(2)), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Conflict, reused.State);
        Assert.Equal(IdempotencyState.Started, retry.State);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal("cust_1", intent.CustomerReference);
        Assert.Equal(HmacA, intent.RequestHmac);
    }

    [Fact]
    public async Task BeginAsync_DifferentRequestReusingAKeyWhoseRequestWasRefused_ConflictsAndTheSameRequestStartsAgain()
    {
        // Arrange: the gateway refused the first request (a decline): nothing attached, the intent is closed.
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Closed, CancellationToken.None);

        // Act: another request (another card) under the key; then the declined request again.
        var other = TestData.Claim("k1", TestData.Hmac(0xC), T0.AddMinutes(1)) with { Intent = new IntentInfo("tkz_intent_1", "cust_1") };
        var reused = await Ledger.Claims.ClaimAsync(other, CancellationToken.None);
        var retry = await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddMinutes(2)), CancellationToken.None);

        // Assert: the key stays bound to the request first sent under it.
        Assert.Equal(IdempotencyState.Conflict, reused.State);
        Assert.Equal(IdempotencyState.Started, retry.State);
        Assert.Equal(HmacA, Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None)).RequestHmac);
    }

    [Fact]
    public async Task BeginAsync_FencedOnAFailedIntentAsListed_StartsAndKeepsItFailed()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        Clock.Advance(TimeSpan.FromSeconds(5));
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);
        var listed = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None));

        // Act: the sweep claims it as listed.
        var sweep = Claim("k1", T0.AddMinutes(20)) with { Fence = new IntentFence(listed.State, listed.UpdatedAt) };
        var outcome = await Ledger.Claims.ClaimAsync(sweep, CancellationToken.None);

        // Assert: claimed, and still failed (a crash now must not make it look like a crashed request).
        Assert.Equal(IdempotencyState.Started, outcome.State);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(T0.AddMinutes(20), intent.UpdatedAt);
        Assert.Empty(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
    }

    [Fact]
    public async Task BeginAsync_FencedOnAnIntentThatMovedSinceListed_IsInFlightAndChangesNothing()
    {
        // Arrange: listed as failed, then a retry of the same request claimed it (pending, newer updated_at).
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);
        var listed = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None));
        await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddMinutes(1)), CancellationToken.None);

        // Act: the sweep's claim, after the retry's lease ran out.
        var sweep = Claim("k1", T0.AddMinutes(30)) with { Fence = new IntentFence(listed.State, listed.UpdatedAt) };
        var outcome = await Ledger.Claims.ClaimAsync(sweep, CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.InFlight, outcome.State);
        Assert.Equal(T0.AddMinutes(1), Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None)).UpdatedAt);
    }

    [Fact]
    public async Task ReleaseOwnedAsync_ClaimWithoutIntentOnAFailedKey_LeavesTheFailedIntentForTheSweep()
    {
        // Arrange: a tokenisation failed with an unknown outcome; the same caller then reuses the key for a revoke
        // (a claim without an intent), which fails too.
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Failed, CancellationToken.None);
        var failedAt = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None)).UpdatedAt;
        var revokeAt = T0.AddMinutes(1);
        var revoke = await Ledger.Claims.ClaimAsync(TestData.Claim("k1", TestData.Hmac(0xD), revokeAt, operation: "revoke_token"), CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(2));

        // Act
        var released = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", revokeAt, IntentState.Closed, CancellationToken.None);

        // Assert: the revoke's claim is gone, the tokenisation's intent is still failed and its age unchanged.
        Assert.Equal(IdempotencyState.Started, revoke.State);
        Assert.True(released);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(failedAt, intent.UpdatedAt);
        Assert.Empty(await Ledger.Intents.ListIntentsAsync(IntentState.Closed, T0.AddHours(1), 10, CancellationToken.None));
    }

    [Fact]
    public async Task ReleaseOwnedAsync_ClaimTakenOverSince_LeavesTheNewOwnersClaimAndIntent()
    {
        // Arrange: claimed at T0, taken over after the lease.
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        var takeOver = T0 + TestData.Lease + TimeSpan.FromSeconds(1);
        await Ledger.Claims.ClaimAsync(Claim("k1", takeOver), CancellationToken.None);

        // Act
        var stale = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Closed, CancellationToken.None);
        var owner = await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", takeOver, IntentState.Closed, CancellationToken.None);

        // Assert
        Assert.False(stale);
        Assert.True(owner);
        Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Closed, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal(0, await CountRowsAsync("idempotency_records"));
    }

    [Fact]
    public async Task SettleIntentAsync_WithAToken_CompletesAPendingOrFailedIntent_WithoutOne_MovesItToTheBack()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(Claim("k1", T0, "tkz_a_intent"), CancellationToken.None);
        await Ledger.Claims.ClaimAsync(Claim("k2", T0, "tkz_b_intent"), CancellationToken.None);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k2", T0, IntentState.Failed, CancellationToken.None);
        Clock.Advance(TimeSpan.FromMinutes(5));

        // Act
        await Ledger.Intents.SettleUnclaimedAsync(TestData.Caller, "k1", "pm_1", CancellationToken.None);
        await Ledger.Intents.SettleUnclaimedAsync(TestData.Caller, "k2", null, CancellationToken.None);

        // Assert
        Assert.Equal("pm_1", Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Completed, T0.AddHours(1), 10, CancellationToken.None)).Token);
        Assert.Equal(T0.AddMinutes(5), Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Failed, T0.AddHours(1), 10, CancellationToken.None)).UpdatedAt);
    }

    [Fact]
    public async Task CompleteOwnedAsync_ClaimStillOurs_CompletesRecordsTheTokenAndSetsTheIntent()
    {
        // Arrange
        var token = TestData.Card("pm_1", T0) with { Status = TokenStatus.Revoked, RevokedAt = T0 };
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);

        // Act
        var owned = await Ledger.Claims.CompleteOwnedWithTokenAsync(TestData.Caller, "k1", T0, TestData.Response(token), token, IntentState.Detaching, CancellationToken.None);

        // Assert
        Assert.True(owned);
        Assert.Equal(TokenStatus.Revoked, (await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None))!.Status);
        var replay = await Ledger.Claims.ClaimAsync(Claim("k1", T0.AddHours(1)), CancellationToken.None);
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Replay, TestData.Response(token)), replay);
        var detaching = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Detaching, T0.AddHours(1), 10, CancellationToken.None));
        Assert.Equal("pm_1", detaching.Token);

        // And once the gateway confirms the detach:
        await Ledger.Intents.ConfirmDetachedAsync(TestData.Caller, "k1", CancellationToken.None);
        Assert.Equal("pm_1", Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Completed, T0.AddHours(1), 10, CancellationToken.None)).Token);
    }

    [Fact]
    public async Task CompleteOwnedAsync_ClaimTakenOverSince_WritesNothingAndReturnsFalse()
    {
        // Arrange: claimed at T0, then taken over by a retry after the lease.
        var token = TestData.Card("pm_1", T0) with { Status = TokenStatus.Revoked, RevokedAt = T0 };
        await Ledger.Claims.ClaimAsync(Claim("k1", T0), CancellationToken.None);
        await Ledger.Claims.ClaimAsync(Claim("k1", T0 + TestData.Lease + TimeSpan.FromSeconds(1)), CancellationToken.None);

        // Act
        var owned = await Ledger.Claims.CompleteOwnedWithTokenAsync(TestData.Caller, "k1", T0, TestData.Response(token), token, IntentState.Detaching, CancellationToken.None);

        // Assert
        Assert.False(owned);
        Assert.Null(await Ledger.Tokens.GetTokenAsync("pm_1", CancellationToken.None));
        Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0.AddHours(1), 10, CancellationToken.None));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task ListIntentsAsync_LimitOutOfRange_Throws(int limit)
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Ledger.Intents.ListIntentsAsync(IntentState.Pending, T0, limit, CancellationToken.None));
    }
}
