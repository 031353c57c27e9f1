using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Ledger.Postgres;

namespace Tokenizer.Ledger.PostgresTests;

/// <summary>The Data Protection key ring in PostgreSQL: one ring for every replica.</summary>
public sealed class PostgresXmlRepositoryTests : IAsyncLifetime
{
    private readonly PostgresTestDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public Task InitializeAsync() => database.CreateAsync();

    public async Task DisposeAsync() => await database.DisposeAsync();

    [Fact]
    public async Task StoreElement_ThenGetAllElementsOnAnotherReplica_SameDocumentsOldestFirst()
    {
        // Arrange: two replicas, each with its own ledger (connection pool) on the one database.
        var first = new PostgresXmlRepository((PostgresTokenLedger)database.CreateLedger(clock));
        var second = new PostgresXmlRepository((PostgresTokenLedger)database.CreateLedger(clock));
        var keyA = new XElement("key", new XAttribute("id", "a"), new XElement("encryptedSecret", "AAAA"));
        var keyB = new XElement("key", new XAttribute("id", "b"));

        // Act: on the thread pool, as Data Protection calls it (the interface is synchronous).
        await Task.Run(() => first.StoreElement(keyA, "key-a"));
        await Task.Run(() => second.StoreElement(keyB, "key-b"));
        var seen = await Task.Run(second.GetAllElements);

        // Assert
        Assert.Equal([keyA.ToString(), keyB.ToString()], seen.Select(e => e.ToString()));
        Assert.Equal(
            ["key-a", "key-b"],
            await database.QueryAsync("SELECT friendly_name FROM data_protection_keys ORDER BY id", r => r.GetString(0)));
    }

    [Fact]
    public async Task GetAllElements_LedgerNotInitialisedYet_AppliesTheMigrationsAndReturnsNothing()
    {
        // Arrange: Data Protection's hosted service may load the ring before the host initialises the ledger.
        var repository = new PostgresXmlRepository((PostgresTokenLedger)database.CreateLedger(clock));

        // Act
        var elements = await Task.Run(repository.GetAllElements);

        // Assert
        Assert.Empty(elements);
        Assert.Equal(Schema.LedgerMigrations.All.Count, await database.CountRowsAsync("schema_migrations"));
    }

    [Fact]
    public async Task GetAllElements_StoredDocumentWithADtd_ThrowsXmlException()
    {
        // Arrange: someone with database access plants an entity-expanding document.
        var ledger = database.CreateLedger(clock);
        await ledger.InitializeAsync(CancellationToken.None);
        await database.ExecuteAsync(
            "INSERT INTO data_protection_keys (friendly_name, xml, created_at) VALUES ('evil', @xml, 0)",
            ("@xml", "<!DOCTYPE key [<!ENTITY e \"boom\">]><key>&e;</key>"));
        var repository = new PostgresXmlRepository((PostgresTokenLedger)ledger);

        // Act and assert
        await Assert.ThrowsAsync<XmlException>(() => Task.Run(repository.GetAllElements));
    }

    [Fact]
    public async Task DataProtection_TwoReplicasOnOneDatabase_EachUnprotectsWhatTheOtherProtected()
    {
        // Arrange
        using var replicaA = DataProtectionOn(new PostgresXmlRepository((PostgresTokenLedger)database.CreateLedger(clock)));
        using var replicaB = DataProtectionOn(new PostgresXmlRepository((PostgresTokenLedger)database.CreateLedger(clock)));
        var protectorA = replicaA.GetRequiredService<IDataProtectionProvider>().CreateProtector("Tokenizer.Test.v1");
        var protectorB = replicaB.GetRequiredService<IDataProtectionProvider>().CreateProtector("Tokenizer.Test.v1");

        // Act
        var fromA = await Task.Run(() => protectorA.Protect("payload from A"));
        var atB = await Task.Run(() => protectorB.Unprotect(fromA));
        var fromB = await Task.Run(() => protectorB.Protect("payload from B"));
        var atA = await Task.Run(() => protectorA.Unprotect(fromB));

        // Assert: one key, created by the first replica, used by both.
        Assert.Equal("payload from A", atB);
        Assert.Equal("payload from B", atA);
        Assert.Equal(1, await database.CountRowsAsync("data_protection_keys"));
    }

    private static ServiceProvider DataProtectionOn(PostgresXmlRepository repository)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDataProtection().SetApplicationName("Tokenizer");
        services.Configure<KeyManagementOptions>(options => options.XmlRepository = repository);
        return services.BuildServiceProvider();
    }
}
