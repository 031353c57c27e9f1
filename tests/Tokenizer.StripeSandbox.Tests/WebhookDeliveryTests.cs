using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Stripe;
using Microsoft.Extensions.Configuration;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Signed webhook deliveries to a real Kestrel listener, checked with Stripe.net's EventUtility; retries, timeouts, endpoints.</summary>
public sealed partial class WebhookDeliveryTests
{
    private const string Secret = "whsec_sandbox_tests_0123456789abcdef";

    [Fact]
    public async Task Delivery_SignedAsStripeDoes_ConstructEventAcceptsItAndAWrongSecretDoesNot()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(receiver);
        var client = SandboxHarness.Client(server);

        var (customer, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 4);
        var received = receiver.Received.OrderBy(r => r.Number).ToList();
        var events = received.Select(r => EventUtility.ConstructEvent(r.Body, r.Signature, Secret)).ToList();
        var listed = await client.V1.Events.ListAsync();
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Count(d => d.Outcome == "succeeded") == 4);
        var delivered = await client.V1.Events.ListAsync(new EventListOptions { DeliverySuccess = true });

        Assert.Equal(["customer.created", "setup_intent.created", "payment_method.attached", "setup_intent.succeeded"], events.Select(e => e.Type));
        Assert.Equal(listed.Select(e => e.Id).Reverse(), events.Select(e => e.Id));
        Assert.Equal(customer.Id, ((Customer)events[0].Data.Object).Id);
        Assert.Equal(intent.Id, ((SetupIntent)events[3].Data.Object).Id);
        Assert.All(events, e => Assert.Equal(1, e.PendingWebhooks));
        Assert.All(received, r =>
        {
            Assert.Matches(SignatureShape(), r.Signature);
            Assert.StartsWith("application/json", r.ContentType, StringComparison.Ordinal);
            Assert.StartsWith("Stripe/", r.UserAgent, StringComparison.Ordinal);
        });
        Assert.Equal(4, delivered.Data.Count);
        Assert.All(delivered, e => Assert.Equal(0, e.PendingWebhooks));

        // Control: the same bodies and headers under another secret, or a body changed by one character, are refused.
        Assert.All(received, r => Assert.Throws<StripeException>(() => EventUtility.ConstructEvent(r.Body, r.Signature, Secret + "x")));
        Assert.Throws<StripeException>(() => EventUtility.ConstructEvent(received[0].Body.Replace("\"livemode\":false", "\"livemode\":true ", StringComparison.Ordinal), received[0].Signature, Secret));
    }

    [Fact]
    public async Task Delivery_FailedAttempts_AreRetriedWithGrowingBackOffUntilA2xx()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = n => n <= 2 ? 500 : 200;
        await using var server = await StartAsync(receiver, o => o.WebhookRetryBaseDelay = TimeSpan.FromMilliseconds(100));
        var client = SandboxHarness.Client(server);

        await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Any(d => d.Outcome == "succeeded"));
        var attempts = server.Webhooks.Deliveries();
        var received = receiver.Received.OrderBy(r => r.Number).ToList();

        Assert.Equal([(1, 500, "failed"), (2, 500, "failed"), (3, 200, "succeeded")], attempts.Select(a => (a.Attempt, a.Status!.Value, a.Outcome)));
        Assert.Single(attempts.Select(a => a.EventId).Distinct());
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => EventUtility.ConstructEvent(r.Body, r.Signature, Secret).Id).Distinct());

        // Back-off: at least the base delay before the first retry, at least twice that before the second.
        // Receipt times, not the sandbox's own timers: a margin for the two clocks' granularity, still far above zero.
        Assert.True(Stopwatch.GetElapsedTime(received[0].At, received[1].At) >= TimeSpan.FromMilliseconds(80));
        Assert.True(Stopwatch.GetElapsedTime(received[1].At, received[2].At) >= TimeSpan.FromMilliseconds(160));
    }

    [Fact]
    public async Task Delivery_AlwaysFailing_StopsAfterMaxAttemptsAndStaysPending()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = _ => 503;
        await using var server = await StartAsync(receiver, o =>
        {
            o.WebhookRetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.WebhookMaxAttempts = 3;
        });
        var client = SandboxHarness.Client(server);

        await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Count == 3);
        await Task.Delay(500); // a fourth attempt would have come 80 ms after the third
        var pending = await client.V1.Events.ListAsync(new EventListOptions { DeliverySuccess = false });

        Assert.Equal([1, 2, 3], server.Webhooks.Deliveries().Select(d => d.Attempt));
        Assert.Equal(3, receiver.Received.Count);
        Assert.Equal(1, Assert.Single(pending.Data).PendingWebhooks);
    }

    [Fact]
    public async Task Delivery_RunsInTheBackground_TheApiAnswersWhileTheEndpointHangs()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hold = (_, cancel) => release.Task.WaitAsync(cancel);
        await using var server = await StartAsync(receiver, o => o.WebhookTimeout = TimeSpan.FromMinutes(1));
        var client = SandboxHarness.Client(server, TimeSpan.FromSeconds(20), maxNetworkRetries: 0);

        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var second = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 1);
        var whileHeld = server.Webhooks.Deliveries().Count;
        release.SetResult();
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Count(d => d.Outcome == "succeeded") == 2);

        Assert.NotEqual(customer.Id, second.Id);
        Assert.Equal(0, whileHeld);
        Assert.Equal([customer.Id, second.Id], receiver.Received.OrderBy(r => r.Number).Select(r => ((Customer)EventUtility.ConstructEvent(r.Body, r.Signature, Secret).Data.Object).Id));
    }

    [Fact]
    public async Task Delivery_Timeout_CountsAsFailedAndIsRetried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hold = (n, cancel) => n == 1 ? Task.Delay(Timeout.Infinite, cancel) : Task.CompletedTask;
        await using var server = await StartAsync(receiver, o =>
        {
            o.WebhookTimeout = TimeSpan.FromMilliseconds(300);
            o.WebhookRetryBaseDelay = TimeSpan.FromMilliseconds(10);
        });

        await SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Any(d => d.Outcome == "succeeded"));

        Assert.Equal(
            new (int, int?, string, string?)[] { (1, null, "failed", "timeout"), (2, 200, "succeeded", null) },
            server.Webhooks.Deliveries().Select(d => (d.Attempt, d.Status, d.Outcome, d.Error)));
    }

    [Fact]
    public async Task Endpoints_AreIndependentAndReceiveOnlyTheirEnabledEvents()
    {
        await using var failing = await WebhookReceiver.StartAsync();
        failing.Status = _ => 500;
        await using var healthy = await WebhookReceiver.StartAsync();
        await using var customersOnly = await WebhookReceiver.StartAsync();
        await using var server = await SandboxHarness.StartAsync(o =>
        {
            o.WebhookRetryBaseDelay = TimeSpan.FromMinutes(5);
            o.WebhookEndpoints =
            [
                new SandboxWebhookEndpoint { Url = failing.Url.ToString(), Secret = Secret },
                new SandboxWebhookEndpoint { Url = healthy.Url.ToString(), Secret = Secret + "2" },
                new SandboxWebhookEndpoint { Url = customersOnly.Url.ToString(), Secret = Secret, EnabledEvents = ["customer.created"] },
            ];
        });
        var client = SandboxHarness.Client(server);

        await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Count(d => d.Outcome == "succeeded") == 7 && failing.Received.Count == 5);
        var events = await client.V1.Events.ListAsync();

        Assert.Equal(
            ["customer.created", "setup_intent.created", "payment_method.attached", "setup_intent.succeeded", "customer.created"],
            healthy.Received.OrderBy(r => r.Number).Select(r => EventUtility.ConstructEvent(r.Body, r.Signature, Secret + "2").Type));
        Assert.All(customersOnly.Received, r => Assert.Equal("customer.created", EventUtility.ConstructEvent(r.Body, r.Signature, Secret).Type));
        Assert.Equal(2, customersOnly.Received.Count);
        Assert.All(events, e => Assert.Equal(1, e.PendingWebhooks));
    }

    [Fact]
    public async Task WebhookEndpointsApi_CreateReturnsTheSecretDeliveriesUseItAndDeleteStopsThem()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await SandboxHarness.StartAsync();
        var client = SandboxHarness.Client(server);

        var endpoint = await client.V1.WebhookEndpoints.CreateAsync(new WebhookEndpointCreateOptions
        {
            Url = receiver.Url.ToString(),
            EnabledEvents = ["customer.created", "customer.deleted"],
            Description = "tokenizer",
        });
        var fetched = await client.V1.WebhookEndpoints.GetAsync(endpoint.Id);
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() => receiver.Received.Count == 1);
        await client.V1.WebhookEndpoints.DeleteAsync(endpoint.Id);
        await client.V1.Customers.DeleteAsync(customer.Id);
        var afterDelete = await client.V1.Events.GetAsync((await client.V1.Events.ListAsync(new EventListOptions { Type = "customer.deleted" })).Single().Id);
        var remote = await Assert.ThrowsAsync<StripeException>(() => client.V1.WebhookEndpoints.CreateAsync(new WebhookEndpointCreateOptions
        {
            Url = "https://hooks.example.com/stripe",
            EnabledEvents = ["*"],
        }));
        var missingEvents = await Assert.ThrowsAsync<StripeException>(() => client.V1.WebhookEndpoints.CreateAsync(new WebhookEndpointCreateOptions { Url = receiver.Url.ToString() }));

        Assert.StartsWith("we_", endpoint.Id, StringComparison.Ordinal);
        Assert.StartsWith("whsec_", endpoint.Secret, StringComparison.Ordinal);
        Assert.Equal("enabled", endpoint.Status);
        Assert.Equal(receiver.Url.ToString(), endpoint.Url);
        Assert.Null(fetched.Secret);
        Assert.Equal(["customer.created", "customer.deleted"], fetched.EnabledEvents);
        var only = Assert.Single(receiver.Received);
        Assert.Equal(customer.Id, ((Customer)EventUtility.ConstructEvent(only.Body, only.Signature, endpoint.Secret).Data.Object).Id);
        Assert.Equal(0, afterDelete.PendingWebhooks);
        Assert.Equal(HttpStatusCode.BadRequest, remote.HttpStatusCode);
        Assert.Equal("url", remote.StripeError.Param);
        Assert.Equal("enabled_events", missingEvents.StripeError.Param);
    }

    [Theory]
    [InlineData("https://hooks.example.com/stripe", Secret, "WebhookEndpoints:0:Url")]
    [InlineData("http://10.0.0.8/stripe", Secret, "WebhookEndpoints:0:Url")]
    [InlineData("http://127.0.0.1:9/stripe", "sk_test_not_a_webhook_secret", "WebhookEndpoints:0:Secret")]
    [InlineData("http://127.0.0.1:9/stripe", "whsec_short", "WebhookEndpoints:0:Secret")]
    public async Task StartAsync_BadWebhookEndpoint_ThrowsNamingTheSettingNotTheValue(string url, string secret, string setting)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o =>
            o.WebhookEndpoints = [new SandboxWebhookEndpoint { Url = url, Secret = secret }]));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(url, error.Message, StringComparison.Ordinal);
    }

    internal static Task<StripeSandboxServer> StartAsync(WebhookReceiver receiver, Action<StripeSandboxOptions>? configure = null) =>
        SandboxHarness.StartAsync(o =>
        {
            o.WebhookEndpoints = [new SandboxWebhookEndpoint { Url = receiver.Url.ToString(), Secret = Secret }];
            configure?.Invoke(o);
        });

    [GeneratedRegex("^t=[0-9]{10},v1=[0-9a-f]{64}$")]
    private static partial Regex SignatureShape();
}

