using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// A server whose Stripe resilience pipeline has short timeouts and back-offs, and a circuit breaker that never opens
/// in these tests (<see cref="CircuitBreakerTests"/> has its own). The attempt timeout is 3 s, not shorter: the tests
/// count attempts exactly, and on a loaded 2-core machine a sound request can take over 1 s and be retried.
/// </summary>
public sealed class FaultServer : IAsyncLifetime
{
    public TokenizerServerFixture Fixture { get; } = new(
        null,
        "--Stripe:Resilience:AttemptTimeout=00:00:03",
        "--Stripe:Resilience:TotalTimeout=00:00:20",
        "--Stripe:Resilience:MaxRetries=3",
        "--Stripe:Resilience:BaseDelay=00:00:00.020",
        "--Stripe:Resilience:MaxDelay=00:00:00.200",
        "--Stripe:Resilience:CircuitBreaker:MinimumThroughput=100000");

    public Task InitializeAsync() => Fixture.InitializeAsync();

    public Task DisposeAsync() => Fixture.DisposeAsync();
}

/// <summary>
/// Every injected gateway fault, end to end (gRPC over Kestrel, Stripe.net over HTTP to the sandbox): the caller's
/// status, the sandbox's PaymentMethod count (exactly one per request that succeeded, none for a request whose create
/// never ran) and the same Idempotency-Key on every attempt the sandbox recorded.
/// </summary>
public sealed class FaultTests : IClassFixture<FaultServer>, IDisposable
{
    private const string Create = "POST /v1/payment_methods";
    private const string SetupIntent = "POST /v1/setup_intents";
    private const string Attach = "POST /v1/payment_methods/*/attach";
    private const string Visa = "4242424242424242";

    private readonly TokenizerServerFixture server;

    public FaultTests(FaultServer fixture)
    {
        server = fixture.Fixture;
        Sandbox.Faults.Clear();
        Sandbox.Requests.Clear();
    }

    private StripeSandboxServer Sandbox => server.Sandbox;

    public void Dispose() => Sandbox.Faults.Clear();

    public static TheoryData<string, int> TransientCreateFaults => new()
    {
        { "hang", 1 },          // attempt timeout, then the retry
        { "reset", 1 },         // connection reset by peer
        { "429-retry", 1 },     // 429 with Stripe-Should-Retry: true
        { "409", 1 },           // idempotency_key_in_use: an earlier attempt still running
        { "500", 2 },
        { "503", 2 },
        { "502-non-json", 1 },  // an HTML 502 from a proxy
    };

