using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>Request builders with the Stripe test cards and accounts.</summary>
internal static class Requests
{
    public static TokenizeCardRequest Card(string number, string key, string customer = "cust-it", string cvc = "123", int month = 12, int year = 2030) => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        Card = new Card { Number = number, ExpMonth = month, ExpYear = year, Cvc = cvc },
    };

    public static BillingDetails FullBilling() => new()
    {
        Name = "Jenny Rosen",
        Email = "jenny.rosen@example.com",
        Address = new Address { Line1 = "1 Test Street", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
    };

    public static TokenizeBankAccountRequest Becs(string key, string bsb = "000000", string account = "000123456", string customer = "cust-it") => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        AuBecsDebit = new AuBecsDebitAccount { BsbNumber = bsb, AccountNumber = account },
        BillingDetails = FullBilling(),
        MandateAcceptance = OnlineMandate(),
    };

    public static TokenizeBankAccountRequest Sepa(string key, string iban = "AT611904300234573201", string customer = "cust-it") => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        SepaDebit = new SepaDebitAccount { Iban = iban },
        BillingDetails = FullBilling(),
        MandateAcceptance = OnlineMandate(),
    };

    public static TokenizeBankAccountRequest Bacs(string key, string sortCode = "108800", string account = "00012345", string customer = "cust-it") => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        BacsDebit = new BacsDebitAccount { SortCode = sortCode, AccountNumber = account },
        BillingDetails = FullBilling(),
        MandateAcceptance = OnlineMandate(),
    };

    public static TokenizeBankAccountRequest Ach(string key, string routing = "110000000", string account = "000123456789", string customer = "cust-it") => new()
    {
        IdempotencyKey = key,
        CustomerReference = customer,
        UsBankAccount = new UsBankAccount
        {
            RoutingNumber = routing,
            AccountNumber = account,
            AccountHolderType = AccountHolderType.Individual,
            AccountType = AccountType.Checking,
        },
        BillingDetails = FullBilling(),
        MandateAcceptance = OnlineMandate(),
    };

    /// <summary>The customer's online acceptance of the direct-debit mandate a minute ago (a documentation IP address).</summary>
    public static MandateAcceptance OnlineMandate() => new()
    {
        AcceptedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-1)),
        Online = new OnlineMandateAcceptance { IpAddress = "203.0.113.7", UserAgent = "Mozilla/5.0 (X11; Linux x86_64) IntegrationTests" },
    };

    /// <summary>An offline (paper or phone) mandate acceptance a day ago.</summary>
    public static MandateAcceptance OfflineMandate() => new()
    {
        AcceptedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
        Offline = new OfflineMandateAcceptance(),
    };

    public static string NewKey() => Guid.NewGuid().ToString("N");
}
