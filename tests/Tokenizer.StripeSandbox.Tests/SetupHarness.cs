using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>SetupIntent and PaymentIntent options as the Tokenizer sends them (CONTRACT.md: Stripe wire).</summary>
internal static class SetupHarness
{
    public static SetupIntentCreateOptions Setup(
        string customer, PaymentMethod paymentMethod, SetupIntentMandateDataOptions? mandate = null, string? returnUrl = null) => new()
    {
        Customer = customer,
        PaymentMethod = paymentMethod.Id,
        AllowedPaymentMethodTypes = [paymentMethod.Type],
        Usage = "off_session",
        Confirm = true,
        ReturnUrl = returnUrl,
        MandateData = mandate,
        Metadata = new Dictionary<string, string> { ["tokenizer_intent"] = "intent-1" },
    };

    public static SetupIntentMandateDataOptions Online(DateTime acceptedAt) => new()
    {
        CustomerAcceptance = new SetupIntentMandateDataCustomerAcceptanceOptions
        {
            Type = "online",
            AcceptedAt = acceptedAt,
            Online = new SetupIntentMandateDataCustomerAcceptanceOnlineOptions { IpAddress = "203.0.113.7", UserAgent = "Mozilla/5.0 (sandbox test)" },
        },
    };

    public static SetupIntentMandateDataOptions Offline() => new()
    {
        CustomerAcceptance = new SetupIntentMandateDataCustomerAcceptanceOptions
        {
            Type = "offline",
            Offline = new SetupIntentMandateDataCustomerAcceptanceOfflineOptions(),
        },
    };

    public static PaymentMethodCreateOptions Debit(string type) => type switch
    {
        "sepa_debit" => SandboxHarness.Sepa(),
        "au_becs_debit" => SandboxHarness.AuBecs(),
        "bacs_debit" => SandboxHarness.Bacs(),
        "us_bank_account" => SandboxHarness.UsBank(),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>A PaymentMethod set up through a SetupIntent the way the Tokenizer does it (debits with an online mandate).</summary>
    public static async Task<(Customer Customer, PaymentMethod PaymentMethod, SetupIntent Intent)> SetUpAsync(
        StripeClient client, PaymentMethodCreateOptions create, string? returnUrl = null)
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var paymentMethod = await client.V1.PaymentMethods.CreateAsync(create);
        var mandate = paymentMethod.Type == "card" ? null : Online(DateTime.UtcNow);
        var intent = await client.V1.SetupIntents.CreateAsync(Setup(customer.Id, paymentMethod, mandate, returnUrl));
        return (customer, paymentMethod, intent);
    }
}
