using System.Diagnostics;
using System.Globalization;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// One span per Stripe API request (<see cref="TokenizerTracing.Gateway"/>), outside the resilience pipeline so its
/// retries show as <see cref="RetryEventName"/> events on it. Named by the method and path template
/// (<c>POST /v1/payment_methods/{id}/attach</c>), never the path as sent: object ids, query strings, headers and bodies
/// never reach the span.
/// </summary>
/// <remarks>
/// Attributes: <c>http.request.method</c>, <c>url.template</c>, <c>http.response.status_code</c>, <c>error.type</c>
/// (the status code, or the exception's type name), <c>tokenizer.gateway.attempts</c>. Nothing is added to the request:
/// the HTTP stack's own W3C propagation, if any, is left as it is.
/// </remarks>
internal sealed class StripeTracingHandler : DelegatingHandler
{
    /// <summary>The event recorded for each retry the pipeline schedules.</summary>
    internal const string RetryEventName = "retry";

    /// <summary>Attribute of a retry event: the attempt that failed (1 for the first).</summary>
    internal const string RetryAttemptKey = "tokenizer.gateway.attempt";

    /// <summary>Attribute of a retry event: why (<c>status 503</c>, or an exception type name).</summary>
    internal const string RetryCauseKey = "tokenizer.gateway.retry_cause";

    /// <summary>Attribute of a retry event: the back-off before the next attempt, in milliseconds.</summary>
    internal const string RetryDelayKey = "tokenizer.gateway.retry_delay_ms";

    /// <summary>Attribute: how many attempts the request took.</summary>
    internal const string AttemptsKey = "tokenizer.gateway.attempts";

    private static readonly string[] Collections = ["customers", "payment_methods", "setup_intents", "mandates", "events"];
    private static readonly string[] Actions = ["attach", "detach", "cancel", "confirm", "payment_methods"];

    /// <summary>
    /// The Stripe API path template of <paramref name="path"/>: <c>/v1/{collection}</c>, <c>/v1/{collection}/{id}</c>,
    /// <c>/v1/{collection}/{id}/{action}</c> with collection and action from fixed lists, or <see cref="TokenizerTracing.Other"/>.
    /// </summary>
    internal static string Template(string? path)
    {
        var segments = (path ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length is < 2 or > 4 || segments[0] != "v1" || !Collections.Contains(segments[1], StringComparer.Ordinal))
        {
            return TokenizerTracing.Other;
        }

        return segments.Length switch
        {
            2 => "/v1/" + segments[1],
            3 => "/v1/" + segments[1] + "/{id}",
            _ => Actions.Contains(segments[3], StringComparer.Ordinal) ? "/v1/" + segments[1] + "/{id}/" + segments[3] : TokenizerTracing.Other,
        };
    }

    /// <summary>The method as exported: GET, POST or DELETE, else <c>_OTHER</c> (the semantic conventions' value).</summary>
    internal static string Method(HttpMethod method) =>
        method == HttpMethod.Get ? "GET" : method == HttpMethod.Post ? "POST" : method == HttpMethod.Delete ? "DELETE" : "_OTHER";

    /// <summary>
    /// Called by the retry strategy: adds a <see cref="RetryEventName"/> event to the current gateway span, if one is
    /// recording. <paramref name="cause"/> is a status code or an exception type name, never a message.
    /// </summary>
    internal static void RecordRetry(int failedAttempt, string cause, TimeSpan delay)
    {
        var activity = Activity.Current;
        if (activity is null || activity.Source != TokenizerTracing.Gateway || !activity.IsAllDataRequested)
        {
            return;
        }

        activity.AddEvent(new ActivityEvent(RetryEventName, tags: new ActivityTagsCollection
        {
            [RetryAttemptKey] = failedAttempt,
            [RetryCauseKey] = cause,
            [RetryDelayKey] = (long)delay.TotalMilliseconds,
        }));
        activity.SetTag(AttemptsKey, failedAttempt + 1);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var method = Method(request.Method);
        var template = Template(request.RequestUri?.AbsolutePath);
        using var activity = TokenizerTracing.Gateway.StartActivity(method + " " + template, ActivityKind.Client);
        if (activity is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        activity.SetTag("http.request.method", method);
        activity.SetTag("url.template", template);
        activity.SetTag(AttemptsKey, 1);
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            activity.SetTag("http.response.status_code", status);
            if (status >= 400)
            {
                activity.SetStatus(ActivityStatusCode.Error);
                activity.SetTag(TokenizerTracing.ErrorTypeKey, status.ToString(CultureInfo.InvariantCulture));
            }

            return response;
        }
        catch (Exception error)
        {
            activity.SetStatus(ActivityStatusCode.Error);
            activity.SetTag(TokenizerTracing.ErrorTypeKey, TokenizerTracing.ErrorType(error));
            throw;
        }
    }
}
