using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;
using Tokenizer.Ledger.Privacy;

namespace Tokenizer.Ledger.Tests;

/// <summary>The privacy store (migration 6) on each provider: keys, encrypted records, erasure, unlinking, retention.</summary>
public abstract class PrivacyStoreTests(TestDatabase database) : LedgerTestBase(database)
{
    private const string SubjectA = "subj_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string SubjectB = "subj_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private RelationalPrivacyStore Store => new(Ledger);

    [Fact]
    public async Task AddSubjectKeyAsync_SecondWriter_GetsTheFirstKey()
    {
        // Act
        var first = await Store.AddAsync(SubjectA, [1, 2, 3], T0, CancellationToken.None);
        var second = await new RelationalPrivacyStore(await OpenLedgerAsync()).AddAsync(SubjectA, [9, 9], T0, CancellationToken.None);

        // Assert
        Assert.Equal([1, 2, 3], first);
        Assert.Equal([1, 2, 3], second);
        Assert.Equal([1, 2, 3], await Store.FindAsync(SubjectA, CancellationToken.None));
        Assert.Null(await Store.FindAsync(SubjectB, CancellationToken.None));
    }

    [Fact]
    public async Task DestroyAsync_OneSubject_OnlyItsKeyGone()
    {
        // Arrange
        await Store.AddAsync(SubjectA, [1], T0, CancellationToken.None);
        await Store.AddAsync(SubjectB, [2], T0, CancellationToken.None);

        // Act
        await Store.DestroyAsync(SubjectA, CancellationToken.None);
        await Store.DestroyAsync(SubjectA, CancellationToken.None);

        // Assert
        Assert.Null(await Store.FindAsync(SubjectA, CancellationToken.None));
        Assert.Equal([2], await Store.FindAsync(SubjectB, CancellationToken.None));
    }

    [Fact]
    public async Task SavePersonalDataAsync_SameRecordAgain_ReplacesItAndKeepsSubjectsApart()
    {
        // Arrange
        var first = Ciphertext(1);
        var second = Ciphertext(2);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_1", first, T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectB, "pm_2", first, T0), CancellationToken.None);

        // Act
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_1", second, T0.AddMinutes(1)), CancellationToken.None);

        // Assert
        var records = await Store.ListPersonalDataAsync(SubjectA, CancellationToken.None);
        var record = Assert.Single(records);
        Assert.Equal(("pm_1", T0.AddMinutes(1)), (record.RecordId, record.UpdatedAt));
        Assert.Equal(second, record.Ciphertext);
        Assert.Single(await Store.ListPersonalDataAsync(SubjectB, CancellationToken.None));
    }

