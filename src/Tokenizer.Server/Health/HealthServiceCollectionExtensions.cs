using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tokenizer.Core.Ports;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Health;

/// <summary>
/// Readiness over the gRPC health checking protocol (<c>grpc.health.v1.Health</c>, Grpc.AspNetCore.HealthChecks): the
/// service (name <c>""</c>) is SERVING while the ledger answers, the gateway circuit is not open and the host is not
/// stopping; NOT_SERVING otherwise. Callers learn that status and nothing else.
/// </summary>
public static class HealthServiceCollectionExtensions
{
    /// <summary>Health check names (they appear in the server's own health logs only, never on the wire).</summary>
    internal const string LedgerCheck = "ledger";
    internal const string GatewayCheck = "gateway";
    internal const string StoppingCheck = "stopping";

    /// <summary>Adds the gRPC health service, the three checks and the shared <see cref="IGatewayHealth"/>.</summary>
    public static IServiceCollection AddTokenizerHealth(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        // The hook the resilience pipeline reports circuit changes to; the gateway check and the gauge read it.
        services.AddSingleton<IGatewayHealth, GatewayHealth>();
        services.AddGrpcHealthChecks(options =>
            {
                // Check runs the checks on each call (fresh); Watch streams what the publisher last saw and ends with
                // NOT_SERVING when the host stops (the package's default, SuppressCompletionOnShutdown = false).
                options.UseHealthChecksCache = false;
            })
            .AddCheck<LedgerHealthCheck>(LedgerCheck, timeout: TimeSpan.FromSeconds(5))
            .AddCheck<GatewayHealthCheck>(GatewayCheck)
            .AddCheck<StoppingHealthCheck>(StoppingCheck);
        services.Configure<HealthCheckPublisherOptions>(publisher => publisher.Period = TimeSpan.FromSeconds(10));
        return services;
    }

    /// <summary>Maps <c>grpc.health.v1.Health</c> with its anonymous policy (<see cref="RpcPolicies.Anonymous"/>).</summary>
    public static WebApplication MapTokenizerHealth(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGrpcHealthChecksService().RequireRpcPolicies();
        return app;
    }
}

/// <summary>
/// The ledger answers a read: one primary-key lookup of a token id that cannot exist, through the
/// <see cref="ITokenRepository"/> port (so it holds for any ledger behind it, SQLite or another store).
/// </summary>
internal sealed class LedgerHealthCheck(ITokenRepository tokenRepository) : IHealthCheck
{
    /// <summary>Not a token id the gateway issues (those start with <c>pm_</c>): the lookup finds nothing.</summary>
    internal const string ProbeToken = "tokenizer-health-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await tokenRepository.GetTokenAsync(ProbeToken, cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Only the type: the framework logs the result, and a driver's message is not ours to vouch for.
            return HealthCheckResult.Unhealthy("the ledger did not answer: " + error.GetType().Name);
        }
    }
}

/// <summary>Unhealthy while the gateway circuit is open (<see cref="IGatewayHealth"/>); closed and half-open are healthy.</summary>
internal sealed class GatewayHealthCheck(IGatewayHealth gateway) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(gateway.CircuitState == GatewayCircuitState.Open
            ? HealthCheckResult.Unhealthy("the gateway circuit is open")
            : HealthCheckResult.Healthy());
}

/// <summary>
/// Unhealthy from the moment the host starts stopping (<see cref="IHostApplicationLifetime.ApplicationStopping"/>, e.g.
/// on SIGTERM), before the server drains: a balancer that probes during the drain sees NOT_SERVING.
/// </summary>
internal sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("the host is stopping")
            : HealthCheckResult.Healthy());
}
