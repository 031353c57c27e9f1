using System.Text.Json.Serialization;

namespace Tokenizer.StripeSandbox.Api;

// The JSON shapes of the Stripe API objects the sandbox serves, in Stripe's field order and snake_case
// (see SandboxJson). Fields the sandbox never sets are written as null, as Stripe writes them, so that
// Stripe.net deserializes them into Stripe.PaymentMethod, Stripe.Customer, Stripe.StripeList<T> and Stripe.StripeError.

/// <summary>Stripe API PaymentMethod object (<c>POST /v1/payment_methods</c>, <c>GET /v1/payment_methods/{id}</c>).</summary>
internal sealed record PaymentMethodObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "payment_method";

    public string AllowRedisplay { get; init; } = "unspecified";

    public required BillingDetailsObject BillingDetails { get; init; }

    public required long Created { get; init; }

    /// <summary>The <c>cus_</c> id this PaymentMethod is attached to, or null.</summary>
    public string? Customer { get; init; }

    public bool Livemode { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CardObject? Card { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AuBecsDebitObject? AuBecsDebit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SepaDebitObject? SepaDebit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BacsDebitObject? BacsDebit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public UsBankAccountObject? UsBankAccount { get; init; }
}

/// <summary>Stripe <c>billing_details</c>: personal data the caller sent, returned as sent.</summary>
internal sealed record BillingDetailsObject
{
    public required AddressObject Address { get; init; }

    public string? Email { get; init; }

    public string? Name { get; init; }

    public string? Phone { get; init; }

    public string? TaxId { get; init; }
}

/// <summary>Stripe <c>address</c> (all fields nullable).</summary>
internal sealed record AddressObject
{
    public string? City { get; init; }

    public string? Country { get; init; }

    public string? Line1 { get; init; }

    public string? Line2 { get; init; }

    public string? PostalCode { get; init; }

    public string? State { get; init; }
}

/// <summary>Stripe <c>payment_method.card</c>: brand, last4, expiry, funding, country, fingerprint; never the number or CVC.</summary>
internal sealed record CardObject
{
    public required string Brand { get; init; }

    public required CardChecksObject Checks { get; init; }

    public required string Country { get; init; }

    public required string DisplayBrand { get; init; }

    public required int ExpMonth { get; init; }

    public required int ExpYear { get; init; }

    public required string Fingerprint { get; init; }

    public required string Funding { get; init; }

    public string? GeneratedFrom { get; init; }

    public required string Last4 { get; init; }

    public required CardNetworksObject Networks { get; init; }

    public string RegulatedStatus { get; init; } = "unregulated";

    public CardThreeDSecureUsageObject ThreeDSecureUsage { get; init; } = new();

    public string? Wallet { get; init; }
}

/// <summary>Stripe <c>card.checks</c>: the sandbox checks nothing, like Stripe before the first charge.</summary>
internal sealed record CardChecksObject
{
    public string? AddressLine1Check { get; init; }

    public string? AddressPostalCodeCheck { get; init; }

    public string? CvcCheck { get; init; }
}

/// <summary>Stripe <c>card.networks</c>.</summary>
internal sealed record CardNetworksObject
{
    public required IReadOnlyList<string> Available { get; init; }

    public string? Preferred { get; init; }
}

/// <summary>Stripe <c>card.three_d_secure_usage</c>.</summary>
internal sealed record CardThreeDSecureUsageObject
{
    public bool Supported { get; init; } = true;
}

/// <summary>Stripe <c>payment_method.au_becs_debit</c>.</summary>
internal sealed record AuBecsDebitObject
{
    public required string BsbNumber { get; init; }

    public required string Fingerprint { get; init; }

    public required string Last4 { get; init; }
}

/// <summary>Stripe <c>payment_method.sepa_debit</c>; never the IBAN.</summary>
internal sealed record SepaDebitObject
{
    public required string BankCode { get; init; }

    public required string BranchCode { get; init; }

    public required string Country { get; init; }

    public required string Fingerprint { get; init; }

    public string? GeneratedFrom { get; init; }

    public required string Last4 { get; init; }
}

/// <summary>Stripe <c>payment_method.bacs_debit</c>.</summary>
internal sealed record BacsDebitObject
{
    public required string Fingerprint { get; init; }

    public required string Last4 { get; init; }

    public required string SortCode { get; init; }
}

/// <summary>Stripe <c>payment_method.us_bank_account</c>.</summary>
internal sealed record UsBankAccountObject
{
    public string? AccountHolderType { get; init; }

    public required string AccountType { get; init; }

    public string BankName { get; init; } = "STRIPE TEST BANK";

    public string? FinancialConnectionsAccount { get; init; }

    public required string Fingerprint { get; init; }

    public required string Last4 { get; init; }

    public UsBankAccountNetworksObject Networks { get; init; } = new();

    public required string RoutingNumber { get; init; }

    public string? StatusDetails { get; init; }
}

/// <summary>Stripe <c>us_bank_account.networks</c>.</summary>
internal sealed record UsBankAccountNetworksObject
{
    public string Preferred { get; init; } = "ach";

    public IReadOnlyList<string> Supported { get; init; } = ["ach"];
}

/// <summary>Stripe API Customer object (<c>POST /v1/customers</c>, <c>GET /v1/customers/{id}</c>).</summary>
internal sealed record CustomerObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "customer";

    public string? Address { get; init; }

    public long Balance { get; init; }

    public required long Created { get; init; }

    public string? Currency { get; init; }

    public string? DefaultSource { get; init; }

    public bool Delinquent { get; init; }

    public string? Description { get; init; }

    public string? Discount { get; init; }

    public string? Email { get; init; }

    public required string InvoicePrefix { get; init; }

    public CustomerInvoiceSettingsObject InvoiceSettings { get; init; } = new();

    public bool Livemode { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public string? Name { get; init; }

    public long NextInvoiceSequence { get; init; } = 1;

    public string? Phone { get; init; }

    public IReadOnlyList<string> PreferredLocales { get; init; } = [];

    public string? Shipping { get; init; }

    public string TaxExempt { get; init; } = "none";

    public string? TestClock { get; init; }
}

/// <summary>Stripe <c>customer.invoice_settings</c>.</summary>
internal sealed record CustomerInvoiceSettingsObject
{
    public string? CustomFields { get; init; }

    public string? DefaultPaymentMethod { get; init; }

    public string? Footer { get; init; }

    public string? RenderingOptions { get; init; }
}

/// <summary>Stripe list object: <c>{"object":"list","data":[...],"has_more":bool,"url":"/v1/..."}</c>.</summary>
internal sealed record ListObject<T>(IReadOnlyList<T> Data, bool HasMore, string Url)
{
    public string Object { get; init; } = "list";
}

/// <summary>Stripe error body: <c>{"error":{"type","code","decline_code","param","message","doc_url"}}</c>.</summary>
internal sealed record ErrorBody(ErrorObject Error);

/// <summary>The <c>error</c> member of a Stripe error body. Messages are fixed texts: never a request value.</summary>
internal sealed record ErrorObject
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Code { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeclineCode { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DocUrl { get; init; }

    public required string Message { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Param { get; init; }

    /// <summary>The PaymentIntent a failed confirmation left behind (Stripe: <c>error.payment_intent</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PaymentIntentObject? PaymentIntent { get; init; }

    /// <summary>The PaymentMethod a failed confirmation used (Stripe: <c>error.payment_method</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PaymentMethodObject? PaymentMethod { get; init; }

    /// <summary>The SetupIntent a failed confirmation left behind (Stripe: <c>error.setup_intent</c>).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SetupIntentObject? SetupIntent { get; init; }

    public required string Type { get; init; }
}

/// <summary>Sandbox-only <c>GET /_sandbox/stats</c>: <c>{"payment_methods":n,"customers":n,"attached":n}</c>.</summary>
internal sealed record StatsObject(int PaymentMethods, int Customers, int Attached);

/// <summary>Stripe's answer to a DELETE: <c>{"id": ..., "object": ..., "deleted": true}</c>.</summary>
internal sealed record DeletedObject(string Id, string Object, bool Deleted);
