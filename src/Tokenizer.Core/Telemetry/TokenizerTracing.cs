using System.Collections.Frozen;
using System.Diagnostics;
using System.Reflection;
using Tokenizer.Core.Errors;

namespace Tokenizer.Core.Telemetry;

/// <summary>
/// The service's traces: one <see cref="ActivitySource"/> per area and the fixed vocabulary of span names, attribute
/// keys and values they may carry. Spans exist only while a tracer provider listens (the server adds one when OTLP
/// export is configured); otherwise <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and
/// costs next to nothing.
/// </summary>
/// <remarks>
/// Attributes carry fixed vocabularies only: RPC names from the policy table, gRPC status codes, stable error reasons
/// (<see cref="ErrorReasons"/>), Stripe API path templates (<c>/v1/payment_methods/{id}/attach</c>, never the id),
/// HTTP methods and status codes, ledger operation names (the calling method's name), webhook event types from the
/// handled list, exception type names. Never a token, a gateway object id, a customer reference, an idempotency key,
/// a caller id, an address, an exception message or any other input; a status description is never set.
/// </remarks>
public static class TokenizerTracing
{
    /// <summary>Source of the gRPC server spans (one per call) and webhook event spans.</summary>
    public const string ServerSourceName = "Tokenizer.Server";

    /// <summary>Source of the gateway request spans (one per HTTP request to Stripe, retries as events).</summary>
    public const string GatewaySourceName = "Tokenizer.Gateways.Stripe";

    /// <summary>Source of the ledger spans (one per transaction or read).</summary>
    public const string LedgerSourceName = "Tokenizer.Ledger";

    /// <summary>The value for anything outside a vocabulary.</summary>
    public const string Other = "other";

    /// <summary>Attribute: the stable error reason (an <see cref="ErrorReasons"/> value or a gRPC status name).</summary>
    public const string ErrorReasonKey = "tokenizer.error.reason";

    /// <summary>Attribute (semantic conventions): the error's class, an exception type name or a status code.</summary>
    public const string ErrorTypeKey = "error.type";

    /// <summary>Every source the server exports, and only these.</summary>
    public static IReadOnlyList<string> SourceNames { get; } = [ServerSourceName, GatewaySourceName, LedgerSourceName];

    /// <summary>The gRPC server and webhook spans' source.</summary>
    public static ActivitySource Server { get; } = new(ServerSourceName);

    /// <summary>The gateway request spans' source.</summary>
    public static ActivitySource Gateway { get; } = new(GatewaySourceName);

    /// <summary>The ledger spans' source.</summary>
    public static ActivitySource Ledger { get; } = new(LedgerSourceName);

    private static readonly FrozenSet<string> KnownReasons = typeof(ErrorReasons)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly FrozenSet<string> StatusNames = new[]
    {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// <paramref name="reason"/> when it is a stable error reason (<see cref="ErrorReasons"/>) or a canonical gRPC status
    /// name, else <see cref="Other"/>: a reason is exported only from the vocabulary, never as given.
    /// </summary>
    public static string Reason(string? reason) =>
        reason is not null && (KnownReasons.Contains(reason) || StatusNames.Contains(reason)) ? reason : Other;

    /// <summary>
    /// An identifier taken from code (a method or type name): kept when it is a plain identifier of at most 64 letters,
    /// digits and underscores, else <see cref="Other"/>.
    /// </summary>
    public static string CodeName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? name : Other;

    /// <summary>The <see cref="ErrorTypeKey"/> of an exception: its type name (a code name, never its message).</summary>
    public static string ErrorType(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return CodeName(error.GetType().Name);
    }

    /// <summary>
    /// Marks <paramref name="activity"/> failed: status Error without a description, <see cref="ErrorTypeKey"/> and, for
    /// a domain error, its <see cref="ErrorReasonKey"/>. Never records the exception itself (its message may hold input).
    /// </summary>
    public static void RecordError(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(error);
        activity.SetStatus(ActivityStatusCode.Error);
        activity.SetTag(ErrorTypeKey, ErrorType(error));
        if (error is TokenizerException domain)
        {
            activity.SetTag(ErrorReasonKey, Reason(domain.Reason));
        }
    }
}
