using System.Diagnostics;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Telemetry;
using Tokenizer.StripeSandbox.Faults;
using StatusCode = Grpc.Core.StatusCode;

namespace Tokenizer.IntegrationTests;

/// <summary>The real server with a tracer provider exporting to memory (as a test adds one), short Stripe back-offs.</summary>
public sealed class TracingServer : IAsyncLifetime
{
    public TracingServer()
    {
        Fixture = new(
            null,
            "--Stripe:Resilience:AttemptTimeout=00:00:03",
            "--Stripe:Resilience:MaxRetries=3",
            "--Stripe:Resilience:BaseDelay=00:00:00.020",
            "--Stripe:Resilience:MaxDelay=00:00:00.200",
            "--Stripe:Resilience:CircuitBreaker:MinimumThroughput=100000")
        {
            ConfigureHost = builder => builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddInMemoryExporter(Spans)),
        };
    }

    public SpanCollection Spans { get; } = new();

    public TokenizerServerFixture Fixture { get; }

    public Task InitializeAsync() => Fixture.InitializeAsync();

    public Task DisposeAsync() => Fixture.DisposeAsync();
}

/// <summary>
/// Traces end to end (gRPC over Kestrel, Stripe.net over HTTP to the sandbox, SQLite): the RPC span is the child of
/// the caller's <c>traceparent</c>, the gateway requests and ledger transactions hang under it, a retried request shows
/// its retries as events, and no attribute carries an id or a value from the request.
/// </summary>
public sealed class TracingTests : IClassFixture<TracingServer>, IDisposable
{
    private const string TokenizeCard = "tokenizer.v1.TokenizerService/TokenizeCard";
    private const string Visa = "4242424242424242";

    private readonly TracingServer tracing;
    private readonly TokenizerServerFixture server;

    public TracingTests(TracingServer fixture)
    {
        tracing = fixture;
        server = fixture.Fixture;
        server.Sandbox.Faults.Clear();
    }

    public void Dispose() => server.Sandbox.Faults.Clear();

