using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Records invalid access attempts (PCI DSS 10.2.1.4) before the authorization middleware answers them: a challenge
/// (no or invalid credentials) as outcome denied, reason <c>UNAUTHENTICATED</c>; a forbid (authenticated but not
/// allowed) as denied, <c>PERMISSION_DENIED</c>. Then the framework's default handler answers as usual.
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
        if (authorizeResult.Challenged || authorizeResult.Forbidden)
        {
            var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName;
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

        await defaultHandler.HandleAsync(next, context, policy, authorizeResult);
    }
}
