using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Marks invalid access attempts (PCI DSS 10.2.1.4) for the audit before the authorization middleware answers them: a
/// challenge (no or invalid credentials) as outcome denied, reason <c>UNAUTHENTICATED</c>; a forbid (authenticated but
/// not allowed) as denied, <c>PERMISSION_DENIED</c>. <see cref="CallAuditMiddleware"/> writes the record (aggregated
/// per second by <see cref="RefusedCallAudit"/>, with the presented certificate's thumbprint when there is no caller).
/// gRPC requests, unknown methods included, then get a gRPC status (UNAUTHENTICATED 16, PERMISSION_DENIED 7) with a
/// clear message; anything else gets the framework's default answer.
/// </summary>
internal sealed class AuditingAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
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
            CallAuditMiddleware.MarkRefused(
                context,
                AuditOutcome.Denied,
                authorizeResult.Challenged ? AuditFacts.Unauthenticated : AuditFacts.PermissionDenied);
            var grpc = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null
                || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
            if (grpc)
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
        }

        await defaultHandler.HandleAsync(next, context, policy, authorizeResult);
    }
}
