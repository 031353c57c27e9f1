using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

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

/// <summary>How a recorded parameter's raw text reads (decided from the text alone, never kept).</summary>
public enum SandboxParameterKind
{
    /// <summary>Any other text (wire name <c>string</c>).</summary>
    Text,

    /// <summary>Optional minus and ASCII digits only, also a digit string such as a card number (wire name <c>integer</c>).</summary>
    WholeNumber,

    /// <summary>Optional minus, digits, one dot and digits (<c>1.5</c>).</summary>
    Number,

    /// <summary>Exactly <c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary>The empty string (Stripe's "unset" for optional values; Stripe.net sends it for an explicit null).</summary>
    Empty,
}

/// <summary>Where a recorded parameter was sent.</summary>
public enum SandboxParameterSource
{
    /// <summary>The <c>application/x-www-form-urlencoded</c> body.</summary>
    Form,

    /// <summary>The query string.</summary>
    Query,
}

/// <summary>
/// One parameter of a recorded request: its name as sent (Stripe's bracket notation, e.g. <c>card[number]</c>,
/// <c>payment_method_types[0]</c>, <c>metadata[tokenizer_intent]</c>), how its text reads, and its value only when the
/// value matches <c>^[a-z_]{1,64}$</c> (an enum-like word such as <c>off_session</c>): no card number, CVC, account
/// number, IBAN, id or free text is ever kept. A name segment that could hold such data (more than 4 digits, or
/// characters outside letters, digits, <c>_ - .</c>, or longer than 64) is recorded as <c>{redacted}</c>.
/// </summary>
/// <param name="Name">The name as sent, with unsafe segments replaced by <c>{redacted}</c>.</param>
/// <param name="Kind">How the raw text reads.</param>
/// <param name="Value">The value when it matches <c>^[a-z_]{1,64}$</c>, else null.</param>
/// <param name="Source">Form body or query string.</param>
public sealed record SandboxRecordedParameter(string Name, SandboxParameterKind Kind, string? Value, SandboxParameterSource Source);

/// <summary>
/// One request to <c>/v1</c> as the sandbox received it. Never a body, a query string, a parameter value (other than a
/// <c>^[a-z_]{1,64}$</c> word) or a header other than Idempotency-Key: nothing here can hold card data sent in a form.
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
/// <param name="Parameters">
/// The query string's and form body's parameters in the order sent, or null when they could not be read (a body that is
/// not a readable form, or a connection lost while reading it).
/// </param>
/// <param name="ResponseKeys">
/// The key paths of the JSON answered, sorted and distinct, names only (<c>next_action.redirect_to_url.url</c>; array
/// elements as <c>[]</c>, e.g. <c>data[].id</c>), or null when no JSON object was answered (aborted, non-JSON fault).
/// </param>
public sealed record SandboxRecordedRequest(
    long Sequence,
    DateTimeOffset Time,
    string Method,
    string Path,
    string? IdempotencyKey,
    SandboxRequestOutcome Outcome,
    int? Status,
    SandboxFaultAction? Fault,
    IReadOnlyList<SandboxRecordedParameter>? Parameters = null,
    IReadOnlyList<string>? ResponseKeys = null);

/// <summary>
/// What the sandbox received on <c>/v1</c>: the last <see cref="Capacity"/> requests, oldest first (older ones are
/// dropped). Thread-safe; in memory. Also served as <c>/_sandbox/requests</c> when a control token is configured.
/// When the environment variable <see cref="ExportDirectoryVariable"/> names a folder (the integration suite sets it for
/// the OpenAPI conformance check), each completed request is also appended there as one JSON line
/// (<c>sandbox-{pid}-{random}.jsonl</c>): the same names, kinds, words and key paths, nothing more.
/// </summary>
public sealed partial class SandboxRequestLog
{
    /// <summary>The environment variable naming the folder completed requests are appended to (unset: none).</summary>
    public const string ExportDirectoryVariable = "TOKENIZER_SANDBOX_REQUEST_LOG_DIR";

    internal const string Redacted = "{redacted}";
    private const int MaxKeyLength = 255;
    private const int LongDigitRun = 12;
    private const int MaxParameters = 1000;
    private const int MaxResponseKeys = 4000;
    private const int MaxResponseDepth = 32;
    private const int MaxSegmentLength = 64;
    private const int MaxSegmentDigits = 4;

