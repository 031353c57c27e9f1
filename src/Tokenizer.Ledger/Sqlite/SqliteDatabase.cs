using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Errors;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Sqlite;

/// <summary>
/// Everything SQLite-specific about the ledger: the connection settings, the write transaction and its retry on
/// <c>SQLITE_BUSY</c>, and applying <see cref="LedgerMigrations"/>. One instance per database file.
/// </summary>
/// <remarks>
/// SQLite allows one writer at a time. Writers in this process queue on an async gate instead of blocking thread-pool
/// threads in SQLite's busy handler, and are committed in groups (see <see cref="WriteAsync"/>); writers in other processes are serialised by <c>BEGIN IMMEDIATE</c>
/// (the write lock is taken at the start, so a transaction never has to upgrade a read lock and fail) and wait up to
/// <see cref="BusyTimeout"/> for it. Readers never wait: WAL gives them a snapshot.
/// A database that cannot be reached or written after the retries (busy or locked, read-only, I/O error, disk full,
/// cannot open) surfaces from <see cref="ReadAsync"/> and <see cref="WriteAsync"/> as <see cref="TokenizerException"/>
/// UNAVAILABLE <see cref="ErrorReasons.LedgerUnavailable"/> (<see cref="MapUnavailable"/>); other SQLite errors
/// (constraints, corruption, schema) stay <see cref="SqliteException"/>.
/// <para>
/// A database file deleted or moved while open (its data directory removed under a running server) is detected:
/// SQLite would otherwise go on reading and committing into the unlinked file, acknowledging writes that a restart
/// loses. Each connection handed out, and each write transaction before and after its commit, asks SQLite whether the
/// file at <see cref="DatabasePath"/> is still the one open (<c>SQLITE_FCNTL_HAS_MOVED</c>: one <c>stat</c>). From the
/// first "moved" on, every read and write fails with LEDGER_UNAVAILABLE until the process restarts.
/// </para>
/// <para>
/// <c>secure_delete</c> is on for every connection: deleted and overwritten rows are zeroed in their pages rather than
/// left in free space, so an erased reference does not survive in the file (see <see cref="TruncateWalAsync"/> for
/// the WAL).
/// </para>
/// </remarks>
internal sealed class SqliteDatabase : ILedgerDatabase
{
    /// <summary>The default of how long SQLite waits for another connection's lock before reporting SQLITE_BUSY.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(5);

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int MaxAttempts = 4;
    private const int MaxBatch = 64;
    private const string Savepoint = "ledger_write";

    // sqlite3.h: SQLITE_FCNTL_HAS_MOVED; the answer is an int, 1 when the path no longer names the open file.
    private const int FileControlHasMoved = 20;
    private static readonly byte[] MainSchema = "main\0"u8.ToArray();

    /// <summary>Physical connections (pooled handles) whose pragmas are set, with the pragmas they got.</summary>
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, string> Configured = new();

    private readonly string connectionPragmas;
    private readonly string connectionString;
    private readonly ILogger logger;
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentQueue<PendingWrite> pending = new();
    private long commits;
    private volatile bool moved;

