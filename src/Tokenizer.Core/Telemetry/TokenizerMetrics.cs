using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Telemetry;

/// <summary>A gateway call, as the <c>operation</c> tag names it.</summary>
public enum GatewayOperation
{
    /// <summary>POST /v1/payment_methods: <c>create_payment_method</c>.</summary>
    CreatePaymentMethod,

    /// <summary>POST /v1/payment_methods/{id}/attach: <c>attach</c>.</summary>
    Attach,

    /// <summary>POST /v1/setup_intents: <c>create_setup_intent</c>.</summary>
    CreateSetupIntent,

    /// <summary>GET /v1/setup_intents/{id} and GET /v1/setup_intents (list): <c>get_setup_intent</c>.</summary>
    GetSetupIntent,

    /// <summary>GET /v1/mandates/{id}: <c>get_mandate</c>.</summary>
    GetMandate,

    /// <summary>POST /v1/payment_methods/{id}/detach: <c>detach</c>.</summary>
    Detach,

    /// <summary>POST /v1/customers: <c>create_customer</c>.</summary>
    CreateCustomer,

    /// <summary>GET /v1/customers/{id}/payment_methods: <c>list_payment_methods</c>.</summary>
    ListPaymentMethods,

    /// <summary>POST /v1/payment_methods/{id} (billing details): <c>update_payment_method</c>.</summary>
    UpdatePaymentMethod,

    /// <summary>DELETE /v1/customers/{id}: <c>delete_customer</c>.</summary>
    DeleteCustomer,

    /// <summary>GET /v1/customers/{id}: <c>get_customer</c>.</summary>
    GetCustomer,
}

/// <summary>
/// The service's metrics: one <see cref="Meter"/> named <see cref="MeterName"/> and its instruments. One singleton per
/// process (created through <see cref="IMeterFactory"/>, so the host owns the meter's lifetime).
/// </summary>
/// <remarks>
/// <para>
/// Tags carry fixed vocabularies only: RPC method names from the policy table, gRPC status code names, the gateway
/// operations and outcomes below, recovery action names from <see cref="RecoveryActions"/>. Never an id, key,
/// reference, token or any other caller input: every method here takes an enum or a value it checks against a fixed
/// set, so a caller of this class cannot put input into a tag by accident.
/// </para>
/// <para>
/// Hooks for colleagues: the resilience pipeline calls <see cref="RecordGatewayRetry"/> once per retry it schedules
/// (and reports circuit changes through <see cref="IGatewayHealth"/>, read by the <c>circuit_state</c> gauge); the
/// recovery worker calls <see cref="RecordRecoveryAction"/> with a name from <see cref="RecoveryActions"/> (add new
/// names there).
/// </para>
/// </remarks>
public sealed class TokenizerMetrics
{
    /// <summary>The meter name to export.</summary>
    public const string MeterName = "Tokenizer";

    /// <summary>The <c>outcome</c> of a gateway call that returned normally.</summary>
    public const string Success = "success";

    /// <summary>The tag value for an RPC method outside the policy table (never expected) or an unknown recovery action.</summary>
    public const string Other = "other";

    /// <summary>The <c>operation</c> tag values: <c>create_payment_method</c>, <c>attach</c>...</summary>
    public static readonly EnumText<GatewayOperation> OperationTexts = new(
        "gateway operation",
        (GatewayOperation.CreatePaymentMethod, "create_payment_method"),
        (GatewayOperation.Attach, "attach"),
        (GatewayOperation.CreateSetupIntent, "create_setup_intent"),
        (GatewayOperation.GetSetupIntent, "get_setup_intent"),
        (GatewayOperation.GetMandate, "get_mandate"),
        (GatewayOperation.Detach, "detach"),
        (GatewayOperation.CreateCustomer, "create_customer"),
        (GatewayOperation.ListPaymentMethods, "list_payment_methods"),
        (GatewayOperation.UpdatePaymentMethod, "update_payment_method"),
        (GatewayOperation.DeleteCustomer, "delete_customer"),
        (GatewayOperation.GetCustomer, "get_customer"));

    /// <summary>The error classes of the <c>outcome</c> tag: <c>invalid_argument</c>, <c>unavailable</c>...</summary>
    public static readonly EnumText<Errors.ErrorKind> ErrorKindTexts = new(
        "error kind",
        (Errors.ErrorKind.InvalidArgument, "invalid_argument"),
        (Errors.ErrorKind.FailedPrecondition, "failed_precondition"),
        (Errors.ErrorKind.NotFound, "not_found"),
        (Errors.ErrorKind.AlreadyExists, "already_exists"),
        (Errors.ErrorKind.Aborted, "aborted"),
        (Errors.ErrorKind.Unavailable, "unavailable"),
        (Errors.ErrorKind.Internal, "internal"),
        (Errors.ErrorKind.PermissionDenied, "permission_denied"),
        (Errors.ErrorKind.Unauthenticated, "unauthenticated"),
        (Errors.ErrorKind.ResourceExhausted, "resource_exhausted"),
        (Errors.ErrorKind.DeadlineExceeded, "deadline_exceeded"));

    // Seconds; covers a fast ledger replay (ms) to a slow gateway call near the call cap (30 s).
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly Counter<long> rpcCalls;
    private readonly Histogram<double> rpcDuration;
    private readonly Histogram<double> gatewayDuration;
    private readonly Counter<long> gatewayRetries;
    private readonly Counter<long> recoveryActions;
    private readonly Counter<long> retentionPurged;

