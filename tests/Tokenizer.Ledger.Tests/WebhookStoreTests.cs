using System.Security.Cryptography;
using CsCheck;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.TokenEvents;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Ledger.Tests;

/// <summary>The webhook inbox (migration 10) and the token updates its events make, on every provider.</summary>
public abstract class WebhookStoreTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    private static WebhookEvent Event(string id, int second = 0) => new(id, "mandate.updated", T0.AddSeconds(second), "mandate_" + id);

    [Fact]
    public async Task AddAsync_SameIdTwice_StoredOnceSecondIsANoOp()
    {
        var store = new RelationalWebhookStore(Ledger);

        var first = await store.AddAsync(Event("evt_1"), WebhookSource.Delivery, T0, CancellationToken.None);
        var second = await store.AddAsync(Event("evt_1") with { Type = "customer.deleted" }, WebhookSource.CatchUp, T0, CancellationToken.None);

        Assert.True(first);
        Assert.False(second);
        Assert.True(await store.ContainsAsync("evt_1", CancellationToken.None));
        Assert.False(await store.ContainsAsync("evt_2", CancellationToken.None));
        Assert.Equal(1, await CountRowsAsync("webhook_inbox"));
    }

    [Fact]
    public async Task ClaimAsync_TwoReplicasAtOnce_EveryRowClaimedByExactlyOne()
    {
        var replicaA = new RelationalWebhookStore(Ledger);
        var replicaB = new RelationalWebhookStore(await OpenLedgerAsync());
        for (var i = 0; i < 40; i++)
        {
            await replicaA.AddAsync(Event("evt_" + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture), i), WebhookSource.Delivery, T0, CancellationToken.None);
        }

        var a = replicaA.ClaimAsync("a", T0, Lease, 40, CancellationToken.None);
        var b = replicaB.ClaimAsync("b", T0, Lease, 40, CancellationToken.None);
        var claimed = (await a).Select(c => c.Event.EventId).Concat((await b).Select(c => c.Event.EventId)).ToList();

        Assert.Equal(40, claimed.Count);
        Assert.Equal(40, claimed.Distinct().Count());
    }

    [Fact]
    public async Task FinishAsync_LeaseTakenOverAfterExpiry_OnlyTheNewOwnerFinishes()
    {
        var store = new RelationalWebhookStore(Ledger);
        await store.AddAsync(Event("evt_1"), WebhookSource.Delivery, T0, CancellationToken.None);
        var first = Assert.Single(await store.ClaimAsync("a", T0, Lease, 10, CancellationToken.None));

        var whileLive = await store.ClaimAsync("b", T0.AddSeconds(30), Lease, 10, CancellationToken.None);
        var second = Assert.Single(await store.ClaimAsync("b", T0.AddSeconds(61), Lease, 10, CancellationToken.None));
        var lateFinish = await store.FinishAsync(first, "a", WebhookState.Processed, T0.AddSeconds(62), CancellationToken.None);
        var finish = await store.FinishAsync(second, "b", WebhookState.Processed, T0.AddSeconds(62), CancellationToken.None);

        Assert.Empty(whileLive);
        Assert.False(lateFinish);
        Assert.True(finish);
        Assert.Equal((WebhookState.Processed, 2), await store.FindAsync("evt_1", CancellationToken.None));
        Assert.Empty(await store.ClaimAsync("c", T0.AddHours(1), Lease, 10, CancellationToken.None));
    }

    [Fact]
    public async Task FailAsync_RetryTimeInTheFuture_RowSkippedUntilThenAndNewerRowsStillClaimed()
    {
        var store = new RelationalWebhookStore(Ledger);
        await store.AddAsync(Event("evt_old"), WebhookSource.Delivery, T0, CancellationToken.None);
        var claim = Assert.Single(await store.ClaimAsync("a", T0, Lease, 10, CancellationToken.None));
        await store.AddAsync(Event("evt_new", 5), WebhookSource.Delivery, T0, CancellationToken.None);

        var failed = await store.FailAsync(claim, "a", T0.AddMinutes(10), CancellationToken.None);
        var failedByOther = await store.FailAsync(claim, "b", T0.AddMinutes(10), CancellationToken.None);
        // Control: before the back-off ends, only the newer row is claimable, even after the lease would have run out.
        var beforeRetry = await store.ClaimAsync("b", T0.AddMinutes(5), Lease, 10, CancellationToken.None);
        await store.FinishAsync(beforeRetry[0], "b", WebhookState.Processed, T0.AddMinutes(5), CancellationToken.None);
        var atRetry = await store.ClaimAsync("c", T0.AddMinutes(10), Lease, 10, CancellationToken.None);

        Assert.True(failed);
        Assert.False(failedByOther);
        Assert.Equal(["evt_new"], beforeRetry.Select(c => c.Event.EventId));
        var retried = Assert.Single(atRetry);
        Assert.Equal(("evt_old", 2), (retried.Event.EventId, retried.Attempts));
        Assert.Equal(1, await store.CountFailingAsync(2, CancellationToken.None));
        Assert.Equal(0, await store.CountFailingAsync(3, CancellationToken.None));
        Assert.True(await store.FinishAsync(retried, "c", WebhookState.Processed, T0.AddMinutes(11), CancellationToken.None));
        Assert.Equal(0, await store.CountFailingAsync(2, CancellationToken.None));
    }

    [Fact]
    public async Task TokenUpdates_SameValuesAgain_ReportNoChange()
    {
        var store = new RelationalWebhookStore(Ledger);
        var token = TestData.Bank("pm_b", TokenType.SepaDebit, T0) with
        {
            Setup = new TokenSetup(SetupStatus.Ready, "seti_b", null, null),
            Mandate = new Mandate("mandate_b", MandateStatus.Active, MandateType.Online, T0),
        };
        await SeedAsync(Ledger, [token, TestData.Card("pm_c", T0)]);

        var inactive = await store.UpdateMandateStatusAsync("mandate_b", MandateStatus.Inactive, CancellationToken.None);
        var inactiveAgain = await store.UpdateMandateStatusAsync("mandate_b", MandateStatus.Inactive, CancellationToken.None);
        // A late setup_intent.succeeded applies the mandate as Stripe holds it now (inactive): nothing to change.
        var lateSetup = await store.UpdateSetupAsync(token with { Mandate = token.Mandate! with { Status = MandateStatus.Inactive } }, CancellationToken.None);
        var card = new CardMetadata("visa", "1881", 3, 2032, "credit", "US", "fp2");
        var cardChanged = await store.UpdateCardAsync("pm_c", card, CancellationToken.None);
        var cardAgain = await store.UpdateCardAsync("pm_c", card, CancellationToken.None);
        var revoked = await store.RevokeAsync("pm_c", T0.AddDays(1), CancellationToken.None);
        var revokedAgain = await store.RevokeAsync("pm_c", T0.AddDays(2), CancellationToken.None);

        Assert.Equal((true, false, false), (inactive, inactiveAgain, lateSetup));
        Assert.Equal(MandateStatus.Inactive, (await Ledger.Tokens.GetTokenAsync("pm_b", CancellationToken.None))!.Mandate!.Status);
        Assert.Equal((true, false, true, false), (cardChanged, cardAgain, revoked, revokedAgain));
        var stored = (await Ledger.Tokens.GetTokenAsync("pm_c", CancellationToken.None))!;
        Assert.Equal(("1881", 3, 2032, "fp2"), (stored.Card!.Last4, stored.Card.ExpMonth, stored.Card.ExpYear, stored.Card.Fingerprint));
        Assert.Equal((TokenStatus.Revoked, T0.AddDays(1)), (stored.Status, stored.RevokedAt));
        Assert.Equal(["pm_b"], (await store.FindByMandateAsync("mandate_b", CancellationToken.None)).Select(t => t.Token));
        Assert.Equal(["pm_b"], (await store.FindBySetupIntentAsync("seti_b", CancellationToken.None)).Select(t => t.Token));
    }

    [Fact]
    public async Task TokenUpdatesWithEvents_OnlyAChangeAppendsItsEventOnce()
    {
        var store = new RelationalWebhookStore(Ledger, Clock);
        var events = new RelationalTokenEventStore(Ledger, Clock);
        var bank = TestData.Bank("pm_b", TokenType.SepaDebit, T0) with
        {
            Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_b", null, null),
            Mandate = new Mandate("mandate_b", MandateStatus.Active, MandateType.Online, T0),
        };
        await SeedAsync(Ledger, [bank, TestData.Card("pm_c", T0), TestData.Card("pm_d", T0)]);
        var card = new CardMetadata("visa", "1881", 3, 2032, "credit", "US", "fp2");
        TokenEventDraft Draft(string token, TokenEventKind kind, string source) => new(token, TestData.Caller, kind, source, T0, null);
        Func<string, string, TokenEventDraft?> Inactive(string source) => (token, caller) => new(token, caller, TokenEventKind.MandateInactive, source, T0, null);
        var ready = bank with { Setup = bank.Setup with { Status = SetupStatus.Ready } };

        var cardChanged = await store.UpdateCardAsync("pm_c", card, Draft("pm_c", TokenEventKind.CardUpdated, "evt_1") with { Card = new CardUpdate("visa", "1881", 3, 2032, "fp2") }, CancellationToken.None);
        var cardAgain = await store.UpdateCardAsync("pm_c", card, Draft("pm_c", TokenEventKind.CardUpdated, "evt_2"), CancellationToken.None);
        var setupChanged = await store.UpdateSetupAsync(ready, Draft("pm_b", TokenEventKind.SetupSucceeded, "evt_3"), CancellationToken.None);
        var setupAgain = await store.UpdateSetupAsync(ready, Draft("pm_b", TokenEventKind.SetupSucceeded, "evt_4"), CancellationToken.None);
        // A change of the mandate alone under a ready setup: the row changes, the setup status does not (no event).
        var mandateOnly = await store.UpdateSetupAsync(ready with { Mandate = ready.Mandate! with { Type = MandateType.Offline } }, Draft("pm_b", TokenEventKind.SetupSucceeded, "evt_5"), CancellationToken.None);
        var mandateInactive = await store.UpdateMandateStatusAsync("mandate_b", MandateStatus.Inactive, Inactive("evt_6"), CancellationToken.None);
        var mandateAgain = await store.UpdateMandateStatusAsync("mandate_b", MandateStatus.Inactive, Inactive("evt_7"), CancellationToken.None);
        var detached = await store.RevokeDetachedAsync("pm_c", T0, Draft("pm_c", TokenEventKind.DetachedAtGateway, "evt_8"), Draft("pm_c", TokenEventKind.Revoked, "revoke:pm_c"), CancellationToken.None);
        var detachedAgain = await store.RevokeDetachedAsync("pm_c", T0, Draft("pm_c", TokenEventKind.DetachedAtGateway, "evt_9"), Draft("pm_c", TokenEventKind.Revoked, "revoke:pm_c"), CancellationToken.None);
        await Ledger.Tokens.MarkRevokeRequestedAsync("pm_d", T0, CancellationToken.None);
        var ours = await store.RevokeDetachedAsync("pm_d", T0, Draft("pm_d", TokenEventKind.DetachedAtGateway, "evt_10"), Draft("pm_d", TokenEventKind.Revoked, "revoke:pm_d"), CancellationToken.None);

        Assert.Equal((true, false), (cardChanged, cardAgain));
        Assert.Equal((true, false, true), (setupChanged, setupAgain, mandateOnly));
        Assert.Equal(["pm_b"], mandateInactive);
        Assert.Empty(mandateAgain);
        Assert.Equal((TokenEventKind.DetachedAtGateway, (TokenEventKind?)null, TokenEventKind.Revoked), (detached, detachedAgain, ours));
        var appended = await events.ReadAfterAsync(0, null, 100, CancellationToken.None);
        Assert.Equal(
            ["evt_1 pm_c CardUpdated", "evt_3 pm_b SetupSucceeded", "evt_6 pm_b MandateInactive", "evt_8 pm_c DetachedAtGateway", "revoke:pm_d pm_d Revoked"],
            appended.Select(e => $"{e.SourceId} {e.Token} {e.Kind}"));
        Assert.Equal(("1881", 3, 2032), (appended[0].Card!.Last4, appended[0].Card!.ExpMonth, appended[0].Card!.ExpYear));
    }

    [Fact]
    public async Task TokenUpdatesWithEvents_TokenRevoked_NothingChangesAndNoEventFollowsTheFinalOne()
    {
        var store = new RelationalWebhookStore(Ledger, Clock);
        var events = new RelationalTokenEventStore(Ledger, Clock);
        var bank = TestData.Bank("pm_b", TokenType.SepaDebit, T0) with
        {
            Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_b", null, null),
            Mandate = new Mandate("mandate_b", MandateStatus.Active, MandateType.Online, T0),
        };
        // pm_f: a second bank token, for the GetToken refresh (its own SetupIntent, so each fence is shown alone).
        var refreshed = TestData.Bank("pm_f", TokenType.SepaDebit, T0) with
        {
            Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_f", null, null),
            Mandate = new Mandate("mandate_f", MandateStatus.Active, MandateType.Online, T0),
        };
        await SeedAsync(Ledger, [bank, refreshed, TestData.Card("pm_c", T0), TestData.Card("pm_e", T0)]);
        var card = new CardMetadata("visa", "1881", 3, 2032, "credit", "US", "fp2");
        TokenEventDraft Draft(string token, TokenEventKind kind, string source) => new(token, TestData.Caller, kind, source, T0, null);
        var ready = bank with { Setup = bank.Setup with { Status = SetupStatus.Ready }, Mandate = bank.Mandate! with { Status = MandateStatus.Inactive } };
        var cardBefore = (await Ledger.Tokens.GetTokenAsync("pm_c", CancellationToken.None))!.Card;
        foreach (var token in new[] { "pm_c", "pm_b", "pm_f" })
        {
            await store.RevokeAsync(token, T0, Draft(token, TokenEventKind.CustomerDeleted, "evt_1"), CancellationToken.None);
        }

        // Late events about the revoked tokens; pm_e, still active, is the control.
        var cardAfter = await store.UpdateCardAsync("pm_c", card, Draft("pm_c", TokenEventKind.CardUpdated, "evt_2"), CancellationToken.None);
        var control = await store.UpdateCardAsync("pm_e", card, Draft("pm_e", TokenEventKind.CardUpdated, "evt_2"), CancellationToken.None);
        var setupAfter = await store.UpdateSetupAsync(ready, Draft("pm_b", TokenEventKind.SetupSucceeded, "evt_3"), CancellationToken.None);
        var mandateAfter = await store.UpdateMandateStatusAsync(
            "mandate_b", MandateStatus.Inactive, (token, caller) => new(token, caller, TokenEventKind.MandateInactive, "evt_4", T0, null), CancellationToken.None);
        var refreshAfter = await Ledger.Tokens.UpdateSetupAsync(refreshed with { Setup = refreshed.Setup with { Status = SetupStatus.Ready } }, CancellationToken.None);

        Assert.Equal((false, true, false, false), (cardAfter, control, setupAfter, refreshAfter));
        Assert.Empty(mandateAfter);
        Assert.Equal(
            ["evt_1 pm_c CustomerDeleted", "evt_1 pm_b CustomerDeleted", "evt_1 pm_f CustomerDeleted", "evt_2 pm_e CardUpdated"],
            (await events.ReadAfterAsync(0, null, 100, CancellationToken.None)).Select(e => $"{e.SourceId} {e.Token} {e.Kind}"));
        var storedCard = (await Ledger.Tokens.GetTokenAsync("pm_c", CancellationToken.None))!;
        var storedBank = (await Ledger.Tokens.GetTokenAsync("pm_b", CancellationToken.None))!;
        Assert.Equal(cardBefore, storedCard.Card);
        Assert.Equal((SetupStatus.RequiresAction, MandateStatus.Active), (storedBank.Setup.Status, storedBank.Mandate!.Status));
        Assert.Equal(SetupStatus.RequiresAction, (await Ledger.Tokens.GetTokenAsync("pm_f", CancellationToken.None))!.Setup.Status);
    }

    [Fact]
    public async Task TokenUpdateWithEvent_EventCannotBeWritten_LedgerChangeRolledBackToo()
    {
        var store = new RelationalWebhookStore(Ledger, Clock);
        await SeedAsync(Ledger, [TestData.Card("pm_c", T0)]);
        var before = (await Ledger.Tokens.GetTokenAsync("pm_c", CancellationToken.None))!;
        var card = new CardMetadata("visa", "1881", 3, 2032, "credit", "US", "fp2");
        var draft = new TokenEventDraft("pm_c", TestData.Caller, TokenEventKind.CardUpdated, "evt_1", T0, new CardUpdate("visa", "1881", 3, 2032, "fp2"));

        // The event's table is out of reach: its insert fails inside the update's transaction.
        await Database.ExecuteAsync("ALTER TABLE token_events RENAME TO token_events_away");
        var failed = await Record.ExceptionAsync(() => store.UpdateCardAsync("pm_c", card, draft, CancellationToken.None));
        var during = (await Ledger.Tokens.GetTokenAsync("pm_c", CancellationToken.None))!;
        await Database.ExecuteAsync("ALTER TABLE token_events_away RENAME TO token_events");
        var retried = await store.UpdateCardAsync("pm_c", card, draft, CancellationToken.None);

        Assert.NotNull(failed);
        Assert.Equal((before.Card!.Last4, before.Card.ExpMonth), (during.Card!.Last4, during.Card.ExpMonth));
        Assert.True(retried);
        Assert.Equal(1, await CountRowsAsync("token_events"));
    }

    private async Task CompleteRevokeAsync(string key, TokenRecord token)
    {
        var outcome = await Ledger.Claims.ClaimAsync(TestData.Claim(key, TestData.Hmac(2), T0), CancellationToken.None);
        Assert.Equal(Core.Ports.IdempotencyState.Started, outcome.State);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, key, TestData.Response(token), token, CancellationToken.None);
    }

    [Fact]
    public async Task LedgerSetupRefresh_StatusChanged_AppendsItsEventOnceInTheSameWrite()
    {
        var events = new RelationalTokenEventStore(Ledger, Clock);
        var token = TestData.Card("pm_3ds", T0) with { Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_3ds", null, null) };
        await SeedAsync(Ledger, [token]);
        var store = new RelationalWebhookStore(Ledger, Clock);
        var ready = token with { Setup = token.Setup with { Status = SetupStatus.Ready } };

        var refreshed = await Ledger.Tokens.UpdateSetupAsync(ready, CancellationToken.None);
        var refreshedAgain = await Ledger.Tokens.UpdateSetupAsync(ready, CancellationToken.None);
        // The webhook reporting the same change later finds nothing to change.
        var webhook = await store.UpdateSetupAsync(ready, new TokenEventDraft("pm_3ds", TestData.Caller, TokenEventKind.SetupSucceeded, "evt_1", T0, null), CancellationToken.None);

        Assert.Equal((true, false, false), (refreshed, refreshedAgain, webhook));
        var appended = Assert.Single(await events.ReadAfterAsync(0, null, 100, CancellationToken.None));
        Assert.Equal(("setup:seti_3ds", TokenEventKind.SetupSucceeded), (appended.SourceId, appended.Kind));
    }

    [Fact]
    public async Task CompleteAsync_RevokeOfAnActiveToken_RevokedEventInTheSameWriteOnce()
    {
        var events = new RelationalTokenEventStore(Ledger, Clock);
        var token = TestData.Card("pm_r", T0);
        await SeedAsync(Ledger, [token, TestData.Card("pm_s", T0)]);
        var revoked = token with { Status = TokenStatus.Revoked, RevokedAt = T0.AddHours(1) };

        await CompleteRevokeAsync("revoke-1", revoked);
        await CompleteRevokeAsync("revoke-2", revoked);

        // The event cannot be written: the revoke is not recorded either.
        await Database.ExecuteAsync("ALTER TABLE token_events RENAME TO token_events_away");
        var failed = await Record.ExceptionAsync(() => CompleteRevokeAsync("revoke-3", TestData.Card("pm_s", T0) with { Status = TokenStatus.Revoked, RevokedAt = T0 }));
        var during = (await Ledger.Tokens.GetTokenAsync("pm_s", CancellationToken.None))!;
        await Database.ExecuteAsync("ALTER TABLE token_events_away RENAME TO token_events");

        var appended = Assert.Single(await events.ReadAfterAsync(0, null, 100, CancellationToken.None));
        Assert.Equal(("revoke:pm_r", TokenEventKind.Revoked, T0.AddHours(1)), (appended.SourceId, appended.Kind, appended.OccurredAt));
        Assert.NotNull(failed);
        Assert.Equal(TokenStatus.Active, during.Status);
    }

    [Fact]
    public async Task ClaimAsync_AnyEventsOfFewSeconds_ClaimedByCreatedThenArrivalNotById()
    {
        // Arrange: Stripe's created has whole seconds; drawn from three, so events of one second are common. Event ids are
        // random, as Stripe's are: an order by id would put events of one second in a random order.
        var gen = Gen.Select(Gen.Int[0, 2], Gen.Char["abcdefghijklmnopqrstuvwxyz"].Array[6]).Array[2, 12];
        var store = new RelationalWebhookStore(Ledger);

        // Act + Assert
        await gen.SampleAsync(
            async events =>
            {
                // Each sample claims only its own rows: the rows of earlier samples are held under an unexpired lease.
                var sample = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 12);
                var added = events.Select((e, i) => Event($"evt_{new string(e.Item2)}{i}{sample}", e.Item1)).ToList();
                foreach (var webhookEvent in added)
                {
                    await store.AddAsync(webhookEvent, WebhookSource.Delivery, T0, CancellationToken.None);
                }

                var claims = await store.ClaimAsync("owner_" + sample, T0, Lease, 100, CancellationToken.None);

                // Stable: within one second, the order they were added in.
                Assert.Equal(added.OrderBy(e => e.Created).Select(e => e.EventId), claims.Select(c => c.Event.EventId));
                Assert.All(claims.Zip(claims.Skip(1)), pair => Assert.True(pair.First.IsBefore(pair.Second)));
                Assert.All(claims.Zip(claims.Skip(1)), pair => Assert.False(pair.Second.IsBefore(pair.First)));
            },
            iter: 30,
            threads: 1);
    }

    [Fact]
    public async Task Migration15_RowsAlreadyInTheInbox_NumberedAndNewRowsAfterThem()
    {
        // Arrange: an inbox as a build before migration 15 left it.
        var store = new RelationalWebhookStore(Ledger);
        await store.AddAsync(Event("evt_b"), WebhookSource.Delivery, T0, CancellationToken.None);
        await store.AddAsync(Event("evt_a"), WebhookSource.Delivery, T0, CancellationToken.None);
        await Database.ExecuteAsync("ALTER TABLE webhook_inbox DROP COLUMN arrival");
        await Database.ExecuteAsync("DELETE FROM schema_migrations WHERE version = 15");

        // Act
        var upgraded = await OpenLedgerAsync();
        var upgradedStore = new RelationalWebhookStore(upgraded);
        await upgradedStore.AddAsync(Event("evt_0"), WebhookSource.Delivery, T0, CancellationToken.None);
        var claims = await upgradedStore.ClaimAsync("a", T0, Lease, 10, CancellationToken.None);

        // Assert: every row numbered once, and the row added after the upgrade after the rows before it.
        Assert.Equal(3, claims.Select(c => c.Arrival).Where(a => a > 0).Distinct().Count());
        Assert.Equal("evt_0", claims[^1].Event.EventId);
    }

    [Fact]
    public async Task AdvanceCatchUpAsync_NeverMovesBack()
    {
        var store = new RelationalWebhookStore(Ledger);

        var empty = await store.CatchUpPositionAsync(CancellationToken.None);
        await store.AdvanceCatchUpAsync(T0, T0, CancellationToken.None);
        await store.AdvanceCatchUpAsync(T0.AddMinutes(-5), T0, CancellationToken.None);
        var position = await store.CatchUpPositionAsync(CancellationToken.None);
        await store.AddAsync(Event("evt_late", 600), WebhookSource.Delivery, T0, CancellationToken.None);

        Assert.Null(empty);
        Assert.Equal(T0, position);
        Assert.Equal(T0.AddSeconds(600), await store.CatchUpPositionAsync(CancellationToken.None));
    }
}
