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
    /// configuration events, and two start-up steps for <c>Hosting.StartupSequence</c> (not hosted services of their own):
    /// <c>AuditStartup</c>, which opens the trail and records <c>configuration/service_started</c> before calls are taken
    /// (a failure stops the host), and <c>RefusedCallAudit</c>, which aggregates and flushes the records of calls refused
    /// before a handler ran. A host composed without the sequence adds both as hosted services, in that order.
    /// </summary>
    /// <remarks>
    /// The caller still has to (1) add <c>grpc.Interceptors.Add&lt;AuditInterceptor&gt;()</c> after CallContextInterceptor
    /// and <b>before</b> ErrorMappingInterceptor in <c>AddGrpc</c>, and (2) map <c>AuditGrpcService</c> with the
    /// admin-only authorization policy, and (3) call <see cref="UseCallAudit"/> first in the pipeline. Registers <see cref="TimeProvider.System"/> unless a TimeProvider is registered.
    /// </remarks>
    /// <param name="services">The host's services; the ledger (AddTokenizerLedger) must be registered: the audit trail is
    /// its table audit_events, keyed by the audit secret given there.</param>
    public static IServiceCollection AddTokenizerAudit(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ConfigurationAudit>();
        services.AddSingleton<AuditInterceptor>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AuditingAuthorizationResultHandler>();
        // Start-up steps (Hosting.StartupSequence orders them: RefusedCallAudit after AuditStartup, so it stops first).
        services.AddSingleton<AuditStartup>();
        services.AddSingleton<RefusedCallAudit>();
        return services;
    }

    /// <summary>
    /// Adds <c>CallAuditMiddleware</c>: call it before authentication, rate limiting and authorisation, so it sees every
    /// request and records the ones that never reached the audit interceptor.
    /// </summary>
    public static IApplicationBuilder UseCallAudit(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<CallAuditMiddleware>();
    }

    /// <summary>
    /// Adds the <see cref="AuditGuard"/> (start-up key and anchor checks, periodic anchoring) and the anchor store chosen
    /// by <c>Tokenizer:AuditAnchor:Store</c> (unset: <c>KeyVault</c> when <c>KeyVault:Uri</c> is set, else <c>File</c>): <c>File</c> (<c>{DataDirectory}/anchor/audit-anchor.json</c>) or
    /// <c>KeyVault</c> (the secret <c>KeyVault:AuditAnchorSecretName</c>; needs <c>KeyVault:Uri</c>). Needs the secrets,
    /// the options and <c>DataDirectory</c> of the host.
    /// </summary>
    /// <exception cref="InvalidOperationException">The store is unknown, or KeyVault without <c>KeyVault:Uri</c> (when first resolved).</exception>
    public static IServiceCollection AddTokenizerAuditAnchor(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IAuditAnchorStore>(sp =>
        {
            var store = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Hosting.TokenizerOptions>>().Value.AuditAnchor.Store?.Trim();
            if (string.IsNullOrEmpty(store))
            {
                // Unset: Key Vault where the service already uses one (production), so a host that loses or rewrites its
                // disk cannot also rewrite the anchor; the data directory otherwise.
                store = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Secrets.KeyVaultOptions>>().Value.IsConfigured ? "KeyVault" : "File";
            }

            if (string.Equals(store, "File", StringComparison.OrdinalIgnoreCase))
            {
                var directory = sp.GetRequiredService<Hosting.DataDirectory>().Subdirectory("anchor");
                return new FileAuditAnchorStore(Path.Combine(directory, "audit-anchor.json"));
            }

            if (string.Equals(store, "KeyVault", StringComparison.OrdinalIgnoreCase))
            {
                var keyVault = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Secrets.KeyVaultOptions>>().Value;
                return keyVault.IsConfigured
                    ? new KeyVaultAuditAnchorStore(sp.GetRequiredService<Azure.Security.KeyVault.Secrets.SecretClient>(), keyVault.AuditAnchorSecretName)
                    : throw new InvalidOperationException("Tokenizer:AuditAnchor:Store is KeyVault but KeyVault:Uri is not set.");
            }

            throw new InvalidOperationException("Tokenizer:AuditAnchor:Store must be File or KeyVault.");
        });
        services.TryAddSingleton<AuditGuard>();
        return services;
    }
}
