using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Audit;

/// <summary>
/// The outermost step of the request pipeline: every request the <see cref="AuditInterceptor"/> did not record (it never
/// reached a handler) is recorded here, through <see cref="RefusedCallAudit"/>. So each call has exactly one record:
/// the interceptor's (one per call, written before the answer, fail-closed) or this one (aggregated per second).
/// </summary>
/// <remarks>
/// <para>
/// Recorded here: calls refused by the rate limiter (reason <see cref="ErrorReasons.RateLimited"/>), by authentication
/// or authorisation (denied, <c>UNAUTHENTICATED</c> / <c>PERMISSION_DENIED</c>, set by
/// <see cref="AuditingAuthorizationResultHandler"/>), messages over the receive limit
/// (<see cref="AuditFacts.MessageTooLarge"/>), unknown methods (action <see cref="AuditFacts.UnknownMethod"/>, the path
/// itself is caller-chosen and never recorded) and any other request gRPC answered before the interceptors (reason: the
/// gRPC status name, or <c>HTTP_nnn</c> without one).
/// </para>
/// <para>
/// The anonymous health probes (<see cref="RpcPolicies.Anonymous"/>) are not recorded, as in the interceptor.
/// </para>
/// </remarks>
internal sealed class CallAuditMiddleware(RequestDelegate next, RefusedCallAudit refused)
{
    private const string RecordedItem = "tokenizer.audit.recorded";
    private const string RefusalItem = "tokenizer.audit.refusal";

    /// <summary>The interceptor took the call: it writes the record, this middleware does not.</summary>
    public static void MarkRecorded(HttpContext? http)
    {
        if (http is not null)
        {
            http.Items[RecordedItem] = true;
        }
    }

    /// <summary>A step before the handler refused the call for <paramref name="reason"/>.</summary>
    public static void MarkRefused(HttpContext http, AuditOutcome outcome, string reason)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Items[RefusalItem] = (outcome, reason);
    }

    /// <summary>The refusal a step before the handler marked, or null.</summary>
    public static (AuditOutcome Outcome, string Reason)? RefusalOf(HttpContext http) =>
        http?.Items.TryGetValue(RefusalItem, out var refusal) == true && refusal is (AuditOutcome outcome, string reason) ? (outcome, reason) : null;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await next(context);
        }
        catch (Exception)
        {
            Record(context, failed: true);
            throw;
        }

        Record(context, failed: false);
    }

    private void Record(HttpContext context, bool failed)
    {
        if (context.Items.ContainsKey(RecordedItem))
        {
            return;
        }

        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName;
        if (RpcPolicies.IsAnonymous(method))
        {
            return;
        }

        var (outcome, reason) = context.Items.TryGetValue(RefusalItem, out var refusal) && refusal is (AuditOutcome o, string r)
            ? (o, (string?)r)
            : FromResponse(context, method is not null, failed);
        refused.Add(
            AuditFacts.RefusedCallerId(context),
            AuditFacts.SourceAddress(context),
            method is null ? AuditFacts.UnknownMethod : AuditFacts.Action(method),
            outcome,
            reason);
    }

    /// <summary>How gRPC (or Kestrel) answered a call no interceptor saw.</summary>
    private static (AuditOutcome Outcome, string? Reason) FromResponse(HttpContext context, bool knownMethod, bool failed)
    {
        if (failed)
        {
            return (AuditOutcome.Failure, ErrorReasons.InternalError);
        }

        var grpcStatus = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"] is { Count: > 0 } trailer
            ? trailer.ToString()
            : context.Response.Headers["grpc-status"].ToString();
        if (!int.TryParse(grpcStatus, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code))
        {
            return (AuditOutcome.Failure, "HTTP_" + context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var status = (StatusCode)code;
        return status switch
        {
            StatusCode.OK => (AuditOutcome.Success, null),
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => (AuditOutcome.Denied, AuditFacts.StatusName(status)),
            // Before any interceptor, gRPC answers RESOURCE_EXHAUSTED only for a message over the receive limit (the
            // rate limiter marks its own refusals).
            StatusCode.ResourceExhausted when knownMethod => (AuditOutcome.Failure, AuditFacts.MessageTooLarge),
            _ => (AuditOutcome.Failure, AuditFacts.StatusName(status)),
        };
    }
}
