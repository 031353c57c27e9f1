using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Reconciliation;

namespace Tokenizer.Core.Tests.Reconciliation;

/// <summary>The Reconciler on its own, its ports substituted: paging, pacing, cursor saving and error handling.</summary>
public sealed class ReconcilerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
    private static readonly CustomerMapping Customer = new("cust-1", "cus_1");

    private readonly IReconciliationStore store = Substitute.For<IReconciliationStore>();
    private readonly IIntentStore intentStore = Substitute.For<IIntentStore>();
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly CountingPacer pacer = new();
    private readonly List<ReconciliationProgress> saved = [];

    public ReconcilerTests()
    {
        gateway.Name.Returns("stripe");
        store.ListCustomersAsync("stripe", null, null, Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([Customer]);
        store.ListCustomersAsync("stripe", null, "cust-1", Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([]);
        store.GetTokensAsync(Arg.Any<IReadOnlyCollection<string>>(), Arg.Any<CancellationToken>()).Returns(new Dictionary<string, TokenRecord>());
        store.ListUnseenTokensAsync(Arg.Any<string>(), Arg.Any<ReconciliationFilter>(), Arg.Any<string?>(), Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([]);
        store.SaveProgressAsync("rec_1", "owner", Arg.Do<ReconciliationProgress>(saved.Add), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(true);
        store.FinishRunAsync("rec_1", "owner", Arg.Any<ReconciliationState>(), Arg.Any<string?>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(true);
        intentStore.ListIntentsAsync(Arg.Any<IntentState>(), Arg.Any<DateTimeOffset>(), Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([]);
    }

    [Fact]
    public async Task RunAsync_ThreeGatewayPages_OnePermitPerPageAndTheCursorSavedWithEachPage()
    {
        // Arrange
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(Page("pm_3", "pm_2"));
        gateway.ListCustomerPaymentMethodsAsync("cus_1", "pm_2", 2, Arg.Any<CancellationToken>()).Returns(Page("pm_1", "pm_0"));
        gateway.ListCustomerPaymentMethodsAsync("cus_1", "pm_0", 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([], null));

        // Act
        var state = await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert
        Assert.Equal(ReconciliationState.Completed, state);
        Assert.Equal(3, pacer.Acquired);
        Assert.Equal(
            [("cust-1", "pm_2"), ("cust-1", "pm_0"), (null, null)],
            saved.Take(3).Select(p => (p.Cursor.CurrentCustomer, p.Cursor.GatewayStartingAfter)));
        Assert.Equal([2, 2, 0], saved.Take(3).Select(p => p.Items.Count));
        Assert.All(saved.Take(3), p => Assert.Equal(1, p.GatewayRequests));
        Assert.Equal("cust-1", saved[2].Cursor.AfterCustomer);
        Assert.Equal(ReconciliationPhase.Done, saved[^1].Cursor.Phase);
        await store.Received(1).SetCustomersTotalAsync("rec_1", Arg.Any<long>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunAsync_ResumedInsideACustomer_ContinuesAfterTheStoredGatewayCursor()
    {
        // Arrange
        var resumed = Run() with { Cursor = new ReconciliationCursor(ReconciliationPhase.Customers, null, "cust-1", "pm_2", null) };
        gateway.ListCustomerPaymentMethodsAsync("cus_1", "pm_2", 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([], null));

        // Act
        var state = await Reconciler().RunAsync(resumed, "owner", CancellationToken.None);

        // Assert
        Assert.Equal(ReconciliationState.Completed, state);
        await gateway.DidNotReceive().ListCustomerPaymentMethodsAsync("cus_1", null, Arg.Any<int>(), Arg.Any<CancellationToken>());
        await store.DidNotReceive().SetCustomersTotalAsync(Arg.Any<string>(), Arg.Any<long>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunAsync_GatewayUnavailable_InterruptedWithItsReasonAndNothingMoreSaved()
    {
        // Arrange
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>())
            .Returns<GatewayPaymentMethodPage>(_ => throw new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable"));

        // Act
        var state = await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert
        Assert.Equal(ReconciliationState.Interrupted, state);
        Assert.Empty(saved);
        await store.Received(1).FinishRunAsync("rec_1", "owner", ReconciliationState.Interrupted, ErrorReasons.GatewayUnavailable, Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunAsync_RunTakenOverByAnotherWorker_StopsWithoutFinishing()
    {
        // Arrange
        store.SaveProgressAsync("rec_1", "owner", Arg.Any<ReconciliationProgress>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(false);
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(Page("pm_1"));

        // Act
        var state = await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert
        Assert.Null(state);
        await store.DidNotReceive().FinishRunAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<ReconciliationState>(), Arg.Any<string?>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RunAsync_PaymentMethodsOutsideThePeriodOrType_NotRecorded()
    {
        // Arrange
        var old = new GatewayPaymentMethod("pm_old", TokenType.Card, Card(), null) { CustomerId = "cus_1", CreatedAt = Now.AddYears(-2) };
        var bank = new GatewayPaymentMethod("pm_bank", TokenType.SepaDebit, null, new BankAccountMetadata("3201", "19043", "AT", "fp")) { CustomerId = "cus_1", CreatedAt = Now.AddDays(-1) };
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([old, bank], null));
        var cardsOnly = Run() with { Filter = Run().Filter with { Type = TokenType.Card } };

        // Act
        await Reconciler().RunAsync(cardsOnly, "owner", CancellationToken.None);

        // Assert
        Assert.Empty(saved[0].Items);
    }

    [Fact]
    public async Task RunAsync_TokenCreatedAfterTheRunStarted_NotReportedMissingAtTheGateway()
    {
        // Bug fix (review of #5): a period that includes now reported tokens created during the run as
        // missing_at_gateway, because the walk's snapshot could not have seen them.
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([], null));
        store.ListUnseenTokensAsync("rec_1", Arg.Any<ReconciliationFilter>(), null, Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns([Token("pm_old", Now.AddMinutes(-1)), Token("pm_new", Now.AddTicks(10))]);

        var state = await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        Assert.Equal(ReconciliationState.Completed, state);
        var items = saved.SelectMany(p => p.Items).ToList();
        Assert.Equal(["pm_old"], items.Select(i => i.Token));
        Assert.Equal(ReconciliationCategory.MissingAtGateway, items[0].Category);
    }

    [Fact]
    public async Task RunAsync_UnseenTokensWaitingForSetupInTheLedger_OnlyTheActiveWaitingOneReadAtTheGatewayWithAPermit()
    {
        // Arrange: not attached at the gateway: an active token the ledger holds waiting for 3-D Secure (Stripe says it
        // succeeded), a revoked one waiting, and a plain active one (the controls: no read).
        var redirect = new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/next", null);
        var waiting = new TokenSetup(SetupStatus.RequiresAction, "seti_1", redirect, null);
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([], null));
        store.ListUnseenTokensAsync("rec_1", Arg.Any<ReconciliationFilter>(), null, Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns(
            [
                Token("pm_1", Now.AddDays(-1)) with { Setup = waiting },
                Token("pm_2", Now.AddDays(-1)) with { Status = TokenStatus.Revoked, Setup = waiting with { SetupIntentId = "seti_2" } },
                Token("pm_3", Now.AddDays(-1)),
            ]);
        gateway.GetSetupIntentAsync("seti_1", Arg.Any<CancellationToken>()).Returns(new GatewaySetup("seti_1", SetupStatus.Ready, null, null, null, "pm_1"));

        // Act
        await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert: one SetupIntent read and one read of the tokens' Customer (one permit each besides the page's), and
        // Stripe's answer decides the category.
        await gateway.Received(1).GetSetupIntentAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.Received(1).IsCustomerDeletedAsync("cus_1", Arg.Any<CancellationToken>());
        Assert.Equal(3, pacer.Acquired);
        var items = saved.SelectMany(p => p.Items).ToDictionary(i => i.Token, i => i.Category);
        Assert.Equal(ReconciliationCategory.MissingAtGateway, items["pm_1"]);
        Assert.Equal(ReconciliationCategory.StatusMismatch, items["pm_2"]);
        Assert.Equal(ReconciliationCategory.MissingAtGateway, items["pm_3"]);
    }

    [Fact]
    public async Task RunAsync_CustomerListAnswersNoSuchCustomer_ItsUnseenTokensReportedNeverChargeableWhateverTheirSetup()
    {
        // Arrange: the gateway has no such Customer (deleted in the Dashboard, customer.deleted not processed). The
        // reference's unseen tokens: one waiting for 3-D Secure, a plain one, a revoked one still waiting (all under
        // it), and one under another Customer of the reference (a replacement, walked on its own: not reported here).
        var redirect = new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/next", null);
        var waiting = new TokenSetup(SetupStatus.RequiresAction, "seti_1", redirect, null);
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(GatewayPaymentMethodPage.NoSuchCustomer);
        store.ListUnseenTokensAsync("rec_1", Arg.Is<ReconciliationFilter>(f => f.CustomerReference == "cust-1"), null, Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns(
            [
                Token("pm_1", Now.AddDays(-1)) with { Setup = waiting },
                Token("pm_2", Now.AddDays(-1)),
                Token("pm_3", Now.AddDays(-1)) with { Status = TokenStatus.Revoked, Setup = waiting with { SetupIntentId = "seti_3" } },
                Token("pm_4", Now.AddDays(-1)) with { GatewayCustomerId = "cus_2" },
            ]);
        store.ListUnseenTokensAsync("rec_1", Arg.Is<ReconciliationFilter>(f => f.CustomerReference == "cust-1"), "pm_4", Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns([]);

        // Act
        var state = await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert: reported by the walk, from the list's answer alone (no SetupIntent or Customer read); then the walk
        // moves past the Customer, counting it done and its one request.
        Assert.Equal(ReconciliationState.Completed, state);
        var items = saved.SelectMany(p => p.Items).ToDictionary(i => i.Token);
        Assert.Equal(["pm_1", "pm_2", "pm_3"], items.Keys.Order());
        Assert.Equal((ReconciliationCategory.MissingAtGateway, ReconciliationClassifier.CustomerDeletedDetail), (items["pm_1"].Category, items["pm_1"].Detail));
        Assert.Equal((ReconciliationCategory.MissingAtGateway, ReconciliationClassifier.CustomerDeletedDetail), (items["pm_2"].Category, items["pm_2"].Detail));
        Assert.Equal(ReconciliationCategory.Matched, items["pm_3"].Category);
        await gateway.DidNotReceiveWithAnyArgs().GetSetupIntentAsync(default!, default);
        await gateway.DidNotReceiveWithAnyArgs().IsCustomerDeletedAsync(default!, default);
        Assert.Equal(("cust-1", ReconciliationPhase.Customers), (saved[0].Cursor.CurrentCustomer, saved[0].Cursor.Phase));
        var past = saved.Single(p => p.CustomersDone == 1);
        Assert.Equal(("cust-1", (string?)null), (past.Cursor.AfterCustomer, past.Cursor.CurrentCustomer));
        Assert.Equal(1, saved.Sum(p => p.GatewayRequests));
    }

    [Fact]
    public async Task RunAsync_SweptTokensWhoseCustomerIsDeleted_MissingAtGatewayWithoutASetupReadOneCustomerReadEach()
    {
        // Arrange: the walk meets a live Customer only (the reference maps to a replacement now); the sweep finds two
        // tokens waiting for 3-D Secure under the old Customer, deleted at the gateway, and one under the live Customer
        // whose SetupIntent still waits (the control: pending).
        var redirect = new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/next", null);
        var waiting = new TokenSetup(SetupStatus.RequiresAction, "seti_1", redirect, null);
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>()).Returns(new GatewayPaymentMethodPage([], null));
        store.ListUnseenTokensAsync("rec_1", Arg.Any<ReconciliationFilter>(), null, Arg.Any<int>(), Arg.Any<CancellationToken>())
            .Returns(
            [
                Token("pm_1", Now.AddDays(-1)) with { GatewayCustomerId = "cus_old", Setup = waiting },
                Token("pm_2", Now.AddDays(-1)) with { GatewayCustomerId = "cus_old", Setup = waiting with { SetupIntentId = "seti_2" } },
                Token("pm_3", Now.AddDays(-1)) with { Setup = waiting with { SetupIntentId = "seti_3" } },
            ]);
        gateway.IsCustomerDeletedAsync("cus_old", Arg.Any<CancellationToken>()).Returns(true);
        gateway.IsCustomerDeletedAsync("cus_1", Arg.Any<CancellationToken>()).Returns(false);
        gateway.GetSetupIntentAsync("seti_3", Arg.Any<CancellationToken>()).Returns(new GatewaySetup("seti_3", SetupStatus.RequiresAction, redirect, null, null, "pm_3"));

        // Act
        await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert
        var items = saved.SelectMany(p => p.Items).ToDictionary(i => i.Token);
        Assert.Equal((ReconciliationCategory.MissingAtGateway, ReconciliationClassifier.CustomerDeletedDetail), (items["pm_1"].Category, items["pm_1"].Detail));
        Assert.Equal((ReconciliationCategory.MissingAtGateway, ReconciliationClassifier.CustomerDeletedDetail), (items["pm_2"].Category, items["pm_2"].Detail));
        Assert.Equal(ReconciliationCategory.Pending, items["pm_3"].Category);
        await gateway.Received(1).IsCustomerDeletedAsync("cus_old", Arg.Any<CancellationToken>());
        await gateway.Received(1).GetSetupIntentAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal(4, pacer.Acquired); // the page, two Customer reads, one SetupIntent read
    }

    [Theory]
    [InlineData(SetupStatus.Ready, MandateStatus.Active, null)]
    [InlineData(SetupStatus.Failed, MandateStatus.Active, "setup_status differs")]
    [InlineData(SetupStatus.Ready, MandateStatus.Inactive, "mandate_status differs")]
    [InlineData(SetupStatus.RequiresAction, MandateStatus.Inactive, "setup_status differs; mandate_status differs")]
    public async Task RunAsync_ReadyTokenWhoseSetupOrMandateChangedAtTheGateway_FieldMismatchNamingIt(SetupStatus atGateway, MandateStatus mandateAtGateway, string? detail)
    {
        // Arrange: READY here, with a SetupIntent and a mandate; the gateway reports them as the case says.
        var bank = new BankAccountMetadata("3201", "19043", "AT", "fp");
        gateway.ListCustomerPaymentMethodsAsync("cus_1", null, 2, Arg.Any<CancellationToken>())
            .Returns(new GatewayPaymentMethodPage([new GatewayPaymentMethod("pm_1", TokenType.SepaDebit, null, bank) { CustomerId = "cus_1", CreatedAt = Now.AddDays(-1) }], null));
        store.GetTokensAsync(Arg.Any<IReadOnlyCollection<string>>(), Arg.Any<CancellationToken>()).Returns(new Dictionary<string, TokenRecord>
        {
            ["pm_1"] = Token("pm_1", Now.AddDays(-1)) with
            {
                Type = TokenType.SepaDebit,
                Card = null,
                BankAccount = bank,
                Setup = new TokenSetup(SetupStatus.Ready, "seti_1", null, null),
                Mandate = new Mandate("mandate_1", MandateStatus.Active, MandateType.Online, Now.AddDays(-1)),
            },
        });
        gateway.GetSetupIntentAsync("seti_1", Arg.Any<CancellationToken>()).Returns(new GatewaySetup("seti_1", atGateway, null, null, "mandate_1", "pm_1"));
        gateway.GetMandateAsync("mandate_1", Arg.Any<CancellationToken>()).Returns(new Mandate("mandate_1", mandateAtGateway, MandateType.Online, Now.AddDays(-1)));

        // Act
        await Reconciler().RunAsync(Run(), "owner", CancellationToken.None);

        // Assert
        var item = Assert.Single(saved.SelectMany(p => p.Items));
        Assert.Equal(detail is null ? ReconciliationCategory.Matched : ReconciliationCategory.FieldMismatch, item.Category);
        Assert.Equal(detail, item.Detail);
        Assert.Equal(3, pacer.Acquired);
    }

    private static TokenRecord Token(string id, DateTimeOffset createdAt) => new()
    {
        Token = id,
        Gateway = "stripe",
        Type = TokenType.Card,
        Status = TokenStatus.Active,
        CallerId = "billing",
        CustomerReference = "cust-1",
        GatewayCustomerId = "cus_1",
        Card = Card(),
        CreatedAt = createdAt,
    };

    private static CardMetadata Card() => new("visa", "4242", 12, 2030, "credit", "US", "fp");

    private static GatewayPaymentMethodPage Page(params string[] ids) =>
        new([.. ids.Select(id => new GatewayPaymentMethod(id, TokenType.Card, Card(), null) { CustomerId = "cus_1", CreatedAt = Now.AddDays(-1) })], ids[^1]);

    private static ReconciliationRun Run() => new()
    {
        RunId = "rec_1",
        Filter = new ReconciliationFilter(Now.AddDays(-30), Now, null, null),
        State = ReconciliationState.Running,
        StartedBy = "finance",
        CreatedAt = Now,
        UpdatedAt = Now,
        Cursor = ReconciliationCursor.Start,
        Owner = "owner",
    };

    private Reconciler Reconciler() =>
        new(store, intentStore, gateway, pacer, new FakeTimeProvider(Now), new ReconcilerSettings { GatewayPageSize = 2 });

    /// <summary>Grants every permit at once and counts them.</summary>
    private sealed class CountingPacer : RateLimiter
    {
        public int Acquired { get; private set; }

        public override TimeSpan? IdleDuration => null;

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount) => Grant(permitCount);

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) => ValueTask.FromResult<RateLimitLease>(Grant(permitCount));

        private Lease Grant(int permitCount)
        {
            Acquired += permitCount;
            return new Lease();
        }

        private sealed class Lease : RateLimitLease
        {
            public override bool IsAcquired => true;

            public override IEnumerable<string> MetadataNames => [];

            public override bool TryGetMetadata(string metadataName, out object? metadata)
            {
                metadata = null;
                return false;
            }
        }
    }
}
