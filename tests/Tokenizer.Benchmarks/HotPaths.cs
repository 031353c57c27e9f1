using BenchmarkDotNet.Attributes;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Benchmarks;

/// <summary>The pure functions every tokenisation runs: validation, the request HMAC, log masking, audit chaining.</summary>
[MemoryDiagnoser]
public class HotPaths
{
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly RequestValidator validator = new(TimeProvider.System);
    private readonly RequestHasher hasher = new(Secret);
    private readonly TokenizeCardCommand card = new("key-1", "cust-1", new CardInput("4242424242424242", 12, 2031, "123"), null);
    private readonly AuditRow row = new(42, 1_796_083_200_000_000, "billing", "127.0.0.1", "tokenizer.v1.TokenizerService/TokenizeCard", "pm_1Q2w3E4r5T6y7U8i", "success", null, "0af7651916cd43dd8448eb211c80319c", new byte[32], new byte[32]);

    private readonly TokenizeCardCommand cardWithBilling = new(
        "key-1",
        "cust-1",
        new CardInput("4242424242424242", 12, 2031, "123"),
        new BillingDetails("Jenny Rosen", "jenny.rosen@example.com", "+44 20 7946 0958", new Address("1 Test Street", "Flat 2", "London", null, "EC1A 1BB", "GB")));

    // Accented names and places (Latin-1 and beyond): every accented letter at a word start is tried as a label's first letter.
    private readonly TokenizeCardCommand cardWithAccentedBilling = new(
        "key-1",
        "cust-1",
        new CardInput("4242424242424242", 12, 2031, "123"),
        new BillingDetails("Zoë Çelik-Nguyễn Đặng", "zoe.celik@example.com", "+48 12 345 67 89", new Address("ul. Żółkiewskiego 12", "Łódź Śródmieście", "Kraków", "Małopolskie", "31-042", "PL")));

    private readonly string pan = "4242424242424242";
    private readonly string logLineWithPan = "Gateway said: invalid number 4242 4242 4242 4242 for caller billing at 2026-12-06T20:35:53.1234567+00:00; trace 0af7651916cd43dd8448eb211c80319c";
    private readonly string logLine = "Tokenized pm_1Q2w3E4r5T6y7U8i (Card) for caller billing in 12.5 ms; trace 0af7651916cd43dd8448eb211c80319c";

    // Beyond ASCII: accented letters, a superscript, a fraction and a currency sign, no card data.
    private readonly string unicodeLogLine = "Billing name Zoë Çelik-Nguyễn, 85 m² flat in Łódź for 1 200 € (½ deposit); trace 0af7651916cd43dd8448eb211c80319c";

    [Benchmark]
    public bool Luhn16() => Luhn.IsValid(pan);

    [Benchmark]
    public object ValidateCard() => validator.ValidateCard(card);

    [Benchmark]
    public object ValidateCardWithBilling() => validator.ValidateCard(cardWithBilling);

    [Benchmark]
    public object ValidateCardWithAccentedBilling() => validator.ValidateCard(cardWithAccentedBilling);

    [Benchmark]
    public string? ScrubLogLineWithPan() => SensitiveDataScrubber.Scrub(logLineWithPan);

    [Benchmark]
    public byte[] RequestHmac() => hasher.HashRequest("tokenize_card", "cust-1", "4242424242424242", "12", "2031", "123", "{}");

    [Benchmark]
    public string IdempotencyKeyId() => hasher.IdempotencyKeyId("7c9e6679-7425-40de-944b-e07fc1f90ae7");

    [Benchmark]
    public string? ScrubLogLine() => SensitiveDataScrubber.Scrub(logLine);

    [Benchmark]
    public string? ScrubUnicodeLogLine() => SensitiveDataScrubber.Scrub(unicodeLogLine);

    [Benchmark]
    public byte[] AuditMac() => AuditChain.ComputeMac(Secret, row);
}
