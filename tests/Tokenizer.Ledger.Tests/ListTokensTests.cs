using System.Buffers.Binary;
using System.Buffers.Text;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests;

public abstract class ListTokensTests(TestDatabase database) : LedgerTestBase(database)
{
    [Fact]
    public async Task ListTokensAsync_EmptyLedger_ReturnsEmptyLastPage()
    {
        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query(), CancellationToken.None);

        // Assert
        Assert.Empty(page.Tokens);
        Assert.Null(page.NextPageToken);
    }

    [Fact]
    public async Task ListTokensAsync_NoFilters_ReturnsNewestFirstThenTokenDescending()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_a", 1), Card("pm_c", 2), Card("pm_b", 2), Card("pm_d", 0)]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query(), CancellationToken.None);

        // Assert
        Assert.Equal(["pm_c", "pm_b", "pm_a", "pm_d"], Ids(page));
        Assert.Null(page.NextPageToken);
    }

    [Fact]
    public async Task ListTokensAsync_CustomerFilter_ReturnsOnlyThatCustomer()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1, "alice"), Card("pm_2", 2, "bob"), Card("pm_3", 3, "alice")]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query() with { CustomerReference = "alice" }, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_3", "pm_1"], Ids(page));
    }

    [Theory]
    [InlineData(TokenStatus.Active, new[] { "pm_3", "pm_1" })]
    [InlineData(TokenStatus.Revoked, new[] { "pm_2" })]
    public async Task ListTokensAsync_StatusFilter_ReturnsOnlyThatStatus(TokenStatus status, string[] expected)
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1), Card("pm_2", 2, status: TokenStatus.Revoked), Card("pm_3", 3)]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query() with { Status = status }, CancellationToken.None);

        // Assert
        Assert.Equal(expected, Ids(page));
    }

    [Fact]
    public async Task ListTokensAsync_CreatedAfter_IsInclusive()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1), Card("pm_2", 2), Card("pm_3", 3)]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query() with { CreatedAfter = At(2) }, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_3", "pm_2"], Ids(page));
    }

    [Fact]
    public async Task ListTokensAsync_CreatedBefore_IsExclusive()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1), Card("pm_2", 2), Card("pm_3", 3)]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query() with { CreatedBefore = At(2) }, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_1"], Ids(page));
    }

    [Fact]
    public async Task ListTokensAsync_AllFiltersTogether_ReturnsTheIntersection()
    {
        // Arrange
        await SeedAsync(
            Ledger,
            [
                Card("pm_1", 1, "alice"),
                Card("pm_2", 2, "alice", TokenStatus.Revoked),
                Card("pm_3", 3, "alice"),
                Card("pm_4", 3, "bob"),
                Card("pm_5", 5, "alice"),
            ]);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(
            Query() with { CustomerReference = "alice", Status = TokenStatus.Active, CreatedAfter = At(1), CreatedBefore = At(5) },
            CancellationToken.None);

        // Assert
        Assert.Equal(["pm_3", "pm_1"], Ids(page));
    }

    [Fact]
    public async Task ListTokensAsync_TiesOnCreatedAtAcrossPages_VisitsEachTokenOnceInOrder()
    {
        // Arrange: seven tokens in the same microsecond, one older.
        var tied = Enumerable.Range(0, 7).Select(i => Card($"pm_tie_{i}", 5)).ToList();
        await SeedAsync(Ledger, [.. tied, Card("pm_old", 1)]);

        // Act
        var pages = await AllPagesAsync(Query() with { PageSize = 3 });

        // Assert
        Assert.Equal([3, 3, 2], pages.Select(p => p.Tokens.Count));
        Assert.Equal(
            ["pm_tie_6", "pm_tie_5", "pm_tie_4", "pm_tie_3", "pm_tie_2", "pm_tie_1", "pm_tie_0", "pm_old"],
            pages.SelectMany(Ids));
        Assert.All(pages[..^1], p => Assert.NotNull(p.NextPageToken));
        Assert.Null(pages[^1].NextPageToken);
    }

    [Fact]
    public async Task ListTokensAsync_ExactMultipleOfPageSize_LastFullPageHasNoNextToken()
    {
        // Arrange
        await SeedAsync(Ledger, Enumerable.Range(0, 4).Select(i => Card($"pm_{i}", i)));

        // Act
        var pages = await AllPagesAsync(Query() with { PageSize = 2 });

        // Assert
        Assert.Equal(2, pages.Count);
        Assert.Null(pages[1].NextPageToken);
    }

    [Fact]
    public async Task ListTokensAsync_PageTokenFromUnfilteredListing_DoesNotWidenAFilteredOne()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1, "alice"), Card("pm_2", 2, "bob"), Card("pm_3", 3, "bob"), Card("pm_4", 4, "alice")]);
        var unfiltered = await Ledger.Tokens.ListTokensAsync(Query() with { PageSize = 1 }, CancellationToken.None);

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(
            Query() with { CustomerReference = "alice", PageToken = unfiltered.NextPageToken },
            CancellationToken.None);

        // Assert: positioned after pm_4, still only alice.
        Assert.Equal(["pm_1"], Ids(page));
    }

    [Fact]
    public async Task ListTokensAsync_ForgedPageTokenFarInTheFuture_StillAppliesFilters()
    {
        // Arrange
        await SeedAsync(Ledger, [Card("pm_1", 1, "alice"), Card("pm_2", 2, "bob")]);
        var forged = PageToken.Encode(new PagePosition(long.MaxValue, "zzz"));

        // Act
        var page = await Ledger.Tokens.ListTokensAsync(Query() with { CustomerReference = "alice", PageToken = forged }, CancellationToken.None);

        // Assert
        Assert.Equal(["pm_1"], Ids(page));
    }

    [Theory]
    [MemberData(nameof(MalformedPageTokens))]
    public async Task ListTokensAsync_MalformedPageToken_ThrowsInvalidArgumentOnPageToken(string pageToken)
    {
        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(
            () => Ledger.Tokens.ListTokensAsync(Query() with { PageToken = pageToken }, CancellationToken.None));

        // Assert
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Equal(ErrorReasons.ValidationFailed, error.Reason);
        Assert.Equal([new FieldViolation("page_token", "malformed")], error.Violations);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task ListTokensAsync_PageSizeOutsideOneToHundred_ThrowsArgumentOutOfRange(int pageSize)
    {
        // Act + Assert
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => Ledger.Tokens.ListTokensAsync(Query() with { PageSize = pageSize }, CancellationToken.None));
    }

    public static TheoryData<string> MalformedPageTokens()
    {
        var valid = PageToken.Encode(new PagePosition(1_900_000_000_000_000, "pm_123"));
        var payload = Base64Url.DecodeFromChars(valid);
        var otherVersion = (byte[])payload.Clone();
        otherVersion[0] = 2;
        var badTokenChars = (byte[])payload.Clone();
        badTokenChars[^1] = (byte)'-';
        var nonAscii = (byte[])payload.Clone();
        nonAscii[^1] = 0xC3;
        var headerOnly = new byte[9];
        headerOnly[0] = 1;
        BinaryPrimitives.WriteInt64BigEndian(headerOnly.AsSpan(1), 42);
        return
        [
            "",
            "!!!!",
            "not a page token",
            valid[..^3],                                   // truncated
            valid[..6],                                    // truncated into the header
            Base64Url.EncodeToString(otherVersion),        // another version
            Base64Url.EncodeToString(badTokenChars),       // token id with a character ids never have
            Base64Url.EncodeToString(nonAscii),            // token id with a non-ASCII byte
            Base64Url.EncodeToString(headerOnly),          // no token id
            Convert.ToBase64String(payload) + "==",        // standard base64 with padding
            valid + "=",                                   // padded
            " " + valid,                                   // whitespace the decoder would skip
            valid[..4] + "\n" + valid[4..],
            new string('A', 513),                          // longer than any page token
            Base64Url.EncodeToString([1, .. new byte[8], .. Enumerable.Repeat((byte)'a', 256)]), // id over 255
        ];
    }

    private static TokenQuery Query() => new(null, null, null, null, 50, null);

    private static DateTimeOffset At(int second) => T0.AddSeconds(second);

    private static TokenRecord Card(string id, int second, string customer = "cust_1", TokenStatus status = TokenStatus.Active) =>
        TestData.Card(id, At(second), customer, status);

    private static IEnumerable<string> Ids(TokenPage page) => page.Tokens.Select(t => t.Token);

    private async Task<List<TokenPage>> AllPagesAsync(TokenQuery query)
    {
        var pages = new List<TokenPage>();
        string? next = null;
        do
        {
            var page = await Ledger.Tokens.ListTokensAsync(query with { PageToken = next }, CancellationToken.None);
            pages.Add(page);
            next = page.NextPageToken;
        }
        while (next is not null && pages.Count < 100);

        return pages;
    }
}
