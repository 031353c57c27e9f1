using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Records invalid access attempts (PCI DSS 10.2.1.4) before the authorization middleware answers them: a challenge
/// (no or invalid credentials) as outcome denied, reason <c>UNAUTHENTICATED</c>; a forbid (authenticated but not
/// allowed) as denied, <c>PERMISSION_DENIED</c>. gRPC methods then get a gRPC status (UNAUTHENTICATED 16,
/// PERMISSION_DENIED 7) with a clear message; anything else gets the framework's default answer.
/// </summary>
/// <remarks>
/// The action is the gRPC method path without its leading slash (from the endpoint's <see cref="GrpcMethodMetadata"/>),
/// or <c>authorization</c> for any other endpoint (the URL path is caller-controlled and is not recorded). The request
/// body is not read, so no resource is recorded. If the record cannot be written the request is still refused and a
/// Critical event is logged: the refusal is the safe answer either way.
/// </remarks>
internal sealed class AuditingAuthorizationResultHandler(
    IAuditTrail trail,
    TimeProvider timeProvider,
    ILogger<AuditingAuthorizationResultHandler> logger) : IAuthorizationMiddlewareResultHandler
{
    /// <summary>The action of a denial on an endpoint that is not a gRPC method.</summary>
    public const string NonGrpcAction = "authorization";

    private readonly AuthorizationMiddlewareResultHandler defaultHandler = new();

    public async Task HandleAsync(
        RequestDelegate next,
        HttpContext context,
        AuthorizationPolicy policy,
        PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName;
        if (authorizeResult.Challenged || authorizeResult.Forbidden)
        {
            var auditEvent = new AuditEvent(
                timeProvider.GetUtcNow(),
                AuditFacts.CallerId(context),
                AuditFacts.SourceAddress(context),
                method is null ? NonGrpcAction : AuditFacts.Action(method),
                null,
                AuditOutcome.Denied,
                authorizeResult.Challenged ? AuditFacts.Unauthenticated : AuditFacts.PermissionDenied,
                AuditFacts.CorrelationId(context));
            try
            {
                await trail.AppendAsync(auditEvent, CancellationToken.None);
            }
            catch (Exception failure)
            {
                var exceptionType = AuditLog.Describe(failure);
                AuditLog.DenialNotRecorded(logger, auditEvent.Action, exceptionType);
            }
        }

        if (method is not null && (authorizeResult.Challenged || authorizeResult.Forbidden))
        {
            // Answer in gRPC's own terms (a trailers-only response) so callers read a clear status and message rather
            // than "Bad gRPC response. HTTP status code: 401/403".
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = authorizeResult.Challenged ? "16" : "7";
            response.Headers["grpc-message"] = authorizeResult.Challenged
                ? "a TLS client certificate mapped to a caller is required"
                : "the caller's roles do not allow this method";
            return;
        }

        await defaultHandler.HandleAsync(next, context, policy, authorizeResult);
    }
}
