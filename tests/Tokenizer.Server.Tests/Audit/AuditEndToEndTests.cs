using System.CommandLine;
using System.Text.Json;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Errors;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Server.Tests.Audit;

/// <summary>
/// The audit trail through a real server: Kestrel, HTTP/2, the gRPC pipeline with both interceptors in the required
/// order, the authorization middleware, the SQLite file, and the <c>tokenizer audit</c> commands.
/// </summary>
public sealed class AuditEndToEndTests
{
    [Fact]
    public async Task Calls_OneRecordEachWithMappedReasonsThenVerifyAndExportOverGrpc()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();

        // Act
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" });
        await Assert.ThrowsAsync<RpcException>(async () => await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_missing" }));
        await server.Tokenizer.TokenizeCardAsync(new TokenizeCardRequest { Card = new Card { Number = "4242424242424242" } });
        var verification = await server.Audit.VerifyAuditTrailAsync(new VerifyAuditTrailRequest());
        var exported = await ExportAsync(server.Audit, new ExportAuditEventsRequest());

        // Assert: the verification ran before its own record was appended.
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(4, verification.RecordsChecked);
        Assert.Equal(
            [
                (1L, "system", "configuration/service_started", "", "success", ""),
                (2L, "unauthenticated", "tokenizer.v1.TokenizerService/GetToken", "pm_known", "success", ""),
                (3L, "unauthenticated", "tokenizer.v1.TokenizerService/GetToken", "pm_missing", "failure", "TOKEN_NOT_FOUND"),
                (4L, "unauthenticated", "tokenizer.v1.TokenizerService/TokenizeCard", "pm_new", "success", ""),
                (5L, "unauthenticated", "tokenizer.v1.AuditService/VerifyAuditTrail", "", "success", ""),
            ],
            exported.Select(e => (e.Sequence, e.CallerId, e.Action, e.Resource, e.Outcome, e.Reason)));
        Assert.All(exported.Skip(1), e => Assert.Equal("127.0.0.1", e.SourceAddress));
        Assert.All(exported, e => Assert.NotEmpty(e.CorrelationId));
        Assert.DoesNotContain("4242424242424242", string.Concat(exported.Select(e => e.ToString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationDenials_RecordedWithCallerAndReason()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync(withAuthentication: true);
        var bob = new Metadata { { AuditTestServer.CallerHeader, "bob" }, { AuditTestServer.RoleHeader, "tokenize" } };
        var alice = new Metadata { { AuditTestServer.CallerHeader, "alice" }, { AuditTestServer.RoleHeader, "admin" } };

        // Act
        var unauthenticated = await Assert.ThrowsAsync<RpcException>(async () => await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" }));
        var forbidden = await Assert.ThrowsAsync<RpcException>(async () => await server.Audit.VerifyAuditTrailAsync(new VerifyAuditTrailRequest(), bob));
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" }, bob);
        // Refused calls are aggregated per second and flushed in the background: stop the server to flush them.
        await server.StopAsync();
        var exported = await server.ReadAllAsync();

        // Assert
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, forbidden.StatusCode);
        Assert.Equal(
            [
                ("bob", "tokenizer.v1.AuditService/VerifyAuditTrail", "denied", "PERMISSION_DENIED", "aggregate;count=1"),
                ("bob", "tokenizer.v1.TokenizerService/GetToken", "success", string.Empty, string.Empty),
                ("system", "configuration/service_started", "success", string.Empty, string.Empty),
                ("system", "configuration/service_stopped", "success", string.Empty, string.Empty),
                ("unauthenticated", "tokenizer.v1.TokenizerService/GetToken", "denied", "UNAUTHENTICATED", "aggregate;count=1"),
            ],
            exported.Select(e => (e.CallerId, e.Action, e.Outcome, e.Reason ?? string.Empty, e.CorrelationId.StartsWith("aggregate", StringComparison.Ordinal) ? e.CorrelationId : string.Empty)).Order());
    }

    [Fact]
    public async Task ExportToBeforeFrom_StreamingErrorMappedToInvalidArgumentAndAudited()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();
        var request = new ExportAuditEventsRequest
        {
            From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddDays(2)),
            To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch.AddDays(1)),
        };

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => ExportAsync(server.Audit, request));
        var exported = await ExportAsync(server.Audit, new ExportAuditEventsRequest());

        // Assert: ErrorMappingInterceptor maps server-streaming errors too, inside the audit interceptor.
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(ErrorReasons.ValidationFailed, error.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        Assert.Equal(
            ("tokenizer.v1.AuditService/ExportAuditEvents", "failure", ErrorReasons.ValidationFailed),
            (exported[^1].Action, exported[^1].Outcome, exported[^1].Reason));
    }

    [Fact]
    public async Task AuditTableGone_CallsFailClosedWithAuditUnavailable()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();
        await server.ExecuteAsync("DROP TABLE audit_events");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" }));

