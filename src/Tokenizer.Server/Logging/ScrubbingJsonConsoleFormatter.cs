using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Server.Logging;

/// <summary>Options of <see cref="ScrubbingJsonConsoleFormatter"/>: those of the JSON console formatter.</summary>
/// <remarks>
/// Bound from <c>Logging:Console:FormatterOptions</c>. <c>JsonWriterOptions.Indented</c> is ignored: every entry is
/// written on one line. <c>UseUtcTimestamp</c> is ignored: timestamps are always UTC.
/// </remarks>
public sealed class ScrubbingJsonConsoleFormatterOptions : JsonConsoleFormatterOptions;

/// <summary>
/// The server's only log formatter: the JSON console formatter's shape (<c>Timestamp</c>, <c>EventId</c>,
/// <c>LogLevel</c>, <c>Category</c>, <c>Message</c>, <c>Exception</c>, <c>State</c>, <c>Scopes</c>), one entry per line,
/// with every string it writes passed through <see cref="SensitiveDataScrubber"/> first.
/// </summary>
/// <remarks>
/// <c>Timestamp</c> is always UTC: ISO 8601 with a <c>Z</c> (<see cref="DefaultTimestampFormat"/>), or the configured
/// <c>TimestampFormat</c> applied to the UTC time. <c>State</c> holds the message's named values only: the rendered
/// message is <c>Message</c> already, so neither it nor the template (<c>{OriginalFormat}</c>) is repeated there, and
/// an entry without values has no <c>State</c>.
/// </remarks>
/// <remarks>
/// Scrubbing happens per value, before JSON encoding, rather than on the encoded line: on the encoded line a mask
/// could land inside a JSON number or an escape sequence (<c>\u0022</c> next to digits) and break the line, and
/// a value whose separators were escaped would not be recognised. Numbers are scrubbed too; a masked number is
/// written as a JSON string.
/// </remarks>
internal sealed class ScrubbingJsonConsoleFormatter : ConsoleFormatter, IDisposable
{
    /// <summary>The name to put in <c>ConsoleLoggerOptions.FormatterName</c>.</summary>
    public const string FormatterName = "tokenizer-json";

    /// <summary>The timestamp format when none is configured: ISO 8601, UTC, 100 ns, e.g. 2030-01-02T03:04:05.1234567Z.</summary>
    public const string DefaultTimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private const string OriginalFormat = "{OriginalFormat}";

    private readonly IDisposable? reloadToken;
    private readonly TimeProvider timeProvider;
    private ScrubbingJsonConsoleFormatterOptions options;

