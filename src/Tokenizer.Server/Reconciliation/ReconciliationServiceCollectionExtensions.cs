using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Reconciliation;

namespace Tokenizer.Server.Reconciliation;

/// <summary>Wires reconciliation: options, the store on the ledger's database, the paced Reconciler, the worker.</summary>
internal static class ReconciliationServiceCollectionExtensions
{
    /// <summary>Adds reconciliation; call after the ledger and the gateway are registered.</summary>
    public static IServiceCollection AddTokenizerReconciliation(this IServiceCollection services)
    {
        services.AddOptions<ReconciliationOptions>().BindConfiguration(ReconciliationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReconciliationOptions>, ReconciliationOptionsValidator>();
        services.AddSingleton<IReconciliationStore>(sp => new RelationalReconciliationStore(sp.GetRequiredService<RelationalTokenLedger>()));
        services.AddSingleton<ReconciliationRuns>();
        services.AddSingleton<ReconciliationMetrics>();
        services.AddSingleton(sp => CreatePacer(sp.GetRequiredService<IOptions<ReconciliationOptions>>().Value.GatewayRequestsPerSecond));
        services.AddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<ReconciliationOptions>>().Value;
            return new Reconciler(
                sp.GetRequiredService<IReconciliationStore>(),
                sp.GetRequiredService<IIntentStore>(),
                sp.GetRequiredService<ITokenGateway>(),
                sp.GetRequiredService<RateLimiter>(),
                sp.GetRequiredService<TimeProvider>(),
                new ReconcilerSettings
                {
                    GatewayPageSize = settings.GatewayPageSize,
                    PendingGrace = TimeSpan.FromSeconds(settings.PendingGraceSeconds),
                });
        });
        // A start-up step (Hosting.StartupSequence), and the service StartReconciliation wakes.
        services.AddSingleton<ReconciliationWorker>();
        return services;
    }

    /// <summary>
    /// A token bucket of <paramref name="perSecond"/> permits a second, refilled in small steps (every 1/rate seconds,
    /// or every 50 ms with a few permits at high rates) so requests spread over the second instead of bursting.
    /// </summary>
    internal static RateLimiter CreatePacer(double perSecond)
    {
        var permits = Math.Max(1, (int)Math.Ceiling(perSecond * 0.05));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = permits,
            TokensPerPeriod = permits,
            ReplenishmentPeriod = TimeSpan.FromSeconds(permits / perSecond),
            QueueLimit = 1000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
