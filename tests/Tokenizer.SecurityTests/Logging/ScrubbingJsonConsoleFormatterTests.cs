using System.Globalization;
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

    /// <summary>
    /// A date the service logs is written in ISO 8601 (round-trip "O"), never in a culture format: this one, written
    /// month/day/year hour:minute:second, reads as a Luhn-valid 14-digit run, which the scrubber would mask as a card
    /// number (it did, for the Data Protection certificate's NotAfter).
    /// </summary>
    [Fact]
    public void Write_DateValues_Iso8601NotMasked()
    {
        // Arrange
        IReadOnlyList<KeyValuePair<string, object?>> state =
        [
            new("NotAfter", DateTime.Parse("2036-12-07T02:53:25Z", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)),
            new("At", DateTimeOffset.Parse("2036-12-07T02:53:25Z", CultureInfo.InvariantCulture)),
        ];

        // Act
        var line = Render(state, "dates", null);

        // Assert
        using var json = JsonDocument.Parse(line);
        var properties = json.RootElement.GetProperty("State");
        Assert.Equal("2036-12-07T02:53:25.0000000Z", properties.GetProperty("NotAfter").GetString());
        Assert.Equal("2036-12-07T02:53:25.0000000+00:00", properties.GetProperty("At").GetString());
        Assert.DoesNotContain("[PAN", line, StringComparison.Ordinal);
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
    public void Write_DefaultOptions_TimestampIsUtcIso8601WithZ()
    {
        // Arrange: a machine whose local zone is far from UTC.
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("UTC+05", TimeSpan.FromHours(5), "UTC+05", "UTC+05"));

        // Act
        var line = Render([], "hello", null, null, time);

        // Assert
        using var json = JsonDocument.Parse(line);
        Assert.Equal("2030-01-02T03:04:05.0000000Z", json.RootElement.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public void Write_LocalTimestampRequested_StillUtc()
    {
        // Arrange: the options of the framework formatter ask for local time with its offset.
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("UTC+05", TimeSpan.FromHours(5), "UTC+05", "UTC+05"));
        var options = new ScrubbingJsonConsoleFormatterOptions { TimestampFormat = "yyyy-MM-ddTHH:mm:ssK", UseUtcTimestamp = false };

        // Act
        var line = Render([], "hello", null, options, time);

        // Assert
        using var json = JsonDocument.Parse(line);
        Assert.Equal("2030-01-02T03:04:05Z", json.RootElement.GetProperty("Timestamp").GetString());
    }

    [Fact]
    public void Write_AnyMessageAndValues_MessageWrittenOnceStateHoldsOnlyTheValues()
    {
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 40], Gen.Dictionary(Gen.String[Gen.Char.AlphaNumeric, 1, 12], Gen.String[Gen.Char.AlphaNumeric, 0, 20])[0, 5])
            .Sample(
                (message, values) =>
                {
                    // Arrange: a template-based entry as [LoggerMessage] makes it (its values, then the template).
                    var text = "entry " + message;
                    IReadOnlyList<KeyValuePair<string, object?>> state =
                    [
                        .. values.Select(v => new KeyValuePair<string, object?>("V" + v.Key, v.Value)),
                        new("{OriginalFormat}", "entry {Text}"),
                    ];

                    // Act
                    var line = Render(state, text, null);

                    // Assert
                    using var json = JsonDocument.Parse(line);
                    var root = json.RootElement;
                    Assert.Equal(text, root.GetProperty("Message").GetString());
                    Assert.DoesNotContain("{OriginalFormat}", line, StringComparison.Ordinal);
                    if (values.Count == 0)
                    {
                        Assert.False(root.TryGetProperty("State", out _));
                        return;
                    }

                    var written = root.GetProperty("State").EnumerateObject().Select(p => (p.Name, p.Value.GetString())).ToList();
                    Assert.Equal(values.Select(v => ("V" + v.Key, (string?)v.Value)).OrderBy(p => p.Item1, StringComparer.Ordinal), written.OrderBy(p => p.Name, StringComparer.Ordinal));
                },
                iter: 200);
    }

    [Fact]
    public void Write_StateWithoutToString_StateHoldsItsValues()
    {
        // Arrange: the redacting logger hands providers state objects that do not override ToString().
        using var formatter = new ScrubbingJsonConsoleFormatter(new FixedOptions(new ScrubbingJsonConsoleFormatterOptions()));
        var entry = new LogEntry<TagState>(LogLevel.Information, "Tokenizer.Test", new EventId(1), new TagState(), null, (_, _) => "Revoked pm_123");
        using var writer = new StringWriter();

        // Act
        formatter.Write(entry, null, writer);

        // Assert
        using var json = JsonDocument.Parse(writer.ToString());
        Assert.Equal("Revoked pm_123", json.RootElement.GetProperty("Message").GetString());
        Assert.False(json.RootElement.GetProperty("State").TryGetProperty("Message", out _));
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
