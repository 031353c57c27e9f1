using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Benchmarks;

/// <summary>
/// What the start-up check of the whole audit chain costs: <see cref="RelationalAuditTrail.VerifyAsync"/> (the walk that
/// <c>audit verify</c> runs too) over a SQLite trail of <see cref="Records"/> validly chained records, read in pages of
/// 1000 and verified with HMAC-SHA256 each. One walk per invocation (warm page cache); run it with
/// <c>--inProcess --strategy Monitoring --warmupCount 1 --iterationCount 5</c>, a walk takes about a second.
/// </summary>
[MemoryDiagnoser]
public class AuditChainWalk : IDisposable
{
    private static readonly byte[] Key = "benchmark-audit-key-0123456789abcdef"u8.ToArray();

    private string directory = null!;
    private SqliteAuditTrail trail = null!;

    [Params(100_000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        directory = Directory.CreateTempSubdirectory("tokenizer-bench-audit-").FullName;
        var path = Path.Combine(directory, "tokenizer.db");
        trail = new SqliteAuditTrail(new SqliteLedgerOptions { DatabasePath = path }, Key, TimeProvider.System, NullLogger<SqliteAuditTrail>.Instance);
        trail.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        Seed(path);
        var check = trail.VerifyAsync(null, CancellationToken.None).GetAwaiter().GetResult();
        if (!check.Intact || check.RecordsChecked != Records)
        {
            throw new InvalidOperationException("the seeded chain does not verify");
        }
    }

    [Benchmark]
    public long WalkWholeChain() => trail.VerifyAsync(null, CancellationToken.None).GetAwaiter().GetResult().RecordsChecked;

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        trail?.Dispose();
        SqliteConnection.ClearAllPools();
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    // Records shaped like the service's (a call's action, caller, address, token, correlation id), chained and signed as
    // AppendAsync signs them, written in one transaction (appending them one by one would take minutes of fsyncs).
    private void Seed(string path)
    {
        var keyId = AuditKeyRing.KeyIdOf(Key);
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO audit_events (" + Ledger.Schema.AuditSql.Columns + ") VALUES "
            + "(@sequence, @time, @caller_id, @source_address, @action, @resource, @outcome, @reason, @correlation_id, @prev_mac, @mac, @key_id, @recorded_at)";
        var previous = AuditChain.Genesis();
        for (long sequence = 1; sequence <= Records; sequence++)
        {
            var unsigned = new AuditRow(
                sequence,
                1_780_000_000_000_000 + (sequence * 1000),
                "billing-service",
                "10.0.0.17",
                "tokenizer.v1.TokenizerService/TokenizeCard",
                "pm_" + sequence.ToString("D24", System.Globalization.CultureInfo.InvariantCulture),
                "success",
                null,
                Guid.NewGuid().ToString("N"),
                previous,
                [],
                keyId,
                1_780_000_000_000_000 + (sequence * 1000));
            var row = unsigned with { Mac = AuditChain.ComputeMac(Key, unsigned) };
            insert.Parameters.Clear();
            row.Bind(insert);
            insert.ExecuteNonQuery();
            previous = row.Mac;
        }

        transaction.Commit();
    }
}
