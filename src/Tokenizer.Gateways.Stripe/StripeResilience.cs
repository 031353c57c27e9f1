using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Telemetry;
using Polly.Timeout;

using Tokenizer.Core.Ports;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// The one retry layer for Stripe: the named <see cref="HttpClient"/> <c>stripe</c> (IHttpClientFactory) whose handler
/// runs every request through a Polly pipeline, outermost first: total timeout, retry (exponential back-off with
/// jitter), circuit breaker, attempt timeout. Stripe.net's own retries are off (<c>MaxNetworkRetries = 0</c>) and its
/// <see cref="HttpClient.Timeout"/> sits above the total (<see cref="HttpClientTimeout"/>), so the pipeline owns time.
/// </summary>
/// <remarks>
/// <para>
/// A retry re-sends the same request message Stripe.net built, so every attempt carries the same
/// <c>Idempotency-Key</c> (IntegrationTests: <c>FaultTests</c> compare the keys the sandbox recorded). What retries is
/// <see cref="ShouldRetry"/>; what the breaker counts is <see cref="CountsAsFailure"/>.
/// </para>
/// <para>
/// What reaches Stripe.net: the last response (a 429, 409 or 5xx after the retries, mapped by
/// <see cref="StripeErrorMapper"/>), or <see cref="TimeoutRejectedException"/> (attempt or total timeout),
/// <see cref="BrokenCircuitException"/> (circuit open: nothing sent), <see cref="HttpRequestException"/> (network),
/// all mapped to UNAVAILABLE GATEWAY_UNAVAILABLE. The caller's cancellation stays an <see cref="OperationCanceledException"/>.
/// </para>
/// <para>No handler here logs a request, a body or a header: the PAN travels in the body (THREAT_MODEL F2).</para>
/// </remarks>
public static class StripeResilience
{
    /// <summary>The IHttpClientFactory name of Stripe's HTTP client.</summary>
    public const string HttpClientName = "stripe";

    /// <summary>Stripe's advice on a failed request: <c>true</c> retry, <c>false</c> do not.</summary>
    internal const string ShouldRetryHeader = "Stripe-Should-Retry";

    /// <summary>How far <see cref="HttpClient.Timeout"/> sits above the pipeline's total timeout (a backstop only).</summary>
    private static readonly TimeSpan HttpClientTimeoutMargin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Registers the named client <see cref="HttpClientName"/>: pooled connections recycled every 5 minutes, no trace
    /// context headers sent (<see cref="StripeClientFactory.CreatePrimaryHandler"/>), no
    /// IHttpClientFactory logging handlers, a span per request (<see cref="StripeTracingHandler"/>), the resilience
    /// pipeline, and inside it a handler that reads each response
    /// body within its attempt (so a connection dropped mid-body is a retryable attempt failure too).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="options">Returns the settings; called once, when the client is first created.</param>
    public static IHttpClientBuilder AddStripeHttpClient(this IServiceCollection services, Func<IServiceProvider, StripeResilienceOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        var builder = services.AddHttpClient(HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(StripeClientFactory.CreatePrimaryHandler)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        // Outermost: one span per request, its retries (inside the pipeline) as events on it.
        builder.AddHttpMessageHandler(() => new StripeTracingHandler());
        builder.AddResilienceHandler("pipeline", (pipeline, context) =>
        {
            var services = context.ServiceProvider;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StripeResilience).FullName!);
            Configure(pipeline, options(services), logger, services.GetService<IGatewayHealth>(), services.GetService<TokenizerMetrics>());
        });
        builder.AddHttpMessageHandler(() => new ResponseBufferingHandler());

