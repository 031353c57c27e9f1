using System.Text.Json;
using CsCheck;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Server.Logging;

namespace Tokenizer.SecurityTests.Logging;

/// <summary>The server's log formatter: JSON console shape, one line per entry, every value scrubbed.</summary>
public class ScrubbingJsonConsoleFormatterTests
{
    private const string Pan = "4000056655665556";

    [Fact]
    public void Write_CardDataInMessageStateAndException_OneValidJsonLineWithoutIt()
    {
        // Arrange
        IReadOnlyList<KeyValuePair<string, object?>> state =
        [
            new("Input", "4000 0566 5566 5556"),
            new("AsNumber", 4000056655665556L),
            new("Iban", "DE89370400440532013000"),
            new("Attempt", 3),
            new("Ratio", 0.5),
            new("Flag", true),
            new("Missing", null),
            new("{OriginalFormat}", "charge {Input}"),
        ];
        var exception = new FormatException($"The input string '{Pan}' was not in a correct format.");

        // Act
        var line = Render(state, "charge " + Pan + "\r\n{\"LogLevel\":\"Critical\",\"Message\":\"forged\"}", exception);

        // Assert
        Assert.EndsWith(Environment.NewLine, line, StringComparison.Ordinal);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(Pan, line, StringComparison.Ordinal);
        Assert.DoesNotContain("DE89370400440532013000", line, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal(4001, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Warning", root.GetProperty("LogLevel").GetString());
        Assert.Equal("Tokenizer.Test", root.GetProperty("Category").GetString());
        Assert.StartsWith("charge [PAN ****5556]  {", root.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Contains("[PAN ****5556]", root.GetProperty("Exception").GetString(), StringComparison.Ordinal);
        var properties = root.GetProperty("State");
        Assert.Equal("[PAN ****5556]", properties.GetProperty("Input").GetString());
        Assert.Equal("[PAN ****5556]", properties.GetProperty("AsNumber").GetString());
        Assert.Equal("[IBAN ****3000]", properties.GetProperty("Iban").GetString());
        Assert.Equal(3, properties.GetProperty("Attempt").GetInt32());
        Assert.Equal(0.5, properties.GetProperty("Ratio").GetDouble());
        Assert.True(properties.GetProperty("Flag").GetBoolean());
        Assert.Equal(JsonValueKind.Null, properties.GetProperty("Missing").ValueKind);
    }

    [Fact]
    public void Write_TimestampFormat_FromTimeProvider()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var options = new ScrubbingJsonConsoleFormatterOptions { TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ", UseUtcTimestamp = true };

        // Act
        var line = Render([], "hello", null, options, time);

        // Assert
        using var json = JsonDocument.Parse(line);
        Assert.Equal("2030-01-02T03:04:05Z", json.RootElement.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public void Write_IncludeScopes_ScopeValuesScrubbed()
    {
        // Arrange
        var scopes = new LoggerExternalScopeProvider();
        using var plain = scopes.Push("order for card " + Pan);
        using var structured = scopes.Push(new Dictionary<string, object?> { ["Card"] = Pan });
        var options = new ScrubbingJsonConsoleFormatterOptions { IncludeScopes = true };

        // Act
        var line = Render([], "in scope", null, options, scopes: scopes);

        // Assert
        Assert.DoesNotContain(Pan, line, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(line);
        var scopeArray = json.RootElement.GetProperty("Scopes");
        Assert.Equal("order for card [PAN ****5556]", scopeArray[0].GetString());
        Assert.Equal("[PAN ****5556]", scopeArray[1].GetProperty("Card").GetString());
    }

    [Fact]
    public void Write_IndentedConfigured_StillOneLine()
    {
        // Arrange
        var options = new ScrubbingJsonConsoleFormatterOptions { JsonWriterOptions = new JsonWriterOptions { Indented = true } };

        // Act
        var line = Render([new("A", 1)], "indented?", null, options);

        // Assert
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Write_AnyMessage_OneParsableLine()
    {
        Gen.Select(Gen.String, Gen.String).Sample(
            (message, value) =>
            {
                // Act
                var line = Render([new("Value", value)], message, null);

                // Assert
                Assert.EndsWith(Environment.NewLine, line, StringComparison.Ordinal);
                Assert.Equal(1, line.Count(c => c == '\n'));
                using var json = JsonDocument.Parse(line);
                Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            },
            iter: 1_000);
    }

    [Fact]
    public void Write_StateWithoutToString_StateMessageIsTheMessage()
    {
        // Arrange: the redacting logger hands providers state objects that do not override ToString().
        using var formatter = new ScrubbingJsonConsoleFormatter(new FixedOptions(new ScrubbingJsonConsoleFormatterOptions()));
        var entry = new LogEntry<TagState>(LogLevel.Information, "Tokenizer.Test", new EventId(1), new TagState(), null, (_, _) => "Revoked pm_123");
        using var writer = new StringWriter();

        // Act
        formatter.Write(entry, null, writer);

        // Assert
        using var json = JsonDocument.Parse(writer.ToString());
        Assert.Equal("Revoked pm_123", json.RootElement.GetProperty("State").GetProperty("Message").GetString());
        Assert.Equal("pm_123", json.RootElement.GetProperty("State").GetProperty("Token").GetString());
    }

    private static string Render(
        IReadOnlyList<KeyValuePair<string, object?>> state,
        string message,
        Exception? exception,
        ScrubbingJsonConsoleFormatterOptions? options = null,
        TimeProvider? time = null,
        IExternalScopeProvider? scopes = null)
    {
        using var formatter = new ScrubbingJsonConsoleFormatter(new FixedOptions(options ?? new ScrubbingJsonConsoleFormatterOptions()), time);
        var entry = new LogEntry<IReadOnlyList<KeyValuePair<string, object?>>>(
            LogLevel.Warning, "Tokenizer.Test", new EventId(4001, "Test"), state, exception, (_, _) => message);
        using var writer = new StringWriter();
        formatter.Write(entry, scopes, writer);
        return writer.ToString();
    }

    private sealed class FixedOptions(ScrubbingJsonConsoleFormatterOptions value) : IOptionsMonitor<ScrubbingJsonConsoleFormatterOptions>
    {
        public ScrubbingJsonConsoleFormatterOptions CurrentValue => value;

        public ScrubbingJsonConsoleFormatterOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ScrubbingJsonConsoleFormatterOptions, string?> listener) => null;
    }

    private sealed class TagState : List<KeyValuePair<string, object?>>
    {
        public TagState() => Add(new("Token", "pm_123"));

        public override string ToString() => GetType().ToString();
    }
}
