using System.Security.Authentication;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Logging;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// The Stripe webhook listener: a small Kestrel of its own inside this process on <c>Tokenizer:Webhooks:Urls</c>,
/// HTTPS only (TLS 1.2/1.3, the server certificate of <c>Tokenizer:Tls</c>), no client certificate (Stripe presents
/// none), one route (<c>POST /stripe/webhook</c>; anything else 404), a 64 KiB body limit and token-bucket rate limits
/// (<see cref="WebhookRateLimits"/>: per peer before the body is read, ASP.NET Core rate limiting; and one bucket for
/// signed deliveries, charged by the receiver; refusals answer 429, counted and audited in aggregate).
/// </summary>
/// <remarks>
/// A separate server, as the metrics listener is: the gRPC port's client-certificate authentication and routes never
/// apply here, and this port serves nothing else. No request logging: a webhook body carries billing details.
/// </remarks>
public sealed partial class WebhookListener(
    IOptions<WebhookOptions> options,
    IServiceProvider services,
    IHostEnvironment environment,
    ILogger<WebhookListener> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? app;

    /// <summary>The listener's first address once started (an ephemeral port resolved), or null when it is off.</summary>
    public Uri? Address { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var addresses = WebhookOptions.ParseUrls(settings.Urls);
        if (addresses.Count == 0)
        {
            return;
        }

        // Fails start-up now, naming the setting, if no secret can be had.
        _ = services.GetRequiredService<WebhookSecrets>().Current;
        var certificate = services.GetRequiredService<TlsMaterial>().ServerCertificate;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment.EnvironmentName,
            ApplicationName = typeof(WebhookListener).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        builder.Services.AddSingleton<IHostLifetime, HostedByParentLifetime>();
        // The slim builder leaves HTTPS out unless asked for.
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = 256;
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
            // One byte over the limit is read, so the receiver itself sees an oversize chunked body and answers 400.
            kestrel.Limits.MaxRequestBodySize = WebhookOptions.MaxBodyBytes + 1;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 50;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(1);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            kestrel.Limits.Http2.MaxStreamsPerConnection = 16;
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ServerCertificate = certificate;
#pragma warning disable CA5398 // pinned as on the gRPC listener: PCI DSS 4.2.1 refuses TLS 1.0/1.1 whatever the OS policy says
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
#pragma warning restore CA5398
                https.ClientCertificateMode = ClientCertificateMode.NoCertificate;
            });
        });
        // The same scrubbing sink as the host; framework lines only from Warning (Kestrel logs request details below it).
        builder.Logging.AddTokenizerLogging();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);

        var refusals = services.GetRequiredService<WebhookRefusalAudit>();
        var metrics = services.GetRequiredService<WebhookMetrics>();
        var limits = services.GetRequiredService<WebhookRateLimits>();
        builder.Services.AddRateLimiter(limiter =>
        {
            // Per peer, before the body is read: a host's junk (no or a bad signature) empties only its own bucket. Signed
            // deliveries are charged to the shared bucket by the receiver, after the signature matched.
            limiter.GlobalLimiter = limits.PerPeer;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                metrics.Received("refused", WebhookReasons.RateLimited);
                refusals.Add(WebhookReasons.RateLimited, context.HttpContext.Connection.RemoteIpAddress?.ToString());
                return ValueTask.CompletedTask;
            };
        });

        var listener = builder.Build();
        listener.Urls.Clear();
        foreach (var address in addresses)
        {
            listener.Urls.Add(address.GetLeftPart(UriPartial.Authority));
        }

        listener.UseRateLimiter();
        var receiver = services.GetRequiredService<WebhookReceiver>();
        listener.MapPost(WebhookReceiver.Path, receiver.HandleAsync);
        await listener.StartAsync(cancellationToken).ConfigureAwait(false);
        app = listener;

        var bound = listener.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = bound is null ? null : new Uri(bound);
        LogListening(logger, bound ?? "(unknown)", WebhookReceiver.Path);
        RegisterWithEmbeddedSandbox();
    }

    /// <summary>
    /// With the embedded sandbox as the gateway, registers this listener with it (as an operator registers the endpoint
    /// in Stripe's Dashboard): the handled event types, signed with the current secret, to the loopback address.
    /// </summary>
    private void RegisterWithEmbeddedSandbox()
    {
        // Not composed in Production (Hosting.EmbeddedSandboxComposition); not running with a Stripe key.
        var sandbox = services.GetService<Hosting.IEmbeddedSandbox>();
        if (sandbox?.Address is null || Address is null)
        {
            return;
        }

        var host = System.Net.IPAddress.TryParse(Address.Host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip) ? Address.Host : "127.0.0.1";
        var url = new UriBuilder(Uri.UriSchemeHttps, host, Address.Port, WebhookReceiver.Path).Uri.ToString();
        var id = sandbox.AddWebhookEndpoint(url, services.GetRequiredService<WebhookSecrets>().Current[0], WebhookEventTypes.Handled);
        LogRegistered(logger, id);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (app is not null)
        {
            await app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            app = null;
        }
    }

    [LoggerMessage(EventId = 7102, EventName = "WebhookListening", Level = LogLevel.Information,
        Message = "Stripe webhook endpoint on {Address}{Path} (HTTPS, no client certificate)")]
    private static partial void LogListening(ILogger logger, string address, string path);

    [LoggerMessage(EventId = 7107, EventName = "WebhookRegisteredWithSandbox", Level = LogLevel.Information,
        Message = "Registered the webhook endpoint with the embedded Stripe sandbox ({EndpointId})")]
    private static partial void LogRegistered(ILogger logger, string endpointId);

    /// <summary>The nested host neither watches signals nor prints lifetime messages: the main host stops it.</summary>
    private sealed class HostedByParentLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
