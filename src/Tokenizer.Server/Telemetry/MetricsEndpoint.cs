using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Logging;

namespace Tokenizer.Server.Telemetry;

/// <summary>
/// The Prometheus scraping endpoint (<c>GET /metrics</c>) on its own listener: plain HTTP/1.1 on loopback addresses
/// only (<c>Tokenizer:Metrics:Urls</c>), served by a small Kestrel of its own inside this process.
/// </summary>
/// <remarks>
/// <para>
/// A separate server rather than another endpoint of the gRPC one: Kestrel ignores the configured <c>Urls</c> as soon
/// as one endpoint is added in code, and an endpoint filtered with <c>RequireHost("*:9464")</c> matches the
/// <c>Host</c> header the client sends, not the port it connected to, so it would still answer on the gRPC port.
/// Here the gRPC port has no metrics route at all, and this listener has no gRPC, authentication, rate limiting or
/// other route: anything but <c>/metrics</c> is 404.
/// </para>
/// <para>
/// Unauthenticated by design, hence loopback only (a scraper or agent on the same host, or a sidecar); the options
/// validator refuses any other address. The exported text holds only metric names, fixed tag values and numbers.
/// </para>
/// </remarks>
public sealed partial class MetricsEndpoint(
    IOptions<TokenizerOptions> options,
    MeterProvider meterProvider,
    Core.Telemetry.TokenizerMetrics metrics,
    IHostEnvironment environment,
    ILogger<MetricsEndpoint> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    private WebApplication? app;

    /// <summary>The listener's first address once started (an ephemeral port resolved), or null when metrics are off.</summary>
    public Uri? Address { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The instruments exist from start-up (the circuit gauge reports before the first call), export or not.
        GC.KeepAlive(metrics);
        var endpoints = MetricsSettings.Parse(options.Value.Metrics.Urls);
        if (endpoints.Count == 0)
        {
            return;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment.EnvironmentName,
            ApplicationName = typeof(MetricsEndpoint).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Nothing from configuration files or the environment reaches this listener: its addresses come from the
        // validated setting alone. The process's own lifetime (SIGTERM) stops it through the main host.
        builder.Configuration.Sources.Clear();
        builder.Services.AddSingleton<IHostLifetime, HostedByParentLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = 16;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.MaxRequestHeadersTotalSize = 8 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Logging.AddTokenizerLogging();
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);

        var metricsApp = builder.Build();

        // The addresses are set here, on the server itself, so the host never fills them from a configured "urls"
        // (it does so only when none are set) and PreferHostingUrls never matters.
        metricsApp.Urls.Clear();
        foreach (var endpoint in endpoints)
        {
            metricsApp.Urls.Add("http://" + endpoint.ToString());
        }

        metricsApp.MapPrometheusScrapingEndpoint(Path, meterProvider, configureBranchedPipeline: null, optionsName: null);
        await metricsApp.StartAsync(cancellationToken).ConfigureAwait(false);
        app = metricsApp;

        var bound = metricsApp.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        Address = bound is null ? null : new Uri(bound);
        LogListening(logger, bound ?? "(unknown)", Path);
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

    [LoggerMessage(
        EventId = 6001,
        EventName = "MetricsListening",
        Level = LogLevel.Information,
        Message = "Prometheus scraping endpoint on {Address}{Path} (loopback only, HTTP/1.1)")]
    private static partial void LogListening(ILogger logger, string address, string path);

    /// <summary>The nested host neither watches signals nor prints lifetime messages: the main host stops it.</summary>
    private sealed class HostedByParentLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Configuration section <c>Tokenizer:Metrics</c>.</summary>
public sealed class MetricsSettings
{
    /// <summary>The default: loopback, the port Prometheus' exporter conventions use.</summary>
    public const string DefaultUrls = "http://127.0.0.1:9464";

    /// <summary>
    /// <c>;</c>-separated <c>http://</c> addresses on loopback (<c>127.0.0.0/8</c>, <c>[::1]</c> or <c>localhost</c>,
    /// port 0 for an ephemeral one) for the Prometheus scraping endpoint; empty turns metrics export off. Any other
    /// address is refused: the endpoint has no authentication.
    /// </summary>
    public string? Urls { get; set; } = DefaultUrls;

    /// <summary>The listen endpoints of <paramref name="urls"/>; throws <see cref="FormatException"/> naming the rule broken.</summary>
    internal static IReadOnlyList<IPEndPoint> Parse(string? urls)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
                || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo)
                || (uri.IsDefaultPort && !HasExplicitPort(url)))
            {
                throw new FormatException("every address must be http://host:port with no path");
            }

            IPAddress? address = uri.Host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) ? ip : null;
            if (address is null || !IPAddress.IsLoopback(address))
            {
                throw new FormatException("only loopback addresses are allowed (the scrape endpoint has no authentication)");
            }

            endpoints.Add(new IPEndPoint(address, uri.Port));
        }

        return endpoints;
    }

    private static bool HasExplicitPort(string url)
    {
        var authority = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        var colon = authority.LastIndexOf(':');
        return colon >= 0 && colon > authority.LastIndexOf(']');
    }
}
