using System.Threading.RateLimiting;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Ledger.Reconciliation;

namespace Tokenizer.Ledger.Tests;

/// <summary>The reconciliation store (migration 5) on every provider: runs, claims, resumable progress, items, counts.</summary>
public abstract class ReconciliationStoreTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly ReconciliationFilter November = new(T0, T0.AddDays(30), null, null);

    private RelationalReconciliationStore Store => new(Ledger);

    [Fact]
    public async Task CreateRunAsync_SameCallerAndKeyTwice_OneRunAndTheSecondReplays()
    {
        // Act
        var (first, firstCreated) = await Store.CreateRunAsync(NewRun("rec_1"), "key_a", CancellationToken.None);
        var (second, secondCreated) = await Store.CreateRunAsync(NewRun("rec_2"), "key_a", CancellationToken.None);

        // Assert
        Assert.True(firstCreated);
        Assert.False(secondCreated);
        Assert.Equal("rec_1", second.RunId);
        Assert.Equal(ReconciliationState.Running, first.State);
        Assert.Equal(ReconciliationCursor.Start, first.Cursor);
        Assert.Equal(November, first.Filter);
        Assert.Equal(1, await CountRowsAsync("reconciliation_runs"));
    }

    [Fact]
    public async Task ClaimRunAsync_TwoWorkersFromTheSameRead_ExactlyOneWins()
    {
        // Arrange
        var (run, _) = await Store.CreateRunAsync(NewRun("rec_1"), "key_a", CancellationToken.None);

        // Act
        var first = await Store.ClaimRunAsync(run, "worker_a", T0.AddSeconds(1), CancellationToken.None);
        var second = await Store.ClaimRunAsync(run, "worker_b", T0.AddSeconds(1), CancellationToken.None);

        // Assert
        Assert.Equal("worker_a", first?.Owner);
        Assert.Null(second);
    }

    [Fact]
    public async Task SaveProgressAsync_SamePageTwice_ItemsUpsertedOnceCursorMovedCountersAdded()
    {
        // Arrange
        var run = await ClaimedRunAsync("worker_a");
        var cursor = new ReconciliationCursor(ReconciliationPhase.Customers, null, "cust_1", "pm_2", null);
        var progress = new ReconciliationProgress([Item("pm_1", ReconciliationCategory.Matched), Item("pm_2", ReconciliationCategory.FieldMismatch)], cursor, 0, 1);

        // Act
        Assert.True(await Store.SaveProgressAsync(run.RunId, "worker_a", progress, T0.AddSeconds(2), CancellationToken.None));
        Assert.True(await Store.SaveProgressAsync(run.RunId, "worker_a", progress, T0.AddSeconds(3), CancellationToken.None));

        // Assert
        var stored = await Store.GetRunAsync(run.RunId, CancellationToken.None);
        Assert.Equal(cursor, stored!.Cursor);
        Assert.Equal(2, stored.GatewayRequests);
        Assert.Equal(T0.AddSeconds(3), stored.UpdatedAt);
        Assert.Equal(2, await CountRowsAsync("reconciliation_items"));
    }

    [Fact]
    public async Task SaveProgressAsync_RunTakenOverByAnotherWorker_RefusedAndNothingWritten()
    {
        // Arrange: worker_a claimed, went quiet; worker_b took the stale run over.
        var run = await ClaimedRunAsync("worker_a");
        var stale = await Store.ListResumableRunsAsync(T0.AddMinutes(5), T0.AddMinutes(5), 10, CancellationToken.None);
        Assert.NotNull(await Store.ClaimRunAsync(Assert.Single(stale), "worker_b", T0.AddMinutes(5), CancellationToken.None));
        var progress = new ReconciliationProgress([Item("pm_1", ReconciliationCategory.Matched)], ReconciliationCursor.Start, 1, 1);

        // Act
        var saved = await Store.SaveProgressAsync(run.RunId, "worker_a", progress, T0.AddMinutes(6), CancellationToken.None);
        var finished = await Store.FinishRunAsync(run.RunId, "worker_a", ReconciliationState.Completed, null, T0.AddMinutes(6), CancellationToken.None);

        // Assert
        Assert.False(saved);
        Assert.False(finished);
        Assert.Equal(0, await CountRowsAsync("reconciliation_items"));
        Assert.Equal("worker_b", (await Store.GetRunAsync(run.RunId, CancellationToken.None))!.Owner);
    }

    [Fact]
    public async Task ListResumableRunsAsync_States_UnclaimedStaleAndDueInterruptedOnly()
    {
        // Arrange
        var (unclaimed, _) = await Store.CreateRunAsync(NewRun("rec_unclaimed"), "key_1", CancellationToken.None);
        var live = await ClaimedRunAsync("worker_live", "rec_live", "key_2");
        var interrupted = await ClaimedRunAsync("worker_x", "rec_interrupted", "key_3");
        await Store.FinishRunAsync(interrupted.RunId, "worker_x", ReconciliationState.Interrupted, "GATEWAY_UNAVAILABLE", T0.AddSeconds(10), CancellationToken.None);
        var completed = await ClaimedRunAsync("worker_y", "rec_completed", "key_4");
        await Store.FinishRunAsync(completed.RunId, "worker_y", ReconciliationState.Completed, null, T0.AddSeconds(10), CancellationToken.None);

        // Act: live claims are fresh (stale only before T0), the interruption is due (before T0 + 1 min).
        var resumable = await Store.ListResumableRunsAsync(T0, T0.AddMinutes(1), 10, CancellationToken.None);

        // Assert
        Assert.Equal([unclaimed.RunId, interrupted.RunId], resumable.Select(r => r.RunId));
        Assert.Equal("GATEWAY_UNAVAILABLE", resumable[1].ErrorReason);
        Assert.DoesNotContain(resumable, r => r.RunId == live.RunId);
    }

    [Fact]
    public async Task ListUnseenTokensAsync_SomeTokensHaveItems_OnlyUnseenInPeriodAndFilterByTokenId()
    {
        // Arrange
        await SeedAsync(Ledger, [
            TestData.Card("pm_a", T0.AddDays(1)),
            TestData.Card("pm_b", T0.AddDays(2)),
            TestData.Card("pm_c", T0.AddDays(3), customer: "cust_2"),
            TestData.Bank("pm_d", TokenType.SepaDebit, T0.AddDays(4)),
            TestData.Card("pm_e", T0.AddDays(40)),
            TestData.Card("pm_f", T0.AddDays(-1)),
        ]);
        var run = await ClaimedRunAsync("worker_a");
        await Store.SaveProgressAsync(run.RunId, "worker_a", new([Item("pm_b", ReconciliationCategory.Matched)], ReconciliationCursor.Start, 0, 0), T0, CancellationToken.None);

        // Act
        var all = await Store.ListUnseenTokensAsync(run.RunId, November, null, 10, CancellationToken.None);
        var afterA = await Store.ListUnseenTokensAsync(run.RunId, November, "pm_a", 1, CancellationToken.None);
        var cards = await Store.ListUnseenTokensAsync(run.RunId, November with { Type = TokenType.Card }, null, 10, CancellationToken.None);
        var customer = await Store.ListUnseenTokensAsync(run.RunId, November with { CustomerReference = "cust_2" }, null, 10, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_a", "pm_c", "pm_d"], all.Select(t => t.Token));
        Assert.Equal(["pm_c"], afterA.Select(t => t.Token));
        Assert.Equal(["pm_a", "pm_c"], cards.Select(t => t.Token));
        Assert.Equal(["pm_c"], customer.Select(t => t.Token));
    }

    [Fact]
    public async Task GetTokensAsync_SomeKnown_ReturnsTheKnownByIdWithQuotesHarmless()
    {
        // Arrange
        await SeedAsync(Ledger, [TestData.Card("pm_a", T0), TestData.Card("pm_b", T0)]);

        // Act
        var found = await Store.GetTokensAsync(["pm_a", "pm_x", "pm_b", "x' OR '1'='1"], CancellationToken.None);

        // Assert
        Assert.Equal(["pm_a", "pm_b"], found.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("4242", found["pm_a"].Card!.Last4);
    }

    [Fact]
    public async Task ListCustomersAsync_ManyCustomers_KeysetByReferenceAndFilter()
    {
        // Arrange
        foreach (var reference in new[] { "cust_c", "cust_a", "cust_b" })
        {
            await Ledger.Customers.SaveCustomerAsync("stripe", reference, "cus_" + reference, T0, CancellationToken.None);
        }

        await Ledger.Customers.SaveCustomerAsync("other", "cust_z", "cus_other", T0, CancellationToken.None);

        // Act
        var first = await Store.ListCustomersAsync("stripe", null, null, 2, CancellationToken.None);
        var rest = await Store.ListCustomersAsync("stripe", null, first[^1].CustomerReference, 2, CancellationToken.None);
        var one = await Store.ListCustomersAsync("stripe", "cust_b", null, 2, CancellationToken.None);

        // Assert
        Assert.Equal(["cust_a", "cust_b"], first.Select(c => c.CustomerReference));
        Assert.Equal([new CustomerMapping("cust_c", "cus_cust_c")], rest);
        Assert.Equal([new CustomerMapping("cust_b", "cus_cust_b")], one);
        Assert.Equal(3, await Store.CountCustomersAsync("stripe", null, CancellationToken.None));
        Assert.Equal(1, await Store.CountCustomersAsync("stripe", "cust_a", CancellationToken.None));
    }

    [Fact]
    public async Task FinishRunAsync_CompletedWithItems_CountsByCategoryTypeBrandDayAndPagesItems()
    {
        // Arrange
        var run = await ClaimedRunAsync("worker_a");
        ReconciliationItem[] items =
        [
            Item("pm_1", ReconciliationCategory.Matched),
            Item("pm_2", ReconciliationCategory.Matched) with { CreatedAt = T0.AddDays(1) },
            Item("pm_3", ReconciliationCategory.MissingAtGateway),
            Item("pm_4", ReconciliationCategory.FieldMismatch) with { Detail = "exp_year differs" },
            Item("pm_5", ReconciliationCategory.MissingInLedger) with { Type = TokenType.SepaDebit, Brand = "37040044", LedgerStatus = "absent" },
        ];
        await Store.SaveProgressAsync(run.RunId, "worker_a", new(items, ReconciliationCursor.Start with { Phase = ReconciliationPhase.Done }, 1, 1), T0, CancellationToken.None);

        // Act
        Assert.True(await Store.FinishRunAsync(run.RunId, "worker_a", ReconciliationState.Completed, null, T0.AddMinutes(1), CancellationToken.None));

        // Assert
        var stored = (await Store.GetRunAsync(run.RunId, CancellationToken.None))!;
        Assert.Equal((ReconciliationState.Completed, 5L, 3L, T0.AddMinutes(1)), (stored.State, stored.ItemsTotal, stored.Discrepancies, stored.CompletedAt!.Value));
        Assert.Null(stored.Owner);
        var counts = await Store.CountItemsAsync(run.RunId, CancellationToken.None);
        Assert.Contains(new ReconciliationCount(ReconciliationCategory.Matched, TokenType.Card, "visa", 2), counts);
        Assert.Contains(new ReconciliationCount(ReconciliationCategory.MissingInLedger, TokenType.SepaDebit, "37040044", 1), counts);
        var days = await Store.CountItemsByDayAsync(run.RunId, CancellationToken.None);
        Assert.Contains(new ReconciliationDailyCount(DateOnly.FromDateTime(T0.UtcDateTime), ReconciliationCategory.Matched, 1), days);
        Assert.Contains(new ReconciliationDailyCount(DateOnly.FromDateTime(T0.AddDays(1).UtcDateTime), ReconciliationCategory.Matched, 1), days);
        var page1 = await Store.ListItemsAsync(run.RunId, null, 2, null, CancellationToken.None);
        var page2 = await Store.ListItemsAsync(run.RunId, null, 2, page1.NextPageToken, CancellationToken.None);
        Assert.Equal(["pm_1", "pm_2"], page1.Items.Select(i => i.Token));
        Assert.Equal(["pm_3", "pm_4"], page2.Items.Select(i => i.Token));
        var mismatches = await Store.ListItemsAsync(run.RunId, ReconciliationCategory.FieldMismatch, 10, null, CancellationToken.None);
        Assert.Equal("exp_year differs", Assert.Single(mismatches.Items).Detail);
        Assert.Null(mismatches.NextPageToken);
    }

    [Fact]
    public async Task ListRunsAsync_ThreeRuns_NewestFirstPaged()
    {
        // Arrange
        for (var i = 1; i <= 3; i++)
        {
            await Store.CreateRunAsync(NewRun($"rec_{i}") with { CreatedAt = T0.AddMinutes(i), UpdatedAt = T0.AddMinutes(i) }, $"key_{i}", CancellationToken.None);
        }

        // Act
        var first = await Store.ListRunsAsync(2, null, CancellationToken.None);
        var second = await Store.ListRunsAsync(2, first.NextPageToken, CancellationToken.None);

        // Assert
        Assert.Equal(["rec_3", "rec_2"], first.Runs.Select(r => r.RunId));
        Assert.Equal(["rec_1"], second.Runs.Select(r => r.RunId));
        Assert.Null(second.NextPageToken);
    }

    private static ReconciliationRun NewRun(string id) => new()
    {
        RunId = id,
        Filter = November,
        State = ReconciliationState.Running,
        StartedBy = "finance",
        CreatedAt = T0,
        UpdatedAt = T0,
        Cursor = ReconciliationCursor.Start,
    };

    private static ReconciliationItem Item(string token, ReconciliationCategory category) => new()
    {
        Token = token,
        Type = TokenType.Card,
        Brand = "visa",
        Last4 = "4242",
        CustomerReference = "cust_1",
        CreatedAt = T0,
        LedgerStatus = "active",
        GatewayStatus = "attached",
        Category = category,
    };

    private async Task<ReconciliationRun> ClaimedRunAsync(string owner, string id = "rec_1", string key = "key_a")
    {
        var (run, _) = await Store.CreateRunAsync(NewRun(id), key, CancellationToken.None);
        return (await Store.ClaimRunAsync(run, owner, T0, CancellationToken.None))!;
    }
}

/// <summary>
/// The Reconciler over the real store on every provider, the gateway played by an in-memory list of pages (its
/// contract: newest first, cursor = last id): the walk, the ledger sweep, the categories and a resume after an error.
/// </summary>
public abstract class ReconcilerOnLedgerTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly ReconciliationFilter Period = new(T0.AddDays(-1), T0.AddDays(30), null, null);

    [Fact]
    public async Task RunAsync_LedgerAndGatewayDisagree_EveryTokenClassifiedAndCountsStored()
    {
        // Arrange
        var store = new RelationalReconciliationStore(Ledger);
        await Ledger.Customers.SaveCustomerAsync("stripe", "cust_1", "cus_cust_1", T0, CancellationToken.None);
        await SeedAsync(Ledger, [
            TestData.Card("pm_match", T0),
            TestData.Card("pm_gone", T0.AddMinutes(1)),
            TestData.Card("pm_revoked", T0.AddMinutes(2), status: TokenStatus.Revoked),
            TestData.Card("pm_expiry", T0.AddMinutes(3)),
            TestData.Card("pm_old", T0.AddDays(-10)),
        ]);
        var gateway = new ListGateway(
            Attached("pm_orphan", T0.AddMinutes(4)),
            Attached("pm_expiry", T0.AddMinutes(3)) with { Card = TestData.Card("x", T0).Card! with { ExpYear = 2035 } },
            Attached("pm_revoked", T0.AddMinutes(2)),
            Attached("pm_match", T0));
        var run = await ClaimAsync(store, "key_1");

        // Act
        var state = await Reconciler(store, gateway).RunAsync(run, "owner", CancellationToken.None);

        // Assert
        Assert.Equal(ReconciliationState.Completed, state);
        var items = (await store.ListItemsAsync(run.RunId, null, 100, null, CancellationToken.None)).Items.ToDictionary(i => i.Token, i => (i.Category, i.Detail));
        Assert.Equal(
            new Dictionary<string, (ReconciliationCategory, string?)>
            {
                ["pm_match"] = (ReconciliationCategory.Matched, null),
                ["pm_gone"] = (ReconciliationCategory.MissingAtGateway, "active in the ledger, not attached to our customer at the gateway (detached or unknown)"),
                ["pm_revoked"] = (ReconciliationCategory.StatusMismatch, "revoked in the ledger, still attached at the gateway"),
                ["pm_expiry"] = (ReconciliationCategory.FieldMismatch, "exp_year differs"),
                ["pm_orphan"] = (ReconciliationCategory.MissingInLedger, "no ledger record for a PaymentMethod attached to our customer"),
            },
            items);
        var stored = (await store.GetRunAsync(run.RunId, CancellationToken.None))!;
        Assert.Equal((5L, 4L, 1L, 1L, 4L), (stored.ItemsTotal, stored.Discrepancies, stored.CustomersDone, stored.CustomersTotal, stored.GatewayRequests));
    }

    [Fact]
    public async Task RunAsync_GatewayFailsOnTheSecondPage_InterruptedThenResumedToTheSameItems()
    {
        // Arrange
        var store = new RelationalReconciliationStore(Ledger);
        await Ledger.Customers.SaveCustomerAsync("stripe", "cust_1", "cus_cust_1", T0, CancellationToken.None);
        await SeedAsync(Ledger, [TestData.Card("pm_a", T0), TestData.Card("pm_b", T0.AddMinutes(1)), TestData.Card("pm_c", T0.AddMinutes(2))]);
        var gateway = new ListGateway(Attached("pm_c", T0.AddMinutes(2)), Attached("pm_b", T0.AddMinutes(1)), Attached("pm_a", T0)) { FailOnCall = 2 };
        var run = await ClaimAsync(store, "key_1");

        // Act
        var first = await Reconciler(store, gateway).RunAsync(run, "owner", CancellationToken.None);
        var interrupted = (await store.GetRunAsync(run.RunId, CancellationToken.None))!;
        var resumedRun = await store.ClaimRunAsync(interrupted, "owner_2", T0.AddMinutes(5), CancellationToken.None);
        var second = await Reconciler(store, gateway).RunAsync(resumedRun!, "owner_2", CancellationToken.None);

        // Assert
        Assert.Equal((ReconciliationState.Interrupted, ReconciliationState.Completed), (first, second));
        Assert.Equal(("GATEWAY_UNAVAILABLE", "cust_1", "pm_c"), (interrupted.ErrorReason, interrupted.Cursor.CurrentCustomer, interrupted.Cursor.GatewayStartingAfter));
        Assert.Equal(["pm_a", "pm_b", "pm_c"], (await store.ListItemsAsync(run.RunId, null, 100, null, CancellationToken.None)).Items.Select(i => i.Token));
        Assert.Equal(["pm_c", "pm_c", "pm_b"], gateway.Cursors.Skip(1));
        Assert.Equal(0, (await store.GetRunAsync(run.RunId, CancellationToken.None))!.Discrepancies);
    }

    private static GatewayPaymentMethod Attached(string id, DateTimeOffset created) =>
        new(id, TokenType.Card, TestData.Card(id, created).Card, null) { CustomerId = "cus_cust_1", CreatedAt = created };

    private static async Task<ReconciliationRun> ClaimAsync(RelationalReconciliationStore store, string key)
    {
        var (run, _) = await store.CreateRunAsync(
            new ReconciliationRun
            {
                RunId = "rec_" + key,
                Filter = Period,
                State = ReconciliationState.Running,
                StartedBy = "finance",
                // Started after every planted token: tokens created after a run starts are outside its snapshot.
                CreatedAt = T0.AddHours(1),
                UpdatedAt = T0.AddHours(1),
                Cursor = ReconciliationCursor.Start,
            },
            key,
            CancellationToken.None);
        return (await store.ClaimRunAsync(run, "owner", T0, CancellationToken.None))!;
    }

    private Reconciler Reconciler(RelationalReconciliationStore store, ITokenGateway gateway) =>
        new(store, Ledger.Intents, gateway, new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 10 }), Clock, new ReconcilerSettings { GatewayPageSize = 1 });

    /// <summary>One Customer's PaymentMethods, newest first, paged by cursor as Stripe pages them; can fail one call.</summary>
    private sealed class ListGateway(params GatewayPaymentMethod[] newestFirst) : ITokenGateway
    {
        private int calls;

        public int FailOnCall { get; init; }

        public List<string?> Cursors { get; } = [];

        public string Name => "stripe";

        public Task<GatewayPaymentMethodPage> ListCustomerPaymentMethodsAsync(string customerId, string? startingAfter, int limit, CancellationToken cancellationToken)
        {
            Cursors.Add(startingAfter);
            if (++calls == FailOnCall)
            {
                throw new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable");
            }

            var start = startingAfter is null ? 0 : Array.FindIndex(newestFirst, p => p.Id == startingAfter) + 1;
            var page = newestFirst.Skip(start).Take(limit).ToList();
            var more = start + page.Count < newestFirst.Length;
            return Task.FromResult(new GatewayPaymentMethodPage(page, more ? page[^1].Id : null));
        }

        public Task<string> CreateCustomerAsync(string customerReference, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<GatewayPaymentMethod> CreatePaymentMethodAsync(PaymentMethodRequest request, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task AttachAsync(string paymentMethodId, string customerId, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<GatewaySetup> CreateSetupIntentAsync(SetupIntentRequest request, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<GatewaySetup> GetSetupIntentAsync(string setupIntentId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<GatewaySetup?> FindSetupIntentAsync(string customerId, string paymentMethodId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Mandate> GetMandateAsync(string mandateId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task CancelSetupIntentAsync(string setupIntentId, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task UpdateBillingDetailsAsync(string paymentMethodId, BillingDetails billing, string idempotencyKey, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task DeleteCustomerAsync(string customerId, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
