using Stripe;
using Tokenizer.Tests.Shared;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// The hosted 3-D Secure page in a real browser (headless Chromium over the DevTools protocol): a person's click on
/// Complete or Fail ends at the return_url with the outcome, and the SetupIntent and the off-session charge follow it.
/// </summary>
public sealed class ThreeDSecureBrowserTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly StripeClient client = fixture.Client;

    [Theory]
    [InlineData("complete", "succeeded")]
    [InlineData("fail", "failed")]
    public async Task HostedPage_ClickInChromium_RedirectsToReturnUrlAndDecidesTheCharge(string button, string redirectStatus)
    {
        // Arrange: the return_url is a page of the sandbox itself, so the browser has somewhere real to land.
        var returnUrl = new Uri(fixture.Server.BaseAddress, "_sandbox/stats?from=3ds").AbsoluteUri;
        var (customer, card, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4000002500003155"), returnUrl);
        await using var browser = await HeadlessChromium.StartAsync();

        // Act
        await browser.OpenAsync(new Uri(intent.NextAction.RedirectToUrl.Url));
        var title = await browser.EvaluateAsync("document.title");
        var buttons = await browser.EvaluateAsync("[...document.querySelectorAll('button')].map(b => b.id).join(',')");
        await browser.EvaluateAsync($"document.getElementById('{button}').click()");
        var landed = await browser.WaitForLocationAsync(href => href.Contains("redirect_status=", StringComparison.Ordinal));
        var after = await client.V1.SetupIntents.GetAsync(intent.Id);
        Task<PaymentIntent> Charge() => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, card.Id));

        // Assert
        Assert.Equal("3-D Secure test page", title);
        Assert.Equal("complete,fail", buttons);
        Assert.StartsWith(returnUrl + "&setup_intent=" + intent.Id, landed, StringComparison.Ordinal);
        Assert.EndsWith("redirect_status=" + redirectStatus, landed, StringComparison.Ordinal);
        Assert.True(browser.Problems.Count == 0, string.Join('\n', browser.Problems));
        if (button == "complete")
        {
            Assert.Equal("succeeded", after.Status);
            Assert.Equal("succeeded", (await Charge()).Status);
        }
        else
        {
            Assert.Equal("requires_payment_method", after.Status);
            Assert.Equal("setup_intent_authentication_failure", after.LastSetupError.Code);
            var refused = await Assert.ThrowsAsync<StripeException>(Charge);
            Assert.Equal("authentication_required", refused.StripeError.Code);
        }
    }
}
