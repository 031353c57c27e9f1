using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>One captured log line: level, category, event, formatted text, structured values and exception.</summary>
internal sealed record CapturedLog(LogLevel Level, string Category, EventId EventId, string Text, string Values, Exception? Exception)
{
    /// <summary>Everything a sink could see of this line.</summary>
    public string All => $"{Level} {Category} {EventId} {Text} {Values} {Exception}";
}

/// <summary>A logger provider that keeps every line, at every level, for leak and warning checks.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> lines = new();

    public IReadOnlyList<CapturedLog> Lines => lines.ToArray();

    public string AllText => string.Join("\n", Lines.Select(l => l.All));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

    public ILogger<T> CreateLogger<T>() => new Logger<T>(new LoggerFactory([this]));

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            lines.Enqueue(new CapturedLog(logLevel, category, eventId, formatter(state, exception), values, exception));
        }
    }
}
