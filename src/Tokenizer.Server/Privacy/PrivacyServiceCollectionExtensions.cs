using Microsoft.Extensions.Options;
using Tokenizer.Core.Privacy;
using Tokenizer.Ledger;
using Tokenizer.Server.DataProtection;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Privacy;

/// <summary>Wires the privacy operations: keys, vault, the export, correction and erasure use cases, retention purge.</summary>
internal static class PrivacyServiceCollectionExtensions
{
    /// <summary>The folder under the data directory that holds subject keys (SQLite deployments).</summary>
    public const string SubjectKeysDirectory = "subject-keys";

    /// <summary>The fail point value that kills the process after an erasure's first detach (Development only).</summary>
    public const string KillErasureAfterFirstDetach = "kill-erasure-after-first-detach";

    /// <summary>
    /// Adds <see cref="PrivacyOptions"/> (validated at start), the subject pseudonyms (keyed by the request HMAC
    /// secret), the Data Protection subject key protector, the vault (which the tokenisation path writes through), the
    /// export, correction and erasure use cases and the retention purge worker. Needs the ledger, Data Protection and the secrets.
    /// </summary>
    public static IServiceCollection AddTokenizerPrivacy(this IServiceCollection services)
    {
        services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PrivacyOptions>, PrivacyOptionsValidator>();
        // Pseudonyms are stored: they stay keyed by the oldest request secret configured (the last previous one), which the
        // start-up key check holds in place, so a rotation never orphans a subject.
        services.AddSingleton(sp => new SubjectPseudonyms(Audit.AuditGuard.PseudonymSecret(sp.GetRequiredService<ITokenizerSecrets>()).Span));
        services.AddSingleton<ISubjectKeyProtector, DataProtectionSubjectKeyProtector>();
        services.AddSingleton<ISubjectKeyStore>(sp => sp.GetRequiredService<IConfiguration>().GetLedgerProvider() == LedgerProvider.Postgres
            // Replicas share only the database: the keys go in its privacy_subject_keys table (see THREAT_MODEL.md).
            ? sp.GetRequiredService<Tokenizer.Ledger.Privacy.RelationalPrivacyStore>()
            : new FileSubjectKeyStore(sp.GetRequiredService<DataDirectory>().Subdirectory(SubjectKeysDirectory)));
        services.AddSingleton<PersonalDataVault>();
        services.AddSingleton(sp => new PrivacySettings { FailPoint = CrashTestFailPoint(sp) });
        services.AddSingleton<PrivacyExport>();
        services.AddSingleton<PrivacyCorrection>();
        services.AddSingleton<PrivacyErasure>();
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PrivacyOptions>>().Value;
            return new RetentionSettings
            {
                RevokedTokens = TimeSpan.FromDays(options.RevokedTokenRetentionDays),
                IdempotencyRecords = TimeSpan.FromDays(options.IdempotencyRetentionDays),
                TokenEvents = sp.GetRequiredService<IOptions<Events.TokenEventOptions>>().Value.Retention,
            };
        });
        services.AddSingleton<RetentionService>();
        // A start-up step (Hosting.StartupSequence).
        services.AddSingleton<RetentionWorker>();
        return services;
    }

    /// <summary>Development only (the options validator refuses it elsewhere): SIGKILL at the erasure's named point.</summary>
    private static Action<string>? CrashTestFailPoint(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<TokenizerOptions>>().Value.FailPoint;
        if (configured != KillErasureAfterFirstDetach || !services.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            return null;
        }

        return point =>
        {
            if (point == PrivacyFailPoints.ErasureAfterFirstDetach)
            {
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
        };
    }
}
