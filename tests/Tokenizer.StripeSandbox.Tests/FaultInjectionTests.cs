using System.Diagnostics;
using System.Net;
using Stripe;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Each fault action through Stripe.net over real HTTP (no Stripe.net retries unless a test says so).</summary>
public sealed class FaultInjectionTests
{
    private const string Create = "POST /v1/payment_methods";
    private const string Attach = "POST /v1/payment_methods/*/attach";

    private static RequestOptions Key(string key) => new() { IdempotencyKey = key };

    [Fact]
    public async Task Latency_CreateCard_AddsAtLeastTheDelayThenAnswers()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;
        await service.CreateAsync(SandboxHarness.Card("4242424242424242")); // warm the connection
        var delay = TimeSpan.FromMilliseconds(300);
        server.Faults.Add(Create, SandboxFault.Latency(delay));

        var stopwatch = Stopwatch.StartNew();
        var created = await service.CreateAsync(SandboxHarness.Card("4242424242424242"));
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed >= delay, $"elapsed {stopwatch.Elapsed} is less than the injected {delay}");
        Assert.StartsWith("pm_", created.Id, StringComparison.Ordinal);
        var record = server.Requests.Snapshot()[^1];
        Assert.Equal((SandboxRequestOutcome.Answered, 200, SandboxFaultAction.Latency), (record.Outcome, record.Status, record.Fault));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Status429_CreateCard_RateLimitErrorWithShouldRetryHeaderAsAsked(bool? shouldRetry)
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(429, shouldRetry));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("rate_limit", error.StripeError.Code);
        var header = error.StripeResponse.Headers.TryGetValues("Stripe-Should-Retry", out var values) ? Assert.Single(values) : null;
        Assert.Equal(shouldRetry switch { true => "true", false => "false", null => null }, header);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Status429LockTimeout_CreateCard_LockTimeoutCode()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(429, shouldRetry: true, code: "lock_timeout"));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.HttpStatusCode);
        Assert.Equal("lock_timeout", error.StripeError.Code);
    }

    [Fact]
    public async Task Status409_CreateCard_IdempotencyKeyInUseAndKeyEchoed()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(409));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("conflict-1")));

        Assert.Equal(HttpStatusCode.Conflict, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("idempotency_key_in_use", error.StripeError.Code);
        Assert.Equal("conflict-1", error.StripeResponse.IdempotencyKey);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Status5xx_CreateCard_ApiError(int status)
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(status));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));

        Assert.Equal(status, (int)error.HttpStatusCode);
        Assert.Equal("api_error", error.StripeError.Type);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task StatusFault_RetrySameKey_RunsNormallyAndCreatesExactlyOne()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(503));
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var error = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("retry-503")));
        var created = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("retry-503"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.HttpStatusCode);
        Assert.Null(SandboxHarness.Header(created, "Idempotent-Replayed"));
        Assert.Equal(1, server.GetStats().PaymentMethods);
        var attempts = server.Requests.Snapshot(Create);
        Assert.Equal(["retry-503", "retry-503"], attempts.Select(a => a.IdempotencyKey));
        Assert.Equal([503, 200], attempts.Select(a => a.Status));
        Assert.Equal([SandboxFaultAction.Status, (SandboxFaultAction?)null], attempts.Select(a => a.Fault));
    }

    [Fact]
    public async Task NonJson_CreateCard_502HtmlAndStripeErrorNull()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.NonJson(), count: 2);

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));
        using var http = SandboxHarness.Http(server);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["type"] = "card" });
        using var raw = await http.PostAsync(new Uri("v1/payment_methods", UriKind.Relative), form);

        Assert.Equal(HttpStatusCode.BadGateway, error.HttpStatusCode);
        Assert.Null(error.StripeError);
        Assert.Equal(HttpStatusCode.BadGateway, raw.StatusCode);
        Assert.Equal("text/html", raw.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<html>", await raw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Reset_CreateCard_ClientGetsConnectionErrorAndNothingIsKept()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Reset());
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("reset-1")));
        Assert.IsAssignableFrom<IOException>(error.InnerException);
        Assert.Equal(0, server.GetStats().PaymentMethods);
        var created = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("reset-1"));

        Assert.Null(SandboxHarness.Header(created, "Idempotent-Replayed"));
        Assert.Equal(1, server.GetStats().PaymentMethods);
        var attempts = server.Requests.Snapshot(Create);
        Assert.Equal([SandboxRequestOutcome.Aborted, SandboxRequestOutcome.Answered], attempts.Select(a => a.Outcome));
        Assert.Equal(SandboxFaultAction.Reset, attempts[0].Fault);
    }

    [Fact]
    public async Task Hang_CreateCard_ClientTimeoutFiresAndTheHoldEndsWhenTheClientLeaves()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server, TimeSpan.FromSeconds(2), maxNetworkRetries: 0).V1.PaymentMethods;

        // A first request opens the connection and warms both ends, so on a loaded machine the timeout cannot fire
        // before the held request has reached the sandbox.
        await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("hang-warm"));
        server.Faults.Add(Create, SandboxFault.Hang(TimeSpan.FromSeconds(120)));
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("hang-1")));

        Assert.IsType<TimeoutException>(error.InnerException);
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot(Create) is [_, { Outcome: SandboxRequestOutcome.Aborted }]);
        Assert.Equal(SandboxFaultAction.Hang, server.Requests.Snapshot(Create)[1].Fault);
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Hang_MaxWaitPasses_ConnectionAborted()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Hang(TimeSpan.FromMilliseconds(200)));

        await Assert.ThrowsAsync<HttpRequestException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));

        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot(Create) is [{ Outcome: SandboxRequestOutcome.Aborted }]);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Hang_SandboxStops_HoldEndsWithoutWaitingForTheHostShutdownTimeout()
    {
        var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Hang(SandboxFault.MaxDuration));
        var held = SandboxHarness.Client(server, TimeSpan.FromMinutes(5), maxNetworkRetries: 0).V1.PaymentMethods
            .CreateAsync(SandboxHarness.Card("4242424242424242"));
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot() is [{ Fault: SandboxFaultAction.Hang }]);

        // The host would force requests closed after its 30 s shutdown timeout; the hold must end on the stop signal
        // instead, so fixtures that dispose a sandbox mid-hang do not stall. 20 s is a guard, not a speed claim.
        var disposed = server.DisposeAsync().AsTask();

        await disposed.WaitAsync(TimeSpan.FromSeconds(20));
        await Assert.ThrowsAsync<HttpRequestException>(() => held);
    }

    [Fact]
    public async Task Hang_EndHolds_HoldInProgressAbortedLaterHoldsWaitAsUsual()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Hang(SandboxFault.MaxDuration), count: 2);
        var service = SandboxHarness.Client(server, TimeSpan.FromMinutes(5), maxNetworkRetries: 0).V1.PaymentMethods;
        var held = service.CreateAsync(SandboxHarness.Card("4242424242424242"));
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot(Create) is [{ Fault: SandboxFaultAction.Hang }]);

        server.Faults.EndHolds();
        await Assert.ThrowsAsync<HttpRequestException>(() => held);
        var later = service.CreateAsync(SandboxHarness.Card("4242424242424242"));
        await SandboxHarness.WaitUntilAsync(() => server.Requests.Snapshot(Create) is [_, { Fault: SandboxFaultAction.Hang }]);

        // Control: a hold that began after EndHolds still holds (the first one ended by EndHolds, not by chance).
        Assert.Equal(SandboxRequestOutcome.Aborted, server.Requests.Snapshot(Create)[0].Outcome);
        Assert.Equal(SandboxRequestOutcome.InProgress, server.Requests.Snapshot(Create)[1].Outcome);
        Assert.False(later.IsCompleted);
        server.Faults.EndHolds();
        await Assert.ThrowsAsync<HttpRequestException>(() => later);
    }

    [Fact]
    public async Task DropAfterSuccess_CreateCard_ClientErrorButCreatedAndRetryReplaysTheSameId()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.DropAfterSuccess());
        var client = SandboxHarness.Client(server);

        await Assert.ThrowsAsync<HttpRequestException>(
            () => client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("drop-1")));
        Assert.Equal(1, server.GetStats().PaymentMethods);
        var replay = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("drop-1"));

        Assert.Equal("true", SandboxHarness.Header(replay, "Idempotent-Replayed"));
        Assert.Equal(1, server.GetStats().PaymentMethods);
        Assert.Equal(replay.Id, (await client.V1.PaymentMethods.GetAsync(replay.Id)).Id);
        var attempts = server.Requests.Snapshot(Create);
        Assert.Equal([SandboxRequestOutcome.Aborted, SandboxRequestOutcome.Answered], attempts.Select(a => a.Outcome));
        Assert.Equal(SandboxFaultAction.DropAfterSuccess, attempts[0].Fault);
    }

    [Fact]
    public async Task DropAfterSuccess_Attach_ClientErrorButAttachedAndRetryReplays()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        server.Faults.Add(Attach, SandboxFault.DropAfterSuccess());
        var attach = new PaymentMethodAttachOptions { Customer = customer.Id };

        await Assert.ThrowsAsync<HttpRequestException>(() => client.V1.PaymentMethods.AttachAsync(created.Id, attach, Key("drop-attach-1")));
        Assert.Equal(1, server.GetStats().Attached);
        var replay = await client.V1.PaymentMethods.AttachAsync(created.Id, attach, Key("drop-attach-1"));

        Assert.Equal("true", SandboxHarness.Header(replay, "Idempotent-Replayed"));
        Assert.Equal(customer.Id, replay.CustomerId);
    }

    [Fact]
    public async Task HangAfterSuccess_CreateCard_ClientTimesOutButCreatedAndRetryReplays()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.HangAfterSuccess());
        var service = SandboxHarness.Client(server, TimeSpan.FromMilliseconds(500), maxNetworkRetries: 0).V1.PaymentMethods;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("hold-1")));
        Assert.Equal(1, server.GetStats().PaymentMethods);
        var replay = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("hold-1"));

        Assert.Equal("true", SandboxHarness.Header(replay, "Idempotent-Replayed"));
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task AttachOnlyFault_CreatesStillWorkAndEveryAttachFails()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        server.Faults.Add(Attach, SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);

        for (var i = 0; i < 3; i++)
        {
            var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
            var error = await Assert.ThrowsAsync<StripeException>(
                () => client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id }));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, error.HttpStatusCode);
        }

        Assert.Equal(new SandboxStats(3, 1, 0), server.GetStats());
        Assert.Equal(3, Assert.Single(server.Faults.Pending).Fired);
    }

    [Fact]
    public async Task NthAndCount_FiveCustomerCreates_OnlyTheSecondAndThirdFail()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add("POST /v1/customers", SandboxFault.Status(500), nth: 2, count: 2);
        var customers = SandboxHarness.Client(server).V1.Customers;

        var outcomes = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            try
            {
                await customers.CreateAsync(new CustomerCreateOptions());
                outcomes.Add(200);
            }
            catch (StripeException e)
            {
                outcomes.Add((int)e.HttpStatusCode);
            }
        }

        Assert.Equal([200, 500, 500, 200, 200], outcomes);
        Assert.Empty(server.Faults.Pending);
        Assert.Equal(3, server.GetStats().Customers);
    }

    [Fact]
    public async Task TwoRulesDueTogether_FirstFiresAndTheOtherFiresOnTheNextMatch()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add("*", SandboxFault.Status(500));
        server.Faults.Add("POST /v1/customers", SandboxFault.Status(503));
        var customers = SandboxHarness.Client(server).V1.Customers;

        var first = await Assert.ThrowsAsync<StripeException>(() => customers.CreateAsync(new CustomerCreateOptions()));
        var second = await Assert.ThrowsAsync<StripeException>(() => customers.CreateAsync(new CustomerCreateOptions()));
        await customers.CreateAsync(new CustomerCreateOptions());

        Assert.Equal(HttpStatusCode.InternalServerError, first.HttpStatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.HttpStatusCode);
        Assert.Empty(server.Faults.Pending);
    }

    [Fact]
    public async Task LatencyAndStatusOnOneRequest_BothApply()
    {
        await using var server = await SandboxHarness.StartAsync();
        var delay = TimeSpan.FromMilliseconds(200);
        server.Faults.Add(Create, SandboxFault.Latency(delay));
        server.Faults.Add(Create, SandboxFault.Status(503));

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));
        stopwatch.Stop();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.HttpStatusCode);
        Assert.True(stopwatch.Elapsed >= delay, $"elapsed {stopwatch.Elapsed} is less than the injected {delay}");
        Assert.Equal(SandboxFaultAction.Status, server.Requests.Snapshot()[^1].Fault);
    }

    [Fact]
    public async Task UnlimitedRule_FiresUntilCleared()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add("GET /v1/customers/*", SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        var customers = SandboxHarness.Client(server).V1.Customers;
        var customer = await customers.CreateAsync(new CustomerCreateOptions());

        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<StripeException>(() => customers.GetAsync(customer.Id));
        }

        server.Faults.Clear();
        var fetched = await customers.GetAsync(customer.Id);

        Assert.Equal(customer.Id, fetched.Id);
    }

    [Fact]
    public async Task Faults_UnauthenticatedRequestAndStats_NeitherFaultedNorCounted()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.ApiKey = SandboxHarness.ApiKey);
        server.Faults.Add("*", SandboxFault.Status(503));
        using var http = SandboxHarness.Http(server, "sk_test_not_the_key");

        using var unauthenticated = await http.GetAsync(new Uri("v1/customers/cus_x", UriKind.Relative));
        using var stats = await http.GetAsync(new Uri("_sandbox/stats", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(0, Assert.Single(server.Faults.Pending).Seen);
    }

    [Fact]
    public async Task StripeNetRetries_503Once_SecondAttemptSucceedsWithTheSameKey()
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(503));
        var service = SandboxHarness.Client(server, TimeSpan.FromSeconds(30), maxNetworkRetries: 2).V1.PaymentMethods;

        var created = await service.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var attempts = server.Requests.Snapshot(Create);
        Assert.Equal([503, 200], attempts.Select(a => a.Status));
        Assert.NotNull(attempts[0].IdempotencyKey);
        Assert.Equal(attempts[0].IdempotencyKey, attempts[1].IdempotencyKey);
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(true, 2)]
    public async Task StripeNetRetries_Plain429NotRetriedButShouldRetryTrueIs(bool? shouldRetry, int expectedAttempts)
    {
        await using var server = await SandboxHarness.StartAsync();
        server.Faults.Add(Create, SandboxFault.Status(429, shouldRetry));
        var service = SandboxHarness.Client(server, TimeSpan.FromSeconds(30), maxNetworkRetries: 2).V1.PaymentMethods;

        try
        {
            await service.CreateAsync(SandboxHarness.Card("4242424242424242"));
        }
        catch (StripeException e) when (e.HttpStatusCode == HttpStatusCode.TooManyRequests)
        {
        }

        Assert.Equal(expectedAttempts, server.Requests.Snapshot(Create).Count);
    }
}