    private readonly Lock gate = new();
    private readonly Lock exportGate = new();
    private readonly Queue<Entry> entries = new();
    private readonly TimeProvider time;
    private readonly string? exportFile;
    private long sequence;

    internal SandboxRequestLog(int capacity, TimeProvider time)
        : this(capacity, time, Environment.GetEnvironmentVariable(ExportDirectoryVariable))
    {
    }

    internal SandboxRequestLog(int capacity, TimeProvider time, string? exportDirectory)
    {
        Capacity = capacity;
        this.time = time;
        if (!string.IsNullOrWhiteSpace(exportDirectory))
        {
            Directory.CreateDirectory(exportDirectory);
            exportFile = System.IO.Path.Combine(
                exportDirectory, $"sandbox-{Environment.ProcessId}-{System.Security.Cryptography.RandomNumberGenerator.GetHexString(12, lowercase: true)}.jsonl");
        }
    }

    /// <summary>The file completed requests are appended to, or null when not exporting.</summary>
    internal string? ExportFile => exportFile;

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
        SandboxRecordedRequest record;
        lock (gate)
        {
            entry.Outcome = status is null ? SandboxRequestOutcome.Aborted : SandboxRequestOutcome.Answered;
            entry.Status = status;
            entry.Fault = fault;
            record = entry.ToRecord();
        }

