using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// OTLP export as an operator turns it on: the standard variables (endpoint, http/protobuf) point the real server at a
/// collector stand-in on loopback, which receives the call's spans under the caller's trace id, and no request value.
/// </summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task TokenizeCard_OtlpEndpointSet_CollectorReceivesTheTraceWithoutInput()
    {
        // Arrange: a collector stand-in that keeps every OTLP/HTTP trace export body.
        var bodies = new ConcurrentQueue<byte[]>();
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.Logging.ClearProviders();
        collectorBuilder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1));
        await using var collector = collectorBuilder.Build();
        collector.Urls.Add("http://127.0.0.1:0");
        collector.MapPost("/v1/traces", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            bodies.Enqueue(buffer.ToArray());
            http.Response.ContentType = "application/x-protobuf";
        });
        await collector.StartAsync();
        var collectorAddress = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var server = new TokenizerServerFixture(null, $"--OTEL_EXPORTER_OTLP_ENDPOINT={collectorAddress}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
        await server.InitializeAsync();
        var (traceId, _, headers) = TracingTests.CallerContext();
        var reference = "cust-otlp-" + Requests.NewKey()[..12];
        var key = Requests.NewKey();
        string token;
        try
        {
            // Act
            token = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key, reference), headers)).Token.Token_;
            Assert.True(server.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        }
        finally
        {
            await server.DisposeAsync();
        }

        // Assert: the span names and the caller's trace id (raw bytes in OTLP protobuf) arrived; no input did.
        var received = bodies.SelectMany(b => b).ToArray();
        Assert.NotEmpty(bodies);
        Assert.True(Contains(received, Encoding.UTF8.GetBytes("tokenizer.v1.TokenizerService/TokenizeCard")), "no RPC span exported");
        Assert.True(Contains(received, Encoding.UTF8.GetBytes("POST /v1/payment_methods")), "no gateway span exported");
        Assert.True(Contains(received, Convert.FromHexString(traceId.ToHexString())), "the caller's trace id was not kept");
        foreach (var value in new[] { token, reference, key, "4242424242424242", "pm_", "cus_" })
        {
            Assert.False(Contains(received, Encoding.UTF8.GetBytes(value)), value + " was exported");
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
