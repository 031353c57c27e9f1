using System.Text;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests;

/// <summary>
/// Calls cut off by a crash: a claim still pending after its lease gets exactly one INTERRUPTED audit record naming its
/// caller, whether the recovery pass (<see cref="IClaimStore.AuditAbandonedAsync"/>) or a same-key retry's
/// takeover (<see cref="IClaimStore.ClaimAsync"/>) finds it first; a completed or live claim never gets one.
/// </summary>
public abstract class InterruptedClaimAuditTests(TestDatabase database) : LedgerTestBase(database)
{
    private const string RevokeAction = "tokenizer.v1.TokenizerService/RevokeToken";
    private static readonly byte[] AuditKey = Encoding.ASCII.GetBytes("audit-key-for-tests-0123456789abcdef");
    private static readonly TimeSpan Lease = TestData.Lease;

    [Fact]
    public async Task AuditAbandonedClaims_PendingPastLease_OneRecordNamingTheCallerOnceAcrossPassesAndReplicas()
    {
        // Arrange: a revoke cut off (pending, its resource kept), a completed call and a live call as controls.
        var trail = await TrailAsync();
        await Ledger.Claims.ClaimAsync(Revoke("rev-cut", T0), CancellationToken.None);
        var done = TestData.Card("pm_done", T0);
        await Ledger.Claims.ClaimAsync(TestData.Claim("tok-done", TestData.Hmac(2), T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "tok-done", TestData.Response(done), done, CancellationToken.None);
        var now = T0 + Lease + TimeSpan.FromSeconds(1);
        await Ledger.Claims.ClaimAsync(TestData.Claim("tok-live", TestData.Hmac(3), now - TimeSpan.FromSeconds(5)), CancellationToken.None);

        // Act: two passes, then a pass of another replica on the same database, later still.
        var first = await Ledger.Claims.AuditAbandonedAsync(now, Lease, 100, CancellationToken.None);
        var second = await Ledger.Claims.AuditAbandonedAsync(now, Lease, 100, CancellationToken.None);
        var replica = await OpenLedgerAsync();
        await TrailAsync(replica);
        var third = await replica.Claims.AuditAbandonedAsync(now + TimeSpan.FromSeconds(2), Lease, 100, CancellationToken.None);

        // Assert
        Assert.Equal((1, 0, 0), (first, second, third));
        var row = Assert.Single(await Database.AuditRowsAsync());
        Assert.Equal(("admin", RevokeAction, "pm_cut", "failure", InterruptedCalls.Reason), (row.CallerId, row.Action, row.Resource, row.Outcome, row.Reason));
        Assert.Equal(Schema.UnixMicros.From(T0), row.TimeMicros);
        Assert.True((await trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task BeginAsync_RetryTakesOverAnAbandonedClaim_AuditsItInTheTakeoverAndItsOwnCutOffAgain()
    {
        // Arrange
        await TrailAsync();
        await Ledger.Claims.ClaimAsync(Revoke("rev-retry", T0), CancellationToken.None);
        var retryAt = T0 + Lease + TimeSpan.FromSeconds(1);

        // Act: the retry takes the claim over (its record commits with the takeover); a pass while the retry runs; then
        // the retry is cut off too and a pass after its lease.
        var retry = await Ledger.Claims.ClaimAsync(Revoke("rev-retry", retryAt), CancellationToken.None);
        var whileLive = await Ledger.Claims.AuditAbandonedAsync(retryAt + TimeSpan.FromSeconds(1), Lease, 100, CancellationToken.None);
        var afterRetryCut = await Ledger.Claims.AuditAbandonedAsync(retryAt + Lease + TimeSpan.FromSeconds(1), Lease, 100, CancellationToken.None);

        // Assert: one record per cut-off call, each at its own claim time.
        Assert.Equal(IdempotencyState.Started, retry.State);
        Assert.Equal((0, 1), (whileLive, afterRetryCut));
        var rows = await Database.AuditRowsAsync();
        Assert.Equal([Schema.UnixMicros.From(T0), Schema.UnixMicros.From(retryAt)], rows.Select(r => r.TimeMicros));
        Assert.All(rows, r => Assert.Equal(("admin", InterruptedCalls.Reason), (r.CallerId, r.Reason)));
    }

    [Fact]
    public async Task BeginAsync_AfterThePassAuditedIt_RetryTakesOverWithoutASecondRecord()
    {
        // Arrange
        await TrailAsync();
        await Ledger.Claims.ClaimAsync(Revoke("rev-pass", T0), CancellationToken.None);
        var now = T0 + Lease + TimeSpan.FromSeconds(1);
        Assert.Equal(1, await Ledger.Claims.AuditAbandonedAsync(now, Lease, 100, CancellationToken.None));

        // Act
        var retry = await Ledger.Claims.ClaimAsync(Revoke("rev-pass", now), CancellationToken.None);

        // Assert
        Assert.Equal(IdempotencyState.Started, retry.State);
        Assert.Single(await Database.AuditRowsAsync());
    }

    [Fact]
    public async Task BeginAsync_WorkerTakesOverACutOffTokenisation_AuditsTheCallersCallOnlyNeverTheWorkersOwnClaim()
    {
        // Arrange: a tokenisation cut off after its claim (intent pending).
        await TrailAsync();
        await Ledger.Claims.ClaimAsync(TestData.Claim("tok-cut", TestData.Hmac(4), T0) with { Intent = new IntentInfo("tkz_cut_intent", "cust_1") }, CancellationToken.None);
        var now = T0 + Lease + TimeSpan.FromSeconds(1);
        var intent = Assert.Single(await Ledger.Intents.ListIntentsAsync(IntentState.Pending, now, 10, CancellationToken.None));

        // Act: the recovery worker claims it (as RecoveryService does) and is cut off in turn; passes after its lease.
        var worker = await Ledger.Claims.ClaimAsync(
            TestData.Claim("tok-cut", TestData.Hmac(4), now) with
            {
                Intent = new IntentInfo(intent.IntentId, intent.CustomerReference),
                Fence = new IntentFence(intent.State, intent.UpdatedAt),
            },
            CancellationToken.None);
        var later = await Ledger.Claims.AuditAbandonedAsync(now + Lease + TimeSpan.FromSeconds(1), Lease, 100, CancellationToken.None);

        // Assert: the caller's call, correlated by its intent id; nothing for the worker's claim.
        Assert.Equal(IdempotencyState.Started, worker.State);
        Assert.Equal(0, later);
        var row = Assert.Single(await Database.AuditRowsAsync());
        Assert.Equal(
            (TestData.Caller, "tokenizer.v1.TokenizerService/TokenizeCard", (string?)null, "tkz_cut_intent", InterruptedCalls.Reason),
            (row.CallerId, row.Action, row.Resource, row.CorrelationId, row.Reason));
    }

    [Fact]
    public async Task AuditAbandonedClaims_NoTrailOnTheDatabase_AuditsNothingAndMarksNothing()
    {
        // Arrange: a ledger with no trail built on it (control for the wiring: the trail's constructor attaches it).
        await Ledger.Claims.ClaimAsync(Revoke("rev-none", T0), CancellationToken.None);
        var now = T0 + Lease + TimeSpan.FromSeconds(1);

        // Act
        var none = await Ledger.Claims.AuditAbandonedAsync(now, Lease, 100, CancellationToken.None);
        await TrailAsync();
        var withTrail = await Ledger.Claims.AuditAbandonedAsync(now, Lease, 100, CancellationToken.None);

        // Assert
        Assert.Equal((0, 1), (none, withTrail));
    }

    private static IdempotencyClaim Revoke(string key, DateTimeOffset now) =>
        TestData.Claim(key, TestData.Hmac(9), now, operation: "revoke_token", caller: "admin") with { Resource = "pm_" + key.Split('-')[1] };

    private async Task<RelationalAuditTrail> TrailAsync(RelationalTokenLedger? on = null)
    {
        var trail = Database.CreateSharedTrail(on ?? Ledger, AuditKey, Clock);
        await trail.InitializeAsync(CancellationToken.None);
        return trail;
    }
}
