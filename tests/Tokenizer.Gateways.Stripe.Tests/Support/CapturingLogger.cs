using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tokenizer.Gateways.Stripe.Tests.Support;

/// <summary>One log line: level, event, the formatted text and the structured values.</summary>
internal sealed record LogLine(LogLevel Level, EventId EventId, string Text, IReadOnlyList<KeyValuePair<string, object?>> State, Exception? Exception);

/// <summary>An ILogger that keeps every line it is given.</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<LogLine> lines = new();

    public IReadOnlyList<LogLine> Lines => lines.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
        lines.Enqueue(new LogLine(logLevel, eventId, formatter(state, exception), values.ToArray(), exception));
    }

    /// <summary>Everything a log sink could see: text, values and exception text.</summary>
    public string AllText() => string.Join(
        "\n",
        Lines.Select(l => l.Text + " " + string.Join(" ", l.State.Select(kv => kv.Key + "=" + kv.Value)) + " " + l.Exception));
}
