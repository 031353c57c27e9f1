using Tokenizer.Core.Ports;
using Tokenizer.Ledger.TokenEvents;

namespace Tokenizer.Ledger.Tests;

/// <summary>The token event log (migration 9) on each provider: idempotent appends, scoped pages in order, retention.</summary>
public abstract class TokenEventStoreTests(TestDatabase database) : LedgerTestBase(database)
{
    protected const string Billing = "billing-a";
    protected const string OtherBilling = "billing-b";

    private RelationalTokenEventStore? store;

    protected RelationalTokenEventStore Store => store ??= new RelationalTokenEventStore(Ledger, Clock);

    protected static TokenEventDraft Draft(string token, string caller = Billing, TokenEventKind kind = TokenEventKind.SetupSucceeded, string? source = null, CardUpdate? card = null) =>
        new(token, caller, kind, source ?? "evt_" + token, T0, card);

    [Fact]
    public async Task AppendAsync_SameSourceKindAndToken_SecondIsNoOp()
    {
        // Act
        var first = await Store.AppendAsync(Draft("pm_1"), CancellationToken.None);
        var again = await new RelationalTokenEventStore(await OpenLedgerAsync(), Clock).AppendAsync(Draft("pm_1"), CancellationToken.None);

        // Control: another kind from the same source is another event.
        var otherKind = await Store.AppendAsync(Draft("pm_1", kind: TokenEventKind.CardUpdated), CancellationToken.None);

        // Assert
        Assert.True(first);
        Assert.False(again);
        Assert.True(otherKind);
        Assert.Equal(2, await CountRowsAsync("token_events"));
    }

    [Fact]
    public async Task ReadAfterAsync_ScopedToCaller_OnlyThatCallersEvents()
    {
        // Arrange
        await Store.AppendAsync(Draft("pm_a1"), CancellationToken.None);
        await Store.AppendAsync(Draft("pm_b1", OtherBilling), CancellationToken.None);
        await Store.AppendAsync(Draft("pm_a2"), CancellationToken.None);

        // Act
        var own = await Store.ReadAfterAsync(0, Billing, 100, CancellationToken.None);
        var other = await Store.ReadAfterAsync(0, OtherBilling, 100, CancellationToken.None);
        var all = await Store.ReadAfterAsync(0, null, 100, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_a1", "pm_a2"], own.Select(e => e.Token));
        Assert.Equal(["pm_b1"], other.Select(e => e.Token));
        Assert.Equal(["pm_a1", "pm_b1", "pm_a2"], all.Select(e => e.Token));
        Assert.Empty(await Store.ReadAfterAsync(0, "nobody", 100, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAfterAsync_PagedFromCursor_EveryEventOnceInOrder()
    {
        // Arrange
        var tokens = Enumerable.Range(1, 23).Select(i => $"pm_{i:D2}").ToList();
        foreach (var token in tokens)
        {
            await Store.AppendAsync(Draft(token), CancellationToken.None);
        }

        // Act
        var seen = new List<TokenEvent>();
        long cursor = 0;
        while (true)
        {
            var page = await Store.ReadAfterAsync(cursor, Billing, 5, CancellationToken.None);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 5);
            seen.AddRange(page);
            cursor = page[^1].Sequence;
        }

        // Assert
        Assert.Equal(tokens, seen.Select(e => e.Token));
        Assert.True(seen.Zip(seen.Skip(1)).All(pair => pair.First.Sequence < pair.Second.Sequence));
    }

    [Fact]
    public async Task AppendAsync_CardUpdated_MaskedFieldsRoundTrip()
    {
        // Arrange
        var card = new CardUpdate("visa", "0668", 3, 2031, "Ab-c_123xyz-Q9");
        Clock.Advance(TimeSpan.FromSeconds(7));

        // Act
        await Store.AppendAsync(Draft("pm_c", kind: TokenEventKind.CardUpdated, card: card), CancellationToken.None);
        await Store.AppendAsync(Draft("pm_r", kind: TokenEventKind.Revoked, source: "revoke:pm_r"), CancellationToken.None);

        // Assert
        var events = await Store.ReadAfterAsync(0, null, 10, CancellationToken.None);
        Assert.Equal(card, events[0].Card);
        Assert.Equal(TokenEventKind.CardUpdated, events[0].Kind);
        Assert.Equal(T0, events[0].OccurredAt);
        Assert.Equal(T0.AddSeconds(7), events[0].RecordedAt);
        Assert.Equal(Billing, events[0].CallerId);
        Assert.Null(events[1].Card);
        Assert.Equal(("revoke:pm_r", TokenEventKind.Revoked), (events[1].SourceId, events[1].Kind));
    }

    [Theory]
    [InlineData("4242424242424242", "card.last4")]
    [InlineData("42 4", "card.last4")]
    public async Task AppendAsync_CardFieldNotMasked_RefusedNamingFieldNotValue(string last4, string field)
    {
        var draft = Draft("pm_x", kind: TokenEventKind.CardUpdated, card: new CardUpdate("visa", last4, 1, 2030, null));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync(draft, CancellationToken.None));

        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(last4, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountRowsAsync("token_events"));
    }

    [Fact]
    public async Task AppendAsync_CardOnAnotherKindOrBadToken_Refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync(
            Draft("pm_x", kind: TokenEventKind.Revoked, card: new CardUpdate("visa", "4242", 1, 2030, null)), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync(Draft("pm x"), CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync(Draft("pm_x", caller: string.Empty), CancellationToken.None));

        // Control: the same draft without the card is stored.
        Assert.True(await Store.AppendAsync(Draft("pm_x", kind: TokenEventKind.Revoked), CancellationToken.None));
    }

    [Fact]
    public async Task PurgeRecordedBeforeAsync_OldEventsGone_NewerKeptAndSequencesNeverReused()
    {
        // Arrange: three old events, one recent.
        foreach (var token in new[] { "pm_o1", "pm_o2", "pm_o3" })
        {
            await Store.AppendAsync(Draft(token), CancellationToken.None);
        }

        var highest = (await Store.ReadAfterAsync(0, null, 10, CancellationToken.None))[^1].Sequence;
        Clock.Advance(TimeSpan.FromDays(31));
        await Store.AppendAsync(Draft("pm_new"), CancellationToken.None);

        // Act
        var purged = await Store.PurgeRecordedBeforeAsync(Clock.GetUtcNow() - TimeSpan.FromDays(30), CancellationToken.None);

        // Assert
        Assert.Equal(3, purged);
        var left = Assert.Single(await Store.ReadAfterAsync(0, null, 10, CancellationToken.None));
        Assert.Equal("pm_new", left.Token);

        // Every row gone, including the newest: the next sequence is still above anything a reader has seen.
        Clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(1, await Store.PurgeRecordedBeforeAsync(Clock.GetUtcNow() - TimeSpan.FromDays(30), CancellationToken.None));
        await Store.AppendAsync(Draft("pm_after"), CancellationToken.None);
        var after = Assert.Single(await Store.ReadAfterAsync(0, null, 10, CancellationToken.None));
        Assert.True(after.Sequence > left.Sequence && left.Sequence > highest, "a sequence was reused after a purge");
    }

    /// <summary>True when <paramref name="seen"/> is the start of <paramref name="final"/>: nothing a reader saw can be overtaken.</summary>
    protected static bool IsPrefix(IReadOnlyList<TokenEvent> seen, IReadOnlyList<TokenEvent> final) =>
        seen.Count <= final.Count && seen.Select(e => e.Sequence).SequenceEqual(final.Take(seen.Count).Select(e => e.Sequence));
}
