using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;

namespace Tokenizer.Benchmarks;

/// <summary>
/// The cost of <c>PRAGMA secure_delete = ON</c> on the ledger's write pattern: one WAL transaction per tokenisation that
/// inserts the pending idempotency record, the token and its intent, completes the record with its stored answer, and
/// deletes one expired row of each (the retention purge). The same schema shapes and pragmas as the ledger
/// (<c>SqliteDatabase</c>), with <c>synchronous</c> FULL (what the ledger runs) and OFF (the CPU cost alone, no fsync).
/// </summary>
[MemoryDiagnoser]
public class SecureDeleteWrites : IDisposable
{
    private static readonly string Answer = "{\"token\":\"pm_" + new string('x', 24) + "\",\"gateway\":\"stripe\",\"type\":\"Card\",\"status\":\"Active\","
        + "\"callerId\":\"billing\",\"customerReference\":\"cust-benchmark-0001\",\"gatewayCustomerId\":\"cus_" + new string('y', 14) + "\","
        + "\"card\":{\"brand\":\"visa\",\"last4\":\"4242\",\"expMonth\":12,\"expYear\":2031,\"funding\":\"credit\",\"country\":\"US\"},"
        + "\"createdAt\":\"2026-01-01T00:00:00+00:00\"}";

    private string directory = null!;
    private SqliteConnection connection = null!;
    private long next;

    [Params(false, true)]
    public bool SecureDelete { get; set; }

    [Params("FULL", "OFF")]
    public string Synchronous { get; set; } = "FULL";

    [GlobalSetup]
    public void Setup()
    {
        directory = Directory.CreateTempSubdirectory("tokenizer-bench-").FullName;
        connection = new SqliteConnection($"Data Source={Path.Combine(directory, "ledger.db")};Pooling=False");
        connection.Open();
        Execute("PRAGMA journal_mode = WAL");
        Execute($"PRAGMA synchronous = {Synchronous}; PRAGMA secure_delete = {(SecureDelete ? "ON" : "OFF")};");
        Execute("""
            CREATE TABLE tokens (token TEXT NOT NULL PRIMARY KEY, customer_reference TEXT NOT NULL, last4 TEXT, created_at INTEGER NOT NULL);
            CREATE INDEX ix_tokens_customer_reference ON tokens (customer_reference, created_at DESC, token DESC);
            CREATE TABLE idempotency_records (caller_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, request_hmac BLOB NOT NULL,
                state TEXT NOT NULL, response TEXT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (caller_id, idempotency_key));
            CREATE TABLE intents (caller_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, customer_reference TEXT NOT NULL,
                state TEXT NOT NULL, token TEXT NULL, PRIMARY KEY (caller_id, idempotency_key));
            """);

        // A ledger with history: the purge deletes from full pages, as it would in service.
        for (var i = 0; i < 2_000; i++)
        {
            Tokenise();
        }
    }

    [Benchmark]
    public void TokeniseAndPurge()
    {
        Tokenise();
    }

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        connection?.Dispose();
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private void Tokenise()
    {
        var id = next++;
        using var transaction = connection.BeginTransaction(deferred: false);
        Run(transaction, "INSERT INTO idempotency_records VALUES ('billing', @key, zeroblob(32), 'pending', NULL, @id)", id);
        Run(transaction, "INSERT INTO intents VALUES ('billing', @key, 'cust-benchmark-' || @id, 'pending', NULL)", id);
        Run(transaction, "INSERT INTO tokens VALUES ('pm_' || @id, 'cust-benchmark-' || @id, '4242', @id)", id);
        Run(transaction, "UPDATE intents SET state = 'completed', token = 'pm_' || @id WHERE caller_id = 'billing' AND idempotency_key = @key", id);
        Run(transaction, "UPDATE idempotency_records SET state = 'completed', response = @answer WHERE caller_id = 'billing' AND idempotency_key = @key", id);
        if (id >= 1_000)
        {
            // Retention: the row of a thousand tokenisations ago goes.
            Run(transaction, "DELETE FROM idempotency_records WHERE caller_id = 'billing' AND idempotency_key = @key", id - 1_000);
            Run(transaction, "DELETE FROM intents WHERE caller_id = 'billing' AND idempotency_key = @key", id - 1_000);
            Run(transaction, "DELETE FROM tokens WHERE token = 'pm_' || @id", id - 1_000);
        }

        transaction.Commit();
    }

    private void Run(SqliteTransaction transaction, string sql, long id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@key", "key-" + id.ToString("D12", System.Globalization.CultureInfo.InvariantCulture));
        if (sql.Contains("@answer", StringComparison.Ordinal))
        {
            command.Parameters.AddWithValue("@answer", Answer);
        }

        command.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
