namespace Tokenizer.StripeSandbox.Faults;

/// <summary>How a recorded request ended.</summary>
public enum SandboxRequestOutcome
{
    /// <summary>Still being handled (or held by a <c>hang</c> fault).</summary>
    InProgress,

    /// <summary>An answer was written; <see cref="SandboxRecordedRequest.Status"/> holds its status.</summary>
    Answered,

    /// <summary>The connection was aborted (by a fault, or because the client went away) before an answer was completed.</summary>
    Aborted,
}

/// <summary>
/// One request to <c>/v1</c> as the sandbox received it. Never a body, a query string or a header other than
/// Idempotency-Key: nothing here can hold card data sent in a form.
/// </summary>
/// <param name="Sequence">Arrival order, from 1, never reused (it keeps counting across <see cref="SandboxRequestLog.Clear"/>).</param>
/// <param name="Time">Arrival time (the sandbox's clock, UTC).</param>
/// <param name="Method">The HTTP method, upper case.</param>
/// <param name="Path">
/// The path without the query string, e.g. <c>/v1/payment_methods/pm_123/attach</c>. A segment holding a run of 12 or more
/// digits, spaces and dashes between them allowed (a card number put in a URL by mistake), is recorded as <c>{redacted}</c>.
/// </param>
/// <param name="IdempotencyKey">The <c>Idempotency-Key</c> header as sent (at most its first 255 characters), or null when absent.</param>
/// <param name="Outcome">How the request ended so far.</param>
/// <param name="Status">The HTTP status answered; null unless <paramref name="Outcome"/> is <see cref="SandboxRequestOutcome.Answered"/>.</param>
/// <param name="Fault">
/// The fault that fired on the request (the non-latency one when both fired), or null. A request answered normally after
/// a <c>latency</c> fault shows <see cref="SandboxFaultAction.Latency"/>.
/// </param>
public sealed record SandboxRecordedRequest(
    long Sequence,
    DateTimeOffset Time,
    string Method,
    string Path,
    string? IdempotencyKey,
    SandboxRequestOutcome Outcome,
    int? Status,
    SandboxFaultAction? Fault);

/// <summary>
/// What the sandbox received on <c>/v1</c>: the last <see cref="Capacity"/> requests, oldest first (older ones are
/// dropped). Thread-safe; in memory only, never persisted. Also served as <c>/_sandbox/requests</c> when a control token
/// is configured.
/// </summary>
public sealed class SandboxRequestLog
{
    internal const string Redacted = "{redacted}";
    private const int MaxKeyLength = 255;
    private const int LongDigitRun = 12;

    private readonly Lock gate = new();
    private readonly Queue<Entry> entries = new();
    private readonly TimeProvider time;
    private long sequence;

    internal SandboxRequestLog(int capacity, TimeProvider time)
    {
        Capacity = capacity;
        this.time = time;
    }

    /// <summary>How many requests are kept (<see cref="StripeSandboxOptions.RecordedRequestLimit"/>); 0 records nothing.</summary>
    public int Capacity { get; }

    /// <summary>The recorded requests, oldest first.</summary>
    public IReadOnlyList<SandboxRecordedRequest> Snapshot() => Snapshot(null);

    /// <summary>The recorded requests that match a pattern (the syntax of <see cref="SandboxFaultRule.Match"/>), oldest first.</summary>
    /// <exception cref="ArgumentException">The pattern is malformed.</exception>
    public IReadOnlyList<SandboxRecordedRequest> Snapshot(string? match)
    {
        var matcher = match is null ? null : RequestMatcher.Parse(match) ?? throw new ArgumentException(RequestMatcher.FormatMessage, nameof(match));
        lock (gate)
        {
            return [.. entries.Where(e => matcher is null || matcher.IsMatch(e.Method, e.Path)).Select(e => e.ToRecord())];
        }
    }

    /// <summary>Forgets every recorded request (sequence numbers keep counting).</summary>
    public void Clear()
    {
        lock (gate)
        {
            entries.Clear();
        }
    }

    /// <summary>Records a request's arrival; null when recording is off.</summary>
    internal Entry? Begin(string method, string path, string? idempotencyKey)
    {
        if (Capacity == 0)
        {
            return null;
        }

        var entry = new Entry(method.ToUpperInvariant(), SafePath(path), idempotencyKey is { Length: > MaxKeyLength } ? idempotencyKey[..MaxKeyLength] : idempotencyKey);
        lock (gate)
        {
            entry.Sequence = ++sequence;
            entry.Time = time.GetUtcNow();
            entries.Enqueue(entry);
            while (entries.Count > Capacity)
            {
                entries.Dequeue();
            }
        }

        return entry;
    }

    /// <summary>Records how a request ended: its status, or null when the connection was aborted.</summary>
    internal void Complete(Entry entry, int? status, SandboxFaultAction? fault)
    {
        lock (gate)
        {
            entry.Outcome = status is null ? SandboxRequestOutcome.Aborted : SandboxRequestOutcome.Answered;
            entry.Status = status;
            entry.Fault = fault;
        }
    }

    /// <summary>Records the fault chosen for a request still in progress (so a held request shows it).</summary>
    internal void MarkFault(Entry entry, SandboxFaultAction? fault)
    {
        lock (gate)
        {
            entry.Fault = fault;
        }
    }

    private static string SafePath(string path)
    {
        if (!HasLongDigitRun(path))
        {
            return path;
        }

        return string.Join('/', path.Split('/').Select(segment => HasLongDigitRun(segment) ? Redacted : segment));
    }

    private static bool HasLongDigitRun(string text)
    {
        // Spaces and dashes do not break a run: "4242 4242 4242 4242" counts as 16 digits.
        var run = 0;
        foreach (var c in text)
        {
            run = char.IsAsciiDigit(c) ? run + 1 : c is ' ' or '-' ? run : 0;
            if (run >= LongDigitRun)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A request being recorded; mutable under the log's lock only.</summary>
    internal sealed class Entry(string method, string path, string? idempotencyKey)
    {
        public string Method { get; } = method;

        public string Path { get; } = path;

        public string? IdempotencyKey { get; } = idempotencyKey;

        public long Sequence { get; set; }

        public DateTimeOffset Time { get; set; }

        public SandboxRequestOutcome Outcome { get; set; }

        public int? Status { get; set; }

        public SandboxFaultAction? Fault { get; set; }

        public SandboxRecordedRequest ToRecord() => new(Sequence, Time, Method, Path, IdempotencyKey, Outcome, Status, Fault);
    }
}