    [Fact]
    public async Task DeletePersonalDataAsync_OneRecord_OnlyThatRecordOfThatSubjectGone()
    {
        // Arrange
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_1", Ciphertext(1), T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_1.correcting", Ciphertext(2), T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectB, "pm_1.correcting", Ciphertext(3), T0), CancellationToken.None);

        // Act
        await Store.DeletePersonalDataAsync(SubjectA, "pm_1.correcting", CancellationToken.None);
        await Store.DeletePersonalDataAsync(SubjectA, "pm_absent", CancellationToken.None);

        // Assert
        Assert.Equal(["pm_1"], (await Store.ListPersonalDataAsync(SubjectA, CancellationToken.None)).Select(r => r.RecordId));
        Assert.Equal(["pm_1.correcting"], (await Store.ListPersonalDataAsync(SubjectB, CancellationToken.None)).Select(r => r.RecordId));
    }

    [Fact]
    public async Task SaveErasureAsync_StepsInTurn_FindReturnsTheLast()
    {
        // Arrange
        Assert.Null(await Store.FindErasureAsync(SubjectA, CancellationToken.None));
        var started = new ErasureRecord(SubjectA, ErasureStep.Detaching, T0, T0, null, 0);
        await Store.SaveErasureAsync(started, CancellationToken.None);

        // Act
        var done = started with { Step = ErasureStep.Completed, UpdatedAt = T0.AddMinutes(2), CompletedAt = T0.AddMinutes(2), PaymentMethodsDetached = 3 };
        await Store.SaveErasureAsync(done, CancellationToken.None);

        // Assert
        Assert.Equal(done, await Store.FindErasureAsync(SubjectA, CancellationToken.None));
    }

    [Fact]
    public async Task SaveErasureAsync_AnEarlierStepOfTheSameErasure_IgnoredButANewErasureReplaces()
    {
        // Arrange: one run completed while a concurrent run of the same erasure still reports detaching.
        var completed = new ErasureRecord(SubjectA, ErasureStep.Completed, T0, T0.AddMinutes(2), T0.AddMinutes(2), 2);
        await Store.SaveErasureAsync(completed, CancellationToken.None);

        // Act
        await Store.SaveErasureAsync(new ErasureRecord(SubjectA, ErasureStep.Detaching, T0, T0.AddMinutes(3), null, 1), CancellationToken.None);
        var afterLateWrite = await Store.FindErasureAsync(SubjectA, CancellationToken.None);
        var restarted = new ErasureRecord(SubjectA, ErasureStep.Detaching, T0.AddDays(1), T0.AddDays(1), null, 0);
        await Store.SaveErasureAsync(restarted, CancellationToken.None);

        // Assert
        Assert.Equal(completed, afterLateWrite);
        Assert.Equal(restarted, await Store.FindErasureAsync(SubjectA, CancellationToken.None));
    }

    [Fact]
    public async Task MarkTokenRevokedAsync_ActiveAndRevoked_OnlyTheActiveOneChanges()
    {
        // Arrange
        await SeedAsync(Ledger, [TestData.Card("pm_active", T0), TestData.Card("pm_revoked", T0, status: TokenStatus.Revoked)]);

        // Act
        await Store.MarkTokenRevokedAsync("pm_active", T0.AddHours(1), CancellationToken.None);
        await Store.MarkTokenRevokedAsync("pm_revoked", T0.AddHours(1), CancellationToken.None);
        await Store.MarkTokenRevokedAsync("pm_unknown", T0.AddHours(1), CancellationToken.None);

        // Assert
        var active = await Ledger.Tokens.GetTokenAsync("pm_active", CancellationToken.None);
        var revoked = await Ledger.Tokens.GetTokenAsync("pm_revoked", CancellationToken.None);
        Assert.Equal((TokenStatus.Revoked, T0.AddHours(1)), (active!.Status, active.RevokedAt));
        Assert.Equal(T0.AddMinutes(1), revoked!.RevokedAt);
    }

    [Fact]
    public async Task SettleSetupAsync_PendingOnARevokedToken_StoredButNeverOverANewerOutcomeOrAnotherSetupIntent()
    {
        // Arrange: a revoked token still requires_action (what an erasure before setups were cancelled left), and two
        // controls: one already settled, one pending under another SetupIntent.
        var pending = new TokenSetup(SetupStatus.RequiresAction, "seti_1", null, null);
        await SeedAsync(Ledger, [
            TestData.Card("pm_pending", T0, status: TokenStatus.Revoked) with { Setup = pending },
            TestData.Card("pm_settled", T0, status: TokenStatus.Revoked) with { Setup = new TokenSetup(SetupStatus.Ready, "seti_2", null, null) },
            TestData.Card("pm_other", T0) with { Setup = pending with { SetupIntentId = "seti_3" } },
        ]);
        var canceled = new TokenSetup(SetupStatus.Failed, "seti_1", null, "canceled");

        // Act
        await Store.SettleSetupAsync((await Ledger.Tokens.GetTokenAsync("pm_pending", CancellationToken.None))! with { Setup = canceled }, CancellationToken.None);
        await Store.SettleSetupAsync((await Ledger.Tokens.GetTokenAsync("pm_settled", CancellationToken.None))! with { Setup = canceled with { SetupIntentId = "seti_2" } }, CancellationToken.None);
        await Store.SettleSetupAsync((await Ledger.Tokens.GetTokenAsync("pm_other", CancellationToken.None))! with { Setup = canceled }, CancellationToken.None);

        // Assert
        Assert.Equal((TokenStatus.Revoked, canceled), ((await Ledger.Tokens.GetTokenAsync("pm_pending", CancellationToken.None))!.Status, (await Ledger.Tokens.GetTokenAsync("pm_pending", CancellationToken.None))!.Setup));
        Assert.Equal(SetupStatus.Ready, (await Ledger.Tokens.GetTokenAsync("pm_settled", CancellationToken.None))!.Setup.Status);
        Assert.Equal(pending with { SetupIntentId = "seti_3" }, (await Ledger.Tokens.GetTokenAsync("pm_other", CancellationToken.None))!.Setup);
    }

    [Fact]
    public async Task SaveErasureAsync_HoldingSince_StoredAndFound()
    {
        // Arrange
        var erasure = new ErasureRecord(SubjectA, ErasureStep.Detaching, T0.AddDays(1), T0.AddDays(1), null, 0, HoldingSince: T0.AddHours(5));

        // Act
        await Store.SaveErasureAsync(erasure, CancellationToken.None);

        // Assert
        Assert.Equal(T0.AddHours(5), (await Store.FindErasureAsync(SubjectA, CancellationToken.None))!.HoldingSince);
    }

    [Fact]
    public async Task FindHoldingStartAsync_CustomerAndTokens_TheEarliestOfTheReferencesOwnNullForNone()
    {
        // Arrange: ref_a's Customer was mapped before its tokens; ref_b has a token only; another reference's older rows.
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_a", "cus_a", T0.AddMinutes(10), CancellationToken.None);
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_other", "cus_o", T0, CancellationToken.None);
        await SeedAsync(Ledger, [
            TestData.Card("pm_a1", T0.AddMinutes(12), customer: "ref_a"),
            TestData.Card("pm_a2", T0.AddMinutes(11), customer: "ref_a"),
            TestData.Card("pm_b", T0.AddMinutes(30), customer: "ref_b", status: TokenStatus.Revoked),
            TestData.Card("pm_o", T0, customer: "ref_other")]);

        // Act
        var a = await Store.FindHoldingStartAsync("ref_a", CancellationToken.None);
        var b = await Store.FindHoldingStartAsync("ref_b", CancellationToken.None);
        var none = await Store.FindHoldingStartAsync("ref_none", CancellationToken.None);

        // Assert
        Assert.Equal((T0.AddMinutes(10), T0.AddMinutes(30)), (a, b));
        Assert.Null(none);
    }

    [Fact]
    public async Task DestroySubjectAsync_OneSubject_ItsKeyDataCustomerAndReferenceGoneOthersKept()
    {
        // Arrange
        await Store.AddAsync(SubjectA, [1], T0, CancellationToken.None);
        await Store.AddAsync(SubjectB, [2], T0, CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_a", Ciphertext(1), T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectB, "pm_b", Ciphertext(2), T0), CancellationToken.None);
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_a", "cus_a", T0, CancellationToken.None);
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_b", "cus_b", T0, CancellationToken.None);
        await SeedAsync(Ledger, [TestData.Card("pm_a", T0, customer: "ref_a", status: TokenStatus.Revoked), TestData.Card("pm_b", T0, customer: "ref_b")]);

        // Act
        var destroyed = await Store.DestroySubjectAsync(SubjectA, "stripe", "ref_a", "erased_" + SubjectA, CancellationToken.None);

        // Assert
        Assert.True(destroyed);
        Assert.Null(await Store.FindAsync(SubjectA, CancellationToken.None));
        Assert.Empty(await Store.ListPersonalDataAsync(SubjectA, CancellationToken.None));
        Assert.Null(await Ledger.Customers.FindCustomerAsync("stripe", "ref_a", CancellationToken.None));
        Assert.Equal("erased_" + SubjectA, (await Ledger.Tokens.GetTokenAsync("pm_a", CancellationToken.None))!.CustomerReference);
        Assert.Equal([0L], await Database.QueryAsync("SELECT count(*) FROM tokens WHERE customer_reference = 'ref_a'", r => r.GetInt64(0)));
        Assert.NotNull(await Store.FindAsync(SubjectB, CancellationToken.None));
        Assert.Single(await Store.ListPersonalDataAsync(SubjectB, CancellationToken.None));
        Assert.Equal("cus_b", await Ledger.Customers.FindCustomerAsync("stripe", "ref_b", CancellationToken.None));
        Assert.Equal("ref_b", (await Ledger.Tokens.GetTokenAsync("pm_b", CancellationToken.None))!.CustomerReference);
    }

    [Fact]
    public async Task DestroySubjectAsync_AnActiveTokenUnderTheReference_RefusedAndNothingChanged()
    {
        // Arrange: a revoked token (as the erasure leaves them) and an active one issued for the reference since.
        await Store.AddAsync(SubjectA, [1], T0, CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_a", Ciphertext(1), T0), CancellationToken.None);
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_a", "cus_a", T0, CancellationToken.None);
        await SeedAsync(Ledger, [TestData.Card("pm_a", T0, customer: "ref_a", status: TokenStatus.Revoked), TestData.Card("pm_new", T0, customer: "ref_a")]);

        // Act
        var destroyed = await Store.DestroySubjectAsync(SubjectA, "stripe", "ref_a", "erased_" + SubjectA, CancellationToken.None);

        // Assert: an erasure never renames a chargeable token; nothing of the subject went.
        Assert.False(destroyed);
        Assert.Equal("ref_a", (await Ledger.Tokens.GetTokenAsync("pm_new", CancellationToken.None))!.CustomerReference);
        Assert.Equal("ref_a", (await Ledger.Tokens.GetTokenAsync("pm_a", CancellationToken.None))!.CustomerReference);
        Assert.Equal("cus_a", await Ledger.Customers.FindCustomerAsync("stripe", "ref_a", CancellationToken.None));
        Assert.NotNull(await Store.FindAsync(SubjectA, CancellationToken.None));
        Assert.Single(await Store.ListPersonalDataAsync(SubjectA, CancellationToken.None));
    }

    [Fact]
    public async Task FenceReferenceAsync_ThenATokenisationClaim_RefusedWithNothingClaimedUntilTheSubjectIsDestroyed()
    {
        // Arrange
        Assert.Equal(0, await FenceAsync("ref_a", T0));

        // Act
        var refused = await Ledger.Claims.ClaimAsync(TokenisationClaim("k1", "ref_a"), CancellationToken.None);
        var other = await Ledger.Claims.ClaimAsync(TokenisationClaim("k2", "ref_b"), CancellationToken.None);

        // Assert: refused before anything is claimed; another reference (the control) and a claim without an intent go on.
        Assert.Equal(IdempotencyState.ErasureInProgress, refused.State);
        Assert.Equal(IdempotencyState.Started, other.State);
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(TestData.Claim("k3", TestData.Hmac(3), T0), CancellationToken.None)).State);
        Assert.False(await Ledger.Claims.HasClaimAsync(TestData.Caller, "k1", CancellationToken.None));

        // The erasure's last transaction lifts the fence.
        Assert.True(await Store.DestroySubjectAsync(SubjectA, "stripe", "ref_a", "erased_" + SubjectA, CancellationToken.None));
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(TokenisationClaim("k1", "ref_a"), CancellationToken.None)).State);
    }

    [Fact]
    public async Task FenceReferenceAsync_TokenisationsClaimedBefore_CountsThoseOfTheReferenceStillPending()
    {
        // Arrange
        await Ledger.Claims.ClaimAsync(TokenisationClaim("k1", "ref_a"), CancellationToken.None);
        await Ledger.Claims.ClaimAsync(TokenisationClaim("k2", "ref_a"), CancellationToken.None);
        await Ledger.Claims.ClaimAsync(TokenisationClaim("k3", "ref_b"), CancellationToken.None);

        // Act
        var first = await FenceAsync("ref_a", T0);
        await Ledger.Claims.ReleaseOwnedAsync(TestData.Caller, "k1", T0, IntentState.Closed, CancellationToken.None);
        var second = await FenceAsync("ref_a", T0.AddSeconds(1));

        // Assert
        Assert.Equal((2, 1), (first, second));
        Assert.Equal([T0.ToUnixTimeMilliseconds() * 1000], await Database.QueryAsync("SELECT fenced_at FROM erasure_fences", r => r.GetInt64(0)));
    }

    [Fact]
    public async Task FenceReferenceAsync_ConcurrentWithClaims_EveryClaimIsRefusedOrCounted()
    {
        // Arrange: claims racing the fence on their own connections. Each either started before the fence committed
        // (then the fence counts it, so the erasure waits for it) or was refused; none slips between.
        const int Claims = 24;
        var claims = Enumerable.Range(0, Claims)
            .Select(i => Task.Run(() => Ledger.Claims.ClaimAsync(TokenisationClaim("k" + i, "ref_a"), CancellationToken.None)))
            .ToList();
        var fence = Task.Run(async () =>
        {
            await Task.Delay(5);
            return await FenceAsync("ref_a", T0);
        });

        // Act
        var outcomes = await Task.WhenAll(claims);
        var counted = await fence;

        // Assert
        var started = outcomes.Count(o => o.State == IdempotencyState.Started);
        Assert.Equal(Claims, started + outcomes.Count(o => o.State == IdempotencyState.ErasureInProgress));
        Assert.Equal(started, counted);
        Assert.Equal(started, await FenceAsync("ref_a", T0));
    }

    [Fact]
    public async Task FenceReferenceAsync_CorrectionClaims_CountedWhileLiveAndRefusedOnceFenced()
    {
        // Arrange: a correction of the subject claimed before the fence, one claimed earlier whose lease has run out (its
        // call cut off by a crash), and a live one of another subject.
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(CorrectionClaim("c0", T0.AddMinutes(-5)), CancellationToken.None)).State);
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(CorrectionClaim("c1", T0), CancellationToken.None)).State);
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(CorrectionClaim("cb", T0) with { Resource = SubjectB, FencedReference = "ref_b" }, CancellationToken.None)).State);

        // Act
        var inFlight = await FenceAsync("ref_a", T0);
        var refused = await Ledger.Claims.ClaimAsync(CorrectionClaim("c2", T0), CancellationToken.None);

        // Assert: only the live one of the subject counted (the erasure waits for it); a new one refused.
        Assert.Equal(1, inFlight);
        Assert.Equal(IdempotencyState.ErasureInProgress, refused.State);
        Assert.False(await Ledger.Claims.HasClaimAsync("privacy", "c2", CancellationToken.None));
    }

    [Fact]
    public async Task FenceReferenceAsync_TheErasuresOwnClaim_NotCountedOneAtATimeAndItsAnswerSurvivesTheDestroy()
    {
        // Arrange: an erasure's claim on the subject (no reference fences it: the erasure sets that fence itself).
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(ErasureClaim("e1", T0), CancellationToken.None)).State);

        // Act
        var inFlight = await FenceAsync("ref_a", T0);
        var other = await Ledger.Claims.ClaimAsync(ErasureClaim("e2", T0.AddSeconds(1)), CancellationToken.None);
        var destroyed = await Store.DestroySubjectAsync(SubjectA, "stripe", "ref_a", "erased_" + SubjectA, CancellationToken.None);
        var stale = await Ledger.Claims.CompleteOwnedWithoutTokenAsync("privacy", "e1", T0.AddSeconds(-1), "{\"stale\":1}", CancellationToken.None);
        var completed = await Ledger.Claims.CompleteOwnedWithoutTokenAsync("privacy", "e1", T0, "{\"answer\":1}", CancellationToken.None);
        var replay = await Ledger.Claims.ClaimAsync(ErasureClaim("e1", T0.AddSeconds(2)), CancellationToken.None);

        // Assert: the erasure does not wait for itself (a correction's claim is counted: the test above); another
        // erasure call for the person is refused while it runs; its pending claim survives the destroy step (which forgets
        // finished claims on the subject), so its answer is kept, completed only under the claim's own time.
        Assert.Equal(0, inFlight);
        Assert.Equal(IdempotencyState.ResourceBusy, other.State);
        Assert.True(destroyed);
        Assert.False(stale);
        Assert.True(completed);
        Assert.Equal(new IdempotencyOutcome(IdempotencyState.Replay, "{\"answer\":1}"), replay);
    }

    private static IdempotencyClaim ErasureClaim(string key, DateTimeOffset now) =>
        new("privacy", key, PrivacyErasure.EraseOperation, TestData.Hmac(3), now, TimeSpan.FromMinutes(2), Resource: SubjectA, OnePerResource: true);

    [Fact]
    public async Task BeginAsync_OnePerResource_AnotherKeysLiveClaimRefusesItUntilItsLeaseEnds()
    {
        // Arrange
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(CorrectionClaim("c1", T0), CancellationToken.None)).State);

        // Act
        var second = await Ledger.Claims.ClaimAsync(CorrectionClaim("c2", T0.AddSeconds(1)), CancellationToken.None);
        var sameKey = await Ledger.Claims.ClaimAsync(CorrectionClaim("c1", T0.AddSeconds(1)), CancellationToken.None);
        var afterLease = await Ledger.Claims.ClaimAsync(CorrectionClaim("c3", T0.AddMinutes(3)), CancellationToken.None);

        // Assert: one correction of a person at a time; the same key is the usual in-flight duplicate; a claim whose
        // lease ran out (its call cut off) no longer blocks.
        Assert.Equal(IdempotencyState.ResourceBusy, second.State);
        Assert.Equal(IdempotencyState.InFlight, sameKey.State);
        Assert.Equal(IdempotencyState.Started, afterLease.State);
    }

    private static IdempotencyClaim CorrectionClaim(string key, DateTimeOffset now) =>
        new("privacy", key, "correct_subject_data", TestData.Hmac(2), now, TimeSpan.FromMinutes(2), Resource: SubjectA, FencedReference: "ref_a", OnePerResource: true);

    private Task<int> FenceAsync(string reference, DateTimeOffset now) =>
        Store.FenceReferenceAsync(reference, SubjectA, now, now.AddMinutes(-2), CancellationToken.None);

    private static IdempotencyClaim TokenisationClaim(string key, string reference) =>
        TestData.Claim(key, TestData.Hmac(1), T0) with { Intent = new IntentInfo("tkz_intent_" + key, reference) };

    [Fact]
    public async Task PurgeExpiredAsync_MixedAges_RemovesExactlyWhatExpired()
    {
        // Arrange: tokens revoked at T0+1min (old) and T0+10d+1min (recent); one active; claims completed at T0 and at
        // T0+10d, one pending at T0; a record held for the old revoked token and for the active one.
        await SeedAsync(Ledger, [TestData.Card("pm_old_revoked", T0, status: TokenStatus.Revoked), TestData.Card("pm_active", T0)]);
        await SeedAsync(Ledger, [TestData.Card("pm_new_revoked", T0.AddDays(10), status: TokenStatus.Revoked)]);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_old_revoked", Ciphertext(1), T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_active", Ciphertext(2), T0), CancellationToken.None);

        // Issue #13: a debit's mandate acceptance record goes with its token too; the active token's stays.
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_old_revoked.mandate", Ciphertext(3), T0), CancellationToken.None);
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_active.mandate", Ciphertext(4), T0), CancellationToken.None);
        // A correction cut off for a token goes with it too.
        await Store.SavePersonalDataAsync(new PersonalDataRecord(SubjectA, "pm_old_revoked.correcting", Ciphertext(5), T0), CancellationToken.None);
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(TestData.Claim("pending-old", TestData.Hmac(2), T0), CancellationToken.None)).State);
        Clock.Advance(TimeSpan.FromDays(10));
        var recent = TestData.Card("pm_recent_claim", T0.AddDays(10));
        Assert.Equal(IdempotencyState.Started, (await Ledger.Claims.ClaimAsync(TestData.Claim("recent", TestData.Hmac(3), Clock.GetUtcNow()), CancellationToken.None)).State);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "recent", TestData.Response(recent), recent, CancellationToken.None);
        var recordsBefore = await CountRowsAsync("idempotency_records");

        // Act: revoked tokens kept 5 days, idempotency records 5 days.
        var purge = await Store.PurgeExpiredAsync(T0.AddDays(5), T0.AddDays(5), CancellationToken.None);

        // Assert
        Assert.Equal(1, purge.RevokedTokens);
        Assert.Null(await Ledger.Tokens.GetTokenAsync("pm_old_revoked", CancellationToken.None));
        Assert.NotNull(await Ledger.Tokens.GetTokenAsync("pm_new_revoked", CancellationToken.None));
        Assert.NotNull(await Ledger.Tokens.GetTokenAsync("pm_active", CancellationToken.None));
        Assert.Equal(["pm_active", "pm_active.mandate"], (await Store.ListPersonalDataAsync(SubjectA, CancellationToken.None)).Select(r => r.RecordId));

        // The three seeded claims completed at T0 expired; the pending one (T0) and the recent completed one stay.
        Assert.Equal(3, purge.IdempotencyRecords);
        Assert.Equal(recordsBefore - 3, await CountRowsAsync("idempotency_records"));
        Assert.Equal(
            ["pending-old", "recent"],
            await Database.QueryAsync("SELECT idempotency_key FROM idempotency_records ORDER BY idempotency_key", r => r.GetString(0)));
    }

    [Fact]
    public async Task PurgeExpiredAsync_NothingExpired_DeletesNothing()
    {
        // Arrange
        await SeedAsync(Ledger, [TestData.Card("pm_revoked", T0, status: TokenStatus.Revoked)]);

        // Act
        var purge = await Store.PurgeExpiredAsync(T0, T0.AddSeconds(-1), CancellationToken.None);

        // Assert
        Assert.Equal(new RetentionPurge(0, 0), purge);
        Assert.Equal(1, await CountRowsAsync("tokens"));
        Assert.Equal(1, await CountRowsAsync("idempotency_records"));
    }

    private static byte[] Ciphertext(byte seed) => [.. Enumerable.Repeat(seed, 40)];
}
