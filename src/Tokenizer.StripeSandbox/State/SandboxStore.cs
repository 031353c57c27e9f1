using System.Text.Json;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Events;

namespace Tokenizer.StripeSandbox.State;

/// <summary>The outcome of registering an idempotent request.</summary>
internal enum IdempotencyStart
{
    /// <summary>First use of the key: the request executes and is now in flight.</summary>
    Execute,

    /// <summary>The key has a completed result for the same request: replay it.</summary>
    Replay,

    /// <summary>The key has a completed result for another request: idempotency_error.</summary>
    Mismatch,

    /// <summary>A request with the key is still executing: idempotency_key_in_use.</summary>
    InUse,
}

/// <summary>
/// The sandbox's state behind one lock. In memory, or with a data directory persisted after each mutation to
/// <c>state.json</c>, written atomically (a temporary file in the same directory moved over the old one) and loaded on
/// start. A lock file keeps two sandboxes from sharing one directory.
/// </summary>
internal sealed class SandboxStore : IDisposable
{
    public const string StateFileName = "state.json";
    private const int CurrentVersion = 1;
    private static readonly TimeSpan IdempotencyRetention = TimeSpan.FromHours(24);

    // Stripe keeps results for 24 hours; the sandbox also caps their number so a long load run cannot grow without bound.
    private const int MaxIdempotencyRecords = 50_000;

