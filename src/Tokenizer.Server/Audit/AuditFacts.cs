using System.Diagnostics;
using System.Security.Claims;
using System.Security.Cryptography;
using Google.Rpc;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Validation;

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

    /// <summary>The HttpContext item that carries a privacy call's subject pseudonym to its audit record.</summary>
    private const string SubjectItem = "tokenizer.audit.subject";

    /// <summary>
    /// Privacy calls: the keyed pseudonym of the call's subject becomes the record's resource (never the reference in
    /// clear). Null (an invalid reference) sets nothing.
    /// </summary>
    public static void SetSubject(ServerCallContext context, string? subjectPseudonym)
    {
        if (subjectPseudonym is not null && HttpContextOf(context) is { } http)
        {
            http.Items[SubjectItem] = subjectPseudonym;
        }
    }

    /// <summary>The subject pseudonym a privacy call set, or null.</summary>
    public static string? Subject(HttpContext? http) =>
        http?.Items.TryGetValue(SubjectItem, out var value) == true && value is string subject ? subject : null;

    /// <summary>The HttpContext behind a gRPC call, or null when the call is not hosted by ASP.NET Core.</summary>
    public static HttpContext? HttpContextOf(ServerCallContext context)
    {
        try
        {
            return context.GetHttpContext();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

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
    /// The token id (or reconciliation run id) a call acted on: from the response when it carries one (it came from the
    /// ledger), else from a GetToken, RevokeToken, GetReconciliation or ListReconciliationItems request, but only when
    /// it is shaped like a token id and holds no card number (callers control request fields: a PAN pasted there must
    /// not come to rest in the trail). Null otherwise.
    /// </summary>
    public static string? Resource(object? request, object? response)
    {
        var token = response switch
        {
            TokenizeCardResponse { Token: { } t } => t.Token_,
            TokenizeBankAccountResponse { Token: { } t } => t.Token_,
            GetTokenResponse { Token: { } t } => t.Token_,
            RevokeTokenResponse { Token: { } t } => t.Token_,
            StartReconciliationResponse r => r.RunId,
            _ => request switch
            {
                GetTokenRequest r => r.Token,
                RevokeTokenRequest r => r.Token,
                GetReconciliationRequest r => r.RunId,
                ListReconciliationItemsRequest r => r.RunId,
                _ => null,
            },
        };
        return InputRules.IsValidTokenId(token) ? token : null;
    }

    /// <summary>
    /// How a call ended: success without an error; denied for UNAUTHENTICATED and PERMISSION_DENIED; failure otherwise.
    /// The reason is the google.rpc.ErrorInfo reason of an RpcException (set by ErrorMappingInterceptor), else its
    /// status code name (e.g. <c>CANCELLED</c>); <c>CANCELLED</c> for a cancellation and the domain reason or
    /// <c>INTERNAL_ERROR</c> for an exception that was never mapped.
    /// </summary>
    public static (AuditOutcome Outcome, string? ReasonCode) Outcome(Exception? error) => error switch
    {
        null => (AuditOutcome.Success, null),
        RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied } rpc => (AuditOutcome.Denied, ReasonCode(rpc)),
        RpcException rpc => (AuditOutcome.Failure, ReasonCode(rpc)),
        TokenizerException { Kind: ErrorKind.Unauthenticated or ErrorKind.PermissionDenied } domain => (AuditOutcome.Denied, domain.Reason),
        TokenizerException domain => (AuditOutcome.Failure, domain.Reason),
        OperationCanceledException => (AuditOutcome.Failure, StatusName(StatusCode.Cancelled)),
        _ => (AuditOutcome.Failure, ErrorReasons.InternalError),
    };

    /// <summary>The ErrorInfo reason in the status details, else the status code name.</summary>
    public static string ReasonCode(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var info = error.GetRpcStatus()?.GetDetail<ErrorInfo>();
        return info?.Reason is { Length: > 0 } reason ? reason : StatusName(error.StatusCode);
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
