using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Redaction;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Logging;

namespace Tokenizer.SecurityTests.Logging;

/// <summary>
/// Data classification through the server's logging setup: classified [LoggerMessage] parameters are erased before
/// any provider (here a FakeLogger) sees them; PublicData passes unchanged; the console is the only sink.
/// </summary>
public partial class LogRedactionTests
{
    private const string Pan = "4000056655665556";
    private const string Customer = "cust-jenny-rosen@example.com";
    private const string Secret = "sk_live_51Hxyz_distinctive_secret";
    private const string Token = "pm_1Nv0dBAsd7ZnDMfh";

    [Fact]
    public void AddTokenizerLogging_ClassifiedParameters_ErasedBeforeAnyProvider()
    {
        // Arrange
        using var services = LoggingServices(out var fake);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("redaction-test");

        // Act
        LogEverything(logger, Pan, Customer, Secret, Token, 3);

        // Assert
        var record = Assert.Single(fake.Collector.GetSnapshot());
        var everything = record.Message + " " + string.Join(" ", record.StructuredState!.Select(p => p.Key + "=" + p.Value));
        Assert.DoesNotContain(Pan, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Customer, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
        Assert.Equal(string.Empty, record.GetStructuredStateValue("Pan"));
        Assert.Equal(string.Empty, record.GetStructuredStateValue("Customer"));
        Assert.Equal(string.Empty, record.GetStructuredStateValue("Secret"));
        Assert.Equal(Token, record.GetStructuredStateValue("Token"));
        Assert.Equal("3", record.GetStructuredStateValue("Attempt"));
        Assert.Equal($"card  customer  key  token {Token} attempt 3", record.Message);
    }

    [Fact]
    public void ClassifiedParameter_LoggerWithoutRedaction_NeverRaw()
    {
        // Arrange: a logger factory someone built by hand, without EnableRedaction (e.g. in a unit test).
        using var fake = new FakeLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(fake));
        var logger = factory.CreateLogger("plain");

        // Act
        LogEverything(logger, Pan, Customer, Secret, Token, 3);

        // Assert: the classification-aware generator never hands a classified value to an unredacted pipeline.
        var record = Assert.Single(fake.Collector.GetSnapshot());
        var everything = record.Message + " " + string.Join(" ", record.StructuredState!.Select(p => p.Key + "=" + p.Value));
        Assert.DoesNotContain(Pan, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Customer, everything, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, everything, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTokenizerLogging_RedactorPerClass_ErasingExceptPublic()
    {
        // Arrange
        using var services = LoggingServices(out _);
        var redactors = services.GetRequiredService<IRedactorProvider>();

        // Act
        var byClass = TokenizerTaxonomy.Sensitive.Append(TokenizerTaxonomy.PublicData).Append(new DataClassification("Other", "Unknown"))
            .ToDictionary(c => c.Value, c => redactors.GetRedactor(new DataClassificationSet(c)).Redact("4242424242424242"));

        // Assert
        Assert.Equal(string.Empty, byClass["CardData"]);
        Assert.Equal(string.Empty, byClass["BankData"]);
        Assert.Equal(string.Empty, byClass["PersonalData"]);
        Assert.Equal(string.Empty, byClass["SecretData"]);
        Assert.Equal(string.Empty, byClass["Unknown"]);
        Assert.Equal("4242424242424242", byClass["PublicData"]);
    }

    [Fact]
    public void AddTokenizerLogging_OnlySink_ConsoleWithScrubbingFormatter()
    {
        // Arrange
        var collection = new ServiceCollection();
        collection.AddLogging(builder => builder.AddDebug().AddTokenizerLogging());

        // Act
        using var services = collection.BuildServiceProvider();
        var providers = services.GetServices<ILoggerProvider>().ToList();
        var console = services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var formatters = services.GetServices<ConsoleFormatter>();

        // Assert
        Assert.IsType<ConsoleLoggerProvider>(Assert.Single(providers));
        Assert.Equal(ScrubbingJsonConsoleFormatter.FormatterName, console.FormatterName);
        Assert.Contains(formatters, f => f is ScrubbingJsonConsoleFormatter);
    }

    [Fact]
    public void TokenizerHost_Build_RedactingFactoryAndOnlyTheScrubbingConsole()
    {
        // Arrange
        var directory = Path.Combine(Path.GetTempPath(), "tokenizer-redaction-" + Guid.NewGuid().ToString("N"));

        // Act: the real host wiring (built, not started).
        var app = TokenizerHost.Build(["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"]);
        try
        {
            var providers = app.Services.GetServices<ILoggerProvider>().ToList();
            var console = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
            var redactor = app.Services.GetRequiredService<IRedactorProvider>().GetRedactor(new DataClassificationSet(TokenizerTaxonomy.CardData));

            // Assert
            Assert.IsType<ConsoleLoggerProvider>(Assert.Single(providers));
            Assert.Equal(ScrubbingJsonConsoleFormatter.FormatterName, console.FormatterName);
            Assert.IsType<ErasingRedactor>(redactor);
            Assert.NotEqual(typeof(LoggerFactory), app.Services.GetRequiredService<ILoggerFactory>().GetType());
        }
        finally
        {
            ((IDisposable)app).Dispose();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static ServiceProvider LoggingServices(out FakeLoggerProvider fake)
    {
        var provider = new FakeLoggerProvider();
        fake = provider;
        var collection = new ServiceCollection();
        collection.AddLogging(builder => builder.AddTokenizerLogging().AddProvider(provider));
        return collection.BuildServiceProvider();
    }

    [LoggerMessage(EventId = 9001, EventName = "RedactionProbe", Level = LogLevel.Information,
        Message = "card {Pan} customer {Customer} key {Secret} token {Token} attempt {Attempt}")]
    private static partial void LogEverything(
        ILogger logger, [CardData] string pan, [PersonalData] string customer, [SecretData] string secret, [PublicData] string token, int attempt);
}
