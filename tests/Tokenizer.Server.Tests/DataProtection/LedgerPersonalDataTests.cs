using System.Text;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Server.Tests.DataProtection;

/// <summary>
/// The ledger holds personal data only encrypted under the subject's own data key: billing details go to the
/// gateway and, as AES-GCM ciphertext, to <c>privacy_personal_data</c>; the key is wrapped by Data Protection in a file
/// under <c>subject-keys</c>, outside the database; both are keyed by the subject's pseudonym, never the reference. Tokenises a card and a
/// bank account with distinctive billing details through real gRPC, then reads the schema, every row and the raw
/// database files: no column is named for personal data and no value is found in clear.
/// </summary>
public sealed class LedgerPersonalDataTests
{
    private static readonly string[] PersonalValues =
    [
        "Zelda Quixotic-Personal", "zelda.personal.9731@example.org", "+442079460958", "77 Unmistakable Lane", "Flat 9Q", "Personalton", "PX9 7QZ",

        // The mandate acceptance's IP address and user agent: personal data too.
        "198.51.100.213", "ZeldaBrowser/7.3 (personal-agent-marker)",
    ];

    private static readonly string[] PersonalColumnWords = ["name", "email", "phone", "address", "line1", "line2", "city", "postal", "billing", "ip_", "agent"];

    // The audit trail records the calling service's network address (PCI DSS 10.2.2 "origination"); callers are services
    // holding client certificates, not people, so it is not cardholder personal data. data_protection_keys.friendly_name
    // is Data Protection's name for a key ("key-{guid}"), not a person's (the table is empty on SQLite). key_checks.name
    // names the secret a key check value belongs to (a fixed setting name). sqlite_sequence.name is SQLite's own counter
    // of an AUTOINCREMENT table: the table's name. webhook_cursor.name names the catch-up position (a fixed name).
    private static readonly string[] NotPersonalColumns =
    [
        "audit_events.source_address", "data_protection_keys.friendly_name", "key_checks.name", "sqlite_sequence.name",
        "webhook_cursor.name",
    ];

    [Fact]
    public async Task Tokenize_WithBillingDetails_LedgerHoldsThemOnlyEncryptedUnderTheSubjectKey()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-pd-").FullName;
        try
        {
            await using (var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"],
                builder => builder.Logging.ClearProviders()))
            {
                await app.StartAsync();
                using var channel = Tokenizer.IntegrationTests.TestChannels.Create(new Uri(app.Urls.First()), Path.Combine(directory, "pki"), "billing");
                var client = new TokenizerService.TokenizerServiceClient(channel);

                var card = await client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "pd-card-1",
                    CustomerReference = "cust-pd",
                    Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2034, Cvc = "123" },
                    BillingDetails = Billing(),
                });
                var bank = await client.TokenizeBankAccountAsync(new TokenizeBankAccountRequest
                {
                    IdempotencyKey = "pd-bank-1",
                    CustomerReference = "cust-pd",
                    SepaDebit = new SepaDebitAccount { Iban = "AT611904300234573201" },
                    BillingDetails = Billing(),
                    MandateAcceptance = new MandateAcceptance
                    {
                        AcceptedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-1)),
                        Online = new OnlineMandateAcceptance { IpAddress = PersonalValues[7], UserAgent = PersonalValues[8] },
                    },
                });
                Assert.StartsWith("pm_", card.Token.Token_, StringComparison.Ordinal);
                Assert.StartsWith("pm_", bank.Token.Token_, StringComparison.Ordinal);

                var database = Path.Combine(directory, "ledger", "tokenizer.db");
                var (columns, cells) = ReadLedger(database);
                Assert.Contains("tokens.last4", columns);
                Assert.DoesNotContain(columns, c => !NotPersonalColumns.Contains(c) && PersonalColumnWords.Any(w => c.Split('.')[1].Contains(w, StringComparison.Ordinal)));
                Assert.Contains(card.Token.Token_, cells);
                // The card's and the account's billing details, and the account's mandate acceptance.
                Assert.Equal(3, CountRows(database, "privacy_personal_data"));
                Assert.Equal(0, CountRows(database, "privacy_personal_data WHERE subject LIKE '%cust-pd%'"));
                // The subject's data key is not in the database at all (SQLite): one wrapped key file next to the key ring.
                Assert.Equal(0, CountRows(database, "privacy_subject_keys"));
                var keyFile = Assert.Single(Directory.GetFiles(Path.Combine(directory, "subject-keys")));
                Assert.StartsWith("subj_", Path.GetFileName(keyFile), StringComparison.Ordinal);
                AssertAbsent(await File.ReadAllBytesAsync(keyFile), keyFile);
                foreach (var value in PersonalValues)
                {
                    Assert.DoesNotContain(cells, cell => cell.Contains(value, StringComparison.Ordinal));
                }

                await app.StopAsync();
            }

            foreach (var file in Directory.GetFiles(Path.Combine(directory, "ledger")))
            {
                AssertAbsent(await File.ReadAllBytesAsync(file), file);
            }

            // Positive control: the details did reach the gateway (the embedded sandbox keeps what a PaymentMethod shows).
            var sandbox = Directory.GetFiles(Path.Combine(directory, "sandbox"), "*", SearchOption.AllDirectories).Select(File.ReadAllText);
            Assert.Contains(sandbox, text => text.Contains(PersonalValues[0], StringComparison.Ordinal));
            Assert.Contains(sandbox, text => text.Contains(PersonalValues[7], StringComparison.Ordinal));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    private static BillingDetails Billing() => new()
    {
        Name = PersonalValues[0],
        Email = PersonalValues[1],
        Phone = PersonalValues[2],
        Address = new Address { Line1 = PersonalValues[3], Line2 = PersonalValues[4], City = PersonalValues[5], PostalCode = PersonalValues[6], Country = "AT" },
    };

    private static (List<string> Columns, List<string> Cells) ReadLedger(string path)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        var tables = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var columns = new List<string>();
        var cells = new List<string>();
        foreach (var table in tables)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM \"{table}\"";
            using var reader = command.ExecuteReader();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                columns.Add($"{table}.{reader.GetName(i)}");
            }

            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    cells.Add(reader.IsDBNull(i) ? string.Empty : reader.GetValue(i) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!);
                }
            }
        }

        return (columns, cells);
    }

    private static long CountRows(string path, string tableAndFilter)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM " + tableAndFilter;
        return (long)command.ExecuteScalar()!;
    }

    private static void AssertAbsent(byte[] content, string file)
    {
        foreach (var value in PersonalValues)
        {
            foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode })
            {
                Assert.True(content.AsSpan().IndexOf(encoding.GetBytes(value)) < 0, $"{Path.GetFileName(file)} holds a billing detail");
            }
        }
    }
}
