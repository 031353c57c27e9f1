using CsCheck;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

public abstract class ListingPropertyTests(TestDatabase database) : LedgerTestBase(database)
{
    private const string TokenIdChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

    [Fact]
    public async Task ListTokensAsync_AnyTokensAndPageSize_PagingReturnsEachTokenOnceInOrder()
    {
        // Arrange: created_at drawn from a few seconds so ties are common; one customer per sample keeps samples apart.
        var gen = Gen.Select(
            Gen.Select(Gen.Int[0, 4], Gen.Char[TokenIdChars].Array[1, 12]).Array[0, 25],
            Gen.Int[1, 8]);

        // Act + Assert
        await gen.SampleAsync(
            async (tokens, pageSize) =>
            {
                // Letters only (hex read as a-p), and letters between the parts: a token id never holds a digit run
                // that reads as a card number (InputRules.IsValidTokenId refuses one).
                var sample = string.Concat(Guid.NewGuid().ToString("N").Select(c => (char)('a' + "0123456789abcdef".IndexOf(c, StringComparison.Ordinal))));
                var customer = "prop_" + sample;
                var records = tokens
                    .Select((t, i) => TestData.Card($"pm_{sample}x{new string(t.Item2)}x{i}", T0.AddSeconds(t.Item1), customer))
                    .ToList();
                await SeedAsync(Ledger, records);
                var expected = records
                    .OrderByDescending(r => r.CreatedAt)
                    .ThenByDescending(r => r.Token, StringComparer.Ordinal)
                    .Select(r => r.Token)
                    .ToList();

                var seen = new List<string>();
                string? next = null;
                var pages = 0;
                do
                {
                    var page = await Ledger.Tokens.ListTokensAsync(
                        new TokenQuery(customer, null, null, null, pageSize, next),
                        CancellationToken.None);
                    Assert.InRange(page.Tokens.Count, next is null && records.Count == 0 ? 0 : 1, pageSize);
                    seen.AddRange(page.Tokens.Select(t => t.Token));
                    next = page.NextPageToken;
                    pages++;
                }
                while (next is not null);

                Assert.Equal(expected, seen);
                Assert.Equal(Math.Max(1, (records.Count + pageSize - 1) / pageSize), pages);
            },
            iter: 40,
            threads: 1);
    }
}