    [Fact]
    public async Task TokenizeCard_CallerTraceparent_RpcSpanIsItsChildWithGatewayAndLedgerSpansUnder()
    {
        // Arrange
        var (traceId, callerSpan, headers) = CallerContext();
        var customer = "cust-trace-" + Requests.NewKey()[..8];
        var key = Requests.NewKey();

        // Act
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, key, customer), headers);
        var trace = await tracing.Spans.TraceAsync(traceId, TokenizeCard);

        // Assert
        var rpc = Assert.Single(trace, s => s.DisplayName == TokenizeCard);
        Assert.Equal(TokenizerTracing.ServerSourceName, rpc.Source.Name);
        Assert.Equal(ActivityKind.Server, rpc.Kind);
        Assert.Equal(callerSpan, rpc.ParentSpanId);
        Assert.Equal("grpc", rpc.GetTagItem("rpc.system"));
        Assert.Equal("tokenizer.v1.TokenizerService", rpc.GetTagItem("rpc.service"));
        Assert.Equal("TokenizeCard", rpc.GetTagItem("rpc.method"));
        Assert.Equal(0, rpc.GetTagItem("rpc.grpc.status_code"));

        var gateway = trace.Where(s => s.Source.Name == TokenizerTracing.GatewaySourceName).ToList();
        Assert.Contains(gateway, s => s.DisplayName == "POST /v1/payment_methods");
        Assert.Contains(gateway, s => s.DisplayName == "POST /v1/setup_intents");
        Assert.All(gateway, s => Assert.Equal(ActivityKind.Client, s.Kind));
        Assert.All(gateway, s => Assert.Equal(200, s.GetTagItem("http.response.status_code")));
        var ledger = trace.Where(s => s.Source.Name == TokenizerTracing.LedgerSourceName).ToList();
        Assert.Contains(ledger, s => s.DisplayName == "ledger Claim" && (string?)s.GetTagItem("tokenizer.ledger.access") == "write");
        Assert.Contains(ledger, s => s.DisplayName == "ledger CompleteWithToken");
        Assert.All(ledger, s => Assert.Equal("sqlite", s.GetTagItem("db.system.name")));
        Assert.All(gateway.Concat(ledger), s => Assert.True(Descends(s, rpc, trace), s.DisplayName + " is not under the RPC span"));

        // No id or input anywhere in the trace: the token (pm_...), its customer, the reference, the key.
        var text = SpanCollection.Render(trace);
        Assert.DoesNotContain(response.Token.Token_, text, StringComparison.Ordinal);
        Assert.DoesNotContain("pm_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cus_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("seti_", text, StringComparison.Ordinal);
        Assert.DoesNotContain(customer, text, StringComparison.Ordinal);
        Assert.DoesNotContain(key, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeCard_RetriedCreate_GatewaySpanRecordsTheRetryAsAnEvent()
    {
        // Arrange
        server.Sandbox.Faults.Add("POST /v1/payment_methods", SandboxFault.Status(503), count: 1);
        var (traceId, _, headers) = CallerContext();

        // Act
        await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey()), headers);
        var trace = await tracing.Spans.TraceAsync(traceId, TokenizeCard);

        // Assert
        var create = Assert.Single(trace, s => s.DisplayName == "POST /v1/payment_methods");
        var retry = Assert.Single(create.Events);
        Assert.Equal("retry", retry.Name);
        var tags = retry.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(1, tags["tokenizer.gateway.attempt"]);
        Assert.Equal("status 503", tags["tokenizer.gateway.retry_cause"]);
        Assert.Equal(2, create.GetTagItem("tokenizer.gateway.attempts"));
        Assert.Equal(200, create.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, create.Status);
    }

    [Fact]
    public async Task GetToken_Unknown_SpanCarriesStatusAndReasonNotTheToken()
    {
        // Arrange
        var (traceId, callerSpan, headers) = CallerContext();
        var unknown = "pm_" + Requests.NewKey()[..24];

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = unknown }, headers).ResponseAsync);
        var trace = await tracing.Spans.TraceAsync(traceId, "tokenizer.v1.TokenizerService/GetToken");

        // Assert
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        var rpc = Assert.Single(trace, s => s.DisplayName == "tokenizer.v1.TokenizerService/GetToken");
        Assert.Equal(callerSpan, rpc.ParentSpanId);
        Assert.Equal((int)StatusCode.NotFound, rpc.GetTagItem("rpc.grpc.status_code"));
        Assert.Equal("TOKEN_NOT_FOUND", rpc.GetTagItem(TokenizerTracing.ErrorReasonKey));
        Assert.Equal(ActivityStatusCode.Unset, rpc.Status);
        Assert.DoesNotContain(unknown, SpanCollection.Render(trace), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeCard_NoTraceparent_RpcSpanStartsATraceOfItsOwn()
    {
        // Arrange
        var before = tracing.Spans.Snapshot().Count;

        // Act
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey(), "cust-root-" + Requests.NewKey()[..8]));

        // Assert: a root span (no parent), whose gateway spans share its trace.
        Activity? rpc = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(10); rpc is null && DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            rpc = tracing.Spans.Snapshot().Skip(before).FirstOrDefault(s => s.DisplayName == TokenizeCard && s.ParentSpanId == default);
        }

        Assert.NotNull(rpc);
        Assert.NotNull(response.Token);
        Assert.Contains(tracing.Spans.Snapshot(), s => s.TraceId == rpc.TraceId && s.Source.Name == TokenizerTracing.GatewaySourceName);
    }

    /// <summary>A fresh caller span and the metadata carrying it as W3C trace context.</summary>
    internal static (ActivityTraceId TraceId, ActivitySpanId SpanId, Metadata Headers) CallerContext()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spanId = ActivitySpanId.CreateRandom();
        return (traceId, spanId, new Metadata { { "traceparent", $"00-{traceId.ToHexString()}-{spanId.ToHexString()}-01" } });
    }

    private static bool Descends(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        for (var parent = span.ParentSpanId; parent != default;)
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }

            parent = trace.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? default;
        }

        return false;
    }
}
