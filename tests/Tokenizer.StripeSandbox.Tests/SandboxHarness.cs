using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Starts sandboxes on real loopback ports and builds Stripe.net clients pointed at them.</summary>
internal static class SandboxHarness
{
    public const string ApiKey = "sk_test_sandbox_tests";
    public const string Environment = "Testing";

    public static int FutureYear => DateTime.UtcNow.Year + 3;

    public static Task<StripeSandboxServer> StartAsync(Action<StripeSandboxOptions>? configure = null)
    {
        var options = new StripeSandboxOptions();
        configure?.Invoke(options);
        return StripeSandboxServer.StartAsync(options, Environment);
    }

    /// <summary>Stripe.net over real HTTP, no retries (a retry would hide what the sandbox answered).</summary>
    public static StripeClient Client(StripeSandboxServer server, string apiKey = ApiKey) =>
        Client(server, TimeSpan.FromSeconds(30), maxNetworkRetries: 0, apiKey);

    /// <summary>Stripe.net over real HTTP with the given HttpClient timeout and Stripe.net retries.</summary>
    public static StripeClient Client(StripeSandboxServer server, TimeSpan timeout, int maxNetworkRetries, string apiKey = ApiKey) =>
        new(new StripeClientOptions
        {
            ApiKey = apiKey,
            ApiBase = server.BaseAddress.ToString().TrimEnd('/'),
            HttpClient = new SystemNetHttpClient(
                new HttpClient { Timeout = timeout }, maxNetworkRetries: maxNetworkRetries, appInfo: null, enableTelemetry: false),
        });

    /// <summary>A plain HttpClient on the sandbox, with the test API key as Bearer.</summary>
    public static HttpClient Http(StripeSandboxServer server, string apiKey = ApiKey)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        return http;
    }

    /// <summary>Polls until the condition holds; fails the test after <paramref name="timeout"/> (default 20 s).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }

    public static PaymentMethodCreateOptions Card(string number, long? expMonth = 12, long? expYear = null, string? cvc = "123") => new()
    {
        Type = "card",
        Card = new PaymentMethodCardOptions { Number = number, ExpMonth = expMonth, ExpYear = expYear ?? FutureYear, Cvc = cvc },
    };

    public static PaymentMethodBillingDetailsOptions FullBilling() => new()
    {
        Name = "Jenny Rosen",
        Email = "jenny@example.com",
        Address = new AddressOptions { Line1 = "1 Test Street", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
    };

    public static PaymentMethodCreateOptions AuBecs(string bsb = "000000", string account = "000123456") => new()
    {
        Type = "au_becs_debit",
        AuBecsDebit = new PaymentMethodAuBecsDebitOptions { BsbNumber = bsb, AccountNumber = account },
        BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Jenny Rosen", Email = "jenny@example.com" },
    };

    public static PaymentMethodCreateOptions Sepa(string iban = "AT611904300234573201") => new()
    {
        Type = "sepa_debit",
        SepaDebit = new PaymentMethodSepaDebitOptions { Iban = iban },
        BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Jenny Rosen", Email = "jenny@example.com" },
    };

    public static PaymentMethodCreateOptions Bacs(string sortCode = "108800", string account = "00012345") => new()
    {
        Type = "bacs_debit",
        BacsDebit = new PaymentMethodBacsDebitOptions { SortCode = sortCode, AccountNumber = account },
        BillingDetails = FullBilling(),
    };

    public static PaymentMethodCreateOptions UsBank(string routing = "110000000", string account = "000123456789") => new()
    {
        Type = "us_bank_account",
        UsBankAccount = new PaymentMethodUsBankAccountOptions
        {
            RoutingNumber = routing,
            AccountNumber = account,
            AccountHolderType = "individual",
            AccountType = "checking",
        },
        BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Jenny Rosen" },
    };

    /// <summary>Error messages are fixed texts: not one digit of a card or account number may come back in them.</summary>
    public static void AssertNoDigits(string message) => Assert.DoesNotContain(message.ToCharArray(), char.IsDigit);

    public static string? Header(StripeEntity entity, string name) =>
        entity.StripeResponse.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}

/// <summary>One in-memory sandbox shared by the tests of a class (tests that count state start their own).</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public StripeSandboxServer Server { get; private set; } = null!;

    public StripeClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await SandboxHarness.StartAsync();
        Client = SandboxHarness.Client(Server);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
