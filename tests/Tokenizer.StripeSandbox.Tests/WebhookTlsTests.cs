using Stripe;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>HTTPS deliveries trust the CA named by WebhookTrustedCaPath (the Tokenizer's development CA), and only it.</summary>
public sealed class WebhookTlsTests
{
    private const string Secret = "whsec_sandbox_tls_tests_0123456789";

    [Fact]
    public async Task HttpsDelivery_TrustedCa_SucceedsAndUntrustedOrSystemTrustFails()
    {
        using var pki = new TestPki("Webhook");
        using var otherPki = new TestPki("Other");
        await using var receiver = await WebhookReceiver.StartAsync(pki.Server);
        await using var trusting = await StartAsync(receiver, pki.CaPemPath);
        await using var wrongCa = await StartAsync(receiver, otherPki.CaPemPath);
        await using var systemTrust = await StartAsync(receiver, caPath: null);

        var customer = await SandboxHarness.Client(trusting).V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.Client(wrongCa).V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.Client(systemTrust).V1.Customers.CreateAsync(new CustomerCreateOptions());
        await SandboxHarness.WaitUntilAsync(() =>
            trusting.Webhooks.Deliveries().Count == 1 && wrongCa.Webhooks.Deliveries().Count == 1 && systemTrust.Webhooks.Deliveries().Count == 1);

        Assert.StartsWith("https://127.0.0.1:", receiver.Url.ToString(), StringComparison.Ordinal);
        var delivered = Assert.Single(trusting.Webhooks.Deliveries());
        Assert.Equal(("succeeded", (int?)200), (delivered.Outcome, delivered.Status));
        var received = Assert.Single(receiver.Received);
        Assert.Equal(customer.Id, ((Customer)EventUtility.ConstructEvent(received.Body, received.Signature, Secret).Data.Object).Id);
        Assert.All(wrongCa.Webhooks.Deliveries().Concat(systemTrust.Webhooks.Deliveries()), d =>
        {
            Assert.Equal("failed", d.Outcome);
            Assert.Null(d.Status);
            Assert.Equal("tls", d.Error);
        });
    }

    [Fact]
    public async Task StartAsync_UnreadableCaFile_ThrowsNamingTheSetting()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sandbox-no-ca-{Guid.NewGuid():N}.pem");
        await System.IO.File.WriteAllTextAsync(path, "not a certificate");
        try
        {
            var garbage = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o => o.WebhookTrustedCaPath = path));
            var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o => o.WebhookTrustedCaPath = path + ".missing"));

            Assert.Contains("WebhookTrustedCaPath", garbage.Message, StringComparison.Ordinal);
            Assert.Contains("WebhookTrustedCaPath", missing.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(path, missing.Message, StringComparison.Ordinal);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    private static Task<StripeSandboxServer> StartAsync(WebhookReceiver receiver, string? caPath) =>
        SandboxHarness.StartAsync(o =>
        {
            o.WebhookEndpoints = [new SandboxWebhookEndpoint { Url = receiver.Url.ToString(), Secret = Secret }];
            o.WebhookTrustedCaPath = caPath;
            o.WebhookMaxAttempts = 1;
        });
}
