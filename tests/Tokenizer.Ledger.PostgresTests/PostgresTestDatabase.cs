using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Postgres;
using Tokenizer.Ledger.Tests;

namespace Tokenizer.Ledger.PostgresTests;

/// <summary>
/// A database of its own (CREATE DATABASE per test, DROP ... WITH (FORCE) after it) on the server named by
/// <c>TOKENIZER_TEST_POSTGRES</c>: the throwaway cluster scripts/test.sh starts. Its default collation is ICU en-US, under
/// which "pm_B" sorts after "pm_a", so a listing that forgot <c>COLLATE "C"</c> fails the shared ordering tests.
/// </summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    /// <summary>The connection string of the server's maintenance database (as the superuser).</summary>
    public const string Variable = "TOKENIZER_TEST_POSTGRES";

    /// <summary>The server's TLS certificate (PEM), set by scripts/postgres.sh.</summary>
    public const string CaVariable = "TOKENIZER_TEST_POSTGRES_CA";

    private static readonly Lazy<NpgsqlDataSource> Admin = new(() => NpgsqlDataSource.Create(ServerConnectionString()));

    private readonly ILoggerFactory loggerFactory;

    public PostgresTestDatabase(ILoggerFactory? loggerFactory = null)
    {
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Name = "tkz_test_" + Guid.NewGuid().ToString("N");
    }

    public override string Provider => "PostgreSQL";

    /// <summary>The database's name: fixed ASCII, safe to put in SQL.</summary>
    public string Name { get; }

    /// <summary>The connection string of this database.</summary>
    public string ConnectionString => ConnectionStringWith(_ => { });

    public PostgresLedgerOptions Options => new() { ConnectionString = ConnectionString };

    /// <summary>
    /// The server's connection string. Missing means the developer ran dotnet test without the cluster: fail with what
    /// to do. In CI (CI=true) as well: these tests never skip.
    /// </summary>
    /// <exception cref="InvalidOperationException">The variable is not set.</exception>
    public static string ServerConnectionString() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{Variable} is not set, so the PostgreSQL ledger tests have no server. Run scripts/test.sh (it starts a "
                + "throwaway PostgreSQL 15 cluster and sets it), or for dotnet test alone: "
                + "eval \"$(bash scripts/postgres.sh start)\" ... bash scripts/postgres.sh stop. "
                + "These tests fail rather than skip, in CI (CI=true) and everywhere else.");

    /// <summary>This database's connection string with more settings applied.</summary>
    public string ConnectionStringWith(Action<NpgsqlConnectionStringBuilder> change)
    {
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString()) { Database = Name };
        change(builder);
        return builder.ConnectionString;
    }

    // FILE_COPY copies the template's files instead of writing all of it to the WAL (WAL_LOG, the default): faster, and
    // the WAL stays small enough that the data-at-rest test reads its own records there before they are recycled.
    public override async Task CreateAsync()
    {
        await using var command = Admin.Value.CreateCommand(
            $"CREATE DATABASE {Name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' STRATEGY FILE_COPY");
        await command.ExecuteNonQueryAsync();
    }

    public override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new NpgsqlConnection(ConnectionStringWith(b => b.Pooling = false));
        await connection.OpenAsync();
        return connection;
    }

    // An owner or superuser undoes every guard: the triggers, and the privileges the migration revoked.
    public override Task DropAuditGuardsAsync() => ExecuteAsync("""
        DROP TRIGGER audit_events_refuse_update ON audit_events;
        DROP TRIGGER audit_events_refuse_delete ON audit_events;
        DROP TRIGGER audit_events_refuse_truncate ON audit_events;
        GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO CURRENT_USER;
        """);

    // The WAL first: a transaction that writes WAL (the catalog rows of a temp table) and commits with synchronous_commit
    // on flushes every earlier record (the cluster runs with it off; a transaction that wrote no WAL would not flush).
    // Then a checkpoint, after which the rows are in the database's own files. Reading them needs the server on this
    // machine and a user who may read its data directory (root, as in CI).
    public override async Task<StoredBytes> ReadAtRestAsync()
    {
        await ExecuteAsync("SET synchronous_commit = on; CREATE TEMP TABLE wal_flush (x int);");
        var dataDirectory = (await QueryAsync("SELECT current_setting('data_directory')", r => r.GetString(0))).Single();
        var wal = Directory.GetFiles(Path.Combine(dataDirectory, "pg_wal")).Select(ReadFile).OfType<string>().ToList();
        await ExecuteAsync("CHECKPOINT");
        var oid = (await QueryAsync("SELECT oid::bigint FROM pg_database WHERE datname = current_database()", r => r.GetInt64(0))).Single();
        var own = Directory.GetFiles(Path.Combine(dataDirectory, "base", oid.ToString(CultureInfo.InvariantCulture))).Select(ReadFile).OfType<string>().ToList();
        return new StoredBytes(own, wal);
    }

    protected override RelationalTokenLedger NewLedger(TimeProvider clock) => new PostgresTokenLedger(Options, clock, loggerFactory);

    protected override RelationalAuditTrail NewTrail(byte[] key, TimeProvider clock) => new PostgresAuditTrail(Options, key, clock, loggerFactory);

    protected override RelationalAuditTrail NewSharedTrail(RelationalTokenLedger ledger, byte[] key, TimeProvider clock) =>
        new PostgresAuditTrail((PostgresTokenLedger)ledger, key, clock);

    protected override TestDatabase NewSibling() => new PostgresTestDatabase(loggerFactory);

    // A WAL segment can be recycled (renamed) by a checkpoint between listing and reading: it is read under its new name
    // by a later listing, or it held nothing new.
    private static string? ReadFile(string path)
    {
        try
        {
            return Encoding.Latin1.GetString(File.ReadAllBytes(path));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    protected override async Task DropAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
        {
            return;
        }

        await using var command = Admin.Value.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        await command.ExecuteNonQueryAsync();
    }
}