    private readonly Lock gate = new();
    private readonly SandboxData data = new();
    private readonly HashSet<string> inFlight = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long Created)> idempotencyOrder = new();
    private readonly TimeProvider time;
    private readonly string? directory;
    private readonly FileStream? directoryLock;

    private SandboxStore(TimeProvider time, string? directory, FileStream? directoryLock)
    {
        this.time = time;
        this.directory = directory;
        this.directoryLock = directoryLock;
    }

    /// <summary>An in-memory store, or the store of the directory (created if missing) with its saved state loaded.</summary>
    public static SandboxStore Open(string? directory, TimeProvider time)
    {
        if (directory is null)
        {
            return new SandboxStore(time, null, null);
        }

        CreatePrivateDirectory(directory);
        FileStream directoryLock;
        try
        {
            directoryLock = new FileStream(
                Path.Combine(directory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException("The sandbox DataDirectory is in use by another sandbox.", e);
        }

        var store = new SandboxStore(time, directory, directoryLock);
        try
        {
            store.Load();
        }
        catch
        {
            store.Dispose();
            throw;
        }

        return store;
    }

    /// <summary>Creates the directory (owner-only on Unix) if it does not exist; an existing directory keeps its mode.</summary>
    public static DirectoryInfo CreatePrivateDirectory(string directory) => OperatingSystem.IsWindows()
        ? Directory.CreateDirectory(directory)
        : Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    /// <summary>
    /// Receives the events each write creates, in order, under the lock (the webhook dispatcher, which only queues them),
    /// and says how many webhook endpoints an event type goes to (its <c>pending_webhooks</c>). Set once at start.
    /// </summary>
    public IEventSink? EventSink { get; set; }

    /// <summary>Runs a query under the lock.</summary>
    public T Read<T>(Func<SandboxData, T> query)
    {
        lock (gate)
        {
            return query(data);
        }
    }

    /// <summary>
    /// Runs a change under the lock and saves the state when it returns; the Stripe Events of what it changed are kept and
    /// published first. A change validates before it mutates, so one that throws leaves the state as it was (and makes no event).
    /// <paramref name="cause"/> marks changes that are not an API request's direct effect (<see cref="EventRules.AutomaticUpdateCause"/>).
    /// </summary>
    public T Write<T>(Func<SandboxData, T> change, string? cause = null)
    {
        lock (gate)
        {
            try
            {
                data.Journal.Cause = cause;
                var result = change(data);
                var events = CommitEvents();
                Save();
                Publish(events);
                return result;
            }
            finally
            {
                data.Journal.Clear();
            }
        }
    }

    /// <summary>Changes what is not persisted state (an event's <c>pending_webhooks</c>) under the lock, without saving.</summary>
    public void Adjust(Action<SandboxData> change)
    {
        lock (gate)
        {
            change(data);
        }
    }

    /// <summary>
    /// Runs a query under the lock that may have a due change to make first (a Bacs setup completing, a debit settling):
    /// the state is saved only when <paramref name="changeDue"/> says so, so a plain retrieve never rewrites the file.
    /// </summary>
    public T ReadOrWrite<T>(Func<SandboxData, bool> changeDue, Func<SandboxData, T> query)
    {
        lock (gate)
        {
            if (!changeDue(data))
            {
                return query(data);
            }

            try
            {
                var result = query(data);
                var events = CommitEvents();
                Save();
                Publish(events);
                return result;
            }
            finally
            {
                data.Journal.Clear();
            }
        }
    }

    /// <summary>Registers an idempotent request, or says why it must not execute (with the record to replay).</summary>
    public IdempotencyStart BeginIdempotent(string recordId, string requestHash, out IdempotencyRecord? completed)
    {
        lock (gate)
        {
            completed = null;
            if (inFlight.Contains(recordId))
            {
                return IdempotencyStart.InUse;
            }

            if (data.IdempotencyRecords.TryGetValue(recordId, out var record)
                && time.GetUtcNow().ToUnixTimeSeconds() - record.Created < IdempotencyRetention.TotalSeconds)
            {
                completed = record;
                return string.Equals(record.RequestHash, requestHash, StringComparison.Ordinal)
                    ? IdempotencyStart.Replay
                    : IdempotencyStart.Mismatch;
            }

            inFlight.Add(recordId);
            return IdempotencyStart.Execute;
        }
    }

    /// <summary>Ends an in-flight idempotent request, keeping its result when given (and dropping expired results).</summary>
    public void CompleteIdempotent(string recordId, IdempotencyRecord? result)
    {
        lock (gate)
        {
            inFlight.Remove(recordId);
            if (result is null)
            {
                return;
            }

            data.IdempotencyRecords[recordId] = result;
            idempotencyOrder.Enqueue((recordId, result.Created));
            EvictIdempotencyRecords();
            Save();
        }
    }

    public void Dispose() => directoryLock?.Dispose();

    private void Load()
    {
        var path = Path.Combine(directory!, StateFileName);
        if (!File.Exists(path))
        {
            return;
        }

        StateFile? file;
        try
        {
            using var stream = File.OpenRead(path);
            file = JsonSerializer.Deserialize(stream, SandboxJson.Default.StateFile);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"{StateFileName} in the sandbox DataDirectory cannot be read.", e);
        }

        if (file is null || file.Version != CurrentVersion)
        {
            throw new InvalidOperationException($"{StateFileName} in the sandbox DataDirectory has an unknown format.");
        }

        data.Journal.Recording = false;
        data.Sequence = file.Sequence;
        foreach (var customer in file.Customers)
        {
            data.Customers[customer.Id] = customer;
        }

        foreach (var deleted in file.DeletedCustomers ?? [])
        {
            data.DeletedCustomers.Add(deleted);
        }

        foreach (var paymentMethod in file.PaymentMethods)
        {
            data.PaymentMethods[paymentMethod.View.Id] = paymentMethod;
        }

        foreach (var setupIntent in file.SetupIntents ?? [])
        {
            data.SetupIntents[setupIntent.View.Id] = setupIntent;
        }

        foreach (var mandate in file.Mandates ?? [])
        {
            data.Mandates[mandate.View.Id] = mandate;
        }

        foreach (var paymentIntent in file.PaymentIntents ?? [])
        {
            data.PaymentIntents[paymentIntent.View.Id] = paymentIntent;
        }

        foreach (var record in file.IdempotencyRecords.OrderBy(r => r.Created))
        {
            data.IdempotencyRecords[record.Id] = record;
            idempotencyOrder.Enqueue((record.Id, record.Created));
        }

        foreach (var stored in (file.Events ?? []).OrderBy(e => e.Sequence))
        {
            data.EventLog.Add(stored);
        }

        data.EventLog.Evict(time.GetUtcNow().ToUnixTimeSeconds());
        foreach (var endpoint in file.WebhookEndpoints ?? [])
        {
            data.WebhookEndpoints[endpoint.Id] = endpoint;
        }

        data.Journal.Recording = true;
        EvictIdempotencyRecords();
    }

    // Called under the lock: the events of the write's changes, numbered and kept.
    private IReadOnlyList<StoredEvent> CommitEvents() =>
        EventRules.Commit(data, time.GetUtcNow().ToUnixTimeSeconds(), type => EventSink?.Subscribers(type) ?? 0);

    private void Publish(IReadOnlyList<StoredEvent> events)
    {
        if (events.Count > 0)
        {
            EventSink?.Publish(events);
        }
    }

    // Oldest first: drops results past the retention period or beyond the cap. An entry whose record was since replaced
    // (same key reused after expiry) is skipped, not removed.
    private void EvictIdempotencyRecords()
    {
        var cutoff = time.GetUtcNow().ToUnixTimeSeconds() - (long)IdempotencyRetention.TotalSeconds;
        while (idempotencyOrder.TryPeek(out var oldest))
        {
            var current = data.IdempotencyRecords.TryGetValue(oldest.Id, out var record) && record.Created == oldest.Created;
            if (current && oldest.Created > cutoff && data.IdempotencyRecords.Count <= MaxIdempotencyRecords)
            {
                break;
            }

            idempotencyOrder.Dequeue();
            if (current)
            {
                data.IdempotencyRecords.Remove(oldest.Id);
            }
        }
    }

    // Called under the lock. Temporary file in the same directory, flushed, then moved over state.json: a crash leaves
    // either the old or the new state, never a torn file.
    private void Save()
    {
        if (directory is null)
        {
            return;
        }

        var file = new StateFile(
            CurrentVersion,
            data.Sequence,
            [.. data.Customers.Values],
            [.. data.PaymentMethods.Values],
            [.. data.IdempotencyRecords.Values],
            [.. data.SetupIntents.Values],
            [.. data.Mandates.Values],
            [.. data.PaymentIntents.Values],
            [.. data.EventLog.All],
            [.. data.WebhookEndpoints.Values],
            [.. data.DeletedCustomers]);
        var temporary = Path.Combine(directory, $".{StateFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, file, SandboxJson.Default.StateFile);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path.Combine(directory, StateFileName), overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
