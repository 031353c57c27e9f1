using System.Text;
using System.Text.RegularExpressions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Ledger.Tests;

public sealed partial class DataAtRestTests : LedgerTestBase
{
    private const string Pan = "4242424242424242";

    [Fact]
    public async Task CompleteAsync_CardToken_FilesHoldTheTokenIdButNoCardNumber()
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
            (await Ledger.BeginAsync(TestData.Claim("k1", hmac, T0), CancellationToken.None)).State);
        await Ledger.CompleteAsync(TestData.Caller, "k1", TestData.Response(token), token, CancellationToken.None);
        var files = Directory.GetFiles(Path.GetDirectoryName(DatabasePath)!);
        var contents = string.Concat(files.Select(ReadShared));

        // Assert: the files were read while the ledger is open, so the WAL still holds the commit.
        Assert.Contains(DatabasePath + "-wal", files);
        Assert.Contains(token.Token, contents, StringComparison.Ordinal);
        Assert.Contains("4242", contents, StringComparison.Ordinal);
        Assert.DoesNotContain(Pan, contents, StringComparison.Ordinal);
        Assert.False(LongDigitRun().IsMatch(contents), "a run of 13 or more digits is stored");
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Encoding.Latin1.GetString(buffer.ToArray());
    }

    [GeneratedRegex("[0-9]{13,}")]
    private static partial Regex LongDigitRun();
}
