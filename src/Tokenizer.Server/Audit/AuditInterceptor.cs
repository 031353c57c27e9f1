using Grpc.Core;
using Grpc.Core.Interceptors;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Writes one audit record per gRPC call (PCI DSS 10.2.1) after its handler finished, successful or not: caller,
/// source address, method, token id (when one is known), outcome and reason, correlation id. If the record cannot be
/// written the call fails with INTERNAL / <see cref="ErrorReasons.AuditUnavailable"/> (fail closed) and a Critical log.
/// </summary>
/// <remarks>
/// <para>
/// Order: register this interceptor <b>before</b> <see cref="ErrorMappingInterceptor"/> so it is the outermost one and
/// sees the mapped RpcException (with its ErrorInfo reason) rather than a domain exception.
/// </para>
/// <para>
/// The record is written after the handler: when the handler succeeded but the append fails, the effect (a token
/// created or revoked) has happened and the caller sees INTERNAL; a retry with the same idempotency key replays it and
/// is audited then. Appends ignore the call's cancellation: a cancelled call is still recorded.
/// </para>
/// <para>
/// The anonymous health probes (<see cref="RpcPolicies.Anonymous"/>) are not recorded: they carry no caller and no data.
/// </para>
/// </remarks>
internal sealed class AuditInterceptor(IAuditTrail trail, TimeProvider timeProvider, ILogger<AuditInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (RpcPolicies.IsAnonymous(context.Method))
        {
            // Health probes: no caller, no data; see RpcPolicies.Anonymous.
            return await continuation(request, context);
        }

        TResponse response;
        try
        {
            response = await continuation(request, context);
        }
        catch (Exception error)
        {
            await RecordAsync(context, request, null, error);
            throw;
        }

        await RecordAsync(context, request, response, null);
        return response;
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        if (RpcPolicies.IsAnonymous(context.Method))
        {
            // Health Watch: see RpcPolicies.Anonymous.
            await continuation(request, responseStream, context);
            return;
        }

        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception error)
        {
            await RecordAsync(context, request, null, error);
            throw;
        }

        await RecordAsync(context, request, null, null);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        TResponse response;
        try
        {
            response = await continuation(requestStream, context);
        }
        catch (Exception error)
        {
            await RecordAsync(context, null, null, error);
            throw;
        }

        await RecordAsync(context, null, response, null);
        return response;
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception error)
        {
            await RecordAsync(context, null, null, error);
            throw;
        }

        await RecordAsync(context, null, null, null);
    }

    private async Task RecordAsync(ServerCallContext context, object? request, object? response, Exception? error)
    {
        var http = AuditFacts.HttpContextOf(context);
        CallAuditMiddleware.MarkRecorded(http);
        var (outcome, reasonCode) = AuditFacts.Outcome(error);
        var auditEvent = new AuditEvent(
            timeProvider.GetUtcNow(),
            AuditFacts.CallerId(http),
            AuditFacts.SourceAddress(http),
            AuditFacts.Action(context.Method),
            AuditFacts.Resource(request, response) ?? AuditFacts.Subject(http),
            outcome,
            reasonCode,
            AuditFacts.CorrelationId(http));
        try
        {
            // Not the call's token: a cancelled or timed-out call still belongs in the trail.
            await trail.AppendAsync(auditEvent, CancellationToken.None);
        }
        catch (Exception failure)
        {
            var exceptionType = AuditLog.Describe(failure);
            AuditLog.AppendFailed(logger, auditEvent.Action, exceptionType);

            // The trail lives in the ledger's database: when the call already failed because that database is
            // unreachable, the caller keeps its UNAVAILABLE LEDGER_UNAVAILABLE (retryable, nothing happened) rather than
            // INTERNAL. The call still fails (fail closed) and the Critical line above still tells the operator.
            if (string.Equals(reasonCode, ErrorReasons.LedgerUnavailable, StringComparison.Ordinal))
            {
                return;
            }

            throw AuditUnavailable();
        }
    }

    /// <summary>INTERNAL with ErrorInfo reason AUDIT_UNAVAILABLE, through the one error mapping.</summary>
    internal static RpcException AuditUnavailable() => ErrorMappingInterceptor.ToRpcException(
        new TokenizerException(ErrorKind.Internal, ErrorReasons.AuditUnavailable, "the audit trail is unavailable"));
}
