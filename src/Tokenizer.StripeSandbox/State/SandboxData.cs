using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Events;

namespace Tokenizer.StripeSandbox.State;

/// <summary>
/// A PaymentMethod as the sandbox keeps it: what Stripe shows (<see cref="View"/>) plus the test-card behaviour
/// (<see cref="DeclineCode"/>) and whether it was detached. No PAN, CVC, account number or IBAN.
/// </summary>
/// <param name="View">What Stripe shows.</param>
/// <param name="Sequence">Creation order, for list cursors.</param>
/// <param name="DeclineCode">The decline a test card raises at attach or setup, or null.</param>
/// <param name="Detached">Detached (or consumed by a one-off charge): cannot be attached or used again.</param>
/// <param name="Authentication">What 3-D Secure the test card asks for (<see cref="Cards.CardAuthentication"/>).</param>
/// <param name="ChargeFailure">The failure code a charge on this test card or account ends with, or null.</param>
/// <param name="SetUp">Set up for future use through a SetupIntent (authenticated where the card asked for it).</param>
/// <param name="MandateId">The mandate its setup created (debits), or null.</param>
internal sealed record StoredPaymentMethod(
    PaymentMethodObject View,
    long Sequence,
    string? DeclineCode,
    bool Detached,
    Cards.CardAuthentication Authentication = Cards.CardAuthentication.None,
    string? ChargeFailure = null,
    bool SetUp = false,
    string? MandateId = null);

/// <summary>
/// A SetupIntent as the sandbox keeps it: what Stripe shows, when a processing setup (Bacs) completes, and how many
/// microdeposit verification attempts are left (ACH: amounts and descriptor codes are counted apart).
/// </summary>
internal sealed record StoredSetupIntent(
    SetupIntentObject View, long? CompletesAt = null, int AmountAttemptsLeft = 0, int CodeAttemptsLeft = 0, long Sequence = 0);

/// <summary>A Mandate as Stripe shows it (its customer acceptance holds personal data: IP address and user agent) and its SetupIntent.</summary>
internal sealed record StoredMandate(MandateObject View, string SetupIntentId);

/// <summary>A PaymentIntent as the sandbox keeps it, and when a processing debit settles.</summary>
internal sealed record StoredPaymentIntent(PaymentIntentObject View, long? SettlesAt = null, string? FailureCode = null);

/// <summary>
/// A completed idempotent request: the HMAC of its method, path and parameters, and the response it got (status and
/// body, which hold only what Stripe shows). Keyed by the HMAC of the API key and the Idempotency-Key.
/// </summary>
internal sealed record IdempotencyRecord(string Id, string RequestHash, int Status, string Body, string RequestId, long Created);

/// <summary>The <c>state.json</c> document.</summary>
internal sealed record StateFile(
    int Version,
    long Sequence,
    IReadOnlyList<CustomerObject> Customers,
    IReadOnlyList<StoredPaymentMethod> PaymentMethods,
    IReadOnlyList<IdempotencyRecord> IdempotencyRecords,
    IReadOnlyList<StoredSetupIntent>? SetupIntents = null,
    IReadOnlyList<StoredMandate>? Mandates = null,
    IReadOnlyList<StoredPaymentIntent>? PaymentIntents = null,
    IReadOnlyList<StoredEvent>? Events = null,
    IReadOnlyList<Webhooks.WebhookEndpointObject>? WebhookEndpoints = null,
    IReadOnlyList<string>? DeletedCustomers = null);

/// <summary>The sandbox's gateway state, only ever touched under <see cref="SandboxStore"/>'s lock.</summary>
internal sealed class SandboxData
{
    public SandboxData()
    {
        Customers = new TrackedMap<CustomerObject>(EventRules.CustomerKind, Journal);
        PaymentMethods = new TrackedMap<StoredPaymentMethod>(EventRules.PaymentMethodKind, Journal);
        SetupIntents = new TrackedMap<StoredSetupIntent>(EventRules.SetupIntentKind, Journal);
        Mandates = new TrackedMap<StoredMandate>(EventRules.MandateKind, Journal);
    }

    /// <summary>The changes of the write in progress (see <see cref="SandboxStore.Write{T}"/>).</summary>
    public StateJournal Journal { get; } = new();

    public TrackedMap<CustomerObject> Customers { get; }

    public TrackedMap<StoredPaymentMethod> PaymentMethods { get; }

    public Dictionary<string, IdempotencyRecord> IdempotencyRecords { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The ids of deleted Customers: Stripe still answers <c>GET /v1/customers/{id}</c> for one, with
    /// <c>{"id", "object": "customer", "deleted": true}</c>, and nothing else of it.
    /// </summary>
    public HashSet<string> DeletedCustomers { get; } = new(StringComparer.Ordinal);

    public TrackedMap<StoredSetupIntent> SetupIntents { get; }

    public TrackedMap<StoredMandate> Mandates { get; }

    public Dictionary<string, StoredPaymentIntent> PaymentIntents { get; } = new(StringComparer.Ordinal);

    /// <summary>Webhook endpoints registered through <c>POST /v1/webhook_endpoints</c>, with their secrets.</summary>
    public Dictionary<string, Webhooks.WebhookEndpointObject> WebhookEndpoints { get; } = new(StringComparer.Ordinal);

    /// <summary>The Stripe Events kept (the latest <see cref="EventLog.MaxEvents"/>, at most 30 days old).</summary>
    public EventLog EventLog { get; } = new();

    public long Sequence { get; set; }

    public long NextSequence() => ++Sequence;
}
