using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Server.Tests.Privacy;

/// <summary>
/// The retention purge in the real host (real SQLite ledger, real gRPC): on its timer it deletes the revoked token whose
/// retention ran out (and the token events past theirs), keeps the active one, and audits the purge as <c>system</c>. The host's clock is a fake one the
/// test advances, so nothing waits on the wall clock.
/// </summary>
public sealed class RetentionWorkerTests
{
    [Fact]
    public async Task RetentionWorker_RevokedTokenPastItsRetention_PurgedOnTheNextTickAndAudited()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-retention-").FullName;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        try
        {
            await using var app = TokenizerHost.Build(
                [
                    "--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development",
                    "--Tokenizer:Privacy:RevokedTokenRetentionDays=1", "--Tokenizer:Privacy:PurgeIntervalSeconds=60",
                    "--Tokenizer:Recovery:Enabled=false", "--Tokenizer:TokenEvents:Retention=1.00:00:00",
                ],
                builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Services.AddSingleton<TimeProvider>(clock);
                });
            await app.StartAsync();
            var pki = Path.Combine(directory, "pki");
            var address = new Uri(app.Urls.First());
            var billing = new TokenizerService.TokenizerServiceClient(Tokenizer.IntegrationTests.TestChannels.Create(address, pki, "billing"));
            var admin = new TokenizerService.TokenizerServiceClient(Tokenizer.IntegrationTests.TestChannels.Create(address, pki, "admin"));
            var finance = new TokenizerService.TokenizerServiceClient(Tokenizer.IntegrationTests.TestChannels.Create(address, pki, "finance"));
            var audit = new AuditService.AuditServiceClient(Tokenizer.IntegrationTests.TestChannels.Create(address, pki, "admin"));
            var kept = (await billing.TokenizeCardAsync(Card("retention-kept"))).Token;
            var expiring = (await billing.TokenizeCardAsync(Card("retention-expiring"))).Token;
            await admin.RevokeTokenAsync(new RevokeTokenRequest { Token = expiring.Token_, IdempotencyKey = "retention-revoke" });
            var eventsBefore = await finance.ListTokenEventsAsync(new ListTokenEventsRequest());

            // Act: two days later, the purge's timer ticks.
            clock.Advance(TimeSpan.FromDays(2));
            var purge = await WaitForPurgeAuditAsync(audit);

            // Assert
            Assert.Equal(("system", "success"), (purge.CallerId, purge.Outcome));
            Assert.Equal("revoked_tokens=1;idempotency_records=0;token_events=1", purge.Resource);
            Assert.Contains(eventsBefore.Events, e => e.Token == expiring.Token_ && e.Kind == TokenEventKind.Revoked);
            Assert.Empty((await finance.ListTokenEventsAsync(new ListTokenEventsRequest())).Events);
            var gone = await Assert.ThrowsAsync<RpcException>(() => finance.GetTokenAsync(new GetTokenRequest { Token = expiring.Token_ }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, gone.StatusCode);
            Assert.Equal(TokenStatus.Active, (await finance.GetTokenAsync(new GetTokenRequest { Token = kept.Token_ })).Token.Status);
            await app.StopAsync();
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    private static TokenizeCardRequest Card(string key) => new()
    {
        IdempotencyKey = key,
        CustomerReference = "cust-retention",
        Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2034, Cvc = "123" },
    };

    /// <summary>The purge runs on the worker's own thread after the tick: look for its audit record (bounded, no timing asserted).</summary>
    private static async Task<AuditEvent> WaitForPurgeAuditAsync(AuditService.AuditServiceClient audit)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            using var call = audit.ExportAuditEvents(new ExportAuditEventsRequest());
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                if (message.Event.Action == "retention/purge")
                {
                    return message.Event;
                }
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException("no retention/purge audit record after the tick");
    }
}
