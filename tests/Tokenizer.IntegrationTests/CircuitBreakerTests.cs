using Grpc.Core;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>A server whose circuit opens after two sampled attempts with half of them failed.</summary>
public sealed class CircuitBreakerServer : IAsyncLifetime
{
    public TokenizerServerFixture Fixture { get; } = new(
        null,
        "--Stripe:Resilience:AttemptTimeout=00:00:01",
        "--Stripe:Resilience:TotalTimeout=00:00:10",
        "--Stripe:Resilience:MaxRetries=3",
        "--Stripe:Resilience:BaseDelay=00:00:00.020",
        "--Stripe:Resilience:MaxDelay=00:00:00.100",
        "--Stripe:Resilience:CircuitBreaker:FailureRatio=0.5",
        "--Stripe:Resilience:CircuitBreaker:MinimumThroughput=2",
        "--Stripe:Resilience:CircuitBreaker:SamplingDuration=00:01:00",
        "--Stripe:Resilience:CircuitBreaker:BreakDuration=00:01:00");

    public Task InitializeAsync() => Fixture.InitializeAsync();

    public Task DisposeAsync() => Fixture.DisposeAsync();
}

/// <summary>A failing gateway turns into fast UNAVAILABLE answers that never reach it.</summary>
public sealed class CircuitBreakerTests(CircuitBreakerServer fixture) : IClassFixture<CircuitBreakerServer>
{
    private readonly TokenizerServerFixture server = fixture.Fixture;

    [Fact]
    public async Task TokenizeCard_GatewayFailing_CircuitOpensAndNextCallFailsFastWithoutReachingTheSandbox()
    {
        // Arrange: the customer is created (one success), then every create fails with 503.
        var sandbox = server.Sandbox;
        sandbox.Faults.Add("POST /v1/payment_methods", SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        var before = sandbox.GetStats();

        // Act: the first call opens the circuit part-way through its retries.
        var first = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey())).ResponseAsync);
        var seen = sandbox.Requests.Snapshot().Count;
        var second = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey())).ResponseAsync);
        var health = await new Grpc.Health.V1.Health.HealthClient(server.ChannelFor(null)).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());

        // Assert
        FaultTests.AssertStatus(first, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        FaultTests.AssertStatus(second, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        Assert.True(seen < 1 + 4, "the open circuit cut the first call's retries short");
        Assert.Equal(seen, sandbox.Requests.Snapshot().Count); // the second call never reached the sandbox
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, health.Status); // the circuit reports to health
        Assert.Equal(before.PaymentMethods, sandbox.GetStats().PaymentMethods);
        Assert.Contains(server.Logs.Lines, l => l.Contains("StripeCircuitOpened", StringComparison.Ordinal));
        Assert.Contains(server.Logs.Lines, l => l.Contains("StripeCircuitOpenRejected", StringComparison.Ordinal));
    }
}
