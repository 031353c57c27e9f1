using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Postgres;

/// <summary>
/// ASP.NET Core Data Protection's key ring in the ledger's PostgreSQL database (table <c>data_protection_keys</c>,
/// migration 3), so every replica reads and writes one key ring and a payload protected by one replica unprotects on
/// any other. Set it as <c>KeyManagementOptions.XmlRepository</c>. Thread-safe.
/// </summary>
/// <remarks>
/// Stores each key document exactly as the framework hands it over, so keep a key encryptor configured (the service
/// encrypts keys with its Data Protection certificate): the table then holds no usable key material on its own. Data
/// Protection may load the key ring before the host has initialised the ledger, so the first call applies pending
/// ledger migrations itself (under the same advisory lock; a no-op when they are applied). Database failures surface as
/// <see cref="Npgsql.NpgsqlException"/>, which Data Protection reports as a key ring that cannot be loaded.
/// </remarks>
public sealed class PostgresXmlRepository : IXmlRepository
{
    private static readonly XmlReaderSettings ReaderSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
    };

    private readonly PostgresTokenLedger ledger;
    private volatile bool schemaReady;

    /// <param name="ledger">The token ledger whose database and connection pool hold the key ring; must outlive this repository.</param>
    public PostgresXmlRepository(PostgresTokenLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        this.ledger = ledger;
    }

    /// <summary>Every stored key document, oldest first.</summary>
    /// <exception cref="Npgsql.NpgsqlException">The database cannot be reached or refused the read.</exception>
    /// <exception cref="XmlException">A stored document is not well-formed XML (or holds a DTD).</exception>
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        EnsureSchema();
        using var connection = ledger.Database.DataSource.OpenConnection();
        using var select = connection.Command(DataProtectionSql.SelectAll);
        using var reader = select.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            using var text = new StringReader(reader.GetString(0));
            using var xml = XmlReader.Create(text, ReaderSettings);
            elements.Add(XElement.Load(xml));
        }

        return elements;
    }

    /// <summary>Stores one key document; durable when the call returns.</summary>
    /// <param name="element">The key document (already encrypted by the configured encryptor, if any).</param>
    /// <param name="friendlyName">The framework's name for it (e.g. <c>key-{id}</c>), or null.</param>
    /// <exception cref="Npgsql.NpgsqlException">The database cannot be reached or refused the write.</exception>
    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        EnsureSchema();
        using var connection = ledger.Database.DataSource.OpenConnection();
        using var insert = connection.Command(DataProtectionSql.Insert);
        insert.Bind("@friendly_name", friendlyName)
            .Bind("@xml", element.ToString(SaveOptions.DisableFormatting))
            .Bind("@created_at", UnixMicros.From(ledger.TimeProvider.GetUtcNow()));
        insert.ExecuteNonQuery();
    }

    // IXmlRepository is synchronous; waiting here happens once per process, on a thread-pool thread without a
    // synchronization context (Data Protection's start-up or first use).
    private void EnsureSchema()
    {
        if (schemaReady)
        {
            return;
        }

        ledger.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        schemaReady = true;
    }
}
