using Grpc.Core;
using Microsoft.Data.Sqlite;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The audit trail through the real server and the real CLI: denials are recorded, `tokenizer audit verify` passes on an
/// untouched ledger and names the first broken record after a row is altered, deleted or swapped in the database file.
/// </summary>
public sealed class AuditTrailTests
{
    [Fact]
    public async Task Denials_UnauthenticatedAndWrongRole_RecordedWithCallerAndReason()
    {
        await using var server = new Lifetime(new TokenizerServerFixture());
        await server.Fixture.InitializeAsync();
        var anonymous = new TokenizerService.TokenizerServiceClient(server.Fixture.ChannelFor(null));

        await Assert.ThrowsAsync<RpcException>(() => anonymous.GetTokenAsync(new GetTokenRequest { Token = "pm_x" }).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => server.Fixture.Client.ListTokensAsync(new ListTokensRequest()).ResponseAsync);
        // Refusals are aggregated per second and flushed in the background (CallAuditMiddleware, RefusedCallAudit).
        await AuditProbe.WaitForAsync(server.Fixture, DateTimeOffset.UtcNow.AddSeconds(-30), e => e.ReasonCode == "PERMISSION_DENIED");
        var events = await ExportAsync(server.Fixture);

        Assert.Contains(events, e => e.CallerId == "unauthenticated" && e.Action == "tokenizer.v1.TokenizerService/GetToken" && e.Outcome == "denied" && e.Reason == "UNAUTHENTICATED");
        Assert.Contains(events, e => e.CallerId == "billing-service" && e.Action == "tokenizer.v1.TokenizerService/ListTokens" && e.Outcome == "denied" && e.Reason == "PERMISSION_DENIED");
        Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.CorrelationId)));
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "alter", "mac mismatch" },
        { "delete", "sequence gap" },
        { "swap", "mac mismatch" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task AuditVerify_RowTamperedInTheDatabase_NamesTheFirstBrokenRecord(string tampering, string problem)
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-audit-tamper-").FullName;
        try
        {
            await using (var server = new Lifetime(new TokenizerServerFixture(directory)))
            {
                await server.Fixture.InitializeAsync();
                for (var i = 0; i < 4; i++)
                {
                    await server.Fixture.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
                }

                var (code, output) = await VerifyWithCliAsync(server.Fixture);
                Assert.True(code == 0, output);
                Assert.Contains("intact", output, StringComparison.OrdinalIgnoreCase);

                // An attacker with the database file: drop the append-only triggers, then change history. Done under the
                // running service: a stopped one now refuses to start on a broken trail (AuditStartupTests).
                Tamper(Path.Combine(directory, "ledger", "tokenizer.db"), tampering, record: 3);
                (code, output) = await VerifyWithCliAsync(server.Fixture);

                Assert.Equal(4, code);
                Assert.Contains(problem, output, StringComparison.Ordinal);
                Assert.Matches(@"first broken record\s+3", output);
                Assert.Matches(@"broken record\s+3 " + problem, output);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private static void Tamper(string database, string tampering, int record)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=false");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DROP TRIGGER IF EXISTS audit_events_refuse_update; DROP TRIGGER IF EXISTS audit_events_refuse_delete;";
        command.ExecuteNonQuery();
        command.CommandText = tampering switch
        {
            "alter" => $"UPDATE audit_events SET outcome = 'failure' WHERE sequence = {record}",
            "delete" => $"DELETE FROM audit_events WHERE sequence = {record}",
            _ => $"""
                UPDATE audit_events SET sequence = 1000000 WHERE sequence = {record};
                UPDATE audit_events SET sequence = {record} WHERE sequence = {record + 1};
                UPDATE audit_events SET sequence = {record + 1} WHERE sequence = 1000000;
                """,
        };
        Assert.True(command.ExecuteNonQuery() >= 1);
    }

    private static async Task<(int Code, string Output)> VerifyWithCliAsync(TokenizerServerFixture server)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse(["audit", "verify", "--server", server.Address.ToString().TrimEnd('/'), "--pki", server.PkiDirectory])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output + error.ToString());
    }

    private static async Task<List<AuditEvent>> ExportAsync(TokenizerServerFixture server)
    {
        var audit = new AuditService.AuditServiceClient(server.ChannelFor("admin"));
        using var call = audit.ExportAuditEvents(new ExportAuditEventsRequest());
        var events = new List<AuditEvent>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            events.Add(call.ResponseStream.Current.Event);
        }

        return events;
    }

    private sealed class Lifetime(TokenizerServerFixture fixture) : IAsyncDisposable
    {
        public TokenizerServerFixture Fixture => fixture;

        public async ValueTask DisposeAsync() => await fixture.DisposeAsync();
    }
}
