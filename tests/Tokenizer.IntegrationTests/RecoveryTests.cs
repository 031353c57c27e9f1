using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Ports;
using Tokenizer.SecurityTests;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The recovery worker and the orphan sweep, end to end and without the caller's help: a real server process killed
/// between the gateway's success and the ledger commit, then restarted; and an in-process server whose attach answers
/// are all lost. Grace period, lease and interval are one second so the worker acts within the test.
/// </summary>
public sealed class RecoveryTests
{
    private const string Visa = "4242424242424242";

    /// <summary>Settings under which the worker acts on anything untouched for a second.</summary>
    private static readonly string[] FastRecovery =
    [
        "--Tokenizer:PendingLeaseSeconds=1",
        "--Tokenizer:Recovery:GracePeriodSeconds=1",
        "--Tokenizer:Recovery:IntervalSeconds=1",
        // Each pass logs, so a failure's last lines show whether the worker ran and what it found.
        "--Logging:LogLevel:Tokenizer.Server.Hosting.RecoveryWorker=Debug",
        "--Logging:LogLevel:Tokenizer.Core.Tokenization=Debug",
    ];

    /// <summary>
    /// Settings of the server that is killed mid-call: the default lease and grace period, so its own worker leaves the
    /// live call alone. With one second of each, a call slowed past them on a loaded machine had its live intent closed
    /// ("nothing attached yet") before the gateway answered, and the restarted worker found nothing to recover.
    /// </summary>
    private static readonly string[] Doomed =
    [
        "--Logging:LogLevel:Tokenizer.Server.Hosting.RecoveryWorker=Debug",
        "--Logging:LogLevel:Tokenizer.Core.Tokenization=Debug",
    ];

    [Fact]
    public async Task KilledAfterGatewaySuccess_NoRetry_WorkerCompletesTheTokenAndALateRetryReplaysIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-recovery-").FullName;
        try
        {
            var request = Requests.Card(Visa, Requests.NewKey(), customer: "cust-recovered");
            var doomedOutput = string.Empty;
            await using (var doomed = await ServerProcess.StartAsync(directory, [.. Doomed, "--Tokenizer:FailPoint=kill-after-gateway-success"]))
            {
                await Assert.ThrowsAsync<RpcException>(() => doomed.Client.TokenizeCardAsync(request).ResponseAsync);
                var exit = await doomed.WaitForExitAsync();
                doomedOutput = doomed.Output;
                Assert.True(exit == 137, $"the fail point did not kill the server (exit {exit}); it printed:\n{Tail(doomedOutput, 60)}");
            }

            // Restart; nobody retries. The worker finds the PaymentMethod by its intent metadata and records the token.
            await using (var server = await ServerProcess.StartAsync(directory, FastRecovery))
            {
                var finance = new TokenizerService.TokenizerServiceClient(Channel(server, directory, "finance"));
                var recorded = await EventuallyAsync(
                    async () => (await finance.ListTokensAsync(new ListTokensRequest { CustomerReference = "cust-recovered" })).Tokens.SingleOrDefault(),
                    () => Diagnosis(doomedOutput, server.Output));

                Assert.StartsWith("pm_", recorded.Token_, StringComparison.Ordinal);
                Assert.Equal(TokenStatus.Active, recorded.Status);
                Assert.Equal("4242", recorded.Card.Last4);
                // The worker read the request's SetupIntent back from the gateway: the token is as set up as the request made it.
                Assert.Equal(SetupStatus.Ready, recorded.Setup.Status);
                Assert.StartsWith("seti_", recorded.Setup.SetupIntent, StringComparison.Ordinal);
                Assert.StartsWith("cus_", recorded.GatewayCustomer, StringComparison.Ordinal);

                // The billing service's late retry gets the same token as a replay, not a second PaymentMethod.
                var retry = await server.Client.TokenizeCardAsync(request);
                Assert.True(retry.Replayed);
                Assert.Equal(recorded, retry.Token);

                var audit = await AuditEventsAsync(Channel(server, directory, "admin"));
                var completed = Assert.Single(audit, e => e.Action == "recovery/intent_completed");
                Assert.Equal((recorded.Token_, "system", "success"), (completed.Resource, completed.CallerId, completed.Outcome));
            }

            Assert.Equal(1, PaymentMethodsAtTheGateway(directory));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task KilledAfterGatewaySuccess_Restarted_TheBillingCallIsAuditedOnceAsInterruptedAndACompletedCallIsNot()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-recovery-interrupted-").FullName;
        try
        {
            var doomedOutput = string.Empty;
            await using (var doomed = await ServerProcess.StartAsync(directory, [.. Doomed, "--Tokenizer:FailPoint=kill-after-gateway-success"]))
            {
                await Assert.ThrowsAsync<RpcException>(
                    () => doomed.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey(), customer: "cust-interrupted")).ResponseAsync);
                var exit = await doomed.WaitForExitAsync();
                doomedOutput = doomed.Output;
                Assert.True(exit == 137, $"the fail point did not kill the server (exit {exit}); it printed:\n{Tail(doomedOutput, 60)}");
            }

