using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Tokenization;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>Secrets without Key Vault: configuration, local development files, and what Production refuses.</summary>
public sealed class LocalSecretsTests
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerReadWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task Start_DevelopmentWithoutSecrets_GeneratesOwnerOnlyLocalFiles()
    {
        await using var harness = new SecretsHarness("Development");

        await harness.StartAsync();

        var secrets = harness.Get<ITokenizerSecrets>();
        Assert.True(secrets.UsesEmbeddedSandbox);
        Assert.Null(secrets.StripeApiKey);
        Assert.StartsWith("sk_test_", harness.Get<IStripeApiKeyProvider>().CurrentApiKey, StringComparison.Ordinal);
        Assert.Equal(32, secrets.RequestHmacSecret.Length);
        Assert.Equal(32, secrets.AuditHmacSecret.Length);
        Assert.False(secrets.RequestHmacSecret.Span.SequenceEqual(secrets.AuditHmacSecret.Span));
        using (var rsa = secrets.DataProtectionCertificate.GetRSAPublicKey())
        {
            Assert.Equal(3072, rsa!.KeySize);
        }

        Assert.True(secrets.DataProtectionCertificate.HasPrivateKey);
        Assert.Equal(
            ["audit-hmac.key", "dataprotection-cert.pem", "request-hmac.key"],
            Directory.GetFiles(harness.SecretsDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(harness.SecretsDirectory));
            foreach (var file in Directory.GetFiles(harness.SecretsDirectory))
            {
                Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(file));
            }
        }

        Assert.Equal(3, harness.Logs.Lines.Count(l => l.EventId.Name == "LocalSecretGenerated"));
        var pem = await File.ReadAllTextAsync(Path.Combine(harness.SecretsDirectory, "dataprotection-cert.pem"));
        Assert.Contains("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        Assert.Contains("-----BEGIN PRIVATE KEY-----", pem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DevelopmentRestart_SameLocalSecretsAndNothingRegenerated()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-secrets-").FullName;
        try
        {
            byte[] request, audit;
            string thumbprint;
            await using (var first = new SecretsHarness("Development", directory))
            {
                await first.StartAsync();
                var secrets = first.Get<ITokenizerSecrets>();
                (request, audit, thumbprint) = (secrets.RequestHmacSecret.ToArray(), secrets.AuditHmacSecret.ToArray(), secrets.DataProtectionCertificate.Thumbprint);
            }

            await using var second = new SecretsHarness("Development", directory);
            await second.StartAsync();

            var again = second.Get<ITokenizerSecrets>();
            Assert.Equal(request, again.RequestHmacSecret.ToArray());
            Assert.Equal(audit, again.AuditHmacSecret.ToArray());
            Assert.Equal(thumbprint, again.DataProtectionCertificate.Thumbprint);
            Assert.DoesNotContain(second.Logs.Lines, l => l.EventId.Name == "LocalSecretGenerated");
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Start_StagingEmbeddedMode_GeneratesLocalSecrets()
    {
        await using var harness = new SecretsHarness("Staging");

        await harness.StartAsync();

        Assert.True(harness.Get<ITokenizerSecrets>().UsesEmbeddedSandbox);
        Assert.True(File.Exists(Path.Combine(harness.SecretsDirectory, "request-hmac.key")));
    }

    public static TheoryData<string, string[], string> Refused() => new()
    {
        { "Production", [], "Stripe:ApiKey (or KeyVault:Uri with the Stripe key in the vault) is required in Production" },
        { "Production", ["Stripe:ApiKey"], "Tokenizer:RequestHmacSecret is required" },
        { "Production", ["Stripe:ApiKey", "Tokenizer:RequestHmacSecret"], "Tokenizer:AuditHmacSecret is required" },
        { "Production", ["Stripe:ApiKey", "Tokenizer:RequestHmacSecret", "Tokenizer:AuditHmacSecret"], "Tokenizer:DataProtection:CertificatePath is required" },
        { "Staging", ["Stripe:ApiKey"], "Tokenizer:RequestHmacSecret is required" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Start_SecretMissingOutsideDevelopment_RefusesAndGeneratesNothing(string environment, string[] configured, string expected)
    {
        await using var harness = new SecretsHarness(environment);
        Configure(harness, configured);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(harness.SecretsDirectory));
        KeyVaultSecretsTests.AssertNoSecretValues(e.ToString(), "sk_live_configured");
    }

    [Fact]
    public async Task Start_ProductionAllConfiguredWithPfx_UsesThemAndWritesNoSecretFile()
    {
        await using var harness = new SecretsHarness("Production");
        Configure(harness, ["Stripe:ApiKey", "Tokenizer:RequestHmacSecret", "Tokenizer:AuditHmacSecret", "Tokenizer:DataProtection:CertificatePath"]);

        await harness.StartAsync();

        var secrets = harness.Get<ITokenizerSecrets>();
        Assert.Equal("sk_live_configured", secrets.StripeApiKey);
        Assert.Equal(TestSecrets.RequestHmac, secrets.RequestHmacSecret.ToArray());
        Assert.Equal(TestSecrets.AuditHmac, secrets.AuditHmacSecret.ToArray());
        Assert.Equal(TestCertificates.Rsa3072.Thumbprint, secrets.DataProtectionCertificate.Thumbprint);
        Assert.False(Directory.Exists(harness.SecretsDirectory));
        var loaded = Assert.Single(harness.Logs.Lines, l => l.EventId.Name == "SecretsLoaded");
        Assert.Contains("Tokenizer:DataProtection:CertificatePath", loaded.Text, StringComparison.Ordinal);
        KeyVaultSecretsTests.AssertNoSecretValues(harness.Logs.AllText, "sk_live_configured", "pfx-password");
    }

    [Fact]
    public async Task Start_PemCertificateAndSeparateKeyFile_Loads()
    {
        await using var harness = new SecretsHarness("Development");
        var certificatePath = Path.Combine(harness.DataDirectory, "dp.crt");
        var keyPath = Path.Combine(harness.DataDirectory, "dp.key");
        await File.WriteAllTextAsync(certificatePath, TestCertificates.Rsa2048.ExportCertificatePem());
        using (var key = TestCertificates.Rsa2048.GetRSAPrivateKey())
        {
            await File.WriteAllTextAsync(keyPath, key!.ExportPkcs8PrivateKeyPem());
        }

        harness.Settings["Tokenizer:DataProtection:CertificatePath"] = certificatePath;
        harness.Settings["Tokenizer:DataProtection:CertificateKeyPath"] = keyPath;

        await harness.StartAsync();

        Assert.Equal(TestCertificates.Rsa2048.Thumbprint, harness.Get<ITokenizerSecrets>().DataProtectionCertificate.Thumbprint);
        Assert.False(File.Exists(Path.Combine(harness.SecretsDirectory, "dataprotection-cert.pem")));
    }

    [Theory]
    [InlineData("wrong password")]
    [InlineData("certificate without key")]
    [InlineData("missing file")]
    public async Task Start_ConfiguredCertificateUnusable_RefusesNamingTheSetting(string problem)
    {
        await using var harness = new SecretsHarness("Development");
        var path = Path.Combine(harness.DataDirectory, "dp.pfx");
        switch (problem)
        {
            case "wrong password":
                await File.WriteAllBytesAsync(path, TestCertificates.Rsa2048.Export(X509ContentType.Pkcs12, "right-password"));
                harness.Settings["Tokenizer:DataProtection:CertificatePassword"] = "wrong-password";
                break;
            case "certificate without key":
                await File.WriteAllTextAsync(path, TestCertificates.Rsa2048.ExportCertificatePem());
                break;
        }

        harness.Settings["Tokenizer:DataProtection:CertificatePath"] = path;

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        Assert.StartsWith("Tokenizer:DataProtection:CertificatePath", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("-password", e.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tokenizer:AuditHmacSecret", "c2hvcnQ=", "Tokenizer:AuditHmacSecret must be base64 of at least 32 bytes")]
    [InlineData("Tokenizer:RequestHmacSecret", "not-base64-secret-value", "Tokenizer:RequestHmacSecret must be base64 of at least 32 bytes")]
    [InlineData("Stripe:ApiKey", "pk_live_publishable", "Stripe:ApiKey must be a secret (sk_) or restricted (rk_) key")]
    public async Task Start_MalformedConfiguredSecret_RefusesNamingTheSettingNotItsValue(string setting, string value, string expected)
    {
        await using var harness = new SecretsHarness("Development");
        harness.Settings[setting] = value;

        var e = await Assert.ThrowsAnyAsync<Exception>(() => harness.StartAsync());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SameRequestAndAuditSecret_Refuses()
    {
        await using var harness = new SecretsHarness("Development");
        harness.Settings["Tokenizer:RequestHmacSecret"] = Convert.ToBase64String(TestSecrets.RequestHmac);
        harness.Settings["Tokenizer:AuditHmacSecret"] = Convert.ToBase64String(TestSecrets.RequestHmac);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        Assert.Equal("Tokenizer:AuditHmacSecret must differ from Tokenizer:RequestHmacSecret.", e.Message);
    }

    [Fact]
    public async Task Host_ProductionWithoutSecrets_RefusesBeforeListening()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-secrets-").FullName;
        try
        {
            await using var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Production", .. TestTls.Args(directory)],
                builder => builder.Logging.ClearProviders());

            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

            Assert.Contains("Stripe:ApiKey (or KeyVault:Uri with the Stripe key in the vault) is required in Production", e.Message, StringComparison.Ordinal);
            Assert.Empty(app.Urls);
            Assert.False(Directory.Exists(Path.Combine(directory, "secrets")));
            Assert.False(File.Exists(Path.Combine(directory, "ledger", "tokenizer.db")));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Host_ConfiguredRequestSecret_RequestHasherKeyedWithIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-secrets-").FullName;
        try
        {
            await using var app = TokenizerHost.Build(
                [$"--Tokenizer:DataDirectory={directory}", "--environment", "Development", $"--Tokenizer:RequestHmacSecret={Convert.ToBase64String(TestSecrets.RequestHmac)}"],
                builder => builder.Logging.ClearProviders());

            var hasher = app.Services.GetRequiredService<RequestHasher>();

            Assert.Equal(new RequestHasher(TestSecrets.RequestHmac).GatewayKey("caller", "key", "pm"), hasher.GatewayKey("caller", "key", "pm"));
            Assert.False(File.Exists(Path.Combine(directory, "secrets", "request-hmac.key")));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public void Host_StartupSequence_SecretsStartFirst()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-secrets-").FullName;
        try
        {
            using var app = TokenizerHost.Build([$"--Tokenizer:DataDirectory={directory}", "--environment", "Development"], builder => builder.Logging.ClearProviders());

            var sequence = app.Services.GetRequiredService<StartupSequence>();

            // First step of the sequence, which starts its steps before any hosted service's StartAsync (OpenTelemetry
            // puts its own first): StartupSequenceTests.Start_Development_EveryStepStartsBeforeAnyHostedServiceAndKestrel.
            Assert.Equal(typeof(SecretsRefreshService), sequence.Order[0]);
            Assert.Contains(app.Services.GetServices<IHostedService>(), hosted => ReferenceEquals(hosted, sequence));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    private static void Configure(SecretsHarness harness, string[] configured)
    {
        var pfx = Path.Combine(harness.DataDirectory, "dp.pfx");
        File.WriteAllBytes(pfx, TestCertificates.Rsa3072.Export(X509ContentType.Pkcs12, "pfx-password"));
        var values = new Dictionary<string, string?>
        {
            ["Stripe:ApiKey"] = "sk_live_configured",
            ["Tokenizer:RequestHmacSecret"] = Convert.ToBase64String(TestSecrets.RequestHmac),
            ["Tokenizer:AuditHmacSecret"] = Convert.ToBase64String(TestSecrets.AuditHmac),
            ["Tokenizer:DataProtection:CertificatePath"] = pfx,
        };
        foreach (var setting in configured)
        {
            harness.Settings[setting] = values[setting];
        }

        harness.Settings["Tokenizer:DataProtection:CertificatePassword"] = "pfx-password";
    }
}
