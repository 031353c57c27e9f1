using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tokenizer.Contracts.V1;

namespace Tokenizer.LoadTests;

/// <summary>One generated request: exactly one of <see cref="Card"/> or <see cref="Bank"/>.</summary>
internal sealed record GeneratedRequest(RequestKind Kind, TokenizeCardRequest? Card, TokenizeBankAccountRequest? Bank);

/// <summary>
/// Realistic requests: Stripe test cards of several brands and the four direct-debit schemes, a unique idempotency key
/// each, customer references from a pool of 1,000, a share of replays (a request that succeeded, sent again with its
/// key) and a share of invalid inputs (a failed Luhn check, answered INVALID_ARGUMENT before any gateway call).
/// Thread-safe.
/// </summary>
internal sealed class RequestMix(double replayShare, double invalidShare, double bankShare)
{
    private static readonly string[] Cards = ["4242424242424242", "5555555555554444", "378282246310005", "6011111111111117", "4000056655665556"];
    private readonly ConcurrentQueue<GeneratedRequest> succeeded = new();

    public GeneratedRequest Next()
    {
        var roll = RandomNumberGenerator.GetInt32(1_000_000) / 1_000_000.0;
        if (roll < replayShare && succeeded.TryDequeue(out var earlier))
        {
            succeeded.Enqueue(earlier);
            return earlier with { Kind = RequestKind.Replay };
        }

        var key = Guid.NewGuid().ToString("N");
        var customer = "bench-" + RandomNumberGenerator.GetInt32(1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (roll < replayShare + invalidShare)
        {
            return new(RequestKind.Invalid, Card("4242424242424241", key, customer), null);
        }

        if (roll < replayShare + invalidShare + bankShare)
        {
            return new(RequestKind.Bank, null, Bank(key, customer, RandomNumberGenerator.GetInt32(4)));
        }

        return new(RequestKind.Card, Card(Cards[RandomNumberGenerator.GetInt32(Cards.Length)], key, customer), null);
    }

    /// <summary>Remembers a request that succeeded as a replay candidate (the last 1,000).</summary>
    public void Succeeded(GeneratedRequest request)
    {
        if (request.Kind is RequestKind.Card or RequestKind.Bank && succeeded.Count < 1000)
        {
            succeeded.Enqueue(request);
        }
    }

    private static TokenizeCardRequest Card(string number, string key, string customer) => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        Card = new Card { Number = number, ExpMonth = 12, ExpYear = 2031, Cvc = number.StartsWith('3') ? "1234" : "123" },
    };

    private static TokenizeBankAccountRequest Bank(string key, string customer, int scheme)
    {
        var billing = new BillingDetails
        {
            Name = "Jenny Rosen",
            Email = "jenny.rosen@example.com",
            Address = new Address { Line1 = "1 Test Street", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
        };
        var request = new TokenizeBankAccountRequest
        {
            IdempotencyKey = key,
            CustomerReference = customer,
            BillingDetails = billing,

            // Every debit needs the customer's mandate acceptance; offline keeps personal data out of the load.
            MandateAcceptance = new MandateAcceptance
            {
                AcceptedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-1)),
                Offline = new OfflineMandateAcceptance(),
            },
        };
        switch (scheme)
        {
            case 0:
                request.AuBecsDebit = new AuBecsDebitAccount { BsbNumber = "000000", AccountNumber = "000123456" };
                break;
            case 1:
                request.SepaDebit = new SepaDebitAccount { Iban = "AT611904300234573201" };
                break;
            case 2:
                request.BacsDebit = new BacsDebitAccount { SortCode = "108800", AccountNumber = "00012345" };
                break;
            default:
                request.UsBankAccount = new UsBankAccount
                {
                    RoutingNumber = "110000000",
                    AccountNumber = "000123456789",
                    AccountHolderType = AccountHolderType.Individual,
                    AccountType = AccountType.Checking,
                };
                break;
        }

        return request;
    }
}
