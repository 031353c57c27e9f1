using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Faults;
using Tokenizer.StripeSandbox.Hosting;
using Tokenizer.StripeSandbox.State;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox;

/// <summary>Counts of the sandbox's state (also served as <c>GET /_sandbox/stats</c>).</summary>
/// <param name="PaymentMethods">PaymentMethods created and kept (attached, detached or never attached).</param>
/// <param name="Customers">Customers created.</param>
/// <param name="Attached">PaymentMethods currently attached to a Customer.</param>
public sealed record SandboxStats(int PaymentMethods, int Customers, int Attached);

/// <summary>
/// An in-process Stripe-API-compatible HTTP server (Kestrel, loopback only) for the subset the Tokenizer uses:
/// <c>POST /v1/payment_methods</c>, <c>GET /v1/payment_methods/{id}</c>, <c>POST /v1/payment_methods/{id}/attach</c>,
/// <c>POST /v1/payment_methods/{id}/detach</c>, <c>POST /v1/customers</c>, <c>GET /v1/customers/{id}</c>,
/// <c>GET /v1/customers/{id}/payment_methods</c>, SetupIntents (<c>/v1/setup_intents</c>, confirm, verify_microdeposits),
/// <c>GET /v1/mandates/{id}</c>, PaymentIntents (<c>/v1/payment_intents</c>), Events (<c>GET /v1/events</c>, each state
/// change's event, delivered signed to webhook endpoints: <c>/v1/webhook_endpoints</c>, <see cref="Webhooks"/>) and the
/// hosted next-action pages under <c>/_sandbox/</c>. It answers like Stripe test mode on the documented test cards and
/// keeps, like Stripe, no PAN, CVC, full account number or IBAN. Point Stripe.net's <c>ApiBase</c> at <see cref="BaseAddress"/>.
/// </summary>
public sealed class StripeSandboxServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly SandboxStore store;

    private StripeSandboxServer(WebApplication app, Uri baseAddress)
    {
        this.app = app;
        store = app.Services.GetRequiredService<SandboxStore>();
        Faults = app.Services.GetRequiredService<SandboxFaultPlan>();
        Requests = app.Services.GetRequiredService<SandboxRequestLog>();
        Webhooks = app.Services.GetRequiredService<SandboxWebhooks>();
        BaseAddress = baseAddress;
    }

    /// <summary>The address the server listens on, with a trailing slash (e.g. <c>http://127.0.0.1:40123/</c>).</summary>
    public Uri BaseAddress { get; }

    /// <summary>
    /// The fault plan applied to <c>/v1</c> requests: add rules (<c>server.Faults.Add("POST /v1/payment_methods",
    /// SandboxFault.Status(503), count: 2)</c>), read what is left, clear it. Empty at start; not persisted.
    /// </summary>
    public SandboxFaultPlan Faults { get; }

    /// <summary>The latest <c>/v1</c> requests received (method, path, Idempotency-Key, outcome; never bodies), for counting attempts and comparing keys.</summary>
    public SandboxRequestLog Requests { get; }

    /// <summary>
    /// Webhook deliveries: add endpoints, switch between delivering, dropping and holding events, release held ones in
    /// creation or reverse order, and read the delivery attempts (the same as the <c>/_sandbox/webhooks</c> control endpoints).
    /// </summary>
    public SandboxWebhooks Webhooks { get; }

    /// <summary>
    /// Validates the options and starts Kestrel on <see cref="StripeSandboxOptions.Urls"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The environment is Production (the sandbox accepts raw card data), a setting is invalid (non-loopback URL, live API
    /// key), or the data directory is unreadable or used by another sandbox.
    /// </exception>
    public static async Task<StripeSandboxServer> StartAsync(
        StripeSandboxOptions options, string environmentName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environmentName);
        if (string.Equals(environmentName.Trim(), Environments.Production, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                "The Stripe sandbox refuses to start in the Production environment: it accepts raw card numbers and is for development and tests only.");
        }

        // A private copy: later changes to the caller's object do not reach the running server.
        var settings = new StripeSandboxOptions
        {
            DataDirectory = options.DataDirectory,
            ApiKey = options.ApiKey,
            RawCardDataEnabled = options.RawCardDataEnabled,
            Urls = options.Urls,
            TimeProvider = options.TimeProvider,
            BeforeExecuteAsync = options.BeforeExecuteAsync,
            ConfigureLogging = options.ConfigureLogging,
            HostedInProcess = options.HostedInProcess,
            ControlToken = options.ControlToken,
            AllowFaultHeader = options.AllowFaultHeader,
            RecordedRequestLimit = options.RecordedRequestLimit,
            BacsMandateActivationDelay = options.BacsMandateActivationDelay,
            DebitProcessingDelay = options.DebitProcessingDelay,
            WebhookEndpoints = [.. (options.WebhookEndpoints ?? []).Select(e => e is null ? null! : new SandboxWebhookEndpoint { Url = e.Url, Secret = e.Secret, EnabledEvents = e.EnabledEvents is null ? null! : [.. e.EnabledEvents] })],
            WebhookTrustedCaPath = options.WebhookTrustedCaPath,
            WebhookMaxAttempts = options.WebhookMaxAttempts,
            WebhookRetryBaseDelay = options.WebhookRetryBaseDelay,
            WebhookTimeout = options.WebhookTimeout,
        };
        var validation = new StripeSandboxOptionsValidator().Validate(null, settings);
        if (validation.Failed)
        {
            throw new InvalidOperationException(validation.FailureMessage);
        }

        var app = SandboxHost.Build(settings, environmentName);
        try
        {
            await app.StartAsync(cancellationToken);
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            var server = new StripeSandboxServer(app, new Uri(address.TrimEnd('/') + "/"));
            SandboxLog.Started(app.Logger, server.BaseAddress, settings.DataDirectory is null ? "in memory" : "persistent");
            return server;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The card account updater (<c>POST /_sandbox/payment_methods/{pm}/automatic_update</c>): sets the card's expiry and,
    /// when given, its last4 (the fingerprint stays) and fires <c>payment_method.automatically_updated</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">Unknown or detached PaymentMethod, not a card, or an invalid expiry or last4 (the message says which).</exception>
    public void UpdateCardAutomatically(string paymentMethodId, int expMonth, int expYear, string? last4 = null) =>
        Control(control => control.AutomaticUpdate(paymentMethodId, expMonth, expYear, last4));

    /// <summary>
    /// The customer cancels a mandate at their bank (<c>POST /_sandbox/mandates/{mandate}/deactivate</c>): status
    /// <c>inactive</c>, <c>mandate.updated</c> fires.
    /// </summary>
    /// <exception cref="InvalidOperationException">Unknown mandate.</exception>
    public void DeactivateMandate(string mandateId) => Control(control => control.DeactivateMandate(mandateId));

    /// <summary>
    /// Someone deletes a Customer in the Dashboard (<c>POST /_sandbox/customers/delete</c>): its PaymentMethods are
    /// detached with it and <c>customer.deleted</c> fires.
    /// </summary>
    /// <exception cref="InvalidOperationException">Unknown or already deleted Customer.</exception>
    public void DeleteCustomer(string customerId) => Control(control => control.DeleteCustomers(customerId, null));

    /// <summary>The current counts (the same numbers as <c>GET /_sandbox/stats</c>).</summary>
    public SandboxStats GetStats() => SandboxHost.Stats(store);

    private void Control(Func<SandboxControl, ApiResult> action)
    {
        try
        {
            action(app.Services.GetRequiredService<SandboxControl>());
        }
        catch (StripeApiException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
    }

    /// <summary>Completes when the host stops (Ctrl+C or SIGTERM when run standalone).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops Kestrel and releases the data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
