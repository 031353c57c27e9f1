using Grpc.Core;

namespace Tokenizer.IntegrationTests;

/// <summary>An embedded sandbox that answers like a Stripe account without raw card data APIs enabled.</summary>
public sealed class RawCardDataDisabledFixture() : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(null, "--Stripe:SandboxRawCardDataEnabled=false");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class GatewayConfigurationTests(RawCardDataDisabledFixture fixture) : IClassFixture<RawCardDataDisabledFixture>
{
    [Fact]
    public async Task TokenizeCard_RawCardDataDisabled_FailedPreconditionAndOperatorLog()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey())).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("RAW_CARD_DATA_NOT_ENABLED", TokenizeTests.ErrorInfoOf(error).Reason);
        Assert.DoesNotContain("unsafe", error.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(fixture.Server.Logs.Lines, l => l.Contains("raw card data", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task TokenizeBankAccount_RawCardDataDisabled_StillWorks()
    {
        var response = await fixture.Server.Client.TokenizeBankAccountAsync(Requests.Becs(Requests.NewKey()));

        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
    }
}
