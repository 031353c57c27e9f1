using System.Diagnostics;
using Grpc.Core;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Telemetry;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Security;
using StatusCode = Grpc.Core.StatusCode;

namespace Tokenizer.Server.Telemetry;

/// <summary>
/// Traces: the sources of <see cref="TokenizerTracing"/> (and nothing else) on an OpenTelemetry tracer provider, which
/// exists only when OTLP export is configured by the standard <c>OTEL_*</c> variables; off by default.
/// </summary>
/// <remarks>
/// Not exported: ASP.NET Core's request activity (<c>Microsoft.AspNetCore</c>), HttpClient's (<c>System.Net.Http</c>),
/// gRPC's, Npgsql's: they carry paths with object ids, addresses and SQL we do not vouch for. Our RPC span is parented
/// directly on the caller's <c>traceparent</c> (<see cref="TracingInterceptor"/>), so the trace stays whole without them.
/// </remarks>
public static class TracingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="TracingInterceptor"/> (the caller adds it to the gRPC options), the tracer provider settings
    /// (our sources, parent-based sampling) and, when <see cref="OtlpEnabled"/>, a tracer provider with the OTLP
    /// exporter, configured by the <c>OTEL_EXPORTER_OTLP_*</c> variables (endpoint, protocol, headers, timeout).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration (environment variables included).</param>
    public static IServiceCollection AddTokenizerTracing(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton<TracingInterceptor>();

        // Whatever provider is built (the OTLP one below, a test's in-memory one), it listens to our sources only.
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource([.. TokenizerTracing.SourceNames])
            .SetSampler(new ParentBasedSampler(new AlwaysOnSampler())));

        if (OtlpEnabled(configuration))
        {
            services.AddOpenTelemetry().WithTracing(tracing => tracing.AddOtlpExporter());
        }

        return services;
    }

    /// <summary>
    /// Whether traces are exported over OTLP: <c>OTEL_SDK_DISABLED</c> is not <c>true</c>, <c>OTEL_TRACES_EXPORTER</c>
    /// is <c>otlp</c> or unset, and either it is <c>otlp</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
    /// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> is set. With none of these variables, no exporter and no provider.
    /// </summary>
    public static bool OtlpEnabled(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.Equals(configuration["OTEL_SDK_DISABLED"]?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var exporter = configuration["OTEL_TRACES_EXPORTER"]?.Trim();
        if (!string.IsNullOrEmpty(exporter))
        {
            return string.Equals(exporter, "otlp", StringComparison.OrdinalIgnoreCase);
        }

        return !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
            || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
    }
}

/// <summary>
/// One server span per gRPC call that reaches the handlers (<see cref="TokenizerTracing.Server"/>), parented on the
/// caller's W3C <c>traceparent</c> metadata (a new trace without one; <see cref="ParentOf"/>). Registered first after the
/// <see cref="CallContextInterceptor"/>, so the audit, the error mapping and the handler's gateway and ledger spans run inside it.
/// </summary>
/// <remarks>
/// Name <c>{rpc.service}/{rpc.method}</c> from the policy table (<see cref="RpcPolicies"/>), never the path as sent.
/// Attributes: <c>rpc.system</c> = <c>grpc</c>, <c>rpc.service</c>, <c>rpc.method</c>, <c>rpc.grpc.status_code</c>
/// and, on failure, <see cref="TokenizerTracing.ErrorReasonKey"/> (the ErrorInfo reason, from its vocabulary). Never
/// the request, the caller, the peer's address, metadata or the status detail. Baggage is not read.
/// </remarks>
internal sealed class TracingInterceptor : CallInterceptor
{
    /// <inheritdoc />
    protected override async Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(next);
        using var activity = Start(call);
        await ThenAsync(call, next, error => End(activity, call, error));
    }

    /// <summary>
    /// The caller's trace context from <c>traceparent</c> (W3C Trace Context: version, trace id, parent id, flags), or
    /// default (a new trace) when absent, malformed, or when its text holds a card or bank number.
    /// </summary>
    /// <remarks>
    /// Only the ids and flags are taken. <c>tracestate</c> is vendor free text that every exported span would carry, so
    /// it is never read. The ids are caller-chosen hex, each shown on its own by a collector: ids of which one reads as a
    /// PAN (<see cref="SensitiveDataDetector"/>, the detector every input goes through) are not adopted, so a collector
    /// never shows a caller's card number. A random id reads so by chance about once in 75 (Server.Tests
    /// <c>TracingParentTests</c>); that call then starts a trace of its own.
    /// </remarks>
    internal static ActivityContext ParentOf(Metadata headers)
    {
        var traceparent = headers.GetValue("traceparent");
        return traceparent is not null
            && ActivityContext.TryParse(traceparent, traceState: null, isRemote: true, out var parent)
            && SensitiveDataDetector.FindCardOrBankNumber(parent.TraceId.ToHexString()) is null
            && SensitiveDataDetector.FindCardOrBankNumber(parent.SpanId.ToHexString()) is null
            ? parent
            : default;
    }

    private static Activity? Start(ServerCallContext context)
    {
        if (!TokenizerTracing.Server.HasListeners())
        {
            return null;
        }

        // Our span's parent is the caller's span itself, not ASP.NET Core's request activity (never exported, so a
        // child of it would hang from a span nobody sees). Clearing Activity.Current here is local to this call's flow.
        Activity.Current = null;
        var rpc = MetricsInterceptor.RpcName(context.Method);
        var activity = TokenizerTracing.Server.StartActivity(rpc, ActivityKind.Server, ParentOf(context.RequestHeaders));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "grpc");
            var slash = rpc.IndexOf('/', StringComparison.Ordinal);
            if (slash > 0)
            {
                activity.SetTag("rpc.service", rpc[..slash]);
                activity.SetTag("rpc.method", rpc[(slash + 1)..]);
            }
        }

        return activity;
    }

    private static void End(Activity? activity, TokenizerCall call, Exception? error)
    {
        if (activity is null || !activity.IsAllDataRequested)
        {
            return;
        }

        (StatusCode code, string? reason) = error switch
        {
            null => (StatusCode.OK, (string?)null),
            RpcException rpc => (rpc.StatusCode, call.ReasonOf(rpc)),
            TokenizerException domain => (StatusCode.Unknown, domain.Reason),
            OperationCanceledException => (StatusCode.Cancelled, AuditFacts.StatusName(StatusCode.Cancelled)),
            _ => (StatusCode.Unknown, ErrorReasons.InternalError),
        };
        activity.SetTag("rpc.grpc.status_code", (int)code);
        if (error is not null)
        {
            // The semantic conventions' server rule: these codes are the server's failure, the others the caller's.
            if (code is StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unimplemented or StatusCode.Internal
                or StatusCode.Unavailable or StatusCode.DataLoss)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }

            activity.SetTag(TokenizerTracing.ErrorReasonKey, TokenizerTracing.Reason(reason));
            activity.SetTag(TokenizerTracing.ErrorTypeKey, AuditFacts.StatusName(code));
        }
    }
}
