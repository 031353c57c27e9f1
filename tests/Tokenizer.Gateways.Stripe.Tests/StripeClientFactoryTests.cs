using System.Net;
using NSubstitute;
using Stripe;
using Tokenizer.Gateways.Stripe.Tests.Support;

namespace Tokenizer.Gateways.Stripe.Tests;

public sealed class StripeClientFactoryTests
{
    [Fact]
    public void Options_Defaults_AreThirtySecondsAndNoStripeNetRetries()
    {
        var options = new StripeGatewayOptions();

        Assert.Equal(TimeSpan.FromSeconds(30), options.RequestTimeout);
        Assert.Equal(0, options.MaxNetworkRetries); // StripeResilience is the one retry layer
        Assert.Null(options.ApiBase);
        Assert.Null(options.ApiKey);
    }

    [Fact]
    public void Create_NoApiBase_TargetsRealStripe()
    {
        using var http = new HttpClient();

        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_x" }, http);

        Assert.Equal("https://api.stripe.com", client.ApiBase);
        Assert.Equal("sk_test_x", client.ApiKey);
    }

    [Fact]
    public void Create_ApiBase_TargetsIt()
    {
        using var http = new HttpClient();

        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_x", ApiBase = "http://127.0.0.1:12111/" }, http);

        Assert.Equal("http://127.0.0.1:12111", client.ApiBase);
    }

    [Fact]
    public void Create_Always_SetsTheHttpClientTimeout()
    {
        using var http = new HttpClient();

        StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_x", RequestTimeout = TimeSpan.FromSeconds(7) }, http);

        Assert.Equal(TimeSpan.FromSeconds(7), http.Timeout);
    }

    [Fact]
    public void Create_NoHttpClient_BuildsOne()
    {
        var client = StripeClientFactory.Create(new StripeGatewayOptions { ApiKey = "sk_test_x" });

        Assert.IsType<StripeClient>(client);
    }

    public static TheoryData<string, StripeGatewayOptions> InvalidOptions() => new()
    {
        { "ApiKey", new StripeGatewayOptions() },
        { "ApiKey", new StripeGatewayOptions { ApiKey = " " } },
        { "ApiKey", new StripeGatewayOptions { ApiKey = "sk_test_secret value" } },
        { "ApiBase", new StripeGatewayOptions { ApiKey = "sk_test_x", ApiBase = "ftp://secret-host" } },
        { "ApiBase", new StripeGatewayOptions { ApiKey = "sk_test_x", ApiBase = "secret-host:80" } },
        { "RequestTimeout", new StripeGatewayOptions { ApiKey = "sk_test_x", RequestTimeout = TimeSpan.Zero } },
        { "RequestTimeout", new StripeGatewayOptions { ApiKey = "sk_test_x", RequestTimeout = TimeSpan.FromHours(1) } },
        { "MaxNetworkRetries", new StripeGatewayOptions { ApiKey = "sk_test_x", MaxNetworkRetries = -1 } },
        { "MaxNetworkRetries", new StripeGatewayOptions { ApiKey = "sk_test_x", MaxNetworkRetries = 11 } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Create_InvalidSetting_ThrowsNamingTheSettingNotItsValue(string setting, StripeGatewayOptions options)
    {
        using var http = new HttpClient();

        var e = Assert.Throws<ArgumentException>(() => StripeClientFactory.Create(options, http));

        Assert.Contains("StripeGatewayOptions." + setting, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoticeSuppressingHttpClient_ResponseWithNotice_RemovesTheHeader()
    {
        var inner = Substitute.For<IHttpClient>();
        using var http = new HttpResponseMessage(HttpStatusCode.OK);
        http.Headers.TryAddWithoutValidation("Stripe-Notice", "This API version is deprecated");
        http.Headers.TryAddWithoutValidation("Request-Id", "req_1");
        inner.MakeRequestAsync(default!, default).ReturnsForAnyArgs(new StripeResponse(HttpStatusCode.OK, http.Headers, "{}"));

        var response = await new NoticeSuppressingHttpClient(inner).MakeRequestAsync(null!, CancellationToken.None);

        Assert.False(response.Headers.Contains("Stripe-Notice"));
        Assert.Equal("req_1", response.RequestId);
    }
}

/// <summary>Tests that swap Console.Error and environment variables: never in parallel with anything.</summary>
[CollectionDefinition(nameof(ProcessStateGroup), DisableParallelization = true)]
public sealed class ProcessStateGroup;

[Collection(nameof(ProcessStateGroup))]
public sealed class StripeNoticeTests
{
    [Fact]
    public async Task FactoryClient_StripeNoticeWhileAnAiAgentVariableIsSet_WritesNothingToStderr()
    {
        var written = await CaptureStderrAsync(http => StripeClientFactory.Create(
            new StripeGatewayOptions { ApiKey = "sk_test_x", ApiBase = "http://stripe.test", MaxNetworkRetries = 0 },
            http));

        Assert.Equal(string.Empty, written);
    }

    [Fact]
    public async Task PlainStripeNetClient_StripeNoticeWhileAnAiAgentVariableIsSet_WritesTheNoticeDespiteSuppressNotices()
    {
        // Documents the Stripe.net 53.1.0 behaviour the factory works around: STRIPE_SUPPRESS_NOTICES is ignored
        // when one of its AI-agent variables is set.
        var written = await CaptureStderrAsync(http => new StripeClient(new StripeClientOptions
        {
            ApiKey = "sk_test_x",
            ApiBase = "http://stripe.test",
            HttpClient = new SystemNetHttpClient(http, 0, null, false),
        }));

        Assert.Contains("deprecated-notice-text", written, StringComparison.Ordinal);
    }

    private static async Task<string> CaptureStderrAsync(Func<HttpClient, IStripeClient> build)
    {
        var handler = new StubStripeHandler().Respond(HttpStatusCode.OK, Samples.CustomerJson, ("Stripe-Notice", "deprecated-notice-text"));
        using var http = new HttpClient(handler);
        var gateway = new StripeTokenGateway(build(http), new FixedStripeApiKey("sk_test_x"), new CapturingLogger<StripeTokenGateway>());
        var previousError = Console.Error;
        var previousAgent = Environment.GetEnvironmentVariable("CLAUDECODE");
        var previousSuppress = Environment.GetEnvironmentVariable("STRIPE_SUPPRESS_NOTICES");
        using var stderr = new StringWriter();
        try
        {
            Environment.SetEnvironmentVariable("CLAUDECODE", "1");
            Environment.SetEnvironmentVariable("STRIPE_SUPPRESS_NOTICES", "true");
            Console.SetError(stderr);
            await gateway.CreateCustomerAsync("ref", "k", CancellationToken.None);
        }
        finally
        {
            Console.SetError(previousError);
            Environment.SetEnvironmentVariable("CLAUDECODE", previousAgent);
            Environment.SetEnvironmentVariable("STRIPE_SUPPRESS_NOTICES", previousSuppress);
        }

        return stderr.ToString();
    }
}