    public ScrubbingJsonConsoleFormatter(IOptionsMonitor<ScrubbingJsonConsoleFormatterOptions> options, TimeProvider? timeProvider = null)
        : base(FormatterName)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.CurrentValue;
        this.timeProvider = timeProvider ?? TimeProvider.System;
        reloadToken = options.OnChange(updated => this.options = updated);
    }

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var current = options;
        string? message;
        string? exception;
        IEnumerable<KeyValuePair<string, object?>>? properties;
        DateTimeOffset timestamp;
        if (logEntry.State is BufferedLogRecord buffered)
        {
            message = buffered.FormattedMessage;
            exception = buffered.Exception;
            properties = buffered.Attributes;
            timestamp = buffered.Timestamp.ToUniversalTime();
        }
        else
        {
            message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
            // A refusal the service named itself (data directory in use, wrong key, truncated trail) carries its whole
            // cause in its message: the stack trace would only add internals.
            exception = logEntry.Exception is { } thrown && Hosting.StartupException.Find(thrown) is { } startup
                ? $"{nameof(Hosting.StartupException)}: {startup.Message}"
                : logEntry.Exception?.ToString();
            properties = logEntry.State as IEnumerable<KeyValuePair<string, object?>>;
            timestamp = timeProvider.GetUtcNow();
        }

        if (exception is null && message is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, current.JsonWriterOptions with { Indented = false }))
        {
            writer.WriteStartObject();
            writer.WriteString("Timestamp", timestamp.UtcDateTime.ToString(current.TimestampFormat ?? DefaultTimestampFormat, CultureInfo.InvariantCulture));

            writer.WriteNumber("EventId", logEntry.EventId.Id);
            writer.WriteString("LogLevel", LevelName(logEntry.LogLevel));
            writer.WriteString("Category", SensitiveDataScrubber.Scrub(logEntry.Category));
            writer.WriteString("Message", SensitiveDataScrubber.Scrub(message));
            if (exception is not null)
            {
                writer.WriteString("Exception", SensitiveDataScrubber.Scrub(exception));
            }

            var values = properties?.Where(p => !string.Equals(p.Key, OriginalFormat, StringComparison.Ordinal)).ToList();
            if (values is { Count: > 0 })
            {
                writer.WriteStartObject("State");
                WriteProperties(writer, values);
                writer.WriteEndObject();
            }

            if (current.IncludeScopes && scopeProvider is not null)
            {
                writer.WriteStartArray("Scopes");
                scopeProvider.ForEachScope(WriteScope, writer);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write(Environment.NewLine);
    }

    /// <inheritdoc />
    public void Dispose() => reloadToken?.Dispose();

    private static void WriteScope(object? scope, Utf8JsonWriter writer)
    {
        if (scope is IEnumerable<KeyValuePair<string, object?>> properties)
        {
            writer.WriteStartObject();
            writer.WriteString("Message", SensitiveDataScrubber.Scrub(scope.ToString()));
            WriteProperties(writer, properties.Where(p => !string.Equals(p.Key, OriginalFormat, StringComparison.Ordinal)));
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStringValue(SensitiveDataScrubber.Scrub(Convert.ToString(scope, CultureInfo.InvariantCulture)));
        }
    }

    private static void WriteProperties(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>>? properties)
    {
        if (properties is null)
        {
            return;
        }

        foreach (var (rawKey, value) in properties)
        {
            var key = SensitiveDataScrubber.Scrub(rawKey ?? string.Empty);
            switch (value)
            {
                case null:
                    writer.WriteNull(key);
                    break;
                case bool flag:
                    writer.WriteBoolean(key, flag);
                    break;
                case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                    WriteNumber(writer, key, value);
                    break;
                // ISO 8601 (round trip), never a culture format whose digit run can read as a card number and be
                // masked; a typed date carries no caller text, so it needs no scrubbing.
                case DateTime date:
                    writer.WriteString(key, date.ToString("O", CultureInfo.InvariantCulture));
                    break;
                case DateTimeOffset moment:
                    writer.WriteString(key, moment.ToString("O", CultureInfo.InvariantCulture));
                    break;
                default:
                    writer.WriteString(key, SensitiveDataScrubber.Scrub(Convert.ToString(value, CultureInfo.InvariantCulture)));
                    break;
            }
        }
    }

    /// <summary>A number as a JSON number, unless it scrubs to a mask (a PAN logged as a long): then as a string.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, string key, object value)
    {
        var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;
        var scrubbed = SensitiveDataScrubber.Scrub(text);
        if (!ReferenceEquals(text, scrubbed))
        {
            writer.WriteString(key, scrubbed);
            return;
        }

        switch (value)
        {
            case float or double when !double.IsFinite(Convert.ToDouble(value, CultureInfo.InvariantCulture)):
                writer.WriteString(key, text);
                break;
            case ulong unsigned:
                writer.WriteNumber(key, unsigned);
                break;
            case decimal exact:
                writer.WriteNumber(key, exact);
                break;
            case float or double:
                writer.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture));
                break;
            default:
                writer.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "Trace",
        LogLevel.Debug => "Debug",
        LogLevel.Information => "Information",
        LogLevel.Warning => "Warning",
        LogLevel.Error => "Error",
        LogLevel.Critical => "Critical",
        _ => "None",
    };
}