            await using (var server = await ServerProcess.StartAsync(directory, FastRecovery))
            {
                // Control: a call that completes normally (same caller, action and server) is audited once, as success.
                var completed = await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey(), customer: "cust-completed"));
                var admin = Channel(server, directory, "admin");
                await EventuallyAsync(
                    async () => (await AuditEventsAsync(admin)).Any(e => e.Action == "recovery/intent_completed") ? new object() : null,
                    () => Diagnosis(doomedOutput, server.Output));

                // Several more passes (1 s interval) and leases (1 s) go by: none may add a second record.
                var first = InterruptedRecords(await AuditEventsAsync(admin));
                await Task.Delay(TimeSpan.FromSeconds(5));
                var audit = await AuditEventsAsync(admin);

                // The billing caller as the interceptor names it on its completed call.
                var billing = Assert.Single(audit, e => e.Resource == completed.Token.Token_ && e.Action == "tokenizer.v1.TokenizerService/TokenizeCard").CallerId;
                var interrupted = Assert.Single(InterruptedRecords(audit));
                Assert.Equal(
                    (billing, "tokenizer.v1.TokenizerService/TokenizeCard", "failure", "INTERRUPTED"),
                    (interrupted.CallerId, interrupted.Action, interrupted.Outcome, interrupted.Reason));
                Assert.NotEqual("system", billing);
                Assert.Single(first);
                var recovered = Assert.Single(audit, e => e.Action == "recovery/intent_completed");
                Assert.Equal(recovered.CorrelationId, interrupted.CorrelationId);
                Assert.DoesNotContain(audit, e => e.Reason == "INTERRUPTED" && e.Resource == completed.Token.Token_);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task RevokeKilledWhileTheDetachHangs_Restarted_TheAdminsCallIsAuditedOnceAsInterruptedNamingTheToken()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-recovery-revoke-").FullName;
        try
        {
            string token;
            var killedOutput = string.Empty;
            await using (var doomed = await ServerProcess.StartAsync(directory, Doomed))
            {
                token = (await doomed.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey(), customer: "cust-revoke-cut"))).Token.Token_;

                // The detach is applied at the sandbox, and its answer held for 20 s: the revoke is in its handler.
                using var sandbox = SandboxControl(directory, out var controlToken);
                var fault = $"[{{\"match\":\"POST /v1/payment_methods/{token}/detach\",\"action\":\"hang_after_success\",\"max_ms\":20000}}]";
                using (var add = new HttpRequestMessage(HttpMethod.Post, "_sandbox/faults") { Content = new StringContent(fault, System.Text.Encoding.UTF8, "application/json") })
                {
                    add.Headers.Add("Sandbox-Control-Token", controlToken);
                    (await sandbox.SendAsync(add)).EnsureSuccessStatusCode();
                }

                var admin = new TokenizerService.TokenizerServiceClient(Channel(doomed, directory, "admin"));
                var revoke = admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, Reason = "kill test", IdempotencyKey = Requests.NewKey() }).ResponseAsync;
                await EventuallyAsync(async () => await AttachedAsync(sandbox) == 0 ? new object() : null, () => doomed.Output);
                doomed.Kill();
                killedOutput = doomed.Output;
                await Assert.ThrowsAnyAsync<Exception>(() => revoke);
            }

            await using (var server = await ServerProcess.StartAsync(directory, FastRecovery))
            {
                var admin = Channel(server, directory, "admin");
                var first = await EventuallyAsync(
                    async () => InterruptedRecords(await AuditEventsAsync(admin)) is { Count: > 0 } found ? found : null,
                    () => Diagnosis(killedOutput, server.Output));
                await Task.Delay(TimeSpan.FromSeconds(5));
                var audit = await AuditEventsAsync(admin);

                var interrupted = Assert.Single(InterruptedRecords(audit));
                Assert.Single(first);
                Assert.Equal(
                    ("admin", "tokenizer.v1.TokenizerService/RevokeToken", token, "failure", "INTERRUPTED"),
                    (interrupted.CallerId, interrupted.Action, interrupted.Resource, interrupted.Outcome, interrupted.Reason));

                // Control: the tokenisation before it completed normally and has no such record.
                Assert.Single(audit, e => e.Action == "tokenizer.v1.TokenizerService/TokenizeCard" && e.Outcome == "success" && e.Resource == token);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task KilledAfterSetupIntentSucceeded_NoRetry_WorkerRecordsOneReadyTokenWithItsMandate()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-recovery-seti-").FullName;
        try
        {
            // SIGKILL right after the SetupIntent succeeded at the gateway (the PaymentMethod is attached and has a mandate),
            // before the mandate is read and before the ledger commit.
            var request = Requests.Sepa(Requests.NewKey(), customer: "cust-recovered-seti");
            var doomedOutput = string.Empty;
            await using (var doomed = await ServerProcess.StartAsync(directory, [.. Doomed, "--Tokenizer:FailPoint=kill-after-setup-intent"]))
            {
                await Assert.ThrowsAsync<RpcException>(() => doomed.Client.TokenizeBankAccountAsync(request).ResponseAsync);
                var exit = await doomed.WaitForExitAsync();
                doomedOutput = doomed.Output;
                Assert.True(exit == 137, $"the fail point did not kill the server (exit {exit}); it printed:\n{Tail(doomedOutput, 60)}");
            }

            // Restart; nobody retries. The worker finds the PaymentMethod by its intent metadata, its SetupIntent by
            // Customer and PaymentMethod, and its Mandate, and records one token.
            await using (var server = await ServerProcess.StartAsync(directory, FastRecovery))
            {
                var finance = new TokenizerService.TokenizerServiceClient(Channel(server, directory, "finance"));
                var recorded = await EventuallyAsync(
                    async () => (await finance.ListTokensAsync(new ListTokensRequest { CustomerReference = "cust-recovered-seti" })).Tokens.SingleOrDefault(),
                    () => Diagnosis(doomedOutput, server.Output));

                Assert.Equal(TokenStatus.Active, recorded.Status);
                Assert.Equal(TokenType.SepaDebit, recorded.Type);
                Assert.Equal(SetupStatus.Ready, recorded.Setup.Status);
                Assert.StartsWith("seti_", recorded.Setup.SetupIntent, StringComparison.Ordinal);
                Assert.StartsWith("mandate_", recorded.Mandate.Id, StringComparison.Ordinal);
                Assert.Equal((MandateStatus.Active, MandateType.Online), (recorded.Mandate.Status, recorded.Mandate.Type));

                // The late retry replays that token: no second PaymentMethod, no second SetupIntent.
                var retry = await server.Client.TokenizeBankAccountAsync(request);
                Assert.True(retry.Replayed);
                Assert.Equal(recorded, retry.Token);
            }

            Assert.Equal(1, PaymentMethodsAtTheGateway(directory));
            Assert.Equal(1, SetupIntentsAtTheGateway(directory));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task AttachAnswerLost_CallerGivesUp_SweepRecordsTheOrphanRevokedDetachesItThroughLostAnswersAndAudits_ButLeavesADeclineAlone()
    {
        var server = new TokenizerServerFixture(
            null,
            [
                .. FastRecovery,
                "--Stripe:Resilience:AttemptTimeout=00:00:01",
                "--Stripe:Resilience:TotalTimeout=00:00:05",
                "--Stripe:Resilience:MaxRetries=2",
                "--Stripe:Resilience:BaseDelay=00:00:00.020",
                "--Stripe:Resilience:MaxDelay=00:00:00.100",
                "--Stripe:Resilience:CircuitBreaker:MinimumThroughput=100000",
            ]);
        await server.InitializeAsync();
        try
        {
            await OrphanIsSweptAsync(server);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task OrphanIsSweptAsync(TokenizerServerFixture server)
    {
        // A decline is a refusal: nothing is attached, so its intent is closed at once and never swept.
        var declined = await Assert.ThrowsAsync<RpcException>(
            () => server.Client.TokenizeCardAsync(Requests.Card("4000000000000002", Requests.NewKey(), customer: "cust-declined")).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, declined.StatusCode);
        var declinedCustomer = await server.App.Services.GetRequiredService<ICustomerRepository>()
            .FindCustomerAsync("stripe", "cust-declined", CancellationToken.None);
        Assert.NotNull(declinedCustomer);

        var request = Requests.Card(Visa, Requests.NewKey(), customer: "cust-orphan");
        var before = server.Sandbox.GetStats();

        // Every SetupIntent succeeds at the sandbox (attaching the PaymentMethod) but its answer is lost: the caller hears UNAVAILABLE and gives up,
        // while the PaymentMethod sits attached under our Customer with our intent metadata.
        server.Sandbox.Faults.Add("POST /v1/setup_intents", SandboxFault.DropAfterSuccess(), count: SandboxFaultRule.Unlimited);
        var lost = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, lost.StatusCode);
        server.Sandbox.Faults.Clear();
        Assert.Equal((before.PaymentMethods + 1, before.Attached + 1), (server.Sandbox.GetStats().PaymentMethods, server.Sandbox.GetStats().Attached));

        // The sweep's first detach is applied at the sandbox but every answer to it is lost (3 attempts).
        server.Sandbox.Faults.Add("POST /v1/payment_methods/*/detach", SandboxFault.DropAfterSuccess(), count: 3);

        // After the grace period the sweep records it revoked (before detaching), so ledger and gateway agree, and a
        // later pass repeats the unconfirmed detach until the gateway confirms it.
        var recorded = await EventuallyAsync(async () =>
            (await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = "cust-orphan" })).Tokens.SingleOrDefault());
        Assert.Equal(TokenStatus.Revoked, recorded.Status);
        var audit = await EventuallyAsync(async () =>
        {
            var events = await AuditEventsAsync(server.ChannelFor("admin"));
            return events.Any(e => e.Action == "recovery/orphan_detached") ? events : null;
        });

        Assert.Equal((before.PaymentMethods + 1, before.Attached), (server.Sandbox.GetStats().PaymentMethods, server.Sandbox.GetStats().Attached));
        var detaches = server.Sandbox.Requests.Snapshot("POST /v1/payment_methods/*/detach");
        Assert.True(detaches.Count >= 4, $"{detaches.Count} detach attempts: the lost ones and the confirming one");
        Assert.Single(detaches.Select(d => d.IdempotencyKey).Distinct());
        Assert.EndsWith("_intent_sweep_detach", detaches[0].IdempotencyKey, StringComparison.Ordinal);
        var detached = Assert.Single(audit, e => e.Action == "recovery/orphan_detached");
        Assert.Equal((recorded.Token_, "system", "success"), (detached.Resource, detached.CallerId, detached.Outcome));

        // The sweep has run; it never looked for the declined request's PaymentMethod.
        var listings = server.Sandbox.Requests.Snapshot("GET /v1/customers/*/payment_methods");
        Assert.NotEmpty(listings);
        Assert.DoesNotContain(listings, l => l.Path.Contains(declinedCustomer, StringComparison.Ordinal));
        Assert.DoesNotContain(audit, e => e.Action.StartsWith("recovery/", StringComparison.Ordinal) && e.Action != "recovery/orphan_detached");

        // A retry with the same key replays the revoked token rather than reviving the detached PaymentMethod.
        var retry = await server.Client.TokenizeCardAsync(request);
        Assert.True(retry.Replayed);
        Assert.Equal(TokenStatus.Revoked, retry.Token.Status);
        Assert.Equal((before.PaymentMethods + 1, before.Attached), (server.Sandbox.GetStats().PaymentMethods, server.Sandbox.GetStats().Attached));
    }

    private static GrpcChannel Channel(ServerProcess server, string directory, string caller) =>
        TestChannels.Create(server.Address, Path.Combine(directory, "pki"), caller);

    private static async Task<List<AuditEvent>> AuditEventsAsync(GrpcChannel admin)
    {
        var events = new List<AuditEvent>();
        using var export = new AuditService.AuditServiceClient(admin).ExportAuditEvents(new ExportAuditEventsRequest());
        await foreach (var response in export.ResponseStream.ReadAllAsync())
        {
            events.Add(response.Event);
        }

        return events;
    }

    /// <summary>
    /// Polls <paramref name="probe"/> until it yields a value; fails after 120 s (a bound on waiting, not a speed claim:
    /// the worker's pass comes after the restarted process's start-up, which a loaded 2-core machine stretches).
    /// </summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, Func<string>? serverOutput = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            // The server's own (scrubbed) log says what the worker did instead.
            Assert.True(
                DateTime.UtcNow < deadline,
                "the recovery worker did not act within 120 s" + (serverOutput is null ? string.Empty : "; the server printed:\n" + serverOutput()));
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }

    private static List<AuditEvent> InterruptedRecords(List<AuditEvent> audit) => [.. audit.Where(e => e.Reason == "INTERRUPTED")];

    /// <summary>The embedded sandbox's control endpoint, from the files the server writes in Development.</summary>
    private static HttpClient SandboxControl(string directory, out string controlToken)
    {
        var secrets = Path.Combine(directory, "secrets");
        controlToken = File.ReadAllText(Path.Combine(secrets, "sandbox-control.token")).Trim();
        return new HttpClient { BaseAddress = new Uri(File.ReadAllText(Path.Combine(secrets, "sandbox-control.url")).Trim().TrimEnd('/') + "/") };
    }

    private static async Task<int> AttachedAsync(HttpClient sandbox)
    {
        using var stats = JsonDocument.Parse(await sandbox.GetStringAsync("_sandbox/stats"));
        return stats.RootElement.EnumerateObject().Single(p => p.Name.Equals("attached", StringComparison.OrdinalIgnoreCase)).Value.GetInt32();
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    /// <summary>The killed server's last lines and the restarted one's, without its idle recovery passes.</summary>
    private static string Diagnosis(string killed, string restarted) =>
        "killed server:\n" + Tail(killed, 40) + "\nrestarted server:\n"
        + Tail(string.Join('\n', restarted.Split('\n').Where(l => !l.Contains("\"EventId\":1204,", StringComparison.Ordinal))), 40);

    /// <summary>SetupIntents the embedded sandbox holds, from its persisted state (read after the server stopped).</summary>
    private static int SetupIntentsAtTheGateway(string directory)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sandbox", "state.json")));
        return state.RootElement.GetProperty("setup_intents").GetArrayLength();
    }

    /// <summary>PaymentMethods the embedded sandbox holds, from its persisted state (read after the server stopped).</summary>
    private static int PaymentMethodsAtTheGateway(string directory)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sandbox", "state.json")));
        return state.RootElement.GetProperty("payment_methods").GetArrayLength();
    }
}
