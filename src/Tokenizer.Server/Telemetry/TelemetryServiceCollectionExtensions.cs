using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Server.Telemetry;

/// <summary>Metrics: the <see cref="TokenizerMetrics"/> instruments, exported by OpenTelemetry to a Prometheus scrape.</summary>
public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="TokenizerMetrics"/>, the gRPC <see cref="MetricsInterceptor"/> (the caller adds it to the gRPC
    /// options), OpenTelemetry metrics with the Prometheus exporter for the <c>Tokenizer</c> meter only, and the
    /// <see cref="MetricsEndpoint"/> listener (a start-up step of <c>Hosting.StartupSequence</c>). No logging or tracing provider is added: the server's only log sink stays
    /// the scrubbing console.
    /// </summary>
    public static IServiceCollection AddTokenizerTelemetry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddMetrics();
        services.AddSingleton<TokenizerMetrics>();
        services.AddSingleton<MetricsInterceptor>();

        // Only our meter: framework meters (Kestrel, ASP.NET Core hosting) carry addresses and routes we do not vouch for.
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("tokenizer", autoGenerateServiceInstanceId: false))
            .WithMetrics(metrics => metrics
                .AddMeter(TokenizerMetrics.MeterName)
                .AddPrometheusExporter());
        services.ConfigureOpenTelemetryMeterProvider((provider, builder) =>
        {
            // Meters are process-wide and matched by name: export only this host's own (created by its IMeterFactory),
            // so another host in the same process (tests run several) never mixes into our streams or retires them.
            var factory = provider.GetRequiredService<IMeterFactory>();
            builder.AddView(instrument => ReferenceEquals(instrument.Meter.Scope, factory) ? null : MetricStreamConfiguration.Drop);
        });

        // OpenTelemetry puts its hosted service first. That is harmless: it needs no secret, and the secrets still load
        // before it starts, since Hosting.StartupSequence runs its steps before any hosted service's StartAsync.
        // The metrics listener is the sequence's last step.
        services.AddSingleton<MetricsEndpoint>();
        return services;
    }
}
