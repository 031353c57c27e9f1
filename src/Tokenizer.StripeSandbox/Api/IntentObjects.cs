using System.Text.Json.Serialization;

namespace Tokenizer.StripeSandbox.Api;

// The JSON shapes of Stripe's SetupIntent, Mandate and PaymentIntent objects (docs.stripe.com/api/setup_intents/object,
// /api/mandates/object, /api/payment_intents/object), in Stripe's field order and snake_case. Fields the sandbox never
// sets are written as null, as Stripe writes them, so Stripe.net deserializes them into Stripe.SetupIntent,
// Stripe.Mandate and Stripe.PaymentIntent.

/// <summary>Stripe API SetupIntent object (<c>POST /v1/setup_intents</c>, <c>GET /v1/setup_intents/{id}</c>).</summary>
internal sealed record SetupIntentObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "setup_intent";

    /// <summary>The <c>allowed_payment_method_types</c> sent (API 2026-10-28.endive), or null.</summary>
    public IReadOnlyList<string>? AllowedPaymentMethodTypes { get; init; }

    public string? Application { get; init; }

    public string? CancellationReason { get; init; }

    /// <summary><c>seti_..._secret_...</c>: lets a browser complete the setup with Stripe.js (the sandbox's pages take the id).</summary>
    public required string ClientSecret { get; init; }

    public required long Created { get; init; }

    public string? Customer { get; init; }

    public string? Description { get; init; }

    public IntentErrorObject? LastSetupError { get; init; }

    public string? LatestAttempt { get; init; }

    public bool Livemode { get; init; }

    /// <summary>The <c>mandate_</c> id created for a debit setup, or null.</summary>
    public string? Mandate { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public NextActionObject? NextAction { get; init; }

    public string? OnBehalfOf { get; init; }

    public string? PaymentMethod { get; init; }

    public required IReadOnlyList<string> PaymentMethodTypes { get; init; }

    public string? SingleUseMandate { get; init; }

    /// <summary>requires_payment_method, requires_confirmation, requires_action, processing, canceled or succeeded.</summary>
    public required string Status { get; init; }

    /// <summary>off_session (default) or on_session.</summary>
    public required string Usage { get; init; }
}

/// <summary>Stripe <c>next_action</c> of a SetupIntent or PaymentIntent.</summary>
internal sealed record NextActionObject
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RedirectToUrlObject? RedirectToUrl { get; init; }

    /// <summary>redirect_to_url, use_stripe_sdk or verify_with_microdeposits.</summary>
    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public UseStripeSdkObject? UseStripeSdk { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VerifyWithMicrodepositsObject? VerifyWithMicrodeposits { get; init; }
}

/// <summary>Stripe <c>next_action.redirect_to_url</c>: where to send the customer, and where they come back.</summary>
internal sealed record RedirectToUrlObject(string? ReturnUrl, string Url);

/// <summary>
/// Stripe <c>next_action.use_stripe_sdk</c> (an opaque hash for Stripe.js, used when no <c>return_url</c> was given): the
/// sandbox puts its own authentication page in <c>stripe_js</c>, as Stripe puts its hosted 3-D Secure page there.
/// </summary>
internal sealed record UseStripeSdkObject(string Type, string StripeJs);

/// <summary>Stripe <c>next_action.verify_with_microdeposits</c>.</summary>
internal sealed record VerifyWithMicrodepositsObject(long ArrivalDate, string HostedVerificationUrl, string MicrodepositType);

/// <summary>
/// Stripe's <c>last_setup_error</c> / <c>last_payment_error</c>, and the <c>error</c> member of an error answer that carries
/// the intent it happened on. Messages are fixed texts: never a request value.
/// </summary>
internal sealed record IntentErrorObject
{
    public string? Code { get; init; }

    public string? DeclineCode { get; init; }

    public string? DocUrl { get; init; }

    public required string Message { get; init; }

    public string? Param { get; init; }

