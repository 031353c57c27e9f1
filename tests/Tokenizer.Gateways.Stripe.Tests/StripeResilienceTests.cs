using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Stripe;
using Tokenizer.Core.Errors;
using Tokenizer.Gateways.Stripe.Tests.Support;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>What the one retry layer retries, what its circuit breaker counts, and how Polly's rejections map.</summary>
public sealed class StripeResilienceTests
{
    private readonly CapturingLogger<StripeTokenGateway> logger = new();

    public static TheoryData<int, string?, bool> RetryTable() => new()
    {
        // status, Stripe-Should-Retry => retried
        { 200, null, false },
        { 400, null, false },
        { 400, "true", false },   // a validation error never, whatever the header says
        { 401, "true", false },
        { 402, null, false },     // card errors
        { 402, "true", false },
        { 403, null, false },
        { 404, "true", false },
        { 409, null, true },      // idempotency_key_in_use: an earlier attempt still running
        { 409, "false", false },
        { 429, null, false },     // a plain 429 is not retried (Stripe.net's rule too)
        { 429, "true", true },
        { 429, "false", false },
        { 500, null, true },
        { 500, "false", false },
        { 502, null, true },      // a non-JSON 502 from a proxy too
        { 503, null, true },
        { 503, "true", true },
        { 504, null, true },
        { 418, null, false },
    };

    [Theory]
    [MemberData(nameof(RetryTable))]
    public void ShouldRetry_StatusAndShouldRetryHeader_FollowsTheTable(int status, string? shouldRetry, bool expected)
    {
        // Arrange
        using var response = Response(status, shouldRetry);

        // Act and assert
        Assert.Equal(expected, StripeResilience.IsRetryable(response));
        Assert.Equal(expected, StripeResilience.ShouldRetry(Outcome.FromResult(response)));
    }

    public static TheoryData<Exception, bool> ExceptionTable() => new()
    {
        { new HttpRequestException("reset", new IOException("Connection reset by peer")), true },
        { new IOException("broken pipe"), true },
        { new TimeoutRejectedException(), true },           // the attempt timeout
        { new BrokenCircuitException(), false },            // an open circuit fails fast
        { new IsolatedCircuitException(), false },
        { new OperationCanceledException(), false },        // the caller's cancellation or the total timeout
        { new TaskCanceledException(), false },
        { new InvalidOperationException(), false },
    };

    [Theory]
    [MemberData(nameof(ExceptionTable))]
    public void ShouldRetry_Exception_OnlyNetworkFailuresAndAttemptTimeouts(Exception exception, bool expected)
    {
        Assert.Equal(expected, StripeResilience.ShouldRetry(Outcome.FromException<HttpResponseMessage>(exception)));
        Assert.Equal(expected, StripeResilience.CountsAsFailure(Outcome.FromException<HttpResponseMessage>(exception)));
    }

    [Theory]
    [InlineData(200, false)]
    [InlineData(400, false)]
    [InlineData(402, false)]
    [InlineData(409, false)] // our own request in flight says nothing about Stripe's health
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    public void CountsAsFailure_Status_OnlyGatewayHealthSignals(int status, bool expected)
    {
        using var response = Response(status, null);

        Assert.Equal(expected, StripeResilience.CountsAsFailure(Outcome.FromResult(response)));
    }

