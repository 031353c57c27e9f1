using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Webhooks;

/// <summary>Wires the Stripe webhook listener, its inbox worker and the catch-up into the host.</summary>
public static class WebhookServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="WebhookOptions"/> (validated at start), the secrets, the receiver, the aggregated refusal audit,
    /// the metrics, the processor and, as start-up steps of <c>Hosting.StartupSequence</c>, the listener, the inbox worker and the catch-up worker (all
    /// idle unless <c>Tokenizer:Webhooks:Urls</c> is set). Needs the ledger, the audit trail, the Stripe gateway, TLS
    /// material and telemetry of <c>AddTokenizer</c>.
    /// </summary>
    public static IServiceCollection AddTokenizerWebhooks(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSignal>();
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<WebhookRateLimits>();
        services.AddSingleton<WebhookReceiver>();
        services.AddSingleton<WebhookProcessor>();
        // Start-up steps, in the order Hosting.StartupSequence gives them.
        services.AddSingleton<WebhookRefusalAudit>();
        services.AddSingleton<WebhookListener>();
        services.AddSingleton<WebhookWorker>();
        services.AddSingleton<WebhookCatchUpWorker>();
        return services;
    }
}