        if (exportFile is not null)
        {
            Export(record);
        }
    }

    /// <summary>
    /// Records the parameters of a request (query string, then the form body when it is a form). Only names (unsafe
    /// segments redacted), kinds and <c>^[a-z_]{1,64}$</c> values are kept; a body that cannot be read as a form leaves
    /// <see cref="SandboxRecordedRequest.Parameters"/> null (the API answers that request itself).
    /// </summary>
    internal static async Task CaptureParametersAsync(Entry entry, HttpRequest request, CancellationToken cancellationToken)
    {
        var parameters = new List<SandboxRecordedParameter>();
        Add(parameters, request.Query, SandboxParameterSource.Query);
        if (request.HasFormContentType)
        {
            try
            {
                // The form is buffered by the request's form feature: the API reads the same collection afterwards.
                Add(parameters, await request.ReadFormAsync(cancellationToken), SandboxParameterSource.Form);
            }
#pragma warning disable CA1031 // Any failure to read leaves the parameters unknown; the API answers the request as before.
            catch (Exception)
#pragma warning restore CA1031
            {
                return;
            }
        }

        entry.SetParameters(parameters);

        static void Add(List<SandboxRecordedParameter> into, IEnumerable<KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>> source, SandboxParameterSource where)
        {
            foreach (var (name, values) in source)
            {
                foreach (var value in values)
                {
                    if (into.Count >= MaxParameters)
                    {
                        return;
                    }

                    into.Add(Parameter(name, value ?? string.Empty, where));
                }
            }
        }
    }

    /// <summary>Records the key paths (names only) of the JSON answered; ignores a body that is not JSON.</summary>
    internal static void CaptureResponse(Entry entry, string body)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(body);
            Walk(document.RootElement, string.Empty, keys, 0);
        }
        catch (JsonException)
        {
            return;
        }

        entry.SetResponseKeys([.. keys]);
    }

    /// <summary>A parameter as recorded: safe name, kind of the raw text, value only when an enum-like word.</summary>
    internal static SandboxRecordedParameter Parameter(string name, string value, SandboxParameterSource source) =>
        new(SafeName(name), KindOf(value), EnumWord().IsMatch(value) ? value : null, source);

    internal static SandboxParameterKind KindOf(string value) => value switch
    {
        "" => SandboxParameterKind.Empty,
        "true" or "false" => SandboxParameterKind.Boolean,
        _ when IntegerText().IsMatch(value) => SandboxParameterKind.WholeNumber,
        _ when NumberText().IsMatch(value) => SandboxParameterKind.Number,
        _ => SandboxParameterKind.Text,
    };

    /// <summary>
    /// The name with each segment (the base name and every bracketed part) kept only when it is a plain identifier of at
    /// most 64 characters (letters, digits, <c>_ - .</c>) with at most 4 digits; otherwise <c>{redacted}</c>.
    /// </summary>
    internal static string SafeName(string name)
    {
        var builder = new StringBuilder(name.Length);
        var start = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] is '[' or ']')
            {
                builder.Append(SafeSegment(name.AsSpan(start, i - start)));
                if (i < name.Length)
                {
                    builder.Append(name[i]);
                }

                start = i + 1;
            }
        }

        return builder.ToString();
    }

    private static string SafeSegment(ReadOnlySpan<char> segment)
    {
        if (segment.Length == 0)
        {
            return string.Empty;
        }

        var digits = 0;
        foreach (var c in segment)
        {
            digits += char.IsAsciiDigit(c) ? 1 : 0;
        }

        return segment.Length <= MaxSegmentLength && digits <= MaxSegmentDigits && !segment.ContainsAnyExcept(SegmentChars)
            ? segment.ToString()
            : Redacted;
    }

    private static readonly SearchValues<char> SegmentChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

    private static void Walk(JsonElement element, string path, SortedSet<string> keys, int depth)
    {
        if (depth > MaxResponseDepth || keys.Count >= MaxResponseKeys)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var child = path.Length == 0 ? SafeSegment(property.Name) : path + "." + SafeSegment(property.Name);
                    keys.Add(child);
                    Walk(property.Value, child, keys, depth + 1);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, path + "[]", keys, depth + 1);
                }

                break;
        }
    }

    private void Export(SandboxRecordedRequest record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteJson(writer, record);
        }

        lock (exportGate)
        {
            try
            {
                // One unbuffered write of the whole line: a reader never sees half of it (Linux appends in one piece).
                buffer.Write("\n"u8);
                using var stream = new FileStream(exportFile!, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
                stream.Write(buffer.WrittenSpan);
            }
            catch (IOException)
            {
                // The export serves a test check; losing a line there must never fail the sandbox's answer (the check
                // then fails on what it misses).
            }
        }
    }

    /// <summary>One recorded request as an export line: snake_case members, enums as snake_case words.</summary>
    internal static void WriteJson(Utf8JsonWriter writer, SandboxRecordedRequest record)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sequence", record.Sequence);
        writer.WriteString("time", record.Time);
        writer.WriteString("method", record.Method);
        writer.WriteString("path", record.Path);
        writer.WriteString("outcome", FaultWire.Name(record.Outcome));
        if (record.Status is { } status)
        {
            writer.WriteNumber("status", status);
        }

        if (record.Fault is { } fault)
        {
            writer.WriteString("fault", FaultWire.Name(fault));
        }

        if (record.Parameters is { } parameters)
        {
            writer.WriteStartArray("parameters");
            foreach (var parameter in parameters)
            {
                writer.WriteStartObject();
                writer.WriteString("name", parameter.Name);
                writer.WriteString("kind", KindName(parameter.Kind));
                if (parameter.Value is { } value)
                {
                    writer.WriteString("value", value);
                }

                writer.WriteString("source", parameter.Source == SandboxParameterSource.Form ? "form" : "query");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (record.ResponseKeys is { } responseKeys)
        {
            writer.WriteStartArray("response_keys");
            foreach (var key in responseKeys)
            {
                writer.WriteStringValue(key);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>The wire name of a kind: <c>string</c>, <c>integer</c>, <c>number</c>, <c>boolean</c>, <c>empty</c>.</summary>
    internal static string KindName(SandboxParameterKind kind) => kind switch
    {
        SandboxParameterKind.WholeNumber => "integer",
        SandboxParameterKind.Number => "number",
        SandboxParameterKind.Boolean => "boolean",
        SandboxParameterKind.Empty => "empty",
        _ => "string",
    };

    [GeneratedRegex("^[a-z_]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex EnumWord();

    [GeneratedRegex("^-?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerText();

    [GeneratedRegex("^-?[0-9]*\\.[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberText();

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

        // Parameters and response keys are set outside the log's lock (while the request runs): their own lock.
        private readonly Lock captureGate = new();
        private IReadOnlyList<SandboxRecordedParameter>? parameters;
        private IReadOnlyList<string>? responseKeys;

        public void SetParameters(IReadOnlyList<SandboxRecordedParameter> value)
        {
            lock (captureGate)
            {
                parameters = value;
            }
        }

        public void SetResponseKeys(IReadOnlyList<string> value)
        {
            lock (captureGate)
            {
                responseKeys = value;
            }
        }

        public SandboxRecordedRequest ToRecord()
        {
            lock (captureGate)
            {
                return new(Sequence, Time, Method, Path, IdempotencyKey, Outcome, Status, Fault, parameters, responseKeys);
            }
        }
    }
}
