using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class IdempotencyTests
{
    private static RequestOptions Key(string key) => new() { IdempotencyKey = key };

    [Fact]
    public async Task Create_SameKeySameParams_ReplaysFirstResponseWithHeader()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var first = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("replay-1"));
        var second = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("replay-1"));

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.StripeResponse.Content, second.StripeResponse.Content);
        Assert.Null(SandboxHarness.Header(first, "Idempotent-Replayed"));
        Assert.Equal("true", SandboxHarness.Header(second, "Idempotent-Replayed"));
        Assert.Equal(first.StripeResponse.RequestId, SandboxHarness.Header(second, "Original-Request"));
        Assert.Equal("replay-1", second.StripeResponse.IdempotencyKey);
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Create_SameKeyOtherParams_Returns400IdempotencyError()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;
        await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("mismatch-1"));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => service.CreateAsync(SandboxHarness.Card("5555555555554444"), Key("mismatch-1")));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("idempotency_error", error.StripeError.Type);
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Request_SameKeyOtherEndpoint_Returns400IdempotencyError()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        await client.V1.Customers.CreateAsync(new CustomerCreateOptions(), Key("endpoint-1"));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("endpoint-1")));

        Assert.Equal("idempotency_error", error.StripeError.Type);
    }

    [Fact]
    public async Task Create_SameKeyOtherApiKey_IsIndependent()
    {
        await using var server = await SandboxHarness.StartAsync();
        var first = await SandboxHarness.Client(server, "sk_test_one").V1.PaymentMethods
            .CreateAsync(SandboxHarness.Card("4242424242424242"), Key("scoped-1"));
        var second = await SandboxHarness.Client(server, "sk_test_two").V1.PaymentMethods
            .CreateAsync(SandboxHarness.Card("5555555555554444"), Key("scoped-1"));

        Assert.NotEqual(first.Id, second.Id);
        Assert.Null(SandboxHarness.Header(second, "Idempotent-Replayed"));
    }

    [Fact]
    public async Task Create_ConcurrentSameKey_CreatesExactlyOnePaymentMethod()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var attempts = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => Task.Run(async () =>
        {
            try
            {
                return (Id: (await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("race-1"))).Id, Code: (string?)null);
            }
            catch (StripeException e)
            {
                return (Id: (string?)null, Code: e.StripeError?.Code);
            }
        })));

        Assert.Equal(1, server.GetStats().PaymentMethods);
        Assert.Single(attempts.Where(a => a.Id is not null).Select(a => a.Id).Distinct());
        Assert.All(attempts.Where(a => a.Id is null), a => Assert.Equal("idempotency_key_in_use", a.Code));
    }

    [Fact]
    public async Task Create_KeyStillInFlight_Returns409IdempotencyKeyInUse()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        await using var server = await SandboxHarness.StartAsync(o => o.BeforeExecuteAsync = async cancellationToken =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.SetResult();
                await release.Task.WaitAsync(cancellationToken);
            }
        });
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var first = service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("inflight-1"));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<StripeException>(
            () => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("inflight-1")));
        release.SetResult();
        var created = await first;
        var replay = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("inflight-1"));

        Assert.Equal(HttpStatusCode.Conflict, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("idempotency_key_in_use", error.StripeError.Code);
        Assert.Equal(created.Id, replay.Id);
        Assert.Equal("true", SandboxHarness.Header(replay, "Idempotent-Replayed"));
    }

    [Fact]
    public async Task Attach_DeclineWithKey_IsStoredAndReplayed()
    {
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4000000000009995"));
        var attach = new PaymentMethodAttachOptions { Customer = customer.Id };

        var first = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentMethods.AttachAsync(created.Id, attach, Key("decline-1")));
        var second = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentMethods.AttachAsync(created.Id, attach, Key("decline-1")));

        Assert.Equal("insufficient_funds", first.StripeError.DeclineCode);
        Assert.Equal("insufficient_funds", second.StripeError.DeclineCode);
        Assert.True(second.StripeResponse.Headers.TryGetValues("Idempotent-Replayed", out var replayed));
        Assert.Equal("true", Assert.Single(replayed));
    }

    [Fact]
    public async Task Create_CardErrorWithKey_IsStoredAndReplayed()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var first = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424241"), Key("card-error-1")));
        var second = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424241"), Key("card-error-1")));

        Assert.Equal("incorrect_number", first.StripeError.Code);
        Assert.Equal("incorrect_number", second.StripeError.Code);
        Assert.True(second.StripeResponse.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task Create_FailedParameterValidation_IsNotStored()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;
        var incomplete = SandboxHarness.Card("4242424242424242", expMonth: null);

        var error = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(incomplete, Key("validation-1")));
        var created = await service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("validation-1"));

        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal("4242", created.Card.Last4);
        Assert.Null(SandboxHarness.Header(created, "Idempotent-Replayed"));
    }

    [Fact]
    public async Task Create_UnauthorisedWithKey_IsNotStored()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.ApiKey = SandboxHarness.ApiKey);
        var wrong = SandboxHarness.Client(server, "sk_test_wrong_key").V1.PaymentMethods;
        var right = SandboxHarness.Client(server).V1.PaymentMethods;

        var error = await Assert.ThrowsAsync<StripeException>(() => wrong.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("auth-1")));
        var created = await right.CreateAsync(SandboxHarness.Card("4242424242424242"), Key("auth-1"));

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
        Assert.Null(SandboxHarness.Header(created, "Idempotent-Replayed"));
    }

    [Fact]
    public async Task Create_KeyLongerThan255_Returns400()
    {
        await using var server = await SandboxHarness.StartAsync();
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var error = await Assert.ThrowsAsync<StripeException>(
            () => service.CreateAsync(SandboxHarness.Card("4242424242424242"), Key(new string('k', 256))));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal(0, server.GetStats().PaymentMethods);
    }
}
