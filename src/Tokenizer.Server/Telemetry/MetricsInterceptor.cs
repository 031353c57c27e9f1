using Grpc.Core;
using Tokenizer.Core.Telemetry;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Telemetry;

/// <summary>
/// Counts and times every gRPC call that reaches the handlers (<c>tokenizer.rpc.calls</c>, <c>tokenizer.rpc.duration</c>),
/// tagged with the method's full name from the policy table and the canonical status code name. Register it after the
/// audit interceptor and before the error mapping, so it sees the mapped status.
/// </summary>
/// <remarks>
/// Calls refused before the handlers (unauthenticated, wrong role, rate limited) never reach an interceptor: the audit
/// trail records those. The method tag is taken from <see cref="RpcPolicies"/>, never from the request path as sent.
/// </remarks>
internal sealed class MetricsInterceptor(TokenizerMetrics metrics, TimeProvider timeProvider) : CallInterceptor
{
    /// <inheritdoc />
    protected override async Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(next);
        var started = timeProvider.GetTimestamp();
        await ThenAsync(call, next, error => Record(call, started, error));
    }

    /// <summary>The <c>rpc</c> tag: the policy table's name for the method, or <c>other</c>.</summary>
    internal static string RpcName(string? method)
    {
        var name = method?.TrimStart('/');
        return name is not null && RpcPolicies.IsKnown(name) ? name : TokenizerMetrics.Other;
    }

    /// <summary>The <c>outcome</c> tag: the canonical status code name.</summary>
    internal static string Outcome(Exception? error) => error switch
    {
        null => AuditFacts.StatusName(StatusCode.OK),
        RpcException rpc => AuditFacts.StatusName(rpc.StatusCode),
        OperationCanceledException => AuditFacts.StatusName(StatusCode.Cancelled),
        _ => AuditFacts.StatusName(StatusCode.Unknown),
    };

    private void Record(ServerCallContext context, long started, Exception? error) =>
        metrics.RecordRpc(RpcName(context.Method), Outcome(error), timeProvider.GetElapsedTime(started));
}