        // Assert
        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal(ErrorReasons.AuditUnavailable, error.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Fact]
    public async Task HostStops_ServiceStoppedRecorded()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();

        // Act
        await server.StopAsync();
        await using var trail = new SqliteAuditTrail(
            new SqliteLedgerOptions { DatabasePath = server.DatabasePath }, AuditTestServer.Key, TimeProvider.System, NullLogger<SqliteAuditTrail>.Instance);
        var actions = await trail.ReadAsync(null, null, CancellationToken.None).Select(r => r.Event.Action).ToListAsync();

        // Assert
        Assert.Equal(["configuration/service_started", "configuration/service_stopped"], actions);
        Assert.True((await trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task CliVerify_IntactThenTampered_ExitZeroThenFourNamingTheRecord()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" });

        // Act
        var intact = await RunCliAsync("audit", "verify", "--server", server.Address);
        // Two independent edits: the second (record 3, the intact verify's own record) sits behind the first.
        await server.ExecuteAsync("DROP TRIGGER audit_events_refuse_update; UPDATE audit_events SET outcome = 'failure' WHERE sequence = 2; UPDATE audit_events SET caller_id = 'finance-staff' WHERE sequence = 3;");
        var broken = await RunCliAsync("audit", "verify", "--server", server.Address);
        var brokenJson = await RunCliAsync("audit", "verify", "--json", "--server", server.Address);

        // Assert
        Assert.Equal(0, intact.ExitCode);
        Assert.Matches(@"intact\s+yes", intact.Output);
        Assert.Matches(@"anchor\s+2:[0-9a-f]{64}", intact.Output);
        Assert.DoesNotMatch(@"broken record\s+\d", intact.Output);
        Assert.Equal(AuditCommands.ExitBroken, broken.ExitCode);
        Assert.Matches(@"first broken record\s+2", broken.Output);
        Assert.Matches(@"broken record\s+2 mac mismatch", broken.Output);
        Assert.Matches(@"broken record\s+3 mac mismatch", broken.Output);
        Assert.DoesNotMatch(@"broken record\s+4 ", broken.Output);
        Assert.Equal(AuditCommands.ExitBroken, brokenJson.ExitCode);
        using var json = JsonDocument.Parse(brokenJson.Output);
        Assert.Equal("2", json.RootElement.GetProperty("firstBrokenSequence").GetString());
        Assert.Equal("2", json.RootElement.GetProperty("brokenCount").GetString());
        Assert.Equal(["2", "3"], json.RootElement.GetProperty("broken").EnumerateArray().Select(b => b.GetProperty("sequence").GetString()));
    }

    [Fact]
    public async Task CliVerify_NewestRecordsDeletedWithAnchor_ExitFourAnchorMismatch()
    {
        // Arrange: the operator kept the anchor printed by an earlier verify.
        await using var server = await AuditTestServer.StartAsync();
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" });
        var earlier = await server.Audit.VerifyAuditTrailAsync(new VerifyAuditTrailRequest());
        var anchor = $"{earlier.HeadSequence}:{Convert.ToHexStringLower(earlier.HeadMac.Span)}";

        // Act
        await server.ExecuteAsync($"DROP TRIGGER audit_events_refuse_delete; DELETE FROM audit_events WHERE sequence >= {earlier.HeadSequence};");
        var withoutAnchor = await RunCliAsync("audit", "verify", "--server", server.Address);
        var withAnchor = await RunCliAsync("audit", "verify", "--anchor", anchor, "--server", server.Address);

        // Assert: the chain alone still verifies; the anchor exposes the deletion. The running service has since
        // appended new records over the deleted positions, so the anchored sequence exists with another MAC.
        Assert.Equal(0, withoutAnchor.ExitCode);
        Assert.Equal(AuditCommands.ExitBroken, withAnchor.ExitCode);
        Assert.Matches(@"first broken record\s+" + earlier.HeadSequence, withAnchor.Output);
        Assert.Contains("anchor mismatch", withAnchor.Output, StringComparison.Ordinal);

        // No record is called intact once the chain misses the anchored record (a key holder could have rewritten any
        // of them), and no new anchor is offered for a broken trail.
        Assert.Matches(@"last intact record\s+not known", withAnchor.Output);
        Assert.Matches(@"not proven\s+records 1 to \d+", withAnchor.Output);
        Assert.DoesNotMatch(@"anchor\s+\d+:[0-9a-f]{64}", withAnchor.Output);
        Assert.Matches(@"anchor\s+\d+:[0-9a-f]{64}", withoutAnchor.Output);
    }

    [Fact]
    public async Task CliVerify_ForeignTriggerAddedWhileRunning_ExitFourNamingItAsATableProblem()
    {
        // Arrange: control first, the untouched trail verifies; then a trigger that copies every caller elsewhere as
        // records are written (every record still verifies, the table is what changed).
        await using var server = await AuditTestServer.StartAsync();
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" });
        var before = await RunCliAsync("audit", "verify", "--server", server.Address);
        await server.ExecuteAsync("CREATE TABLE shadow (x); CREATE TRIGGER zz_copy AFTER INSERT ON audit_events BEGIN INSERT INTO shadow VALUES (new.caller_id); END;");

        // Act
        var after = await RunCliAsync("audit", "verify", "--server", server.Address);
        var json = await RunCliAsync("audit", "verify", "--json", "--server", server.Address);

        // Assert: not intact, the trigger named, and no record called broken.
        Assert.Equal(0, before.ExitCode);
        Assert.Equal(AuditCommands.ExitBroken, after.ExitCode);
        Assert.Matches(@"intact\s+NO", after.Output);
        Assert.Matches(@"problem\s+table changed", after.Output);
        Assert.Matches(@"table problem\s+trigger or rule this service did not create: zz_copy", after.Output);
        Assert.DoesNotContain("first broken record", after.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("not proven", after.Output, StringComparison.Ordinal);
        Assert.Contains("\"tableProblems\": [ \"trigger or rule this service did not create: zz_copy\" ]", json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliExport_PathHoldingACardNumber_RefusedNothingCreated()
    {
        // Arrange: a file named with a card number would be reported under a masked name that does not exist.
        await using var server = await AuditTestServer.StartAsync();
        var path = Path.Combine(server.RootDirectory, "4000-0566-5566-5556.jsonl");

        // Act
        var export = await RunCliAsync("audit", "export", "--out", path, "--server", server.Address);
        var control = await RunCliAsync("audit", "export", "--out", Path.Combine(server.RootDirectory, "plain.jsonl"), "--server", server.Address);

        // Assert
        Assert.NotEqual(0, export.ExitCode);
        Assert.False(File.Exists(path));
        Assert.Contains("--out: must not contain a card or bank account number", export.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("4000-0566-5566-5556", export.Output + export.Error, StringComparison.Ordinal);
        Assert.Equal(0, control.ExitCode);
    }

    [Fact]
    public async Task CliExport_SameDayAsFromAndTo_ExportsThatDay()
    {
        // Arrange: the service wrote its start record today.
        await using var server = await AuditTestServer.StartAsync();
        var today = DateTimeOffset.UtcNow.UtcDateTime.Date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        // Act: --to names the last day, inclusive.
        var export = await RunCliAsync("audit", "export", "--from", today, "--to", today, "--server", server.Address);

        // Assert
        Assert.Equal(0, export.ExitCode);
        Assert.Contains("configuration/service_started", export.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliExport_RangeToFile_JsonLinesOneEventEachWithinBounds()
    {
        // Arrange
        await using var server = await AuditTestServer.StartAsync();
        await server.Tokenizer.GetTokenAsync(new GetTokenRequest { Token = "pm_known" });
        var path = Path.Combine(server.RootDirectory, "export.jsonl");
        var today = DateTimeOffset.UtcNow.UtcDateTime.Date;

        // Act
        var export = await RunCliAsync(
            "audit", "export", "--from", today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), "--to", today.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), "--out", path, "--server", server.Address);
        var emptyRange = await RunCliAsync("audit", "export", "--from", "2001-01-01", "--to", "2001-01-02", "--server", server.Address);
        var again = await RunCliAsync("audit", "export", "--out", path, "--server", server.Address);

        // Assert
        Assert.Equal(0, export.ExitCode);
        var lines = await File.ReadAllLinesAsync(path);
        var events = lines.Select(line => Contracts.V1.AuditEvent.Parser.ParseJson(line)).ToList();
        Assert.Equal(["configuration/service_started", "tokenizer.v1.TokenizerService/GetToken"], events.Select(e => e.Action));
        Assert.All(lines, line => Assert.Contains("\"reason\"", line, StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        Assert.Equal((0, string.Empty), (emptyRange.ExitCode, emptyRange.Output));
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already exists", again.Error, StringComparison.Ordinal);
        Assert.Equal(lines, await File.ReadAllLinesAsync(path));
    }

    [Theory]
    [InlineData("export", "--from", "yesterday")]
    [InlineData("verify", "--anchor", "3:abc")]
    public async Task Cli_MalformedOption_NonZeroExitWithoutCallingTheServer(string command, string option, string value)
    {
        // Act
        var result = await RunCliAsync("audit", command, option, value, "--server", "http://127.0.0.1:9");

        // Assert
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(option, result.Error, StringComparison.Ordinal);
    }

    private static async Task<List<Contracts.V1.AuditEvent>> ExportAsync(AuditService.AuditServiceClient client, ExportAuditEventsRequest request, Metadata? headers = null)
    {
        using var call = client.ExportAuditEvents(request, headers);
        return await call.ResponseStream.ReadAllAsync().Select(m => m.Event).ToListAsync();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var json = new Option<bool>("--json") { Recursive = true };
        var root = new RootCommand("test") { Options = { json } };
        root.Subcommands.Add(AuditCommands.Build(CliChannel.AddTo(root), json, output, error));
        var parsed = root.Parse(args);
        var exitCode = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
