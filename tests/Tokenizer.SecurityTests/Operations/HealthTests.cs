using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tokenizer.Core.Ports;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests.Operations;

/// <summary>
/// grpc.health.v1.Health over the real TLS port: open to callers without a client certificate (load balancers), and it
/// answers SERVING / NOT_SERVING and nothing else. Readiness follows the gateway circuit and the host's stopping.
/// </summary>
public sealed class HealthTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task HealthCheck_NoClientCertificate_ServingAndRevealsNothingElse()
    {
        var health = new Health.HealthClient(server.ChannelFor(null));

        using var call = health.CheckAsync(new HealthCheckRequest());
        var response = await call.ResponseAsync;
        var headers = await call.ResponseHeadersAsync;

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
        // The status field and nothing else: no unknown fields, no trailers, no headers of ours.
        Assert.Equal(new HealthCheckResponse { Status = response.Status }.ToByteArray(), response.ToByteArray());
        Assert.Empty(call.GetTrailers());
        Assert.DoesNotContain(headers, h => h.Key.StartsWith("tokenizer", StringComparison.OrdinalIgnoreCase) || h.Key == "server");
    }

    [Fact]
    public async Task HealthCheck_NamedServiceOrCallerDetails_NotFoundWithoutDetail()
    {
        var health = new Health.HealthClient(server.ChannelFor(null));

        var error = await Assert.ThrowsAsync<RpcException>(() => health.CheckAsync(new HealthCheckRequest { Service = "tokenizer.v1.TokenizerService" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Empty(error.Status.Detail);
    }

    [Fact]
    public async Task HealthCheck_GatewayCircuitOpen_NotServingUntilClosed()
    {
        var gateway = server.App.Services.GetRequiredService<IGatewayHealth>();
        var health = new Health.HealthClient(server.ChannelFor(null));
        try
        {
            gateway.Report(GatewayCircuitState.Open);
            var open = await health.CheckAsync(new HealthCheckRequest());
            gateway.Report(GatewayCircuitState.HalfOpen);
            var halfOpen = await health.CheckAsync(new HealthCheckRequest());
            gateway.Report(GatewayCircuitState.Closed);
            var closed = await health.CheckAsync(new HealthCheckRequest());

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, open.Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, halfOpen.Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, closed.Status);
        }
        finally
        {
            gateway.Report(GatewayCircuitState.Closed);
        }
    }

    [Fact]
    public async Task HealthCheck_HostStopping_NotServingWhileCallsAreStillAnswered()
    {
        var own = new TokenizerServerFixture();
        await own.InitializeAsync();
        try
        {
            var health = new Health.HealthClient(own.ChannelFor(null));
            var before = await health.CheckAsync(new HealthCheckRequest());

            // What SIGTERM does first: ApplicationStopping. The server has not drained yet and still answers.
            own.App.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
            var during = await health.CheckAsync(new HealthCheckRequest());
            var token = await own.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));

            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, before.Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, during.Status);
            Assert.StartsWith("pm_", token.Token.Token_, StringComparison.Ordinal);
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Fact]
    public async Task HealthCheck_Calls_NotAuditedButCounted()
    {
        var health = new Health.HealthClient(server.ChannelFor(null));
        var admin = new Tokenizer.Contracts.V1.AuditService.AuditServiceClient(server.ChannelFor("admin"));
        await health.CheckAsync(new HealthCheckRequest());

        var events = new List<Tokenizer.Contracts.V1.AuditEvent>();
        using (var export = admin.ExportAuditEvents(new Tokenizer.Contracts.V1.ExportAuditEventsRequest()))
        {
            while (await export.ResponseStream.MoveNext(CancellationToken.None))
            {
                events.Add(export.ResponseStream.Current.Event);
            }
        }

        using var http = new HttpClient();
        var metricsAddress = server.App.Services.GetRequiredService<Tokenizer.Server.Telemetry.MetricsEndpoint>().Address!;
        var scrape = await http.GetStringAsync(new Uri(metricsAddress, "/metrics"));

        Assert.NotEmpty(events);
        Assert.DoesNotContain(events, e => e.ToString().Contains("grpc.health.v1", StringComparison.Ordinal));
        Assert.Contains("rpc=\"grpc.health.v1.Health/Check\"", scrape, StringComparison.Ordinal);
    }
}