/// <summary>The standalone sandbox binds webhook endpoints from its environment and command line as Program.cs does.</summary>
public sealed class WebhookOptionsBindingTests
{
    [Fact]
    public void Bind_EndpointsFromEnvironmentStyleKeys_ReplaceTheDefaultEventList()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["WebhookEndpoints:0:Url"] = "https://127.0.0.1:8443/stripe/webhook",
                ["WebhookEndpoints:0:Secret"] = "whsec_bound_from_the_environment_01",
                ["WebhookEndpoints:0:EnabledEvents:0"] = "setup_intent.succeeded",
                ["WebhookEndpoints:1:Url"] = "http://localhost:5005/hook",
                ["WebhookEndpoints:1:Secret"] = "whsec_bound_from_the_environment_02",
                ["WebhookRetryBaseDelay"] = "00:00:02",
                ["WebhookMaxAttempts"] = "6",
            })
            .Build();
        var options = new StripeSandboxOptions();

        configuration.Bind(options);
        var validation = new Hosting.StripeSandboxOptionsValidator().Validate(null, options);

        Assert.True(validation.Succeeded, validation.FailureMessage);
        Assert.Equal(["setup_intent.succeeded"], options.WebhookEndpoints[0].EnabledEvents);
        Assert.Empty(options.WebhookEndpoints[1].EnabledEvents);
        Assert.Equal((TimeSpan.FromSeconds(2), 6), (options.WebhookRetryBaseDelay, options.WebhookMaxAttempts));
    }
}
