using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class AuthenticationTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    [Fact]
    public async Task Request_WithoutApiKey_Returns401StripeError()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };

        using var response = await http.GetAsync(new Uri("v1/customers/cus_x", UriKind.Relative));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("invalid_request_error", body.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("req_", response.Headers.GetValues("Request-Id").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sk_live_abc")]
    [InlineData("pk_test_abc")]
    [InlineData("sk_test_")]
    public async Task Request_NonTestSecretKey_Returns401(string apiKey)
    {
        var client = SandboxHarness.Client(fixture.Server, apiKey);

        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.Customers.CreateAsync(new CustomerCreateOptions()));

        Assert.Equal(HttpStatusCode.Unauthorized, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.DoesNotContain(apiKey, error.StripeResponse.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_AnyTestKeyWhenNoneConfigured_IsAccepted()
    {
        var customer = await SandboxHarness.Client(fixture.Server, "sk_test_anything").V1.Customers.CreateAsync(new CustomerCreateOptions());

        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_ConfiguredKey_OnlyThatKeyIsAccepted()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.ApiKey = "sk_test_the_one");

        var rejected = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server, "sk_test_another").V1.Customers.CreateAsync(new CustomerCreateOptions()));
        var accepted = await SandboxHarness.Client(server, "sk_test_the_one").V1.Customers.CreateAsync(new CustomerCreateOptions());

        Assert.Equal(HttpStatusCode.Unauthorized, rejected.HttpStatusCode);
        Assert.StartsWith("cus_", accepted.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_BasicAuthWithKeyAsUser_IsAccepted()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("v1/customers", UriKind.Relative))
        {
            Content = new FormUrlEncodedContent([new("name", "Basic")]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("sk_test_basic:")));

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_UnknownUrl_Returns404StripeErrorWithoutThePath()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("v1/charges/4242424242424242", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SandboxHarness.ApiKey);

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("invalid_request_error", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4242", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_OverHttp_MatchesGetStats()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress };
        await fixture.Client.V1.Customers.CreateAsync(new CustomerCreateOptions());

        using var body = JsonDocument.Parse(await http.GetStringAsync(new Uri("_sandbox/stats", UriKind.Relative)));
        var stats = fixture.Server.GetStats();

        Assert.Equal(stats.PaymentMethods, body.RootElement.GetProperty("payment_methods").GetInt32());
        Assert.Equal(stats.Customers, body.RootElement.GetProperty("customers").GetInt32());
        Assert.Equal(stats.Attached, body.RootElement.GetProperty("attached").GetInt32());
        Assert.True(stats.Customers >= 1);
    }
}
