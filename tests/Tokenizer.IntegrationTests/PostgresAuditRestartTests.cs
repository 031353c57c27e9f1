using System.Security.Cryptography;
using Grpc.Core;
using Npgsql;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;
using Tokenizer.Server.Security;
using Tokenizer.StripeSandbox;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The real server process on PostgreSQL (the throwaway cluster scripts/test.sh starts), restarted after its audit
/// table was changed under it: dropped guards are restored with a Warning naming each, and a middle record edited
/// behind a dropped and recreated trigger stops start-up naming the record, as does a changed column type, naming it.
/// </summary>
public sealed class PostgresAuditRestartTests
{
    [Fact]
    public async Task Restart_GuardsDroppedThenMiddleRecordEdited_RestoresThemThenRefusesNamingTheRecord()
    {
        await using var database = await ThrowawayPostgresDatabase.CreateAsync("tkz_audit_restart_");
        var root = Directory.CreateTempSubdirectory("tokenizer-pg-audit-").FullName;

        var connection = database.ConnectionString;
        try
        {
            await using var gateway = await StripeSandboxServer.StartAsync(new StripeSandboxOptions(), "Development");
            var directory = Path.Combine(root, "a");
            var pki = Path.Combine(directory, "pki");
            DevelopmentPki.EnsureCreated(pki, TimeProvider.System);
            var (certificate, key) = ReplicaTests.DataProtectionCertificate(root);
            var variables = new Dictionary<string, string>
            {
                ["Stripe__ApiKey"] = "sk_test_audit_restart",
                ["Tokenizer__RequestHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Tokenizer__AuditHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["ConnectionStrings__Ledger"] = connection,
            };
            string[] args =
            [
                "--Ledger:Provider=Postgres",
                $"--Stripe:ApiBase={gateway.BaseAddress.ToString().TrimEnd('/')}",
                $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
                $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
                $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
                $"--Tokenizer:DataProtection:CertificatePath={certificate}",
                $"--Tokenizer:DataProtection:CertificateKeyPath={key}",
            ];

            string first;
            await using (var process = await ServerProcess.StartAsync(directory, "Development", variables, args))
            {
                await AuditedCallsAsync(process);
                first = process.Output;
            }

            // Guards dropped while stopped, no record changed: the start goes on, names each guard and restores it.
            await ExecuteAsync(connection, """
                DROP TRIGGER audit_events_refuse_truncate ON audit_events;
                GRANT UPDATE, DELETE, TRUNCATE ON audit_events TO CURRENT_USER;
                """);
            string second;
            await using (var process = await ServerProcess.StartAsync(directory, "Development", variables, args))
            {
                await AuditedCallsAsync(process);
                second = process.Output;
            }

            Assert.DoesNotContain("append-only guard", first, StringComparison.Ordinal);
            Assert.Contains("append-only guard audit_events_refuse_truncate was missing", second, StringComparison.Ordinal);
            Assert.Contains("append-only guard audit_events_privileges_revoked was missing", second, StringComparison.Ordinal);
            var truncate = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "TRUNCATE audit_events"));
            Assert.Contains("append-only", truncate.MessageText, StringComparison.Ordinal);

            // A middle record re-attributed behind a dropped and recreated trigger: the head and the anchor are intact.
            await using (var data = NpgsqlDataSource.Create(connection))
            {
                await using var head = data.CreateCommand("SELECT max(sequence) FROM audit_events");
                var middle = (long)(await head.ExecuteScalarAsync())! / 2;
                await ExecuteAsync(connection, $"""
                    DROP TRIGGER audit_events_refuse_update ON audit_events;
                    UPDATE audit_events SET caller_id = 'finance-staff' WHERE sequence = {middle};
                    CREATE TRIGGER audit_events_refuse_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
                    """);

                var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(directory, "Development", variables, args));
                Assert.True(
                    refused.Message.Contains($"Tokenizer:AuditAnchor: the audit trail is broken: audit record {middle} was changed after it was written", StringComparison.Ordinal),
                    refused.Message);

                // The column's type changed too (PostgreSQL's analogue of SQLite's STRICT removed): the definition is
                // checked before the walk, so it is what the refusal names now (the refusal above is the control).
                await ExecuteAsync(connection, "ALTER TABLE audit_events ALTER COLUMN time TYPE numeric(20, 0)");
                refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(directory, "Development", variables, args));
                Assert.True(
                    refused.Message.Contains("Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service (column time is declared numeric(20,0), not BIGINT)", StringComparison.Ordinal),
                    refused.Message);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(root);
        }
    }

    private static async Task AuditedCallsAsync(ServerProcess process)
    {
        for (var i = 0; i < 3; i++)
        {
            var lookup = await Assert.ThrowsAsync<RpcException>(() => process.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, lookup.StatusCode);
        }
    }

    private static async Task ExecuteAsync(string connection, string sql)
    {
        await using var data = NpgsqlDataSource.Create(connection);
        await using var command = data.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
