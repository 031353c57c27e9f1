using System.Diagnostics;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// One span per Stripe event processed from the inbox (<see cref="TokenizerTracing.Server"/>, <c>webhook process</c>),
/// a trace of its own (Stripe sends no trace context we would take): its ledger and gateway spans hang under it.
/// </summary>
/// <remarks>
/// Attributes: <c>tokenizer.webhook.event_type</c> (a handled type, else <c>other</c>), <c>tokenizer.webhook.attempt</c>,
/// <c>tokenizer.webhook.result</c> (<c>processed</c>, <c>ignored</c>, <c>deferred</c>, <c>failed</c>) and on failure
/// <c>error.type</c> and the error reason. Never the event id, the object id or anything from the body.
/// </remarks>
internal static class WebhookTracing
{
    public static Activity? Start(string type, int attempt)
    {
        if (!TokenizerTracing.Server.HasListeners())
        {
            return null;
        }

        // A root: the worker's loop is no parent of the events it runs.
        Activity.Current = null;
        var activity = TokenizerTracing.Server.StartActivity("webhook process", ActivityKind.Consumer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("tokenizer.webhook.event_type", WebhookEventTypes.IsHandled(type) ? type : TokenizerTracing.Other);
            activity.SetTag("tokenizer.webhook.attempt", attempt);
        }

        return activity;
    }

    /// <summary>Records how the event ended; <paramref name="result"/> is one of the four fixed results.</summary>
    public static void End(Activity? activity, string result, Exception? error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("tokenizer.webhook.result", result);
        if (error is not null)
        {
            TokenizerTracing.RecordError(activity, error);
        }
    }
}
