using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Stripe;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Webhook bodies carry billing details: they reach the endpoint, never a log line or the delivery records.</summary>
public sealed class WebhookPrivacyTests
{
    private const string Secret = "whsec_sandbox_privacy_tests_0123456789";

    [Fact]
    public async Task FailingDeliveries_LogAndRecordNoBodyOrPersonalData()
    {
        var lines = new ConcurrentQueue<string>();
        var token = RandomNumberGenerator.GetHexString(64, lowercase: true);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = _ => 500;
        await using var server = await SandboxHarness.StartAsync(o =>
        {
            o.ControlToken = token;
            o.WebhookMaxAttempts = 2;
            o.WebhookRetryBaseDelay = TimeSpan.FromMilliseconds(10);
            o.WebhookEndpoints = [new SandboxWebhookEndpoint { Url = receiver.Url.ToString(), Secret = Secret }];
            o.ConfigureLogging = logging => logging.AddProvider(new CollectingLoggerProvider(lines));
        });
        var client = SandboxHarness.Client(server);
        var create = SandboxHarness.Card("4242424242424242");
        create.BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Jenny Rosen", Email = "jenny.rosen@example.com" };

        await SetupHarness.SetUpAsync(client, create);
        await SandboxHarness.WaitUntilAsync(() => server.Webhooks.Deliveries().Count == 8);
        using var control = new HttpClient { BaseAddress = server.BaseAddress };
        control.DefaultRequestHeaders.Add("Sandbox-Control-Token", token);
        var deliveries = await control.GetStringAsync(new Uri("_sandbox/webhooks/deliveries", UriKind.Relative));
        using var unauthenticated = await new HttpClient().GetAsync(new Uri(server.BaseAddress, "v1/events"));

        // Control: the body did carry the billing details, and the failures were logged.
        Assert.Contains(receiver.Received, r => r.Body.Contains("jenny.rosen@example.com", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("WebhookDeliveryFailed", StringComparison.Ordinal));
        foreach (var text in lines.Append(deliveries))
        {
            Assert.DoesNotContain("Jenny", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("example.com", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"data\":{\"object\"", text, StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(lines);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{eventId.Name} {formatter(state, exception)} {exception}");
        }
    }
}