    [Theory]
    [MemberData(nameof(TransientCreateFaults))]
    public async Task TokenizeCard_TransientCreateFault_SucceedsWithOnePaymentMethodAndOneKey(string fault, int times)
    {
        // Arrange
        Sandbox.Faults.Add(Create, FaultOf(fault), count: times);
        var before = Sandbox.GetStats();

        // Act
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey()));

        // Assert
        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(before.Attached + 1, Sandbox.GetStats().Attached);
        await AssertAttemptsAsync(Create, times + 1);
        await AssertAttemptsAsync(SetupIntent, 1);
        Assert.Empty(Sandbox.Requests.Snapshot(Attach));
    }

    [Fact]
    public async Task TokenizeCard_429WithShouldRetryFalse_UnavailableNoRetryNoPaymentMethod()
    {
        // Arrange
        Sandbox.Faults.Add(Create, SandboxFault.Status(429, shouldRetry: false), count: SandboxFaultRule.Unlimited);
        var before = Sandbox.GetStats();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey())).ResponseAsync);

        // Assert: the caller may retry later with the same key; we did not hammer Stripe.
        AssertStatus(error, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        Assert.Equal(before.PaymentMethods, Sandbox.GetStats().PaymentMethods);
        await AssertAttemptsAsync(Create, 1);
    }

    [Fact]
    public async Task TokenizeCard_429WithoutShouldRetry_UnavailableNoRetry()
    {
        // Arrange: a plain 429 is not retried (Stripe.net's rule too); only Stripe-Should-Retry: true is.
        Sandbox.Faults.Add(Create, SandboxFault.Status(429), count: SandboxFaultRule.Unlimited);

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey())).ResponseAsync);

        // Assert
        AssertStatus(error, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        await AssertAttemptsAsync(Create, 1);
    }

    [Fact]
    public async Task TokenizeCard_503Persistent_UnavailableAfterRetriesNoPaymentMethodThenSameKeySucceeds()
    {
        // Arrange
        Sandbox.Faults.Add(Create, SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        var before = Sandbox.GetStats();
        var key = Requests.NewKey();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(Visa, key)).ResponseAsync);

        // Assert: 1 + MaxRetries attempts, one key, nothing created.
        AssertStatus(error, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        Assert.Equal(before.PaymentMethods, Sandbox.GetStats().PaymentMethods);
        var key1 = await AssertAttemptsAsync(Create, 4);

        // Act: the caller retries with the same key once the gateway is back.
        Sandbox.Faults.Clear();
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, key));

        // Assert: the gateway call reuses the key and creates exactly one PaymentMethod.
        Assert.False(response.Replayed);
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(key1, await AssertAttemptsAsync(Create, 5));
    }

    [Fact]
    public async Task TokenizeCard_CreateDroppedAfterSuccess_RetryReplaysExactlyOnePaymentMethod()
    {
        // Arrange: the sandbox creates the PaymentMethod, then cuts the connection before answering.
        Sandbox.Faults.Add(Create, SandboxFault.DropAfterSuccess());
        var before = Sandbox.GetStats();

        // Act
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey()));

        // Assert: the retry carried the same key, so Stripe replayed the first PaymentMethod instead of making another.
        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(before.Attached + 1, Sandbox.GetStats().Attached);
        await AssertAttemptsAsync(Create, 2);
    }

    [Fact]
    public async Task TokenizeCard_SetupIntentDroppedAfterSuccess_RetryReplaysItOnePaymentMethodOneSetup()
    {
        // Arrange: the sandbox confirms the SetupIntent (attaching the PaymentMethod), then cuts the connection.
        Sandbox.Faults.Add(SetupIntent, SandboxFault.DropAfterSuccess());
        var before = Sandbox.GetStats();

        // Act
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey()));

        // Assert
        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(before.Attached + 1, Sandbox.GetStats().Attached);
        Assert.Equal(SetupStatus.Ready, response.Token.Setup.Status);
        await AssertAttemptsAsync(Create, 1);
        await AssertAttemptsAsync(SetupIntent, 2);
    }

    [Fact]
    public async Task TokenizeCard_SetupIntentFailsPersistently_UnavailableThenSameKeySetsUpTheSamePaymentMethod()
    {
        // Arrange
        Sandbox.Faults.Add(SetupIntent, SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        var before = Sandbox.GetStats();
        var key = Requests.NewKey();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(Visa, key)).ResponseAsync);

        // Assert: the PaymentMethod was created but not set up, so not attached (documented: no token is returned or
        // recorded for it; the caller's retry with the same key replays the create and sets up that same PaymentMethod).
        AssertStatus(error, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(before.Attached, Sandbox.GetStats().Attached);
        await AssertAttemptsAsync(Create, 1);
        await AssertAttemptsAsync(SetupIntent, 4);

        // Act: the gateway recovers and the caller retries with the same key.
        Sandbox.Faults.Clear();
        var response = await server.Client.TokenizeCardAsync(Requests.Card(Visa, key));

        // Assert: still exactly one PaymentMethod, now set up and attached, every SetupIntent attempt under one key.
        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.Equal(SetupStatus.Ready, response.Token.Setup.Status);
        Assert.Equal(before.PaymentMethods + 1, Sandbox.GetStats().PaymentMethods);
        Assert.Equal(before.Attached + 1, Sandbox.GetStats().Attached);
        await AssertAttemptsAsync(Create, 2);
        await AssertAttemptsAsync(SetupIntent, 5);
    }

    [Fact]
    public async Task TokenizeCard_Declined_NotRetried()
    {
        // Arrange: 4000000000000002 declines when its SetupIntent is confirmed (402 card_error), as it did at attach.
        var before = Sandbox.GetStats();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card("4000000000000002", Requests.NewKey())).ResponseAsync);

        // Assert
        AssertStatus(error, StatusCode.FailedPrecondition, "CARD_DECLINED");
        Assert.Equal(before.Attached, Sandbox.GetStats().Attached);
        await AssertAttemptsAsync(SetupIntent, 1);
    }

    [Fact]
    public async Task TokenizeCard_HangOnEveryAttempt_UnavailableWithinTheTotalTimeout()
    {
        // Arrange
        Sandbox.Faults.Add(Create, SandboxFault.Hang(TimeSpan.FromSeconds(30)), count: SandboxFaultRule.Unlimited);
        var before = Sandbox.GetStats();
        var started = TimeProvider.System.GetTimestamp();

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(Requests.Card(Visa, Requests.NewKey())).ResponseAsync);

        // Assert: four 3 s attempts and short back-offs, inside the 20 s total and the server's 30 s cap.
        AssertStatus(error, StatusCode.Unavailable, "GATEWAY_UNAVAILABLE");
        Assert.InRange(TimeProvider.System.GetElapsedTime(started), TimeSpan.FromSeconds(11.5), TimeSpan.FromSeconds(20));
        Assert.Equal(before.PaymentMethods, Sandbox.GetStats().PaymentMethods);
        await AssertAttemptsAsync(Create, 4);
    }

    internal static void AssertStatus(RpcException error, StatusCode status, string reason)
    {
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(reason, TokenizeTests.ErrorInfoOf(error).Reason);
    }

    private static SandboxFault FaultOf(string name) => name switch
    {
        "hang" => SandboxFault.Hang(TimeSpan.FromSeconds(30)),
        "reset" => SandboxFault.Reset(),
        "429-retry" => SandboxFault.Status(429, shouldRetry: true),
        "409" => SandboxFault.Status(409), // idempotency_key_in_use
        "500" => SandboxFault.Status(500),
        "503" => SandboxFault.Status(503),
        "502-non-json" => SandboxFault.NonJson(502),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>
    /// The sandbox recorded exactly <paramref name="expected"/> attempts on <paramref name="match"/> since the test
    /// began, all finished and all with one non-empty Idempotency-Key; returns that key.
    /// </summary>
    private async Task<string> AssertAttemptsAsync(string match, int expected)
    {
        // An aborted request's outcome is written just after the abort: poll briefly.
        var attempts = Sandbox.Requests.Snapshot(match);
        for (var i = 0; i < 50 && attempts.Any(a => a.Outcome == SandboxRequestOutcome.InProgress); i++)
        {
            await Task.Delay(20);
            attempts = Sandbox.Requests.Snapshot(match);
        }

        Assert.Equal(expected, attempts.Count);
        var key = attempts[0].IdempotencyKey;
        Assert.False(string.IsNullOrEmpty(key));
        Assert.All(attempts, a => Assert.Equal(key, a.IdempotencyKey));
        return key!;
    }
}
