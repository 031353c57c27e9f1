using Azure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using IStripeClient = Stripe.IStripeClient;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>The real host (AddTokenizer, Kestrel, ledger) with Key Vault as the source of secrets.</summary>
public sealed class KeyVaultHostTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-kv-").FullName;
    private readonly LogCapture logs = new();

    public void Dispose()
    {
        logs.Dispose();
        SecretsHarness.TryDelete(directory);
    }

    [Fact]
    public async Task Host_ProductionWithKeyVault_StartsWithVaultSecretsAndNoEmbeddedSandbox()
    {
        var vault = FakeVault.WithDefaults();
        await using var app = Build(vault);

        await app.StartAsync();

        Assert.Null(app.Services.GetService<EmbeddedSandbox>());
        Assert.Null(app.Services.GetService<IEmbeddedSandbox>());
        Assert.Equal("sk_test_vault_one", app.Services.GetRequiredService<IStripeApiKeyProvider>().CurrentApiKey);
        Assert.Equal("https://127.0.0.1:9", app.Services.GetRequiredService<IStripeClient>().ApiBase);
        Assert.NotEmpty(app.Urls);
        Assert.False(Directory.Exists(Path.Combine(directory, "secrets")));

        vault.Set("stripe-api-key", "sk_test_vault_two");
        Assert.True(await app.Services.GetRequiredService<TokenizerSecrets>().RefreshAsync(CancellationToken.None));

        Assert.Equal("sk_test_vault_two", app.Services.GetRequiredService<IStripeApiKeyProvider>().CurrentApiKey);
        KeyVaultSecretsTests.AssertNoSecretValues(logs.AllText, "sk_test_vault_one", "sk_test_vault_two");
        await app.StopAsync();
    }

    [Fact]
    public async Task Host_KeyVaultUnreachable_RefusesToStartBeforeListening()
    {
        var vault = FakeVault.WithDefaults();
        vault.FailWith(new RequestFailedException(0, "Connection refused (tokenizer-test.vault.azure.net:443)"));
        await using var app = Build(vault);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("KeyVault:Uri", e.Message, StringComparison.Ordinal);
        Assert.Empty(app.Urls);
        Assert.False(File.Exists(Path.Combine(directory, "ledger", "tokenizer.db")));
        KeyVaultSecretsTests.AssertNoSecretValues(e.ToString() + logs.AllText, "sk_test_vault_one");
    }

    private WebApplication Build(FakeVault vault) => TokenizerHost.Build(
        [
            "--urls", "https://127.0.0.1:0",
            $"--Tokenizer:DataDirectory={directory}",
            "--environment", "Production",
            .. TestTls.Args(directory),
            $"--KeyVault:Uri={FakeVault.Uri}",
            "--Stripe:ApiBase=https://127.0.0.1:9",
            "--Logging:LogLevel:Default=Trace",
        ],
        builder =>
        {
            builder.Logging.ClearProviders().AddProvider(logs);
            builder.Services.AddSingleton(vault.Client);
        });
}
