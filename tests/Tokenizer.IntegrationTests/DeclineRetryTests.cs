using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// After a decline the idempotency key stays bound to the declined request: the same key with another card is the
/// caller's mistake, answered here (ALREADY_EXISTS, IDEMPOTENCY_KEY_REUSED) before any gateway call and never logged as
/// an error. Its own server, so the captured log holds only this class's calls.
/// </summary>
public sealed class DeclineRetryTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task TokenizeCard_SameKeyOtherCardAfterDecline_AlreadyExistsWithoutGatewayCallOrErrorLog()
    {
        // Arrange: a card Stripe declines at attach.
        var key = Requests.NewKey();
        var decline = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4000000000000002", key)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, decline.StatusCode);
        var gatewayCallsBefore = server.Sandbox.Requests.Snapshot().Count;

        // Act: the same key with a card that would succeed.
        var reuse = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key)).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.AlreadyExists, reuse.StatusCode);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", TokenizeTests.ErrorInfoOf(reuse).Reason);
        Assert.Equal(gatewayCallsBefore, server.Sandbox.Requests.Snapshot().Count);
        Assert.DoesNotContain(server.Logs.Lines, line => line.StartsWith("Error ", StringComparison.Ordinal) || line.StartsWith("Critical ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenizeCard_SameKeySameCardAfterDecline_AnswersTheDeclineAgain()
    {
        // Arrange
        var key = Requests.NewKey();
        await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4000000000009995", key)).ResponseAsync);

        // Act: a retry of the very same request is not a reuse.
        var retry = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4000000000009995", key)).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.FailedPrecondition, retry.StatusCode);
        Assert.Equal("CARD_DECLINED", TokenizeTests.ErrorInfoOf(retry).Reason);
    }
}