        // Polly's own telemetry logs a timeout and a failed attempt at Error ("Resilience event occurred", "Execution
        // attempt"). A Stripe stall is transient, and this class logs each event that matters itself (StripeRetrying at
        // Warning, the circuit's changes), so this pipeline's Polly events are at most Information: below the
        // "Polly": "Warning" filter, visible when someone lowers it.
        services.Configure<TelemetryOptions>(telemetry =>
        {
            var inner = telemetry.SeverityProvider;
            telemetry.SeverityProvider = args => Severity(args, inner);
        });
        return builder;
    }

    /// <summary>
    /// The severity Polly's telemetry gives an event: for this client's pipeline (named <c>stripe-...</c>) at most
    /// <see cref="ResilienceEventSeverity.Information"/>; other pipelines' events as <paramref name="inner"/> (or Polly) says.
    /// </summary>
    internal static ResilienceEventSeverity Severity(SeverityProviderArguments args, Func<SeverityProviderArguments, ResilienceEventSeverity>? inner)
    {
        var severity = inner?.Invoke(args) ?? args.Event.Severity;
        return severity > ResilienceEventSeverity.Information
            && args.Source.PipelineName?.StartsWith(HttpClientName + "-", StringComparison.Ordinal) == true
            ? ResilienceEventSeverity.Information
            : severity;
    }

    /// <summary>The gateway operation a Stripe API request performs, from its method and path (Stripe API paths), or null.</summary>
    internal static GatewayOperation? OperationOf(HttpRequestMessage? request)
    {
        var path = request?.RequestUri?.AbsolutePath;
        if (path is null)
        {
            return null;
        }

        if (request!.Method == HttpMethod.Get)
        {
            return path.StartsWith("/v1/customers/", StringComparison.Ordinal) && path.EndsWith("/payment_methods", StringComparison.Ordinal)
                ? GatewayOperation.ListPaymentMethods
                : null;
        }

        if (request.Method == HttpMethod.Delete)
        {
            return path.StartsWith("/v1/customers/", StringComparison.Ordinal) ? GatewayOperation.DeleteCustomer : null;
        }

        if (request.Method != HttpMethod.Post)
        {
            return null;
        }

        return path switch
        {
            "/v1/payment_methods" => GatewayOperation.CreatePaymentMethod,
            "/v1/customers" => GatewayOperation.CreateCustomer,
            _ when path.StartsWith("/v1/payment_methods/", StringComparison.Ordinal) && path.EndsWith("/attach", StringComparison.Ordinal) => GatewayOperation.Attach,
            _ when path.StartsWith("/v1/payment_methods/", StringComparison.Ordinal) && path.EndsWith("/detach", StringComparison.Ordinal) => GatewayOperation.Detach,
            _ when path.StartsWith("/v1/payment_methods/", StringComparison.Ordinal) && path.IndexOf('/', "/v1/payment_methods/".Length) < 0 => GatewayOperation.UpdatePaymentMethod,
            _ => null,
        };
    }

    /// <summary>The <see cref="HttpClient.Timeout"/> for Stripe.net's client: above the pipeline's total, a backstop only.</summary>
    public static TimeSpan HttpClientTimeout(StripeResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.TotalTimeout + HttpClientTimeoutMargin;
    }

    /// <summary>Adds the strategies, outermost first: total timeout, retry, circuit breaker, attempt timeout.</summary>
    /// <param name="pipeline">The pipeline to add the strategies to.</param>
    /// <param name="options">Validated timeouts, retries and breaker settings.</param>
    /// <param name="logger">Logs retries and circuit changes (codes only).</param>
    /// <param name="health">Told when the circuit opens, half-opens and closes (health checks and the circuit gauge); optional.</param>
    /// <param name="metrics">Counts each scheduled retry by gateway operation; optional.</param>
    internal static ResiliencePipelineBuilder<HttpResponseMessage> Configure(
        ResiliencePipelineBuilder<HttpResponseMessage> pipeline,
        StripeResilienceOptions options,
        ILogger logger,
        IGatewayHealth? health = null,
        TokenizerMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var problems = options.Validate("StripeResilienceOptions.");
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }

        pipeline.AddTimeout(new TimeoutStrategyOptions { Name = "stripe-total-timeout", Timeout = options.TotalTimeout });
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = "stripe-retry",
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome)),
                OnRetry = args =>
                {
                    var request = args.Context.GetRequestMessage();
                    Log.Retrying(
                        logger,
                        request?.Method.Method ?? "unknown",
                        Describe(args.Outcome),
                        args.AttemptNumber + 1,
                        (long)args.RetryDelay.TotalMilliseconds,
                        KeyNote(request));
                    if (metrics is not null && OperationOf(request) is { } operation)
                    {
                        metrics.RecordGatewayRetry(operation);
                    }

                    StripeTracingHandler.RecordRetry(args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);

                    return default;
                },
            });
        }

        var breaker = options.CircuitBreaker;
        pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            Name = "stripe-circuit-breaker",
            FailureRatio = breaker.FailureRatio,
            MinimumThroughput = breaker.MinimumThroughput,
            SamplingDuration = breaker.SamplingDuration,
            BreakDuration = breaker.BreakDuration,
            ShouldHandle = args => ValueTask.FromResult(CountsAsFailure(args.Outcome)),
            OnOpened = args =>
            {
                Log.CircuitOpened(logger, Describe(args.Outcome), (long)args.BreakDuration.TotalMilliseconds);
                health?.Report(GatewayCircuitState.Open);
                return default;
            },
            OnHalfOpened = _ =>
            {
                Log.CircuitHalfOpened(logger);
                health?.Report(GatewayCircuitState.HalfOpen);
                return default;
            },
            OnClosed = _ =>
            {
                Log.CircuitClosed(logger);
                health?.Report(GatewayCircuitState.Closed);
                return default;
            },
        });
        pipeline.AddTimeout(new TimeoutStrategyOptions { Name = "stripe-attempt-timeout", Timeout = options.AttemptTimeout });
        return pipeline;
    }

    /// <summary>
    /// What the retry log line says of the Idempotency-Key: a retry sends the same request again, so a POST keeps the
    /// key Stripe.net (or the caller) set, and a GET, which carries none, is sent again as the read it is.
    /// </summary>
    internal static string KeyNote(HttpRequestMessage? request) =>
        request?.Headers.Contains("Idempotency-Key") == true ? "same Idempotency-Key" : "no Idempotency-Key";

    /// <summary>
    /// Whether an attempt's outcome is retried (with the same request, so the same Idempotency-Key): a network failure,
    /// an attempt timeout, or a response <see cref="IsRetryable(HttpResponseMessage)"/> says to retry. Never the
    /// caller's cancellation, never an open circuit (that must fail fast).
    /// </summary>
    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } response && IsRetryable(response),
        _ => IsTransient(outcome.Exception),
    };

    /// <summary>
    /// Stripe.net's rule, with the 429 made explicit: never 400, 401, 402, 403 or 404 (card and validation errors,
    /// credentials, unknown objects); then <c>Stripe-Should-Retry: false</c> never and <c>true</c> always; otherwise
    /// 409 (<c>idempotency_key_in_use</c>, a conflicting request still running) and every 5xx (a non-JSON 502 too); a
    /// plain 429 is not retried (nor any other status).
    /// </summary>
    internal static bool IsRetryable(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var status = (int)response.StatusCode;
        if (status < 400 || status is 400 or 401 or 402 or 403 or 404)
        {
            return false;
        }

        switch (StripeShouldRetry(response))
        {
            case true:
                return true;
            case false:
                return false;
        }

        return response.StatusCode == HttpStatusCode.Conflict || status >= 500;
    }

    /// <summary>
    /// Whether an attempt's outcome counts against the gateway's health (circuit breaker): a network failure, an attempt
    /// timeout, a 5xx or a 429. Not a 409 (another request of ours is running) and no 4xx (a bad request or card).
    /// </summary>
    internal static bool CountsAsFailure(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } response
            && ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests),
        _ => IsTransient(outcome.Exception),
    };

    /// <summary>Network failures and attempt timeouts; not cancellation, not an open circuit.</summary>
    internal static bool IsTransient(Exception exception) =>
        exception is HttpRequestException or IOException or TimeoutRejectedException;

    private static bool? StripeShouldRetry(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues(ShouldRetryHeader, out var values))
        {
            return null;
        }

        var value = values.FirstOrDefault();
        return string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) ? true
            : string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) ? false
            : null;
    }

    /// <summary>A log-safe outcome: the status code or the exception's type name, never a message or a header.</summary>
    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name
        : outcome.Result is { } r ? "status " + ((int)r.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)
        : "none";

    /// <summary>Reads the response body inside the attempt, so a body cut off by the network is a retryable failure.</summary>
    private sealed class ResponseBufferingHandler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            try
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
                return response;
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }
    }
}
