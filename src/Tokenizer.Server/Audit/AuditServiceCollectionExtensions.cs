using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>Wires the tamper-evident audit trail into the host.</summary>
public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Adds the SQLite audit trail (<see cref="IAuditTrail"/>, <see cref="IAuditTrailReader"/>), the gRPC
    /// <c>AuditInterceptor</c>, the auditing authorization result handler (replaces the default
    /// <see cref="IAuthorizationMiddlewareResultHandler"/> and delegates to it), <c>ConfigurationAudit</c> for key and
    /// configuration events, and a hosted service that opens the trail and records <c>configuration/service_started</c>
    /// before calls are taken (a failure stops the host).
    /// </summary>
    /// <remarks>
    /// The caller still has to (1) add <c>grpc.Interceptors.Add&lt;AuditInterceptor&gt;()</c> <b>before</b>
    /// ErrorMappingInterceptor in <c>AddGrpc</c>, so it is outermost, and (2) map <c>AuditGrpcService</c> with the
    /// admin-only authorization policy. Registers <see cref="TimeProvider.System"/> unless a TimeProvider is registered.
    /// </remarks>
    /// <param name="services">The host's services; a <see cref="SqliteTokenLedger"/> singleton must be registered (the
    /// audit trail is its table audit_events and shares its write queue).</param>
    /// <param name="auditKey">
    /// Returns the audit HMAC key, at least 32 bytes, called once when the trail is first resolved (at start-up). A
    /// secret of its own (never the request HMAC secret), best kept off the disk that holds the database.
    /// </param>
    public static IServiceCollection AddTokenizerAudit(this IServiceCollection services, Func<IServiceProvider, byte[]> auditKey)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(auditKey);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SqliteAuditTrail(
            sp.GetRequiredService<SqliteTokenLedger>(),
            auditKey(sp),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IAuditTrail>(sp => sp.GetRequiredService<SqliteAuditTrail>());
        services.AddSingleton<IAuditTrailReader>(sp => sp.GetRequiredService<SqliteAuditTrail>());
        services.AddSingleton<ConfigurationAudit>();
        services.AddSingleton<AuditInterceptor>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuditingAuthorizationResultHandler>();
        services.AddHostedService<AuditStartup>();
        return services;
    }
}
