using NSubstitute;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Events;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Tests.Events;

/// <summary>The feed's scoping, cursor and page-size rules (the reader substituted).</summary>
public sealed class TokenEventFeedTests
{
    private static readonly CallerContext Billing = new("billing-a", CallerRoles.Tokenize);
    private static readonly CallerContext Finance = new("finance-staff", CallerRoles.Finance);
    private readonly ITokenEventReader reader = Substitute.For<ITokenEventReader>();
    private readonly TokenEventFeed feed;

    public TokenEventFeedTests()
    {
        reader.ReadAfterAsync(default, default, default, default).ReturnsForAnyArgs([]);
        feed = new TokenEventFeed(reader);
    }

    private static TokenEvent Event(long sequence) =>
        new(sequence, "pm_" + sequence, "billing-a", TokenEventKind.Revoked, "revoke:pm_" + sequence, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null);

    [Fact]
    public async Task ReadAsync_BillingCaller_ScopedToItsOwnEvents_FinanceReadsAll()
    {
        await feed.ReadAsync(Billing, null, 0, CancellationToken.None);
        await feed.ReadAsync(Finance, null, 0, CancellationToken.None);

        await reader.Received(1).ReadAfterAsync(0, "billing-a", TokenEventFeed.DefaultPageSize, Arg.Any<CancellationToken>());
        await reader.Received(1).ReadAfterAsync(0, null, TokenEventFeed.DefaultPageSize, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task ReadAsync_CursorFromAPage_ResumesAfterItsLastEvent()
    {
        reader.ReadAfterAsync(0, "billing-a", 2, Arg.Any<CancellationToken>()).Returns([Event(3), Event(7)]);

        var page = await feed.ReadAsync(Billing, string.Empty, 2, CancellationToken.None);
        var next = await feed.ReadAsync(Billing, page.NextCursor, 2, CancellationToken.None);

        Assert.Equal(TokenEventFeed.EncodeCursor(7), page.NextCursor);
        await reader.Received(1).ReadAfterAsync(7, "billing-a", 2, Arg.Any<CancellationToken>());

        // An empty page keeps the caller's place.
        Assert.Equal(page.NextCursor, next.NextCursor);
    }

    [Theory]
    [InlineData("4242424242424242")]
    [InlineData("Af__________")]
    [InlineData("AgAAAAAAAAAA")]
    [InlineData("AgAAAAAAAAAB")]
    [InlineData("AQAAAAAAAAAB=")]
    [InlineData("AQAAAAAAAAAB ")]
    [InlineData("AYAAAAAAAAAB")]
    public async Task ReadAsync_MalformedCursor_InvalidArgumentNamingAfter(string after)
    {
        var error = await Assert.ThrowsAsync<TokenizerException>(() => feed.ReadAsync(Billing, after, 0, CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Equal([new FieldViolation("after", "malformed")], error.Violations);
        Assert.DoesNotContain(after.Trim(), error.Message, StringComparison.Ordinal);
        await reader.DidNotReceiveWithAnyArgs().ReadAfterAsync(default, default, default, default);
    }

    [Fact]
    public void DecodeAfter_CanonicalCursor_RoundTrips()
    {
        // Control for the malformed cases: the encoder's own output is accepted.
        Assert.Equal("AQAAAAAAAAAB", TokenEventFeed.EncodeCursor(1));
        Assert.Equal(1, TokenEventFeed.DecodeAfter("AQAAAAAAAAAB"));
        Assert.Equal(long.MaxValue, TokenEventFeed.DecodeAfter(TokenEventFeed.EncodeCursor(long.MaxValue)));
        Assert.Equal(0, TokenEventFeed.DecodeAfter(string.Empty));
    }

    [Fact]
    public async Task ReadAsync_StartCursor_ReadsFromTheStartAsAnEmptyAfterDoes()
    {
        // "AQAAAAAAAAAA" (version 1, position 0) is what a reader of the format writes for "from the start".
        reader.ReadAfterAsync(0, "billing-a", 2, Arg.Any<CancellationToken>()).Returns([Event(3)]);

        var fromStart = await feed.ReadAsync(Billing, TokenEventFeed.StartCursor, 2, CancellationToken.None);
        var fromEmpty = await feed.ReadAsync(Billing, string.Empty, 2, CancellationToken.None);

        Assert.Equal("AQAAAAAAAAAA", TokenEventFeed.StartCursor);
        Assert.Equal(0, TokenEventFeed.DecodeAfter(TokenEventFeed.StartCursor));
        Assert.Equal([3L], fromStart.Events.Select(e => e.Sequence));
        Assert.Equal(fromEmpty.NextCursor, fromStart.NextCursor);
        await reader.Received(2).ReadAfterAsync(0, "billing-a", 2, Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(501)]
    public async Task ReadAsync_PageSizeOutOfRange_InvalidArgument(int pageSize)
    {
        var error = await Assert.ThrowsAsync<TokenizerException>(() => feed.ReadAsync(Billing, null, pageSize, CancellationToken.None));

        Assert.Equal("page_size", Assert.Single(error.Violations).Field);
    }
}
