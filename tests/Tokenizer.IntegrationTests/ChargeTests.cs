using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Stripe;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.Tests.Shared;
using Token = Tokenizer.Contracts.V1.Token;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The billing service's own proof that a token is worth having: each of the five types is tokenised over real gRPC on
/// the embedded defaults, whatever the customer must do is done (the 3-D Secure page clicked in headless Chromium,
/// microdeposits verified through the API), and the token is charged off-session through the sandbox's PaymentIntents
/// (Stripe API POST /v1/payment_intents) with the returned gateway_customer. Controls: PaymentMethods attached the old
/// way (create + attach, no SetupIntent) are refused at charge as Stripe refuses them, while a plain 4242 still charges.
/// </summary>
public abstract class ChargeTestsBase
{
    private const string ReturnUrl = "https://billing.example.com/payments/return";

    protected abstract TokenizerServerFixture Server { get; }

    private StripeClient Gateway => new(new StripeClientOptions
    {
        ApiKey = Server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey,
        ApiBase = Server.Sandbox.BaseAddress.ToString().TrimEnd('/'),
    });

    [Fact]
    public async Task EveryType_TokenisedActionCompleted_ChargesOffSession()
    {
        await using var browser = await HeadlessChromium.StartAsync();
        var reference = "charge-" + Guid.NewGuid().ToString("N")[..10];

        // Card needing 3-D Secure at setup: REQUIRES_ACTION with the page to send the customer to, then READY.
        var card = await TokenizeCardAsync("4000002500003155", reference);
        Assert.Equal(SetupStatus.RequiresAction, card.Setup.Status);
        Assert.Equal(NextActionKind.RedirectToUrl, card.Setup.NextAction.Kind);
        card = await AuthenticateInBrowserAsync(browser, card, "complete");
        Assert.Equal(SetupStatus.Ready, card.Setup.Status);

        // SEPA and BECS: READY at once, under an active online mandate.
        var sepa = (await Server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: reference))).Token;
        var becs = (await Server.Client.TokenizeBankAccountAsync(Requests.Becs(Requests.NewKey(), customer: reference))).Token;

        // Bacs: PROCESSING while the mandate is pending, READY once it is active (the sandbox's delay is 0).
        var bacs = (await Server.Client.TokenizeBankAccountAsync(Requests.Bacs(Requests.NewKey(), customer: reference))).Token;
        bacs = await WaitForSetupAsync(bacs.Token_, SetupStatus.Ready);

        // ACH: microdeposits to verify (Stripe's test amounts), then READY.
        var ach = (await Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: reference))).Token;
        Assert.Equal(SetupStatus.RequiresAction, ach.Setup.Status);
        Assert.Equal(NextActionKind.VerifyWithMicrodeposits, ach.Setup.NextAction.Kind);
        await Gateway.V1.SetupIntents.VerifyMicrodepositsAsync(ach.Setup.SetupIntent, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] });
        ach = await WaitForSetupAsync(ach.Token_, SetupStatus.Ready);

        // Act and Assert: every token charges off-session with its own Customer.
        foreach (var (token, currency) in new[] { (card, "usd"), (sepa, "eur"), (becs, "aud"), (bacs, "gbp"), (ach, "usd") })
        {
            Assert.Equal(SetupStatus.Ready, token.Setup.Status);
            Assert.StartsWith("cus_", token.GatewayCustomer, StringComparison.Ordinal);
            if (token.Type != TokenType.Card)
            {
                Assert.Equal(MandateStatus.Active, token.Mandate.Status);
            }

            var charge = await ChargeAsync(token.Token_, token.GatewayCustomer, currency);
            Assert.True(charge.Status == "succeeded", $"{token.Type}: {charge.Status}");
        }
    }

    [Fact]
    public async Task AttachedTheOldWay_RefusedAtChargeAsStripeRefuses_Plain4242StillCharges()
    {
        // Arrange: the billing service's Customer, from a token set up properly.
        var reference = "charge-old-" + Guid.NewGuid().ToString("N")[..10];
        var proper = (await Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), reference))).Token;
        var customer = proper.GatewayCustomer;
        async Task<string> AttachOldWayAsync(PaymentMethodCreateOptions options)
        {
            var created = await Gateway.V1.PaymentMethods.CreateAsync(options);
            await Gateway.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer });
            return created.Id;
        }

        var authentication = await AttachOldWayAsync(CardOptions("4000002500003155"));
        var sepa = await AttachOldWayAsync(new PaymentMethodCreateOptions
        {
            Type = "sepa_debit",
            SepaDebit = new PaymentMethodSepaDebitOptions { Iban = "AT611904300234573201" },
            BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Old Way", Email = "old.way@example.com" },
        });
        var plain = await AttachOldWayAsync(CardOptions("4242424242424242"));

        // Act
        var needsAuthentication = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(authentication, customer, "usd"));
        var noMandate = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(sepa, customer, "eur"));
        var plainCharge = await ChargeAsync(plain, customer, "usd");
        var properCharge = await ChargeAsync(proper.Token_, customer, "usd");

        // Assert
        Assert.Equal("authentication_required", needsAuthentication.StripeError.Code);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, noMandate.HttpStatusCode);
        Assert.Equal("mandate_data", noMandate.StripeError.Param);
        Assert.Equal("succeeded", plainCharge.Status);
        Assert.Equal("succeeded", properCharge.Status);
    }

    [Fact]
    public async Task AuthenticationTestCardsAndWrongMicrodeposits_EndAsStripeDocuments()
    {
        await using var browser = await HeadlessChromium.StartAsync();
        var reference = "charge-auth-" + Guid.NewGuid().ToString("N")[..10];

        // 4000002760003184: authenticates at setup, yet every off-session charge needs authentication again.
        var always = await AuthenticateInBrowserAsync(browser, await TokenizeCardAsync("4000002760003184", reference), "complete");
        var alwaysRefused = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(always.Token_, always.GatewayCustomer, "usd"));

        // 4000008260003178: authenticates, then the charge declines for insufficient funds.
        var declines = await AuthenticateInBrowserAsync(browser, await TokenizeCardAsync("4000008260003178", reference), "complete");
        var declined = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(declines.Token_, declines.GatewayCustomer, "usd"));

        // A billing service that charges before the customer authenticated is refused, and the token still becomes
        // chargeable once they do (a refused attempt does not use the PaymentMethod up).
        var early = await TokenizeCardAsync("4000002500003155", reference);
        var tooEarly = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(early.Token_, early.GatewayCustomer, "usd"));
        early = await AuthenticateInBrowserAsync(browser, early, "complete");
        var afterAuthentication = await ChargeAsync(early.Token_, early.GatewayCustomer, "usd");

        // 4000002500003155 with the challenge failed: the setup FAILED, nothing to charge.
        var failed = await AuthenticateInBrowserAsync(browser, await TokenizeCardAsync("4000002500003155", reference), "fail");

        // Without a return_url a card that needs 3-D Secure is refused, naming the field.
        var withoutReturnUrl = await Assert.ThrowsAsync<RpcException>(() =>
            Server.Client.TokenizeCardAsync(Requests.Card("4000002500003155", Requests.NewKey(), reference)).ResponseAsync);

        // ACH with wrong microdeposit amounts: stays unverified and cannot be charged.
        var ach = (await Server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: reference))).Token;
        var wrongAmounts = await Assert.ThrowsAsync<StripeException>(() =>
            Gateway.V1.SetupIntents.VerifyMicrodepositsAsync(ach.Setup.SetupIntent, new SetupIntentVerifyMicrodepositsOptions { Amounts = [10, 11] }));
        var achAfter = (await Server.Client.GetTokenAsync(new GetTokenRequest { Token = ach.Token_ })).Token;
        var achRefused = await Assert.ThrowsAsync<StripeException>(() => ChargeAsync(ach.Token_, ach.GatewayCustomer, "usd"));

        // Assert
        Assert.Equal("authentication_required", tooEarly.StripeError.Code);
        Assert.Equal("succeeded", afterAuthentication.Status);
        Assert.Equal(SetupStatus.Ready, always.Setup.Status);
        Assert.Equal("authentication_required", alwaysRefused.StripeError.Code);
        Assert.Equal(SetupStatus.Ready, declines.Setup.Status);
        Assert.Equal("card_declined", declined.StripeError.Code);
        Assert.Equal("insufficient_funds", declined.StripeError.DeclineCode);
        Assert.Equal(SetupStatus.Failed, failed.Setup.Status);
        Assert.Equal(StatusCode.FailedPrecondition, withoutReturnUrl.StatusCode);
        Assert.Contains("return_url", withoutReturnUrl.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("mismatch", wrongAmounts.StripeError.Code, StringComparison.Ordinal);
        Assert.Equal(SetupStatus.RequiresAction, achAfter.Setup.Status);
        Assert.IsType<StripeException>(achRefused);
    }

    private static PaymentMethodCreateOptions CardOptions(string number) => new()
    {
        Type = "card",
        Card = new PaymentMethodCardOptions { Number = number, ExpMonth = 12, ExpYear = 2030, Cvc = "123" },
    };

    private async Task<Token> TokenizeCardAsync(string number, string reference)
    {
        var request = Requests.Card(number, Requests.NewKey(), reference);
        request.ReturnUrl = ReturnUrl;
        return (await Server.Client.TokenizeCardAsync(request)).Token;
    }

    /// <summary>Opens the token's next-action page, clicks Complete or Fail, and reads the token until its setup settles.</summary>
    private async Task<Token> AuthenticateInBrowserAsync(HeadlessChromium browser, Token token, string button)
    {
        Assert.Equal(SetupStatus.RequiresAction, token.Setup.Status);
        await browser.OpenAsync(new Uri(token.Setup.NextAction.Url));
        Assert.Equal(button, await browser.EvaluateAsync($"document.getElementById('{button}').id"));
        await browser.EvaluateAsync($"document.getElementById('{button}').click()");
        return await WaitForSetupAsync(token.Token_, button == "complete" ? SetupStatus.Ready : SetupStatus.Failed);
    }

    /// <summary>GetToken (which refreshes an unsettled setup from the gateway) until the status is reached; bounded, untimed.</summary>
    private async Task<Token> WaitForSetupAsync(string token, SetupStatus wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var current = (await Server.Client.GetTokenAsync(new GetTokenRequest { Token = token })).Token;
            if (current.Setup.Status == wanted || DateTime.UtcNow > deadline)
            {
                return current;
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The billing service's charge (Stripe API POST /v1/payment_intents, off_session, confirm); a debit's processing read once more.</summary>
    private async Task<PaymentIntent> ChargeAsync(string paymentMethod, string customer, string currency)
    {
        var intent = await Gateway.V1.PaymentIntents.CreateAsync(new PaymentIntentCreateOptions
        {
            Amount = 1099,
            Currency = currency,
            Customer = customer,
            PaymentMethod = paymentMethod,
            OffSession = true,
            Confirm = true,
        });
        return intent.Status == "processing" ? await Gateway.V1.PaymentIntents.GetAsync(intent.Id) : intent;
    }
}

/// <summary>The charge proof on the default SQLite ledger.</summary>
public sealed class ChargeTests(TokenizerServerFixture server) : ChargeTestsBase, IClassFixture<TokenizerServerFixture>
{
    protected override TokenizerServerFixture Server => server;
}

/// <summary>The charge proof on PostgreSQL (the throwaway cluster scripts/test.sh starts; never skipped).</summary>
public sealed class PostgresChargeTests(PostgresServerFixture server) : ChargeTestsBase, IClassFixture<PostgresServerFixture>
{
    protected override TokenizerServerFixture Server => server.Server;
}

/// <summary>The in-process server on a fresh PostgreSQL database of <c>TOKENIZER_TEST_POSTGRES</c>.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private const string Variable = "TOKENIZER_TEST_POSTGRES";
    private readonly string root = Directory.CreateTempSubdirectory("tokenizer-charge-pg-").FullName;
    private TokenizerServerFixture? server;

    public TokenizerServerFixture Server => server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var connection = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrEmpty(connection), $"{Variable} is not set: run scripts/test.sh, which starts a throwaway PostgreSQL cluster");
        var database = "tkz_charge_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = NpgsqlDataSource.Create(connection!))
        {
            await using var create = admin.CreateCommand($"CREATE DATABASE {database}");
            await create.ExecuteNonQueryAsync();
        }

        var (certificate, key) = ReplicaTests.DataProtectionCertificate(root);
        server = new TokenizerServerFixture(
            null,
            "--Ledger:Provider=Postgres",
            $"--ConnectionStrings:Ledger={new NpgsqlConnectionStringBuilder(connection) { Database = database }.ConnectionString}",
            $"--Tokenizer:DataProtection:CertificatePath={certificate}",
            $"--Tokenizer:DataProtection:CertificateKeyPath={key}");
        await server.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        TokenizerServerFixture.TryDelete(root);
    }
}
