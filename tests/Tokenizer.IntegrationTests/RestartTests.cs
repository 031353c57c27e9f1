using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>State lives under the data directory: a restart keeps ledger and embedded gateway in agreement.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Restart_SameDataDirectory_TokensAndReplaysSurvive()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-restart-").FullName;
        try
        {
            var key = Requests.NewKey();
            TokenizeCardResponse first;
            await using (var server = new Lifetime(new TokenizerServerFixture(directory)))
            {
                await server.Fixture.InitializeAsync();
                first = await server.Fixture.Client.TokenizeCardAsync(Requests.Card("3566002020360505", key));
            }

            await using (var server = new Lifetime(new TokenizerServerFixture(directory)))
            {
                await server.Fixture.InitializeAsync();
                var replay = await server.Fixture.Client.TokenizeCardAsync(Requests.Card("3566002020360505", key));
                var got = await server.Fixture.Client.GetTokenAsync(new GetTokenRequest { Token = first.Token.Token_ });
                var revoked = await server.Fixture.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = first.Token.Token_, IdempotencyKey = Requests.NewKey() });

                Assert.True(replay.Replayed);
                Assert.Equal(first.Token, replay.Token);
                Assert.Equal(first.Token, got.Token);
                Assert.Equal(TokenStatus.Revoked, revoked.Token.Status);
                Assert.Equal(1, server.Fixture.Sandbox.GetStats().PaymentMethods);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_RequestHmacSecretRotated_RetryReplaysFirstAnswerWithoutSecondPaymentMethod()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-rotate-").FullName;
        try
        {
            var old = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var current = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            var key = Requests.NewKey();
            TokenizeCardResponse first;
            await using (var server = new Lifetime(new TokenizerServerFixture(directory, $"--Tokenizer:RequestHmacSecret={old}")))
            {
                await server.Fixture.InitializeAsync();
                first = await server.Fixture.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));
            }

            await using (var server = new Lifetime(new TokenizerServerFixture(
                directory,
                $"--Tokenizer:RequestHmacSecret={current}",
                $"--Tokenizer:RequestHmacPreviousSecrets:0={old}")))
            {
                await server.Fixture.InitializeAsync();
                var replay = await server.Fixture.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));
                Assert.True(replay.Replayed);
                Assert.Equal(first.Token, replay.Token);
                Assert.Equal(1, server.Fixture.Sandbox.GetStats().PaymentMethods);

                // The same key with another card is still the first request's key: refused, not a second token.
                var reused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(
                    () => server.Fixture.Client.TokenizeCardAsync(Requests.Card("5555555555554444", key)).ResponseAsync);
                Assert.Equal(Grpc.Core.StatusCode.AlreadyExists, reused.StatusCode);

                // Control: a new key under the new secret makes a new token.
                var fresh = await server.Fixture.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
                Assert.False(fresh.Replayed);
                Assert.NotEqual(first.Token.Token_, fresh.Token.Token_);
                Assert.Equal(2, server.Fixture.Sandbox.GetStats().PaymentMethods);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private sealed class Lifetime(TokenizerServerFixture fixture) : IAsyncDisposable
    {
        public TokenizerServerFixture Fixture => fixture;

        public async ValueTask DisposeAsync() => await fixture.DisposeAsync();
    }
}
