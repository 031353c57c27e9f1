using Tokenizer.StripeSandbox.Api;

namespace Tokenizer.StripeSandbox.State;

/// <summary>
/// A PaymentMethod as the sandbox keeps it: what Stripe shows (<see cref="View"/>) plus the test-card behaviour
/// (<see cref="DeclineCode"/>) and whether it was detached. No PAN, CVC, account number or IBAN.
/// </summary>
internal sealed record StoredPaymentMethod(PaymentMethodObject View, long Sequence, string? DeclineCode, bool Detached);

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
    IReadOnlyList<IdempotencyRecord> IdempotencyRecords);

/// <summary>The sandbox's gateway state, only ever touched under <see cref="SandboxStore"/>'s lock.</summary>
internal sealed class SandboxData
{
    public Dictionary<string, CustomerObject> Customers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, StoredPaymentMethod> PaymentMethods { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, IdempotencyRecord> IdempotencyRecords { get; } = new(StringComparer.Ordinal);

    public long Sequence { get; set; }

    public long NextSequence() => ++Sequence;
}
