using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Api;

namespace Tokenizer.StripeSandbox.Faults;

/// <summary>A request feature: the fault applied to one <c>/v1</c> request and how it ended.</summary>
internal sealed class FaultState(SandboxRequestLog.Entry? entry)
{
    public SandboxRequestLog.Entry? Entry { get; } = entry;

    public SandboxFaultAction? Applied { get; set; }

    /// <summary>Set when the sandbox aborted the connection (Kestrel cancels RequestAborted later, on another thread).</summary>
    public bool Aborted { get; set; }

    /// <summary>What <see cref="RequestPipeline.WriteAsync"/> does instead of answering (<c>drop_after_success</c>, <c>hang_after_success</c>).</summary>
    public Func<HttpContext, Task>? InsteadOfAnswer { get; set; }
}

/// <summary>
/// Two middlewares around the API key check: <see cref="RecordAsync"/> (first) records every <c>/v1</c> request and how it
/// ended; <see cref="InjectAsync"/> (after authentication) applies the fault plan, or the <c>Sandbox-Fault</c> header when
/// <see cref="StripeSandboxOptions.AllowFaultHeader"/> is on. Faults that fire before handling leave no state and no
/// idempotency result; <c>*_after_success</c> faults let the request run and replace only its answer.
/// </summary>
internal sealed partial class FaultInjector(
    SandboxFaultPlan plan,
    SandboxRequestLog log,
    IOptions<StripeSandboxOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<FaultInjector> logger)
{
    public const string HeaderName = "Sandbox-Fault";
    private const int MaxIdempotencyKeyLength = 255;

    private readonly TimeProvider time = options.Value.TimeProvider;
    private readonly bool allowHeader = options.Value.AllowFaultHeader;

    public async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsApi(context))
        {
            await next(context);
            return;
        }

        var request = context.Request;
        var key = request.Headers["Idempotency-Key"];
        var state = new FaultState(log.Begin(request.Method, request.Path.Value ?? "/", key.Count == 0 ? null : key.ToString()));
        context.Features.Set(state);
        if (state.Entry is { } recorded)
        {
            await SandboxRequestLog.CaptureParametersAsync(recorded, request, context.RequestAborted);
        }

        var threw = false;
        try
        {
            await next(context);
        }
        catch
        {
            threw = true;
            throw;
        }
        finally
        {
            if (state.Entry is { } entry)
            {
                var aborted = state.Aborted || context.RequestAborted.IsCancellationRequested;
                int? status = aborted ? null : threw && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
                log.Complete(entry, status, state.Applied);
            }
        }
    }

    public async Task InjectAsync(HttpContext context, RequestDelegate next)
    {
        if (!IsApi(context) || context.Features.Get<FaultState>() is not { } state)
        {
            await next(context);
            return;
        }

        FaultDecision decision;
        if (allowHeader && context.Request.Headers.TryGetValue(HeaderName, out var header))
        {
            var (fault, error) = FaultWire.ParseHeader(header.ToString());
            if (error is not null)
            {
                await RequestPipeline.WriteAsync(context, ApiResult.From(StripeErrors.FaultHeaderInvalid(error)));
                return;
            }

            decision = fault!.Action == SandboxFaultAction.Latency ? new FaultDecision(fault.Delay!.Value, null) : new FaultDecision(TimeSpan.Zero, fault);
        }
        else
        {
            decision = plan.Next(context.Request.Method, context.Request.Path.Value ?? "/");
        }

        if (decision.Recorded is not { } recorded)
        {
            await next(context);
            return;
        }

        state.Applied = recorded;
        if (state.Entry is { } entry)
        {
            log.MarkFault(entry, recorded);
        }

        LogFaultInjected(logger, recorded);

        // Holds end when the client goes away or the sandbox stops, so neither a test run nor shutdown waits out a hang, or
        // when a test ends them (SandboxFaultPlan.EndHolds).
        using var holdEnds = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping, plan.HoldsEnd);
        if (decision.Latency > TimeSpan.Zero && !await WaitAsync(decision.Latency, holdEnds.Token))
        {
            Abort(context, state);
            return;
        }

        var injected = decision.Fault;
        switch (injected?.Action)
        {
            case null:
                await next(context);
                break;
            case SandboxFaultAction.Status:
                await WriteStatusAsync(context, injected);
                break;
            case SandboxFaultAction.NonJson:
                await WriteHtmlAsync(context, injected.StatusCode!.Value);
                break;
            case SandboxFaultAction.Reset:
                Abort(context, state);
                break;
            case SandboxFaultAction.Hang:
                await WaitAsync(injected.MaxWait!.Value, holdEnds.Token);
                Abort(context, state);
                break;
            case SandboxFaultAction.DropAfterSuccess:
                state.InsteadOfAnswer = c =>
                {
                    Abort(c, state);
                    return Task.CompletedTask;
                };
                await next(context);
                break;
            default:
                state.InsteadOfAnswer = async c =>
                {
                    await WaitAsync(injected.MaxWait!.Value, holdEnds.Token);
                    Abort(c, state);
                };
                await next(context);
                break;
        }
    }

    private static bool IsApi(HttpContext context) => context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal);

    private static void Abort(HttpContext context, FaultState state)
    {
        state.Aborted = true;
        context.Abort();
    }

    private static async Task WriteStatusAsync(HttpContext context, SandboxFault fault)
    {
        var status = fault.StatusCode!.Value;
        var error = status switch
        {
            409 => StripeErrors.IdempotencyKeyInUse(),
            429 => StripeErrors.RateLimited(fault.Code!),
            _ => StripeErrors.ServerError(status),
        };
        if (fault.ShouldRetry is { } shouldRetry)
        {
            context.Response.Headers["Stripe-Should-Retry"] = shouldRetry ? "true" : "false";
        }

        // Stripe echoes the key on every answer to a keyed request; the sandbox's own pipeline does too.
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (HttpMethods.IsPost(context.Request.Method) && key.Length is > 0 and <= MaxIdempotencyKeyLength)
        {
            context.Response.Headers["Idempotency-Key"] = key;
        }

        await RequestPipeline.WriteAsync(context, ApiResult.From(error));
    }

    private static async Task WriteHtmlAsync(HttpContext context, int status)
    {
        var title = $"{status} {ReasonPhrases.GetReasonPhrase(status)}";
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        var body = $"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(body), context.RequestAborted);
    }

    /// <summary>
    /// Waits at least <paramref name="delay"/> by the clock's timestamp: on the system clock through
    /// <see cref="PreciseDelay"/> (within about a millisecond), on a test clock with its timers (a timer may fire up to a
    /// tick early, so the rest is waited again, rounded up to whole milliseconds); false when the wait ended early (client gone or sandbox stopping).
    /// </summary>
    private async Task<bool> WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            if (time == TimeProvider.System)
            {
                await PreciseDelay.UntilAsync(started + (long)(delay.TotalSeconds * Stopwatch.Frequency), cancellationToken);
                return true;
            }

            for (var remaining = delay; remaining > TimeSpan.Zero; remaining = delay - time.GetElapsedTime(started))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(remaining.TotalMilliseconds)), time, cancellationToken);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 9100, EventName = "FaultInjected", Level = LogLevel.Debug,
        Message = "Stripe sandbox injected fault {Action}")]
    private static partial void LogFaultInjected(ILogger logger, SandboxFaultAction action);
}