    [Fact]
    public void Map_BrokenCircuit_UnavailableWithTheCircuitOpenEvent()
    {
        // Arrange
        var exception = new BrokenCircuitException();

        // Act
        var mapped = StripeErrorMapper.Map(exception, StripeOperation.CreatePaymentMethod, logger);

        // Assert
        Assert.True(StripeErrorMapper.IsGatewayFailure(exception, CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, mapped.Kind);
        Assert.Equal(ErrorReasons.GatewayUnavailable, mapped.Reason);
        Assert.Null(mapped.InnerException);
        Assert.Equal("StripeCircuitOpenRejected", Assert.Single(logger.Lines).EventId.Name);
    }

    [Fact]
    public void Map_TimeoutRejected_UnavailableWithTheTimedOutEvent()
    {
        // Arrange
        var exception = new TimeoutRejectedException(TimeSpan.FromSeconds(10));

        // Act
        var mapped = StripeErrorMapper.Map(exception, StripeOperation.Attach, logger);

        // Assert
        Assert.True(StripeErrorMapper.IsGatewayFailure(exception, CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, mapped.Kind);
        Assert.Equal(ErrorReasons.GatewayUnavailable, mapped.Reason);
        Assert.Equal("StripeTimedOut", Assert.Single(logger.Lines).EventId.Name);
    }

    [Fact]
    public void IsGatewayFailure_CallerCancelled_NotAGatewayFailure()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.False(StripeErrorMapper.IsGatewayFailure(new OperationCanceledException(cts.Token), cts.Token));
    }

    [Fact]
    public void Options_Defaults_ValidAndInsideTheServersThirtySecondCap()
    {
        var options = new StripeResilienceOptions();

        Assert.Empty(options.Validate("Stripe:Resilience:"));
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(TimeSpan.FromSeconds(25), options.TotalTimeout);
        Assert.Equal(3, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(200), options.BaseDelay);
        Assert.True(StripeResilience.HttpClientTimeout(options) > options.TotalTimeout);
    }

    [Fact]
    public void Options_OutOfRange_EveryProblemNamedBySetting()
    {
        var options = new StripeResilienceOptions
        {
            AttemptTimeout = TimeSpan.FromSeconds(30),
            TotalTimeout = TimeSpan.FromSeconds(20),
            MaxRetries = 11,
            BaseDelay = TimeSpan.FromSeconds(-1),
            CircuitBreaker = new StripeCircuitBreakerOptions { FailureRatio = 0, MinimumThroughput = 1, BreakDuration = TimeSpan.Zero },
        };

        var problems = options.Validate("Stripe:Resilience:");

        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:TotalTimeout", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:MaxRetries", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:BaseDelay", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:CircuitBreaker:FailureRatio", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:CircuitBreaker:MinimumThroughput", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Stripe:Resilience:CircuitBreaker:BreakDuration", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreatePaymentMethod_Two503sThenSuccess_ThreeAttemptsWithOneIdempotencyKeyOnTheWire()
    {
        // Arrange: Stripe.net (no retries of its own) over the pipeline over a stub.
        var stub = new StubStripeHandler()
            .Respond(HttpStatusCode.ServiceUnavailable, Samples.ErrorJson("api_error"))
            .Respond(HttpStatusCode.ServiceUnavailable, Samples.ErrorJson("api_error"))
            .Respond(HttpStatusCode.OK, Samples.CardJson);
        var gateway = Gateway(stub);

        // Act
        var created = await gateway.CreatePaymentMethodAsync(Samples.CardRequest(), "tkz_key_pm", CancellationToken.None);

        // Assert
        Assert.Equal("pm_card_1", created.Id);
        Assert.Equal(3, stub.Requests.Count);
        Assert.All(stub.Requests, r => Assert.Equal("tkz_key_pm", r.Header("Idempotency-Key")));
        Assert.All(stub.Requests, r => Assert.Equal(stub.Requests[0].Body, r.Body));
        Assert.Equal(2, logger.Lines.Count(l => l.EventId.Name == "StripeRetrying"));
    }

    [Fact]
    public async Task RetryLogLine_GetWithoutKeyAndPostWithKey_EachSaysWhatWasSentAgain()
    {
        // A read carries no Idempotency-Key, so its retry line must not claim one; the POST's line is the control.
        var stub = new StubStripeHandler()
            .Respond(HttpStatusCode.ServiceUnavailable, Samples.ErrorJson("api_error"))
            .Respond(HttpStatusCode.OK, Samples.CardJson)
            .Respond(HttpStatusCode.ServiceUnavailable, Samples.ErrorJson("api_error"))
            .Respond(HttpStatusCode.OK, Samples.CardJson);
        var gateway = Gateway(stub);

        await gateway.GetPaymentMethodAsync("pm_card_1", CancellationToken.None);
        await gateway.CreatePaymentMethodAsync(Samples.CardRequest(), "tkz_key_pm", CancellationToken.None);
        var retries = logger.Lines.Where(l => l.EventId.Name == "StripeRetrying").Select(l => l.Text).ToList();

        Assert.Equal(4, stub.Requests.Count);
        Assert.All(stub.Requests.Take(2), r => Assert.Null(r.Header("Idempotency-Key")));
        Assert.Equal(2, retries.Count);
        Assert.StartsWith("Stripe GET request failed (status 503); retry 1 in ", retries[0], StringComparison.Ordinal);
        Assert.EndsWith("sent again unchanged (no Idempotency-Key)", retries[0], StringComparison.Ordinal);
        Assert.StartsWith("Stripe POST request failed", retries[1], StringComparison.Ordinal);
        Assert.EndsWith("sent again unchanged (same Idempotency-Key)", retries[1], StringComparison.Ordinal);
        Assert.DoesNotContain(retries, r => r.Contains("with the same Idempotency-Key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreatePaymentMethod_CardDeclined_OneAttempt()
    {
        // Arrange
        var stub = new StubStripeHandler()
            .Respond(HttpStatusCode.PaymentRequired, Samples.ErrorJson("card_error", "card_declined", declineCode: "generic_decline"));
        var gateway = Gateway(stub);

        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => gateway.CreatePaymentMethodAsync(Samples.CardRequest(), "tkz_key_pm", CancellationToken.None));

        // Assert
        Assert.Equal(ErrorReasons.CardDeclined, error.Reason);
        Assert.Single(stub.Requests);
    }

    private StripeTokenGateway Gateway(StubStripeHandler stub)
    {
        var options = new StripeResilienceOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };
        var pipeline = StripeResilience.Configure(new ResiliencePipelineBuilder<HttpResponseMessage>(), options, logger).Build();
#pragma warning disable CA2000 // the HttpClient owns and disposes the handler chain
        var http = new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = stub });
#pragma warning restore CA2000
        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_x", ApiBase = "http://stripe.test" }, http);
        return new StripeTokenGateway(client, new FixedStripeApiKey("sk_test_x"), logger);
    }

    private static HttpResponseMessage Response(int status, string? shouldRetry)
    {
        var response = new HttpResponseMessage((HttpStatusCode)status);
        if (shouldRetry is not null)
        {
            response.Headers.TryAddWithoutValidation("Stripe-Should-Retry", shouldRetry);
        }

        return response;
    }
}