    /// <param name="databasePath">The database file.</param>
    /// <param name="logger">Retry and failure events.</param>
    /// <param name="busyTimeout">How long to wait for another connection's lock.</param>
    /// <param name="readOnly">
    /// True: connections open the existing file read-only (SQLite's <c>SQLITE_OPEN_READONLY</c>; a missing file fails,
    /// every write fails) and set no pragma but the busy timeout. For offline inspection of a stopped server's ledger.
    /// </param>
    public SqliteDatabase(string databasePath, ILogger logger, TimeSpan? busyTimeout = null, bool readOnly = false)
    {
        BusyTimeout = busyTimeout ?? DefaultBusyTimeout;
        if (BusyTimeout < TimeSpan.FromMilliseconds(10) || BusyTimeout > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentOutOfRangeException(nameof(busyTimeout), "the busy timeout must be between 10 ms and 60 s");
        }

        DatabasePath = Path.GetFullPath(databasePath);
        this.logger = logger;

        // synchronous=FULL: a commit is on disk before it returns (a token is money); busy_timeout is per connection;
        // secure_delete=ON: freed cells and pages are zeroed, so erased references do not linger in free space.
        connectionPragmas = readOnly
            ? string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds};")
            : string.Create(
                CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;");
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,

            // Microsoft.Data.Sqlite retries busy statements itself until this many seconds have passed; matching
            // busy_timeout leaves one bounded wait per attempt and the retry policy to WriteAsync.
            // (whole seconds, and 0 would mean "wait for ever": at least 1).
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>How long SQLite waits for another connection's lock before reporting SQLITE_BUSY.</summary>
    public TimeSpan BusyTimeout { get; }

    /// <summary>Write transactions committed so far (each may carry many writers' work); for tests and diagnostics.</summary>
    internal long Commits => Interlocked.Read(ref commits);

    /// <summary>Writers queued and not yet taken into a transaction; for tests and diagnostics.</summary>
    internal int QueuedWrites => pending.Count;

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc />
    public SqlDialect Dialect => SqlDialect.Sqlite;

    /// <summary>Opens a pooled connection with the ledger's per-connection pragmas applied.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "The text is connectionPragmas, built once in the constructor from a validated TimeSpan; no input reaches it.")]
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // The pragmas belong to the physical connection, which the pool hands out again: set them once per handle
            // rather than as an extra statement on every open (every ledger read and write batch opens one).
            // A handle keeps the pragmas of the database object that last set them (two objects on one file may differ).
            if (connection.Handle is { } handle
                && !(Configured.TryGetValue(handle, out var set) && ReferenceEquals(set, connectionPragmas)))
            {
                using var command = connection.Command(connectionPragmas);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                Configured.AddOrUpdate(handle, connectionPragmas);
            }

            ThrowIfMoved(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => LedgerTracing.TraceAsync("sqlite", "read", operation, () => ReadUntracedAsync(read, cancellationToken));

    /// <inheritdoc />
    public Task<T> WriteAsync<T>(Func<DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken, [CallerMemberName] string operation = "")
        => LedgerTracing.TraceAsync("sqlite", "write", operation, () => WriteUntracedAsync(work, cancellationToken));

    /// <summary>Runs <paramref name="read"/> on its own connection (a consistent WAL snapshot per statement).</summary>
    private async Task<T> ReadUntracedAsync<T>(Func<DbConnection, CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
                return await read(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (IsBusy(e) && attempt < MaxAttempts)
            {
                await BackOffAsync(attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (SqliteException e) when (IsUnavailable(e))
            {
                throw MapUnavailable(e);
            }
            catch (LedgerFileMovedException)
            {
                throw MovedError();
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a <c>BEGIN IMMEDIATE</c> transaction and returns once that transaction is committed
    /// (on disk: <c>synchronous=FULL</c>). On SQLITE_BUSY the transaction is rolled back and run again (up to 4 attempts),
    /// so <paramref name="work"/> must only touch the database. Any other exception from <paramref name="work"/> undoes
    /// its own changes and propagates to this caller only.
    /// </summary>
    /// <remarks>
    /// Group commit: writers that arrive while a transaction is being written wait, and the next one to take the write
    /// gate runs every waiting writer's work in one transaction (each in its own savepoint, in arrival order) and commits
    /// once, so one fsync acknowledges many calls and none is acknowledged before its records are on disk. A writer
    /// whose work fails is rolled back to its savepoint; the others commit. A commit that fails fails them all.
    /// </remarks>
    private async Task<T> WriteUntracedAsync<T>(
        Func<DbTransaction, CancellationToken, Task<T>> work,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var write = new PendingWrite(async (transaction, ct) => await work(transaction, ct).ConfigureAwait(false), cancellationToken);
        pending.Enqueue(write);
        while (!write.Completion.IsCompleted)
        {
            var gate = writeGate.WaitAsync(cancellationToken);
            if (await Task.WhenAny(write.Completion, gate).ConfigureAwait(false) == write.Completion)
            {
                // Another writer committed ours; give back the gate if that wait still succeeds.
                _ = gate.ContinueWith(
                    static (acquired, state) =>
                    {
                        if (acquired.IsCompletedSuccessfully)
                        {
                            ((SemaphoreSlim)state!).Release();
                        }
                    },
                    writeGate,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
                break;
            }

            try
            {
                await gate.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Still queued: the writer that takes the gate skips it.
                write.Cancel();
                throw;
            }

            try
            {
                // Lead until our own work is committed (arrival order: at most a few batches).
                while (!write.Completion.IsCompleted && TakeBatch() is { Count: > 0 } batch)
                {
                    await RunBatchAsync(batch).ConfigureAwait(false);
                }
            }
            finally
            {
                writeGate.Release();
            }
        }

        return (T)(await write.Completion.ConfigureAwait(false))!;
    }

    private List<PendingWrite> TakeBatch()
    {
        var batch = new List<PendingWrite>();
        while (batch.Count < MaxBatch && pending.TryDequeue(out var next))
        {
            if (!next.Completion.IsCompleted)
            {
                batch.Add(next);
            }
        }

        return batch;
    }

    private async Task RunBatchAsync(List<PendingWrite> batch)
    {
        var single = batch.Count == 1;
        for (var attempt = 1; ; attempt++)
        {
            var results = new object?[batch.Count];
            var failures = new Exception?[batch.Count];
            try
            {
                await using var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
                await using var transaction = connection.BeginTransaction(deferred: false);
                for (var i = 0; i < batch.Count; i++)
                {
                    var write = batch[i];
                    if (write.CancellationToken.IsCancellationRequested)
                    {
                        failures[i] = new OperationCanceledException(write.CancellationToken);
                        continue;
                    }

                    if (single)
                    {
                        results[i] = await write.Work(transaction, write.CancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    transaction.Save(Savepoint);
                    try
                    {
                        results[i] = await write.Work(transaction, write.CancellationToken).ConfigureAwait(false);
                        transaction.Release(Savepoint);
                    }
                    catch (Exception e) when (e is not SqliteException sqlite || !IsUnavailable(sqlite))
                    {
                        // This writer's changes only; the transaction and the others' work go on.
                        transaction.Rollback(Savepoint);
                        transaction.Release(Savepoint);
                        failures[i] = e;
                    }
                }

                // Checked before the commit (nothing is written into a deleted file) and after it (a file deleted during
                // the commit): either way no writer is told its work is stored when a restart would not find it.
                ThrowIfMoved(connection);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                ThrowIfMoved(connection);
                Interlocked.Increment(ref commits);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Finish(results[i], failures[i]);
                }

                return;
            }
            catch (SqliteException e) when (IsBusy(e) && attempt < MaxAttempts)
            {
                await BackOffAsync(attempt, CancellationToken.None).ConfigureAwait(false);
            }
            catch (SqliteException e) when (IsUnavailable(e))
            {
                // The transaction was rolled back when it was disposed: nothing of the batch was written.
                var unavailable = MapUnavailable(e);
                batch.ForEach(w => w.Finish(null, unavailable));
                return;
            }
            catch (LedgerFileMovedException)
            {
                batch.ForEach(w => w.Finish(null, MovedError()));
                return;
            }
            catch (Exception e)
            {
                batch.ForEach(w => w.Finish(null, e));
                return;
            }
        }
    }

    /// <summary>One queued write: its work, its caller's cancellation, and how it ended.</summary>
    private sealed class PendingWrite(Func<DbTransaction, CancellationToken, Task<object?>> work, CancellationToken cancellationToken)
    {
        private readonly TaskCompletionSource<object?> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Func<DbTransaction, CancellationToken, Task<object?>> Work { get; } = work;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public Task<object?> Completion => completion.Task;

        public void Cancel() => completion.TrySetCanceled(CancellationToken);

        public void Finish(object? result, Exception? failure)
        {
            if (failure is OperationCanceledException canceled)
            {
                completion.TrySetCanceled(canceled.CancellationToken);
            }
            else if (failure is not null)
            {
                completion.TrySetException(failure);
            }
            else
            {
                completion.TrySetResult(result);
            }
        }
    }

    /// <summary>
    /// A new ledger's folder (0700) and an empty database file (0600), owner-only: SQLite keeps an existing file's mode and
    /// gives the -wal and -shm files the same one, so tokens, references and the audit trail are never world-readable.
    /// Existing folders and files keep the mode their owner chose.
    /// </summary>
    private void CreateOwnerOnly()
    {
        var folder = Path.GetDirectoryName(DatabasePath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (File.Exists(DatabasePath))
        {
            return;
        }

        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            new FileStream(DatabasePath, create).Dispose();
        }
        catch (IOException) when (File.Exists(DatabasePath))
        {
            // Another process created it first.
        }
    }

    /// <summary>
    /// Creates the parent directory, switches the file to WAL and applies every migration not yet recorded, each in its
    /// own transaction. Safe to run concurrently from several processes: each step re-checks inside its transaction.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file cannot use WAL, or it holds a newer schema than this build.</exception>
    public async Task MigrateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        CreateOwnerOnly();
        var journalMode = await ReadAsync(
            async (connection, ct) =>
            {
                // WAL is a property of the file: set once, it holds for every later connection.
                using var command = connection.Command("PRAGMA journal_mode = WAL");
                return (string?)await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("the ledger database cannot use WAL journal mode on this file system");
        }

        await WriteAsync((transaction, ct) => LedgerMigrations.PrepareAsync(transaction, Dialect, ct), cancellationToken)
            .ConfigureAwait(false);
        foreach (var migration in LedgerMigrations.All)
        {
            var applied = await WriteAsync(
                (transaction, ct) => LedgerMigrations.ApplyAsync(transaction, Dialect, migration, now, ct),
                cancellationToken).ConfigureAwait(false);
            if (applied)
            {
                Log.MigrationApplied(logger, migration.Version, migration.Name);
            }
        }
    }

    /// <summary>
    /// Copies every WAL frame into the database file and truncates the WAL to zero bytes
    /// (<c>PRAGMA wal_checkpoint(TRUNCATE)</c>), waiting up to <see cref="BusyTimeout"/> for readers and writers. Used after
    /// an erasure: the WAL keeps old page images (the rows before the erasure) until they are overwritten, and the
    /// database pages that replace them were zeroed by <c>secure_delete</c>. Returns false (and logs) when the WAL could
    /// not be emptied; the frames then go at a later checkpoint.
    /// </summary>
    public async Task<bool> TruncateWalAsync(CancellationToken cancellationToken)
    {
        var complete = await ReadAsync(
            async (connection, ct) =>
            {
                using var command = connection.Command("PRAGMA wal_checkpoint(TRUNCATE)");
                using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);

                // One row: busy (1 when it could not finish), frames in the WAL, frames checkpointed.
                return await reader.ReadAsync(ct).ConfigureAwait(false) && reader.GetInt64(0) == 0;
            },
            cancellationToken).ConfigureAwait(false);
        if (!complete)
        {
            Log.CheckpointIncomplete(logger);
        }

        return complete;
    }

    /// <summary>Closes the pooled connections of this file (the last close checkpoints the WAL).</summary>
    public void Dispose()
    {
        using (var connection = new SqliteConnection(connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        writeGate.Dispose();
    }

    private static bool IsBusy(SqliteException e) => e.SqliteErrorCode is SqliteBusy or SqliteLocked;

    /// <summary>
    /// Throws <see cref="LedgerFileMovedException"/> when this database has seen its file moved or deleted, or when
    /// SQLite reports it now for <paramref name="connection"/>'s main database (one <c>stat</c> of the path).
    /// </summary>
    private void ThrowIfMoved(SqliteConnection connection)
    {
        if (moved)
        {
            throw new LedgerFileMovedException();
        }

        if (connection.Handle is not { } handle || !NativeMethods.HasMoved(handle))
        {
            return;
        }

        if (!moved)
        {
            moved = true;
            Log.FileMoved(logger, DatabasePath);
        }

        throw new LedgerFileMovedException();
    }

    /// <summary>What a caller gets once the file has moved: the same error as any unreachable ledger.</summary>
    private static TokenizerException MovedError() =>
        new(ErrorKind.Unavailable, ErrorReasons.LedgerUnavailable, "the ledger is unavailable; retry with the same idempotency key");

    /// <summary>Internal signal of a moved file; never leaves this class.</summary>
    private sealed class LedgerFileMovedException : Exception
    {
        public LedgerFileMovedException()
            : base("the ledger database file was moved or deleted while open")
        {
        }
    }

    /// <summary>The one SQLite call Microsoft.Data.Sqlite does not expose.</summary>
    private static class NativeMethods
    {
        /// <summary>
        /// True when SQLite reports that the path of the connection's main database no longer names the open file
        /// (unix VFS: a <c>stat</c> of the path fails or finds another inode). False when the VFS does not answer.
        /// </summary>
        public static bool HasMoved(SQLitePCL.sqlite3 handle)
        {
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var answer = 0;
                return sqlite3_file_control(handle.DangerousGetHandle(), MainSchema, FileControlHasMoved, ref answer) == 0 && answer != 0;
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        // The library Microsoft.Data.Sqlite itself loads (SQLitePCLRaw.bundle_e_sqlite3), resolved the same way.
        [System.Runtime.InteropServices.DllImport("e_sqlite3", CallingConvention = System.Runtime.InteropServices.CallingConvention.Cdecl, ExactSpelling = true)]
        [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
        private static extern int sqlite3_file_control(IntPtr db, byte[] schema, int operation, ref int answer);
    }

    /// <summary>The database cannot be reached or written now (as opposed to a bug, a constraint or corruption).</summary>
    private static bool IsUnavailable(SqliteException e) =>
        (e.SqliteErrorCode & 0xFF) is SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoError or SqliteFull or SqliteCantOpen;

    /// <summary>
    /// The one mapping of an unreachable ledger: UNAVAILABLE <see cref="ErrorReasons.LedgerUnavailable"/> with a fixed
    /// message and no inner exception, logged once with SQLite's codes only.
    /// </summary>
    private TokenizerException MapUnavailable(SqliteException e)
    {
        Log.Unavailable(logger, e.SqliteErrorCode, e.SqliteExtendedErrorCode);
        return new TokenizerException(ErrorKind.Unavailable, ErrorReasons.LedgerUnavailable, "the ledger is unavailable; retry with the same idempotency key");
    }

    private Task BackOffAsync(int attempt, CancellationToken cancellationToken)
    {
        Log.BusyRetry(logger, attempt + 1, MaxAttempts);

        // Real time on purpose: another process's lock is released in wall-clock time, whatever clock the host injects.
        return Task.Delay(TimeSpan.FromMilliseconds(25 << attempt), cancellationToken);
    }
}
