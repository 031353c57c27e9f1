using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests;

/// <summary>A server with two billing callers, for scoping: keys and tokens belong to the caller that made them.</summary>
public sealed class TwoBillingCallersFixture : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(
        null,
        "--Tokenizer:Callers:billing-two:Subject=CN=billing2",
        "--Tokenizer:Callers:billing-two:Roles:0=tokenize");

    public TokenizerService.TokenizerServiceClient BillingTwo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        DevelopmentPki.IssueClient(Server.PkiDirectory, "billing2", "CN=billing2", TimeProvider.System);
        BillingTwo = new TokenizerService.TokenizerServiceClient(Server.ChannelFor("billing2"));
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class CallerScopingTests(TwoBillingCallersFixture fixture) : IClassFixture<TwoBillingCallersFixture>
{
    [Fact]
    public async Task GetToken_AnotherBillingCallersToken_NotFoundLikeUnknown()
    {
        var mine = await fixture.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));

        var foreign = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.BillingTwo.GetTokenAsync(new GetTokenRequest { Token = mine.Token.Token_ }).ResponseAsync);
        // No long digit run: an id holding a Luhn-valid one (16 zeros are) is refused as a card number.
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.BillingTwo.GetTokenAsync(new GetTokenRequest { Token = "pm_unknownQ2w3E4r5T6y7U8i" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(unknown.StatusCode, foreign.StatusCode);
        Assert.Equal(unknown.Status.Detail, foreign.Status.Detail);
    }

    [Fact]
    public async Task GetToken_OwnTokenAndFinance_Found()
    {
        var mine = await fixture.BillingTwo.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey()));

        var own = await fixture.BillingTwo.GetTokenAsync(new GetTokenRequest { Token = mine.Token.Token_ });
        var finance = await fixture.Server.Finance.GetTokenAsync(new GetTokenRequest { Token = mine.Token.Token_ });

        Assert.Equal(mine.Token, own.Token);
        Assert.Equal(mine.Token, finance.Token);
    }

    [Fact]
    public async Task TokenizeCard_SameKeyAnotherCaller_NeverReplaysTheOthersResponse()
    {
        var key = Requests.NewKey();
        var first = await fixture.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));

        var second = await fixture.BillingTwo.TokenizeCardAsync(Requests.Card("4242424242424242", key));

        Assert.False(second.Replayed);
        Assert.NotEqual(first.Token.Token_, second.Token.Token_);
    }
}
