using Grpc.Core;
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
/// Order: register this interceptor after <see cref="CallContextInterceptor"/> and <b>before</b>
/// <see cref="ErrorMappingInterceptor"/>, so it sees the mapped RpcException, whose reason the call holds
/// (<see cref="TokenizerCall.ReasonOf"/>). The resource is the one the messages declare (<see cref="TokenizerCall.Resource"/>),
/// else a privacy call's subject pseudonym.
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
internal sealed class AuditInterceptor(IAuditTrail trail, TimeProvider timeProvider, ILogger<AuditInterceptor> logger) : CallInterceptor
{
    /// <inheritdoc />
    protected override async Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(next);
        if (RpcPolicies.IsAnonymous(call.Method))
        {
            // Health probes: no caller, no data; see RpcPolicies.Anonymous.
            await next(call);
            return;
        }

        try
        {
            await next(call);
        }
        catch (Exception error)
        {
            await RecordAsync(call, error);
            throw;
        }

        await RecordAsync(call, null);
    }

    private async Task RecordAsync(TokenizerCall call, Exception? error)
    {
        CallAuditMiddleware.MarkRecorded(call.Http);
        var (outcome, reasonCode) = AuditFacts.Outcome(call, error);
        var auditEvent = new AuditEvent(
            timeProvider.GetUtcNow(),
            AuditFacts.CallerId(call.Http),
            AuditFacts.SourceAddress(call.Http),
            AuditFacts.Action(call.Method),
            call.Resource ?? call.SubjectPseudonym,
            outcome,
            reasonCode,
            AuditFacts.CorrelationId(call.Http));
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

            throw AuditUnavailable(call);
        }
    }

    /// <summary>INTERNAL with ErrorInfo reason AUDIT_UNAVAILABLE, through the one error mapping.</summary>
    internal static RpcException AuditUnavailable(TokenizerCall call) => call.Fail(
        new TokenizerException(ErrorKind.Internal, ErrorReasons.AuditUnavailable, "the audit trail is unavailable"));
}
