using System.Text;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// What an erasure leaves in the SQLite ledger's files: the real server over real gRPC, the embedded sandbox, the real
/// database files (db, -wal, -shm) searched byte by byte, as someone holding a copy of the data directory would.
/// </summary>
public sealed class ErasureRemnantsTests : IAsyncLifetime
{
    private readonly TokenizerServerFixture server = new();

    private string LedgerDirectory => Path.Combine(server.DataDirectory, "ledger");

    public Task InitializeAsync() => server.InitializeAsync();

    public Task DisposeAsync() => server.DisposeAsync();

    [Fact]
    public async Task EraseSubject_ReferenceInTokensAnswersAndReconciliation_NoLedgerFileHoldsItCheckpointedOrNot()
    {
        // Arrange: the subject's card and SEPA tokens (one revoked: its stored answer quotes the reference), another
        // subject, and two reconciliation runs (one filtered on the subject) whose items show reference beside token.
        var reference = "cust-remnant-" + Guid.NewGuid().ToString("N")[..12];
        var other = "cust-keeper-" + Guid.NewGuid().ToString("N")[..12];
        var card = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: reference))).Token;
        var bank = (await server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: reference))).Token;
        await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = bank.Token_, IdempotencyKey = Requests.NewKey() });
        await server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: other));
        var finance = new ReconciliationService.ReconciliationServiceClient(server.ChannelFor("finance"));
        var filtered = await ReconcileAsync(finance, reference);
        await ReconcileAsync(finance, null);
        var items = await finance.ListReconciliationItemsAsync(new ListReconciliationItemsRequest { RunId = filtered });
        Assert.Contains(items.Items, i => i.Token == card.Token_ && i.CustomerReference == reference);

        // Control: before the erasure the same searches find the reference, in the WAL and once checkpointed in the file.
        Assert.True(await FilesHoldAsync(reference), "control: the ledger's files hold the reference before the erasure");
        Assert.NotEmpty(RowsQuoting(reference));
        Checkpoint();
        Assert.True(await FileHoldsAsync(Path.Combine(LedgerDirectory, "tokenizer.db"), reference), "control: the checkpointed file holds it");

        // Act
        var admin = new PrivacyService.PrivacyServiceClient(server.ChannelFor("admin"));
        var erased = await admin.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() });
        Assert.Equal(ErasureState.Completed, erased.Status.State);

        // Assert: no row quotes the reference, no byte of any ledger file does (UTF-8, UTF-16), as the server left them
        // and again after a checkpoint; the tokens themselves are kept (revoked) and the other subject is untouched.
        await AssertErasedAsync(reference, "as left");
        Checkpoint();
        await AssertErasedAsync(reference, "checkpointed");
        Assert.Empty(RowsQuoting(reference));
        Assert.True(await FilesHoldAsync(card.Token_), "control: the kept token id is found by the same search");
        Assert.True(await FilesHoldAsync(other), "control: the other subject's reference is found by the same search");
        var kept = await server.Finance.GetTokenAsync(new GetTokenRequest { Token = card.Token_ });
        Assert.Equal(card.Card.Last4, kept.Token.Card.Last4);
        Assert.StartsWith("erased_", kept.Token.CustomerReference, StringComparison.Ordinal);
        var after = await finance.ListReconciliationItemsAsync(new ListReconciliationItemsRequest { RunId = filtered });
        Assert.All(after.Items, i => Assert.NotEqual(reference, i.CustomerReference));
        var run = await finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = filtered });
        Assert.NotEqual(reference, run.Reconciliation.Filter.CustomerReference);
    }

    private static async Task<string> ReconcileAsync(ReconciliationService.ReconciliationServiceClient finance, string? customer)
    {
        var started = await finance.StartReconciliationAsync(new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter
            {
                From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
                To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
                CustomerReference = customer ?? string.Empty,
            },
            IdempotencyKey = Requests.NewKey(),
        });
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var response = await finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = started.RunId }, cancellationToken: bound.Token);
            if (response.Reconciliation.State is ReconciliationState.Completed)
            {
                return started.RunId;
            }

            Assert.NotEqual(ReconciliationState.Failed, response.Reconciliation.State);
            await Task.Delay(100, bound.Token);
        }
    }

    private async Task AssertErasedAsync(string reference, string state)
    {
        var files = Directory.GetFiles(LedgerDirectory);
        Assert.Contains(files, f => f.EndsWith("tokenizer.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            Assert.False(await FileHoldsAsync(file, reference), $"{Path.GetFileName(file)} ({state}) holds the erased reference");
        }
    }

    private async Task<bool> FilesHoldAsync(string value)
    {
        foreach (var file in Directory.GetFiles(LedgerDirectory))
        {
            if (await FileHoldsAsync(file, value))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task<bool> FileHoldsAsync(string path, string value)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        var bytes = memory.ToArray();
        return new Encoding[] { Encoding.UTF8, Encoding.Unicode, Encoding.BigEndianUnicode }
            .Any(encoding => bytes.AsSpan().IndexOf(encoding.GetBytes(value)) >= 0);
    }

    /// <summary>"table.column" of every value in the ledger that contains <paramref name="value"/>.</summary>
    private List<string> RowsQuoting(string value)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(LedgerDirectory, "tokenizer.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var found = new List<string>();
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    if (reader.GetValue(i) is string text && text.Contains(value, StringComparison.Ordinal))
                    {
                        found.Add($"{table}.{reader.GetName(i)}");
                    }
                }
            }
        }

        return found;
    }

    private void Checkpoint()
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(LedgerDirectory, "tokenizer.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
    }
}
