using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Ports;
using Tokenizer.Ledger.Audit;
using Tokenizer.Ledger.Postgres;

namespace Tokenizer.Ledger.Tests;

/// <summary>Provider selection and registrations; nothing here connects to a database.</summary>
public sealed class LedgerServiceCollectionExtensionsTests
{
    private static readonly byte[] AuditKey = new byte[32];

    [Theory]
    [InlineData(null, LedgerProvider.Sqlite)]
    [InlineData("", LedgerProvider.Sqlite)]
    [InlineData("sqlite", LedgerProvider.Sqlite)]
    [InlineData("Postgres", LedgerProvider.Postgres)]
    [InlineData(" postgresql ", LedgerProvider.Postgres)]
    public void GetLedgerProvider_Setting_Provider(string? value, LedgerProvider expected) =>
        Assert.Equal(expected, Configuration(("Ledger:Provider", value)).GetLedgerProvider());

    [Theory]
    [InlineData("mysql-secret-name")]
    [InlineData("2")]
    public void GetLedgerProvider_UnknownValue_ThrowsNamingTheSettingNotTheValue(string value)
    {
        // Act
        var error = Assert.Throws<InvalidOperationException>(() => Configuration(("Ledger:Provider", value)).GetLedgerProvider());

        // Assert
        Assert.Contains("Ledger:Provider", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddTokenizerLedger_Default_SqliteLedgerAndTrailSharingIt()
    {
        // Arrange
        var path = Path.Combine(Path.GetTempPath(), "tokenizer-ledger-tests", Guid.NewGuid().ToString("N"), "ledger.db");
        using var services = Build(Configuration(), path);

        // Act
        var ledger = services.GetRequiredService<ILedgerSchema>();
        var trail = services.GetRequiredService<IAuditTrail>();

        // Assert
        Assert.IsType<SqliteTokenLedger>(ledger);
        var relational = Assert.IsAssignableFrom<RelationalTokenLedger>(ledger);
        Assert.Same(ledger, services.GetRequiredService<RelationalTokenLedger>());
        Assert.Same(relational.Claims, services.GetRequiredService<IClaimStore>());
        Assert.Same(relational.Intents, services.GetRequiredService<IIntentStore>());
        Assert.Same(relational.Customers, services.GetRequiredService<ICustomerRepository>());
        Assert.Same(relational.Tokens, services.GetRequiredService<ITokenRepository>());
        Assert.IsType<SqliteAuditTrail>(trail);
        Assert.Same(trail, services.GetRequiredService<IAuditTrailReader>());
        Assert.Same(trail, services.GetRequiredService<RelationalAuditTrail>());
        Assert.Null(services.GetService<IXmlRepository>());
        Assert.Equal(path, ((SqliteTokenLedger)ledger).Database.DatabasePath);
    }

    [Fact]
    public void AddTokenizerLedger_Postgres_LedgerTrailAndKeyRingOnOnePool()
    {
        // Arrange
        using var services = Build(Configuration(
            ("Ledger:Provider", "Postgres"),
            ("ConnectionStrings:Ledger", "Host=127.0.0.1;Database=tokenizer;SSL Mode=VerifyFull")), "unused");

        // Act
        var ledger = services.GetRequiredService<ILedgerSchema>();
        var trail = services.GetRequiredService<IAuditTrail>();

        // Assert
        var postgres = Assert.IsType<PostgresTokenLedger>(ledger);
        Assert.Equal(Npgsql.SslMode.VerifyFull, postgres.SslMode);
        Assert.IsType<PostgresAuditTrail>(trail);
        Assert.Same(trail, services.GetRequiredService<IAuditTrailReader>());
        Assert.IsType<PostgresXmlRepository>(services.GetRequiredService<IXmlRepository>());
    }

    [Fact]
    public void AddTokenizerLedger_PostgresWithoutConnectionString_ThrowsNamingIt()
    {
        // Act
        var error = Assert.Throws<InvalidOperationException>(() =>
            new ServiceCollection().AddTokenizerLedger(Configuration(("Ledger:Provider", "Postgres")), _ => new SqliteLedgerOptions { DatabasePath = "unused" }, _ => AuditKey));

        // Assert
        Assert.Contains("ConnectionStrings:Ledger", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    private static ServiceProvider Build(IConfiguration configuration, string sqlitePath)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTokenizerLedger(configuration, _ => new SqliteLedgerOptions { DatabasePath = sqlitePath }, _ => AuditKey);
        return services.BuildServiceProvider();
    }
}
