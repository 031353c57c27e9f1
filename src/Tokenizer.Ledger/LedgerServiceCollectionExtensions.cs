using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Postgres;

namespace Tokenizer.Ledger;

/// <summary>Which database holds the ledger, the audit trail and (PostgreSQL) the Data Protection key ring.</summary>
public enum LedgerProvider
{
    /// <summary>One SQLite file under the data directory (the default): one process at a time.</summary>
    Sqlite = 1,

    /// <summary>A PostgreSQL 15+ database shared by any number of stateless replicas.</summary>
    Postgres = 2,
}

/// <summary>Registers the ledger chosen by configuration.</summary>
public static class LedgerServiceCollectionExtensions
{
    /// <summary>The configuration key that chooses the provider: <c>Sqlite</c> (default when unset) or <c>Postgres</c>.</summary>
    public const string ProviderKey = "Ledger:Provider";

    /// <summary>The connection string name (<c>ConnectionStrings:Ledger</c>) the PostgreSQL ledger connects with.</summary>
    public const string ConnectionStringName = "Ledger";

    /// <summary>
    /// The provider named by <c>Ledger:Provider</c>: <c>Sqlite</c> when unset or empty, <c>Sqlite</c> or <c>Postgres</c>
    /// (also <c>PostgreSQL</c>) in any case.
    /// </summary>
    /// <exception cref="InvalidOperationException">The setting names another provider (the message names the setting, not its value).</exception>
    public static LedgerProvider GetLedgerProvider(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration[ProviderKey]?.Trim();
        if (string.IsNullOrEmpty(value) || string.Equals(value, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return LedgerProvider.Sqlite;
        }

        if (string.Equals(value, "Postgres", StringComparison.OrdinalIgnoreCase)
            || string.Equals(value, "PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            return LedgerProvider.Postgres;
        }

        throw new InvalidOperationException($"{ProviderKey} must be Sqlite or Postgres");
    }

    /// <summary>
    /// Registers, as singletons, the ledger chosen by <c>Ledger:Provider</c>: <see cref="RelationalTokenLedger"/> (the
    /// concrete <see cref="SqliteTokenLedger"/> or <see cref="PostgresTokenLedger"/> too) as <see cref="ILedgerSchema"/>,
    /// its stores as <see cref="IClaimStore"/>, <see cref="IIntentStore"/>, <see cref="ICustomerRepository"/> and
    /// <see cref="ITokenRepository"/>, the audit trail on the same database and connections as
    /// <see cref="IAuditTrail"/>, <see cref="IAuditTrailReader"/> and <see cref="RelationalAuditTrail"/> (the concrete
    /// <see cref="SqliteAuditTrail"/> or <see cref="PostgresAuditTrail"/> too), and for PostgreSQL the Data Protection key
    /// ring in the database as <see cref="IXmlRepository"/> and <see cref="PostgresXmlRepository"/>, and the token event
    /// log on the same database as <see cref="ITokenEventLog"/>, <see cref="ITokenEventReader"/> and
    /// <see cref="TokenEvents.RelationalTokenEventStore"/>. Registers
    /// <see cref="TimeProvider.System"/> unless a TimeProvider is registered; needs logging.
    /// </summary>
    /// <remarks>
    /// Nothing is initialised here: the host calls <see cref="RelationalTokenLedger.InitializeAsync"/> (and the trail's)
    /// at start-up. The Data Protection repository is registered, not installed: the host sets
    /// <c>KeyManagementOptions.XmlRepository</c> to it (replicas then share one key ring).
    /// </remarks>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Read for <c>Ledger:Provider</c> and <c>ConnectionStrings:Ledger</c>, now (not on change).</param>
    /// <param name="sqliteOptions">The SQLite database file's path, called once when the ledger is first resolved; unused for PostgreSQL.</param>
    /// <param name="auditKey">
    /// The audit HMAC key, at least 32 bytes, called once when the trail is first resolved. A secret of its own (never
    /// the request HMAC secret), never stored in the ledger's database.
    /// </param>
    /// <exception cref="InvalidOperationException"><c>Ledger:Provider</c> is unknown, or it is Postgres and <c>ConnectionStrings:Ledger</c> is empty.</exception>
    public static IServiceCollection AddTokenizerLedger(
        this IServiceCollection services,
        IConfiguration configuration,
        Func<IServiceProvider, SqliteLedgerOptions> sqliteOptions,
        Func<IServiceProvider, byte[]> auditKey)
    {
        ArgumentNullException.ThrowIfNull(auditKey);
        return services.AddTokenizerLedger(configuration, sqliteOptions, sp => new AuditKeyRing(auditKey(sp)));
    }

    /// <summary>
    /// As <see cref="AddTokenizerLedger(IServiceCollection, IConfiguration, Func{IServiceProvider, SqliteLedgerOptions}, Func{IServiceProvider, byte[]})"/>,
    /// with the audit keys as a ring: the current key signs new records, earlier keys still verify theirs (rotation).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">Read for <c>Ledger:Provider</c> and <c>ConnectionStrings:Ledger</c>.</param>
    /// <param name="sqliteOptions">The SQLite database file's path; unused for PostgreSQL.</param>
    /// <param name="auditKeys">The audit keys, called once when the trail is first resolved.</param>
    /// <exception cref="InvalidOperationException"><c>Ledger:Provider</c> is unknown, or it is Postgres and <c>ConnectionStrings:Ledger</c> is empty.</exception>
    public static IServiceCollection AddTokenizerLedger(
        this IServiceCollection services,
        IConfiguration configuration,
        Func<IServiceProvider, SqliteLedgerOptions> sqliteOptions,
        Func<IServiceProvider, AuditKeyRing> auditKeys)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sqliteOptions);
        ArgumentNullException.ThrowIfNull(auditKeys);

        services.TryAddSingleton(TimeProvider.System);
        switch (configuration.GetLedgerProvider())
        {
            case LedgerProvider.Postgres:
                AddPostgres(services, configuration.GetConnectionString(ConnectionStringName), auditKeys);
                break;
            default:
                AddSqlite(services, sqliteOptions, auditKeys);
                break;
        }

        // The core's persistence ports, each a store of the ledger on its one database.
        services.AddSingleton<ILedgerSchema>(sp => sp.GetRequiredService<RelationalTokenLedger>());
        services.AddSingleton(sp => sp.GetRequiredService<RelationalTokenLedger>().Claims);
        services.AddSingleton(sp => sp.GetRequiredService<RelationalTokenLedger>().Intents);
        services.AddSingleton(sp => sp.GetRequiredService<RelationalTokenLedger>().Customers);
        services.AddSingleton(sp => sp.GetRequiredService<RelationalTokenLedger>().Tokens);
        services.AddSingleton<IAuditTrail>(sp => sp.GetRequiredService<RelationalAuditTrail>());
        services.AddSingleton<IAuditTrailReader>(sp => sp.GetRequiredService<RelationalAuditTrail>());
        // Privacy: subject keys, encrypted personal data and erasures in the same database.
        services.AddSingleton(sp => new Privacy.RelationalPrivacyStore(sp.GetRequiredService<RelationalTokenLedger>()));
        services.AddSingleton<Tokenizer.Core.Privacy.IPrivacyStore>(sp => sp.GetRequiredService<Privacy.RelationalPrivacyStore>());
        // The token event log (webhook handlers and revokes append, ListTokenEvents/WatchTokenEvents read).
        services.AddSingleton(sp => new TokenEvents.RelationalTokenEventStore(
            sp.GetRequiredService<RelationalTokenLedger>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ITokenEventLog>(sp => sp.GetRequiredService<TokenEvents.RelationalTokenEventStore>());
        services.AddSingleton<ITokenEventReader>(sp => sp.GetRequiredService<TokenEvents.RelationalTokenEventStore>());
        // The Stripe webhook inbox and the token updates its events make, in the same database.
        services.AddSingleton(sp => new Webhooks.RelationalWebhookStore(sp.GetRequiredService<RelationalTokenLedger>(), sp.GetService<TimeProvider>()));
        return services;
    }

    private static void AddSqlite(IServiceCollection services, Func<IServiceProvider, SqliteLedgerOptions> sqliteOptions, Func<IServiceProvider, AuditKeyRing> auditKey)
    {
        services.AddSingleton(sp => new SqliteTokenLedger(
            sqliteOptions(sp),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteTokenLedger>>()));
        services.AddSingleton<RelationalTokenLedger>(sp => sp.GetRequiredService<SqliteTokenLedger>());

        // The trail shares the ledger's file and write queue (see SqliteAuditTrail).
        services.AddSingleton(sp => new SqliteAuditTrail(
            sp.GetRequiredService<SqliteTokenLedger>(),
            auditKey(sp),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RelationalAuditTrail>(sp => sp.GetRequiredService<SqliteAuditTrail>());
    }

    private static void AddPostgres(IServiceCollection services, string? connectionString, Func<IServiceProvider, AuditKeyRing> auditKey)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException($"ConnectionStrings:{ConnectionStringName} must be set when {ProviderKey} is Postgres");
        }

        services.AddSingleton(sp => new PostgresTokenLedger(
            new PostgresLedgerOptions { ConnectionString = connectionString },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<RelationalTokenLedger>(sp => sp.GetRequiredService<PostgresTokenLedger>());

        // The trail and the key ring share the ledger's connection pool.
        services.AddSingleton(sp => new PostgresAuditTrail(
            sp.GetRequiredService<PostgresTokenLedger>(),
            auditKey(sp),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RelationalAuditTrail>(sp => sp.GetRequiredService<PostgresAuditTrail>());
        services.AddSingleton(sp => new PostgresXmlRepository(sp.GetRequiredService<PostgresTokenLedger>()));
        services.AddSingleton<IXmlRepository>(sp => sp.GetRequiredService<PostgresXmlRepository>());
    }
}
