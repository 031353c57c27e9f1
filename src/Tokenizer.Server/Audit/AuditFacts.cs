using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Grpc.Core;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Grpc;

namespace Tokenizer.Server.Audit;

/// <summary>
/// What an audit record says about a request: who (the <see cref="ClaimTypes.NameIdentifier"/> claim of an
/// authenticated user, else <c>unauthenticated</c>, with the presented certificate's SHA-256 thumbprint when there was
/// one), from where (the peer IP), what (the gRPC method), on which resource
/// (a token id, never anything else) and how it ended (a stable reason code).
/// </summary>
internal static class AuditFacts
{
    /// <summary>The caller id of a request without an authenticated user.</summary>
    public const string Anonymous = "unauthenticated";

    /// <summary>The action of a call to a method this server does not serve (the caller-chosen path is not recorded).</summary>
    public const string UnknownMethod = "unknown_method";

    /// <summary>Audit reason of a call whose request message was over the receive limit (gRPC answers RESOURCE_EXHAUSTED).</summary>
    public const string MessageTooLarge = "MESSAGE_TOO_LARGE";

    /// <summary>The caller id of the service's own events (start, stop, configuration).</summary>
    public const string SystemCaller = "system";

    /// <summary>Reason code of a request refused for lack of (valid) credentials.</summary>
    public const string Unauthenticated = "UNAUTHENTICATED";

    /// <summary>Reason code of an authenticated request refused by authorisation.</summary>
    public const string PermissionDenied = "PERMISSION_DENIED";

    /// <summary>The NameIdentifier claim of an authenticated user, else <see cref="Anonymous"/>.</summary>
    public static string CallerId(HttpContext? http) =>
        http?.User is { } user
        && user.Identities.Any(identity => identity.IsAuthenticated)
        && user.FindFirst(ClaimTypes.NameIdentifier)?.Value is { Length: > 0 } id
            ? id
            : Anonymous;

    /// <summary>
    /// The caller id of a refused call: the authenticated caller's id when there is one; else <c>unauthenticated</c>,
    /// followed by <c>;x5t#S256=</c> and the base64url SHA-256 thumbprint of the certificate the peer presented (RFC 8705
    /// form; never its subject or issuer, which the peer chose). Base64url rather than hex: a 64-hex-digit thumbprint
    /// can hold a Luhn-valid digit run that the audit text redaction would then erase.
    /// </summary>
    public static string RefusedCallerId(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var caller = CallerId(http);
        return caller == Anonymous && http.Connection.ClientCertificate is { } certificate
            ? $"{Anonymous};x5t#S256={System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(certificate.RawData))}"
            : caller;
    }

    /// <summary>The peer's IP address (IPv4-mapped IPv6 shown as IPv4), or null when unknown.</summary>
    public static string? SourceAddress(HttpContext? http) =>
        http?.Connection.RemoteIpAddress is { } ip
            ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString()
            : null;

    /// <summary>The request's trace identifier, else the current trace id, else a fresh id.</summary>
    public static string CorrelationId(HttpContext? http) =>
        http?.TraceIdentifier is { Length: > 0 } traceIdentifier
            ? traceIdentifier
            : Activity.Current?.TraceId.ToHexString() ?? Guid.NewGuid().ToString("N");

    /// <summary>A gRPC method path as an action: <c>/tokenizer.v1.TokenizerService/GetToken</c> becomes <c>tokenizer.v1.TokenizerService/GetToken</c>.</summary>
    public static string Action(string? method) => method?.TrimStart('/') is { Length: > 0 } action ? action : "unknown";

    /// <summary>
    /// How a call ended: success without an error; denied for UNAUTHENTICATED and PERMISSION_DENIED; failure otherwise.
    /// The reason is the domain reason the call failed with (<see cref="TokenizerCall.ReasonOf"/>), else the status code
    /// name (e.g. <c>CANCELLED</c>); <c>CANCELLED</c> for a cancellation and the domain reason or <c>INTERNAL_ERROR</c>
    /// for an exception that was never mapped.
    /// </summary>
    public static (AuditOutcome Outcome, string? ReasonCode) Outcome(TokenizerCall call, Exception? error)
    {
        ArgumentNullException.ThrowIfNull(call);
        return error switch
        {
            null => (AuditOutcome.Success, null),
            RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied } rpc => (AuditOutcome.Denied, call.ReasonOf(rpc)),
            RpcException rpc => (AuditOutcome.Failure, call.ReasonOf(rpc)),
            TokenizerException { Kind: ErrorKind.Unauthenticated or ErrorKind.PermissionDenied } domain => (AuditOutcome.Denied, domain.Reason),
            TokenizerException domain => (AuditOutcome.Failure, domain.Reason),
            OperationCanceledException => (AuditOutcome.Failure, StatusName(StatusCode.Cancelled)),
            _ => (AuditOutcome.Failure, ErrorReasons.InternalError),
        };
    }

    /// <summary>The canonical gRPC name of a status code, e.g. <c>DEADLINE_EXCEEDED</c>.</summary>
    public static string StatusName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => PermissionDenied,
        StatusCode.Unauthenticated => Unauthenticated,
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        _ => "UNKNOWN",
    };
}
