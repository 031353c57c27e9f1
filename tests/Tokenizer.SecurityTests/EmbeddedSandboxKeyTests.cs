using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Hosting;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The embedded sandbox holds billing details and answers on a loopback port any local process can reach. It accepts
/// one key, random per start and held only in this process, so a local process cannot read what it holds.
/// </summary>
public sealed class EmbeddedSandboxKeyTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    /// <summary>The fixed key the embedded sandbox accepted before; public in the repository's history.</summary>
    private const string FormerFixedKey = "sk_test_tokenizer_embedded_sandbox";

    [Fact]
    public async Task EmbeddedSandbox_FormerFixedOrGuessedKey_RefusedWhileThePerStartKeyAndTheServiceWork()
    {
        // Arrange: a token whose PaymentMethod the sandbox now holds.
        var response = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-sandbox-key"));
        var path = "/v1/payment_methods/" + response.Token.Token_;
        var key = server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey;

        // Act
        var fixedKey = await GetAsync(path, FormerFixedKey);
        var guessed = await GetAsync(path, "sk_test_" + Guid.NewGuid().ToString("N"));
        var perStart = await GetAsync(path, key!);

        // Assert: only the key of this start opens it; the control proves the path and the sandbox are right.
        Assert.Equal(HttpStatusCode.Unauthorized, fixedKey);
        Assert.Equal(HttpStatusCode.Unauthorized, guessed);
        Assert.Equal(HttpStatusCode.OK, perStart);
        Assert.StartsWith("sk_test_", key, StringComparison.Ordinal);
        Assert.NotEqual(FormerFixedKey, key);
        Assert.True(key!.Length >= "sk_test_".Length + 32, "the key carries at least 32 random characters");
    }

    [Fact]
    public async Task EmbeddedSandbox_TwoStarts_DifferentKeysNeitherLoggedNorWritten()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-sandbox-key-").FullName;
        try
        {
            string first;
            var one = new TokenizerServerFixture(directory);
            await one.InitializeAsync();
            try
            {
                first = one.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey!;
                await one.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
                Assert.DoesNotContain(one.Logs.Lines, line => line.Contains(first, StringComparison.Ordinal));
            }
            finally
            {
                await one.DisposeAsync();
            }

            var two = new TokenizerServerFixture(directory);
            await two.InitializeAsync();
            string second;
            try
            {
                second = two.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey!;
            }
            finally
            {
                await two.DisposeAsync();
            }

            Assert.NotEqual(first, second);
            foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
            {
                var bytes = await File.ReadAllTextAsync(file);
                Assert.DoesNotContain(first, bytes, StringComparison.Ordinal);
                Assert.DoesNotContain(second, bytes, StringComparison.Ordinal);
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private async Task<HttpStatusCode> GetAsync(string path, string apiKey)
    {
        using var http = new HttpClient { BaseAddress = server.Sandbox.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var answer = await http.SendAsync(request);
        return answer.StatusCode;
    }
}
