using System.Text;
using System.Text.RegularExpressions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Ledger.Tests;

public abstract partial class DataAtRestTests(TestDatabase database) : LedgerTestBase(database)
{
    private const string Pan = "4242424242424242";

    [Fact]
    public async Task CompleteAsync_CardToken_StoredBytesHoldTheTokenIdButNoCardNumber()
    {
        // Arrange: the service's own path from a card to what the ledger gets: a keyed HMAC and a masked record.
        var card = new CardDetails(Pan, 12, 2034, "123", CardBrand.Visa);
        var hasher = new RequestHasher(Encoding.UTF8.GetBytes("test-secret-of-at-least-32-bytes!!"));
        var hmac = hasher.HashRequest("tokenize_card", "cust_1", card.Pan, "12", "2034", card.Cvc, "{}");
        var token = TestData.Card("pm_1QdataAtRestPositiveControl", T0) with
        {
            Card = new CardMetadata("visa", card.Last4, card.ExpMonth, card.ExpYear, "credit", "US", "fp_Xy12"),
        };

        // Act
        Assert.Equal(
            IdempotencyState.Started,
            (await Ledger.Claims.ClaimAsync(TestData.Claim("k1", hmac, T0), CancellationToken.None)).State);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);
        var stored = await Database.ReadAtRestAsync();

        // Assert: the positive controls show the stored bytes were read (SQLite: file and WAL; PostgreSQL: the
        // database's files after a checkpoint, and the server's WAL). The WAL also holds other tests' databases, whose
        // random ids may hold long digit runs, so that check reads this database's files only.
        Assert.True(stored.Own.Any(f => f.Contains(token.Token, StringComparison.Ordinal)), "the token id was not found in the database's own files");
        Assert.True(stored.Own.Any(f => f.Contains("4242", StringComparison.Ordinal)), "last4 was not found in the database's own files");
        Assert.True(stored.Shared.Count == 0 || stored.Shared.Any(f => f.Contains(token.Token, StringComparison.Ordinal)), "the token id was not found in the shared files (WAL)");
        Assert.False(stored.All.Any(f => f.Contains(Pan, StringComparison.Ordinal)), "the PAN is stored");
        var run = stored.Own.Select(f => LongDigitRun().Match(f)).FirstOrDefault(m => m.Success);
        Assert.True(run is null, "a run of 13 or more digits is stored: " + run?.Value);
    }

    [GeneratedRegex("[0-9]{13,}")]
    private static partial Regex LongDigitRun();
}
