using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests;

/// <summary>A server with a tiny per-caller rate limit.</summary>
public sealed class RateLimitedFixture : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(null, "--Tokenizer:Limits:PermitsPerSecond=1", "--Tokenizer:Limits:Burst=3");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class RateLimitTests(RateLimitedFixture fixture) : IClassFixture<RateLimitedFixture>
{
    [Fact]
    public async Task Calls_OverTheCallersBurst_ResourceExhaustedNotUnavailable()
    {
        var statuses = new List<StatusCode>();
        for (var i = 0; i < 10; i++)
        {
            try
            {
                await fixture.Server.Finance.GetTokenAsync(new GetTokenRequest { Token = "pm_missing" });
                statuses.Add(StatusCode.OK);
            }
            catch (RpcException error)
            {
                statuses.Add(error.StatusCode);
            }
        }

        Assert.Contains(StatusCode.NotFound, statuses);
        Assert.Contains(StatusCode.ResourceExhausted, statuses);
        Assert.DoesNotContain(StatusCode.Unavailable, statuses);
    }

    [Fact]
    public async Task Calls_OneCallerLimited_OtherCallerUnaffected()
    {
        for (var i = 0; i < 6; i++)
        {
            try
            {
                await fixture.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = "pm_missing", IdempotencyKey = Requests.NewKey() });
            }
            catch (RpcException)
            {
                // Exhausting the admin caller's bucket is the point.
            }
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_missing" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }
}

public sealed class MessageLimitTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task TokenizeCard_RequestOverReceiveLimit_ResourceExhausted()
    {
        var request = Requests.Card("4242424242424242", Requests.NewKey());
        request.BillingDetails = new BillingDetails { Name = new string('x', 20 * 1024) };

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task TokenizeCard_RequestUnderReceiveLimit_Served()
    {
        var request = Requests.Card("4242424242424242", Requests.NewKey());
        request.BillingDetails = new BillingDetails { Name = new string('x', 150) };

        var response = await server.Client.TokenizeCardAsync(request);

        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
    }
}