    /// <param name="meterFactory">The host's meter factory.</param>
    /// <param name="gatewayHealth">The circuit state the <c>tokenizer.gateway.circuit_state</c> gauge reports.</param>
    public TokenizerMetrics(IMeterFactory meterFactory, IGatewayHealth gatewayHealth)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(gatewayHealth);
        var meter = meterFactory.Create(MeterName);
        var latency = new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets };
        rpcCalls = meter.CreateCounter<long>("tokenizer.rpc.calls", "{call}", "gRPC calls handled, by method and status code");
        rpcDuration = meter.CreateHistogram("tokenizer.rpc.duration", "s", "gRPC call duration, by method and status code", advice: latency);
        gatewayDuration = meter.CreateHistogram("tokenizer.gateway.duration", "s", "Payment gateway call duration, by operation and outcome", advice: latency);
        gatewayRetries = meter.CreateCounter<long>("tokenizer.gateway.retries", "{retry}", "Payment gateway retries scheduled by the resilience pipeline, by operation");
        meter.CreateObservableGauge(
            "tokenizer.gateway.circuit_state",
            () => (int)gatewayHealth.CircuitState,
            "{state}",
            "Payment gateway circuit: 0 closed, 1 half-open, 2 open");
        recoveryActions = meter.CreateCounter<long>("tokenizer.recovery.actions", "{action}", "Recovery actions taken on unfinished requests, by action");
        retentionPurged = meter.CreateCounter<long>("tokenizer.retention.purged", "{record}", "Records deleted by the retention purge, by kind");
    }

    /// <summary>Retention purge kinds (the <c>kind</c> tag of <c>tokenizer.retention.purged</c>).</summary>
    public static class RetentionKinds
    {
        /// <summary>Revoked tokens past their retention period.</summary>
        public const string RevokedTokens = "revoked_tokens";

        /// <summary>Finished idempotency records past their retention period.</summary>
        public const string IdempotencyRecords = "idempotency_records";

        /// <summary>Token events past their retention period.</summary>
        public const string TokenEvents = "token_events";

        internal static readonly FrozenSet<string> All = new[] { RevokedTokens, IdempotencyRecords, TokenEvents }.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Records <paramref name="count"/> records of <paramref name="kind"/> (one of <see cref="RetentionKinds"/>) purged.</summary>
    public void RecordRetentionPurged(string kind, long count) =>
        retentionPurged.Add(count, new KeyValuePair<string, object?>("kind", kind is not null && RetentionKinds.All.Contains(kind) ? kind : Other));

    /// <summary>Recovery action names (the <c>action</c> tag of <c>tokenizer.recovery.actions</c>); add new ones here.</summary>
    public static class RecoveryActions
    {
        /// <summary>A pending request was completed from the gateway's replayed answer.</summary>
        public const string Completed = "completed";

        /// <summary>A pending claim was released so a retry runs again.</summary>
        public const string Released = "released";

        /// <summary>A gateway object without a ledger record was detached.</summary>
        public const string Detached = "detached";

        /// <summary>A pending request was left for an operator.</summary>
        public const string Escalated = "escalated";

        internal static readonly FrozenSet<string> All = new[] { Completed, Released, Detached, Escalated }.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Records one finished gRPC call.</summary>
    /// <param name="rpc">The full method name, <c>package.Service/Method</c>, from a fixed table (the caller checks it).</param>
    /// <param name="outcome">The canonical gRPC status code name, e.g. <c>INVALID_ARGUMENT</c>.</param>
    /// <param name="elapsed">How long the call took.</param>
    public void RecordRpc(string rpc, string outcome, TimeSpan elapsed)
    {
        var tags = new TagList { { "rpc", rpc }, { "outcome", outcome } };
        rpcCalls.Add(1, tags);
        rpcDuration.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>Records one gateway call.</summary>
    /// <param name="operation">Which call.</param>
    /// <param name="outcome"><see cref="Success"/>, or the error class from <see cref="OutcomeOf"/>.</param>
    /// <param name="elapsed">How long it took, retries inside it included.</param>
    public void RecordGatewayCall(GatewayOperation operation, string outcome, TimeSpan elapsed) =>
        gatewayDuration.Record(elapsed.TotalSeconds, new TagList { { "operation", OperationName(operation) }, { "outcome", outcome } });

    /// <summary>Hook for the resilience pipeline: one retry of <paramref name="operation"/> was scheduled.</summary>
    public void RecordGatewayRetry(GatewayOperation operation) =>
        gatewayRetries.Add(1, new KeyValuePair<string, object?>("operation", OperationName(operation)));

    /// <summary>
    /// Hook for the recovery worker: one recovery action was taken. <paramref name="action"/> must be one of
    /// <see cref="RecoveryActions"/>; anything else is counted as <see cref="Other"/>, never exported as given.
    /// </summary>
    public void RecordRecoveryAction(string action) =>
        recoveryActions.Add(1, new KeyValuePair<string, object?>("action", action is not null && RecoveryActions.All.Contains(action) ? action : Other));

    /// <summary>The <c>operation</c> tag value of <paramref name="operation"/>.</summary>
    public static string OperationName(GatewayOperation operation) => OperationTexts.TextOr(operation, Other);

    /// <summary>
    /// The <c>outcome</c> tag of a failed gateway call: the error class (<c>invalid_argument</c>, <c>unavailable</c>...)
    /// for domain errors, <c>cancelled</c>, or <c>error</c>. Never the exception's message or metadata.
    /// </summary>
    public static string OutcomeOf(Exception error) => error switch
    {
        Errors.TokenizerException domain => ErrorKindTexts.TextOr(domain.Kind, "error"),
        OperationCanceledException => "cancelled",
        _ => "error",
    };
}
