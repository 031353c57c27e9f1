using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Telemetry;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Tests.Tokenization;

/// <summary>
/// The decisions of the recovery worker and orphan sweep, with the ports substituted (one class under test). The
/// end-to-end proofs (a killed process, a real sandbox and ledger) are in IntegrationTests.RecoveryTests.
/// </summary>
public sealed class RecoveryServiceTests : IDisposable
{
    private const string IntentId = "tkz_0123456789abcdef0123456789abcdef01234567_intent";
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly CardMetadata Visa = new("visa", "4242", 12, 2034, "credit", "US", "fp1");
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly IClaimStore claimStore = Substitute.For<IClaimStore>();
    private readonly IIntentStore intentStore = Substitute.For<IIntentStore>();
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly IAuditTrail audit = Substitute.For<IAuditTrail>();
    private readonly FakeTimeProvider time = new(Now);
    private readonly TestMeterFactory meters = new();
    private readonly MeterListener listener = new();
    private readonly List<string> recoveryActions = [];
    private readonly RecoveryService service;

    public RecoveryServiceTests()
    {
        gateway.Name.Returns("stripe");
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync("stripe", "cust-1", Arg.Any<CancellationToken>()).Returns("cus_1");
        intentStore.ListIntentsAsync(default, default, default, default).ReturnsForAnyArgs([]);
        claimStore.CompleteOwnedWithTokenAsync(default!, default!, default, default!, default!, default, default).ReturnsForAnyArgs(true);
        tokenRepository.GetTokenAsync(default!, default).ReturnsForAnyArgs((TokenRecord?)null);
        claimStore.ReleaseOwnedAsync(default!, default!, default, default, default).ReturnsForAnyArgs(true);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "tokenizer.recovery.actions")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) => recoveryActions.Add((string)tags[0].Value!));
        listener.Start();
        service = new RecoveryService(
            claimStore,
            intentStore,
            customerRepository,
            tokenRepository,
            gateway,
            audit,
            new TokenizerMetrics(meters, Substitute.For<IGatewayHealth>()),
            time,
            new TokenizationSettings { PendingLease = TimeSpan.FromMinutes(2) },
            new RecoverySettings { GracePeriod = TimeSpan.FromMinutes(10), BatchSize = 50, MaxPagesPerIntent = 3 },
            NullLogger<RecoveryService>.Instance);
    }

    public void Dispose()
    {
        listener.Dispose();
        meters.Dispose();
    }

    [Fact]
    public async Task RunOnce_ListsPendingThenFailedIntentsOlderThanTheGracePeriod()
    {
        await service.RunOnceAsync(CancellationToken.None);

        await intentStore.Received(1).ListIntentsAsync(IntentState.Pending, Now - TimeSpan.FromMinutes(10), 50, Arg.Any<CancellationToken>());
        await intentStore.Received(1).ListIntentsAsync(IntentState.Failed, Now - TimeSpan.FromMinutes(10), 50, Arg.Any<CancellationToken>());
        await intentStore.Received(1).ListIntentsAsync(IntentState.Detaching, Now - TimeSpan.FromMinutes(2), 50, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunOnce_AuditsCutOffCallsFirst_ThroughTheLedgerWithTheLeaseAndBatch()
    {
        claimStore.AuditAbandonedAsync(Now, TimeSpan.FromMinutes(2), 50, Arg.Any<CancellationToken>()).Returns(2);

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(0, 0, 0, 0, 0, Interrupted: 2), result);
        Received.InOrder(() =>
        {
            claimStore.AuditAbandonedAsync(Now, TimeSpan.FromMinutes(2), 50, Arg.Any<CancellationToken>());
            intentStore.ListIntentsAsync(IntentState.Detaching, Arg.Any<DateTimeOffset>(), 50, Arg.Any<CancellationToken>());
        });

        // The record and the claim's mark commit in the ledger's one transaction: the pass never appends one itself
        // (a second append outside that transaction is what would make it twice).
        await audit.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
    }

    [Fact]
    public async Task RunOnce_SecondPassTheLedgerFindsNothingNew_AddsNothing()
    {
        claimStore.AuditAbandonedAsync(default, default, default, default).ReturnsForAnyArgs(1, 0);

        var first = await service.RunOnceAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(30));
        var second = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal((1, 0), (first.Interrupted, second.Interrupted));
        await claimStore.Received(1).AuditAbandonedAsync(Now + TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), 50, Arg.Any<CancellationToken>());
        await audit.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
    }

    [Fact]
    public async Task RunOnce_AuditOfCutOffCallsFails_TheIntentsAreStillResolved()
    {
        claimStore.AuditAbandonedAsync(default, default, default, default).ThrowsAsyncForAnyArgs(new InvalidOperationException("ledger down"));
        GivenIntents(Intent(IntentState.Pending));
        GivenPages(Page(null, Listed("pm_1", IntentId)));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(1, 0, 0, 0, 0, Interrupted: 0), result);
    }

    [Fact]
    public async Task PendingIntent_PaymentMethodAttached_CompletesTheClaimWithAnActiveTokenAndAudits()
    {
        var intent = Intent(IntentState.Pending);
        GivenIntents(intent);
        GivenPages(Page(null, Listed("pm_other", "tkz_someone_else_intent"), Listed("pm_1", IntentId)));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(1, 0, 0, 0, 0), result);
        var claim = (IdempotencyClaim)claimStore.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(IClaimStore.ClaimAsync)).GetArguments()[0]!;
        Assert.Equal(("caller-1", "key-id-1", "tokenize_card", TimeSpan.FromMinutes(2)), (claim.CallerId, claim.Key, claim.Operation, claim.Lease));
        Assert.Equal(intent.RequestHmac, claim.RequestHmac);
        Assert.Equal(new IntentInfo(IntentId, "cust-1"), claim.Intent);
        Assert.Equal(new IntentFence(IntentState.Pending, intent.UpdatedAt), claim.Fence);
        var token = CompletedToken();
        Assert.Equal(
            ("pm_1", TokenStatus.Active, "caller-1", "cust-1", "cus_1", Visa, intent.CreatedAt, (DateTimeOffset?)null),
            (token.Token, token.Status, token.CallerId, token.CustomerReference, token.GatewayCustomerId, token.Card, token.CreatedAt, token.RevokedAt));
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
        await AuditedAsync(RecoveryService.IntentCompletedAction, "pm_1");
        Assert.Equal([TokenizerMetrics.RecoveryActions.Completed], recoveryActions);
    }

    [Fact]
    public async Task PendingIntent_SetUpAtTheGateway_RecordsTheSetupItsSetupIntentReachedAndTheMandate()
    {
        GivenIntents(Intent(IntentState.Pending));
        var debit = new GatewayPaymentMethod("pm_1", TokenType.SepaDebit, null, new BankAccountMetadata("3201", "19043", "AT", "fp"))
        {
            CustomerId = "cus_1",
            Metadata = new Dictionary<string, string> { ["tokenizer_intent"] = IntentId },
        };
        GivenPages(Page(null, debit));
        gateway.FindSetupIntentAsync("cus_1", "pm_1", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_1", SetupStatus.Ready, null, null, "mandate_1", "pm_1"));
        var mandate = new Mandate("mandate_1", MandateStatus.Active, MandateType.Online, Now.AddMinutes(-31));
        gateway.GetMandateAsync("mandate_1", Arg.Any<CancellationToken>()).Returns(mandate);

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(1, 0, 0, 0, 0), result);
        var token = CompletedToken();
        Assert.Equal(new TokenSetup(SetupStatus.Ready, "seti_1", null, null), token.Setup);
        Assert.Equal(mandate, token.Mandate);
    }

    [Fact]
    public async Task PendingIntent_AttachedWithoutASetupIntent_RecordedNotSetUp()
    {
        GivenIntents(Intent(IntentState.Pending));
        GivenPages(Page(null, Listed("pm_1", IntentId)));
        gateway.FindSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs((GatewaySetup?)null);

        await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(TokenSetup.NotSetUp, CompletedToken().Setup);
        await gateway.DidNotReceiveWithAnyArgs().GetMandateAsync(default!, default);
    }

    [Fact]
    public async Task FailedIntent_Orphan_NeverAsksForItsSetup()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null, Listed("pm_1", IntentId)));

        await service.RunOnceAsync(CancellationToken.None);

        await gateway.DidNotReceiveWithAnyArgs().FindSetupIntentAsync(default!, default!, default);
        await gateway.Received(1).DetachAsync("pm_1", IntentId + "_sweep_detach", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task PendingIntent_FoundOnALaterPage_FollowsTheCursor()
    {
        GivenIntents(Intent(IntentState.Pending));
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 100, Arg.Any<CancellationToken>())
            .Returns(Page("pm_other", Listed("pm_other", "tkz_x_intent")));
        gateway.ListCustomerPaymentMethodsAsync("cus_1", "pm_other", 100, Arg.Any<CancellationToken>())
            .Returns(Page(null, Listed("pm_1", IntentId)));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Completed);
        Assert.Equal("pm_1", CompletedToken().Token);
    }

    [Fact]
    public async Task PendingIntent_NothingAttached_ClosesTheIntentSoARetryRunsAfresh()
    {
        GivenIntents(Intent(IntentState.Pending));
        GivenPages(Page(null, Listed("pm_other", "tkz_x_intent")));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(0, 1, 0, 0, 0), result);
        await claimStore.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Now, IntentState.Closed, Arg.Any<CancellationToken>());
        await claimStore.DidNotReceiveWithAnyArgs().CompleteOwnedWithTokenAsync(default!, default!, default, default!, default!, default, default);
        await AuditedAsync(RecoveryService.IntentClosedAction, IntentId);
        Assert.Equal([TokenizerMetrics.RecoveryActions.Released], recoveryActions);
    }

    [Fact]
    public async Task PendingIntent_NoCustomerRecorded_ClosesWithoutAskingTheGateway()
    {
        GivenIntents(Intent(IntentState.Pending) with { CustomerReference = "cust-never-created" });
        customerRepository.FindCustomerAsync("stripe", "cust-never-created", Arg.Any<CancellationToken>()).Returns((string?)null);

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Released);
        await gateway.DidNotReceiveWithAnyArgs().ListCustomerPaymentMethodsAsync(default!, default, default, default);
    }

    [Fact]
    public async Task FailedIntent_StillAttached_RecordsItRevokedFirstThenDetachesAndFinishes()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null, Listed("pm_1", IntentId)));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(0, 0, 1, 0, 0), result);
        var token = CompletedToken(IntentState.Detaching);
        Assert.Equal((TokenStatus.Revoked, (DateTimeOffset?)Now), (token.Status, token.RevokedAt));
        Received.InOrder(() =>
        {
            claimStore.CompleteOwnedWithTokenAsync("caller-1", "key-id-1", Now, Arg.Any<string>(), Arg.Any<TokenRecord>(), IntentState.Detaching, Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_1", IntentId + "_sweep_detach", Arg.Any<CancellationToken>());
            intentStore.ConfirmDetachedAsync("caller-1", "key-id-1", Arg.Any<CancellationToken>());
        });
        await AuditedAsync(RecoveryService.OrphanDetachedAction, "pm_1");
        Assert.Equal([TokenizerMetrics.RecoveryActions.Detached], recoveryActions);
    }

    [Fact]
    public async Task FailedIntent_ARetryTookTheClaimOver_NeverDetaches()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null, Listed("pm_1", IntentId)));
        claimStore.CompleteOwnedWithTokenAsync(default!, default!, default, default!, default!, default, default).ReturnsForAnyArgs(false);

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Deferred);
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
        await audit.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
    }

    [Fact]
    public async Task FailedIntent_PaymentMethodAlreadyRecorded_CompletesWithTheRecordAndNeverDetaches()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null, Listed("pm_1", IntentId)));
        var recorded = new TokenRecord
        {
            Token = "pm_1", Gateway = "stripe", Type = TokenType.Card, Status = TokenStatus.Active, CallerId = "caller-1",
            CustomerReference = "cust-1", GatewayCustomerId = "cus_1", Card = Visa, CreatedAt = Now.AddHours(-1),
        };
        tokenRepository.GetTokenAsync("pm_1", Arg.Any<CancellationToken>()).Returns(recorded);

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Completed);
        Assert.Equal(recorded, CompletedToken(IntentState.Completed));
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
    }

    [Fact]
    public async Task FailedIntent_DetachAnswerLost_StaysDetachingAndTheNextPassDetachesAgain()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null, Listed("pm_1", IntentId)));
        gateway.DetachAsync(default!, default!, default)
            .ThrowsAsyncForAnyArgs(new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable"));

        var first = await service.RunOnceAsync(CancellationToken.None);

        // Recorded revoked already; not given back, not finished: the intent stays Detaching.
        Assert.Equal(1, first.Deferred);
        CompletedToken(IntentState.Detaching);
        await claimStore.DidNotReceiveWithAnyArgs().ReleaseOwnedAsync(default!, default!, default, default, default);
        await intentStore.DidNotReceiveWithAnyArgs().ConfirmDetachedAsync(default!, default!, default);

        // The next pass lists it as Detaching and repeats the detach with the same key.
        gateway.ClearReceivedCalls();
        gateway.DetachAsync(default!, default!, default).ReturnsForAnyArgs(Task.CompletedTask);
        GivenIntents(failed: []);
        intentStore.ListIntentsAsync(IntentState.Detaching, Arg.Any<DateTimeOffset>(), Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns([Intent(IntentState.Detaching) with { Token = "pm_1" }]);

        var second = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, second.Detached);
        await gateway.Received(1).DetachAsync("pm_1", IntentId + "_sweep_detach", Arg.Any<CancellationToken>());
        await intentStore.Received(1).ConfirmDetachedAsync("caller-1", "key-id-1", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task AuditAppendFails_TheActionStandsAndThePassGoesOn()
    {
        GivenIntents(Intent(IntentState.Pending), Intent(IntentState.Pending) with { IntentId = "tkz_other_intent", Key = "key-id-2" });
        GivenPages(Page(null, Listed("pm_1", IntentId)));
        audit.AppendAsync(default!, default).ThrowsAsyncForAnyArgs(new InvalidOperationException("audit down"));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal((1, 1), (result.Completed, result.Released));
    }

    [Fact]
    public async Task FailedIntent_NothingAttached_Closes()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        GivenPages(Page(null));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Released);
        await claimStore.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Now, IntentState.Closed, Arg.Any<CancellationToken>());
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
    }

    [Theory]
    [InlineData(IdempotencyState.InFlight)]
    [InlineData(IdempotencyState.Replay)]
    [InlineData(IdempotencyState.Conflict)]
    public async Task Intent_ClaimNotStarted_IsLeftAloneWithoutGatewayCalls(IdempotencyState state)
    {
        GivenIntents(Intent(IntentState.Pending));
        var replayed = TokenJson.Serialize(new TokenRecord
        {
            Token = "pm_9", Gateway = "stripe", Type = TokenType.Card, Status = TokenStatus.Active, CallerId = "caller-1",
            CustomerReference = "cust-1", CreatedAt = Now,
        });
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(state, state == IdempotencyState.Replay ? replayed : null));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new RecoveryPassResult(0, 0, 0, 0, 1), result);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
        // Settled: completed with the replayed token, or moved to the back of the queue.
        await intentStore.Received(1).SettleUnclaimedAsync("caller-1", "key-id-1", state == IdempotencyState.Replay ? "pm_9" : null, Arg.Any<CancellationToken>());
        await claimStore.DidNotReceiveWithAnyArgs().ReleaseOwnedAsync(default!, default!, default, default, default);
        await audit.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
    }

    [Fact]
    public async Task PendingIntent_GatewayUnavailable_DefersAndKeepsTheClaimPendingForTheNextPass()
    {
        GivenIntents(Intent(IntentState.Pending));
        gateway.ListCustomerPaymentMethodsAsync(default!, default, default, default)
            .ThrowsAsyncForAnyArgs(new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable"));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Deferred);
        await claimStore.DidNotReceiveWithAnyArgs().ReleaseOwnedAsync(default!, default!, default, default, default);
        await claimStore.DidNotReceiveWithAnyArgs().CompleteOwnedWithTokenAsync(default!, default!, default, default!, default!, default, default);
    }

    [Fact]
    public async Task Intent_CustomerLargerThanTheSearchBound_EscalatesAndAudits()
    {
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        gateway.ListCustomerPaymentMethodsAsync(default!, default, default, default)
            .ReturnsForAnyArgs(Page("pm_more", Listed("pm_x", "tkz_x_intent")));

        var result = await service.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result.Escalated);
        await gateway.ReceivedWithAnyArgs(3).ListCustomerPaymentMethodsAsync(default!, default, default, default);
        await claimStore.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Now, IntentState.Failed, Arg.Any<CancellationToken>());
        await AuditedAsync(RecoveryService.IntentEscalatedAction, IntentId, AuditOutcome.Failure);
        Assert.Equal([TokenizerMetrics.RecoveryActions.Escalated], recoveryActions);
    }

    [Fact]
    public async Task RunOnce_Cancelled_ThrowsAndGivesAFailedIntentBack()
    {
        using var cancellation = new CancellationTokenSource();
        GivenIntents(failed: [Intent(IntentState.Failed)]);
        // The host stops while the gateway call is in flight.
        gateway.ListCustomerPaymentMethodsAsync(default!, default, default, default).ReturnsForAnyArgs(_ =>
        {
            cancellation.Cancel();
            return Task.FromException<GatewayPaymentMethodPage>(new OperationCanceledException(cancellation.Token));
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.RunOnceAsync(cancellation.Token));

        await claimStore.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Now, IntentState.Failed, Arg.Any<CancellationToken>());
    }

    private static TokenIntent Intent(IntentState state) => new(
        IntentId,
        "caller-1",
        "key-id-1",
        "tokenize_card",
        "cust-1",
        Enumerable.Repeat((byte)7, 32).ToArray(),
        state,
        null,
        Now.AddMinutes(-30),
        Now.AddMinutes(-20));

    private static GatewayPaymentMethod Listed(string id, string intentId) =>
        new(id, TokenType.Card, Visa, null)
        {
            CustomerId = "cus_1",
            Metadata = new Dictionary<string, string> { ["tokenizer_intent"] = intentId },
        };

    private static GatewayPaymentMethodPage Page(string? next, params GatewayPaymentMethod[] paymentMethods) => new(paymentMethods, next);

    private void GivenIntents(params TokenIntent[] pending) => GivenIntents(pending, []);

    private void GivenIntents(TokenIntent[]? pending = null, TokenIntent[]? failed = null)
    {
        intentStore.ListIntentsAsync(IntentState.Pending, Arg.Any<DateTimeOffset>(), Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns(pending ?? []);
        intentStore.ListIntentsAsync(IntentState.Failed, Arg.Any<DateTimeOffset>(), Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns(failed ?? []);
    }

    private void GivenPages(GatewayPaymentMethodPage page) =>
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 100, Arg.Any<CancellationToken>()).Returns(page);

    private TokenRecord CompletedToken(IntentState state = IntentState.Completed)
    {
        var call = claimStore.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(IClaimStore.CompleteOwnedWithTokenAsync));
        var arguments = call.GetArguments();
        Assert.Equal(("caller-1", "key-id-1", Now, state), ((string)arguments[0]!, (string)arguments[1]!, (DateTimeOffset)arguments[2]!, (IntentState)arguments[5]!));
        var token = (TokenRecord)arguments[4]!;
        Assert.Equal(token, TokenJson.Deserialize((string)arguments[3]!));
        return token;
    }

    private async Task AuditedAsync(string action, string resource, AuditOutcome outcome = AuditOutcome.Success) =>
        await audit.Received(1).AppendAsync(
            Arg.Is<AuditEvent>(e => e.Action == action && e.Resource == resource && e.Outcome == outcome && e.CallerId == "system"),
            Arg.Any<CancellationToken>());

    private sealed class TestMeterFactory : IMeterFactory
    {
        private readonly List<Meter> created = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            created.Add(meter);
            return meter;
        }

        public void Dispose() => created.ForEach(m => m.Dispose());
    }
}