    public PaymentMethodObject? PaymentMethod { get; init; }

    public required string Type { get; init; }
}

/// <summary>Stripe API Mandate object (<c>GET /v1/mandates/{id}</c>).</summary>
internal sealed record MandateObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "mandate";

    public required CustomerAcceptanceObject CustomerAcceptance { get; init; }

    public bool Livemode { get; init; }

    public MultiUseObject MultiUse { get; init; } = new();

    public string? OnBehalfOf { get; init; }

    public required string PaymentMethod { get; init; }

    public required MandatePaymentMethodDetailsObject PaymentMethodDetails { get; init; }

    /// <summary>active, inactive or pending.</summary>
    public required string Status { get; init; }

    public string Type { get; init; } = "multi_use";
}

/// <summary>Stripe <c>mandate.multi_use</c> (an empty hash).</summary>
internal sealed record MultiUseObject;

/// <summary>Stripe <c>mandate.customer_acceptance</c>: how and when the customer accepted; online holds personal data (IP, user agent).</summary>
internal sealed record CustomerAcceptanceObject
{
    public long? AcceptedAt { get; init; }

    public OfflineAcceptanceObject? Offline { get; init; }

    public OnlineAcceptanceObject? Online { get; init; }

    /// <summary>online or offline.</summary>
    public required string Type { get; init; }
}

/// <summary>Stripe <c>customer_acceptance.offline</c> (an empty hash).</summary>
internal sealed record OfflineAcceptanceObject;

/// <summary>Stripe <c>customer_acceptance.online</c>.</summary>
internal sealed record OnlineAcceptanceObject(string IpAddress, string UserAgent);

/// <summary>Stripe <c>mandate.payment_method_details</c>: the type and that type's hash.</summary>
internal sealed record MandatePaymentMethodDetailsObject
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MandateDebitDetailsObject? AuBecsDebit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MandateDebitDetailsObject? BacsDebit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MandateDebitDetailsObject? SepaDebit { get; init; }

    public required string Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MandateUsBankAccountObject? UsBankAccount { get; init; }
}

/// <summary>
/// Stripe <c>payment_method_details.sepa_debit</c> / <c>bacs_debit</c> / <c>au_becs_debit</c>: the mandate reference and
/// the URL of the mandate document (Bacs also its <c>network_status</c>). Members a type does not have are left out.
/// </summary>
internal sealed record MandateDebitDetailsObject
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? NetworkStatus { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reference { get; init; }

    public required string Url { get; init; }
}

/// <summary>Stripe <c>payment_method_details.us_bank_account</c>.</summary>
internal sealed record MandateUsBankAccountObject
{
    public string? CollectionMethod { get; init; }
}

/// <summary>Stripe API PaymentIntent object (<c>POST /v1/payment_intents</c>, <c>GET /v1/payment_intents/{id}</c>).</summary>
internal sealed record PaymentIntentObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "payment_intent";

    public required long Amount { get; init; }

    public long AmountCapturable { get; init; }

    public long AmountReceived { get; init; }

    public string? Application { get; init; }

    public string? CancellationReason { get; init; }

    public string CaptureMethod { get; init; } = "automatic_async";

    public required string ClientSecret { get; init; }

    public string ConfirmationMethod { get; init; } = "automatic";

    public required long Created { get; init; }

    public required string Currency { get; init; }

    public string? Customer { get; init; }

    public string? Description { get; init; }

    public IntentErrorObject? LastPaymentError { get; init; }

    public string? LatestCharge { get; init; }

    public bool Livemode { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    public NextActionObject? NextAction { get; init; }

    public string? OnBehalfOf { get; init; }

    public string? PaymentMethod { get; init; }

    public required IReadOnlyList<string> PaymentMethodTypes { get; init; }

    public string? SetupFutureUsage { get; init; }

    /// <summary>requires_payment_method, requires_confirmation, requires_action, processing, canceled or succeeded.</summary>
    public required string Status { get; init; }
}
