using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Ledger.Tests.Sqlite;

/// <summary>A ledger file in its own temp directory (under a not-yet-existing <c>data/</c> folder).</summary>
public sealed class SqliteTestDatabase : TestDatabase
{
    public SqliteTestDatabase()
    {
        RootDirectory = Path.Combine(Path.GetTempPath(), "tokenizer-ledger-tests", Guid.NewGuid().ToString("N"));
        DatabasePath = Path.Combine(RootDirectory, "data", "ledger.db");
    }

    public override string Provider => "SQLite";

    public string RootDirectory { get; }

    public string DatabasePath { get; }

    public SqliteLedgerOptions Options => new() { DatabasePath = DatabasePath };

    // The file appears when the first ledger initialises it.
    public override Task CreateAsync() => Task.CompletedTask;

    public override Task PrepareForDirectSqlAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        return Task.CompletedTask;
    }

    public override async Task<DbConnection> OpenConnectionAsync()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        return connection;
    }

    public override Task DropAuditGuardsAsync() =>
        ExecuteAsync("DROP TRIGGER audit_events_refuse_update; DROP TRIGGER audit_events_refuse_delete;");

    // SQLite keeps everything in the file and its WAL, next to each other; the ledgers stay open, so the WAL is read too.
    public override Task<StoredBytes> ReadAtRestAsync()
    {
        var files = Directory.GetFiles(Path.GetDirectoryName(DatabasePath)!);
        Assert.Contains(DatabasePath + "-wal", files);
        return Task.FromResult(new StoredBytes([.. files.Select(ReadShared)], []));
    }

    protected override RelationalTokenLedger NewLedger(TimeProvider clock) =>
        new SqliteTokenLedger(Options, clock, NullLogger<SqliteTokenLedger>.Instance);

    protected override RelationalAuditTrail NewTrail(byte[] key, TimeProvider clock) =>
        new SqliteAuditTrail(Options, key, clock, NullLogger<SqliteAuditTrail>.Instance);

    protected override RelationalAuditTrail NewSharedTrail(RelationalTokenLedger ledger, byte[] key, TimeProvider clock) =>
        new SqliteAuditTrail((SqliteTokenLedger)ledger, key, clock);

    protected override TestDatabase NewSibling() => new SqliteTestDatabase();

    protected override Task DropAsync()
    {
        // The owned ledgers and trails closed their own pools when disposed. Not SqliteConnection.ClearAllPools(): test
        // classes run in parallel, and closing another test's last connection checkpoints and deletes its WAL while that
        // test is about to read it (ReadAtRestAsync asserts the WAL is there).
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory must not fail a test.
        }

        return Task.CompletedTask;
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Encoding.Latin1.GetString(buffer.ToArray());
    }
}
