using System.Net;
using Azure;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>Key Vault as the source: what loads at start, what stops start-up, and how the Stripe key rotates.</summary>
public sealed class KeyVaultSecretsTests : IDisposable
{
    private readonly LogCapture logs = new();

    public void Dispose() => logs.Dispose();

    [Fact]
    public async Task Start_AllSecretsInVault_LoadsThemAndLogsVersionsNeverValues()
    {
        await using var harness = new SecretsHarness("Production").WithVault();

        await harness.StartAsync();

        var secrets = harness.Get<ITokenizerSecrets>();
        Assert.Equal("sk_test_vault_one", secrets.StripeApiKey);
        Assert.False(secrets.UsesEmbeddedSandbox);
        Assert.Equal(TestSecrets.RequestHmac, secrets.RequestHmacSecret.ToArray());
        Assert.Equal(TestSecrets.AuditHmac, secrets.AuditHmacSecret.ToArray());
        Assert.Equal(TestCertificates.Rsa3072.Thumbprint, secrets.DataProtectionCertificate.Thumbprint);
        Assert.True(secrets.DataProtectionCertificate.HasPrivateKey);
        Assert.Equal("sk_test_vault_one", harness.Get<IStripeApiKeyProvider>().CurrentApiKey);
        var loaded = Assert.Single(harness.Logs.Lines, l => l.EventId.Name == "SecretsLoaded");
        Assert.Contains("stripe-api-key version v0001", loaded.Text, StringComparison.Ordinal);
        Assert.Contains(TestCertificates.Rsa3072.Thumbprint, loaded.Text, StringComparison.Ordinal);
        AssertNoSecretValues(harness.Logs.AllText, "sk_test_vault_one");
        Assert.False(Directory.Exists(harness.SecretsDirectory));
    }

    [Fact]
    public async Task Start_PreviousHmacSecretsNamedInVault_LoadsThemFromTheVaultOnly()
    {
        var vault = FakeVault.WithDefaults();
        var previousRequest = Enumerable.Range(0, 32).Select(i => (byte)(0x30 + i)).ToArray();
        var previousAudit = Enumerable.Range(0, 32).Select(i => (byte)(0x60 + i)).ToArray();
        vault.Set("request-hmac-old", Convert.ToBase64String(previousRequest));
        vault.Set("audit-hmac-old", Convert.ToBase64String(previousAudit));
        await using var harness = new SecretsHarness("Production").WithVault(vault);
        harness.Settings["KeyVault:RequestHmacPreviousSecretNames:0"] = "request-hmac-old";
        harness.Settings["KeyVault:AuditHmacPreviousSecretNames:0"] = "audit-hmac-old";

        await harness.StartAsync();

        var secrets = harness.Get<ITokenizerSecrets>();
        Assert.Equal([previousRequest], secrets.PreviousRequestHmacSecrets.Select(s => s.ToArray()));
        Assert.Equal([previousAudit], secrets.PreviousAuditHmacSecrets.Select(s => s.ToArray()));
        Assert.Equal(("KeyVault:AuditHmacSecretName", "KeyVault:AuditHmacPreviousSecretNames"), secrets.AuditHmacSecretSettings);
        Assert.DoesNotContain(Convert.ToBase64String(previousRequest), harness.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_KeyVaultAndPreviousSecretsInConfiguration_RefusesNamingTheSetting()
    {
        await using var harness = new SecretsHarness("Production").WithVault();
        harness.Settings["Tokenizer:AuditHmacPreviousSecrets:0"] = Convert.ToBase64String(new byte[32]);

        var error = await Assert.ThrowsAnyAsync<Exception>(harness.StartAsync);

        Assert.Contains("Tokenizer:AuditHmacPreviousSecrets must be empty when KeyVault:Uri is set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CertificateStoredAsPem_LoadsWithPrivateKey()
    {
        var vault = FakeVault.WithDefaults();
        vault.Set("dataprotection-certificate", TestCertificates.Pem(TestCertificates.Rsa2048), "application/x-pem-file");

        using var secrets = Store(vault);

        Assert.Equal(TestCertificates.Rsa2048.Thumbprint, secrets.DataProtectionCertificate.Thumbprint);
        Assert.True(secrets.DataProtectionCertificate.HasPrivateKey);
    }

    [Theory]
    [InlineData("stripe-api-key", "StripeApiKeySecretName")]
    [InlineData("request-hmac-secret", "RequestHmacSecretName")]
    [InlineData("audit-hmac-secret", "AuditHmacSecretName")]
    [InlineData("dataprotection-certificate", "DataProtectionCertificateSecretName")]
    public async Task Start_SecretMissing_StopsNamingTheSecretAndItsSetting(string secretName, string setting)
    {
        var vault = FakeVault.WithDefaults();
        vault.Remove(secretName);
        await using var harness = new SecretsHarness("Production").WithVault(vault);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        Assert.Contains($"'{secretName}'", e.Message, StringComparison.Ordinal);
        Assert.Contains($"KeyVault:{setting}", e.Message, StringComparison.Ordinal);
        Assert.Contains("not found", e.Message, StringComparison.Ordinal);
        AssertNoSecretValues(e.ToString(), "sk_test_vault_one");
    }

    public static TheoryData<string, Exception> Unreachable() => new()
    {
        { "503", new RequestFailedException(503, "Service Unavailable", "ServiceUnavailable", null) },
        { "403", new RequestFailedException(403, "The user does not have secrets get permission", "Forbidden", null) },
        { "network", new AggregateException("Retry failed after 4 tries.", new HttpRequestException("Name or service not known (tokenizer-test.vault.azure.net:443)")) },
        { "auth", new AuthenticationFailedException("ManagedIdentityCredential authentication failed") },
        { "no credential", new CredentialUnavailableException("DefaultAzureCredential failed to retrieve a token from the included credentials.") },
    };

    [Theory]
    [MemberData(nameof(Unreachable))]
    public async Task Start_VaultUnreachable_StopsNamingKeyVaultUriWithoutAnyValue(string _, Exception failure)
    {
        var vault = FakeVault.WithDefaults();
        vault.FailWith(failure);
        await using var harness = new SecretsHarness("Production").WithVault(vault);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        Assert.Contains("KeyVault:Uri", e.Message, StringComparison.Ordinal);
        Assert.Contains("'stripe-api-key' (KeyVault:StripeApiKeySecretName)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeVault.Uri, e.Message, StringComparison.Ordinal);
        Assert.Same(failure, e.InnerException);
        AssertNoSecretValues(e.ToString() + harness.Logs.AllText, "sk_test_vault_one");
    }

    [Fact]
    public async Task Start_VaultUnreachable_NothingElseStarts()
    {
        var vault = FakeVault.WithDefaults();
        vault.FailWith(new RequestFailedException(503, "Service Unavailable"));
        await using var harness = new SecretsHarness("Production").WithVault(vault);

        await Assert.ThrowsAsync<InvalidOperationException>(() => harness.StartAsync());

        // The Data Protection key ring never started: no key was made without the certificate.
        Assert.False(Directory.Exists(harness.KeysDirectory) && Directory.EnumerateFiles(harness.KeysDirectory).Any());
    }

    public static TheoryData<string, string, string?> Malformed() => new()
    {
        { "stripe-api-key", "pk_live_publishable_not_secret", null },
        { "stripe-api-key", "sk_live_has space", null },
        { "request-hmac-secret", Convert.ToBase64String(new byte[31]), null },
        { "audit-hmac-secret", "not base64 at all!", null },
        { "dataprotection-certificate", "not base64 at all!", "application/x-pkcs12" },
        { "dataprotection-certificate", Convert.ToBase64String(new byte[64]), "application/x-pkcs12" },
        { "dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.CreateEcdsa()), "application/x-pkcs12" },
        { "dataprotection-certificate", Convert.ToBase64String(TestCertificates.Rsa2048.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Cert)), null },
        { "dataprotection-certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "application/x-pem-file" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Load_MalformedSecret_ThrowsNamingTheSecretNotItsValue(string secretName, string value, string? contentType)
    {
        var vault = FakeVault.WithDefaults();
        vault.Set(secretName, value, contentType);
        using var secrets = Store(vault);

        var e = Assert.Throws<InvalidOperationException>(() => secrets.EnsureLoaded());

        Assert.Contains($"'{secretName}'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, e.ToString(), StringComparison.Ordinal);
        AssertNoSecretValues(e.ToString(), "sk_test_vault_one");
    }

    [Fact]
    public void Load_RequestAndAuditSecretsEqual_Throws()
    {
        var vault = FakeVault.WithDefaults();
        vault.Set("audit-hmac-secret", Convert.ToBase64String(TestSecrets.RequestHmac));
        using var secrets = Store(vault);

        var e = Assert.Throws<InvalidOperationException>(() => secrets.EnsureLoaded());

        Assert.Contains("must hold different secrets", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_FailedOnce_EveryMemberRethrowsAndTheVaultIsNotAskedAgain()
    {
        var vault = FakeVault.WithDefaults();
        vault.FailWith(new RequestFailedException(503, "Service Unavailable"));
        using var secrets = Store(vault);
        Assert.Throws<InvalidOperationException>(() => secrets.EnsureLoaded());
        var reads = vault.Reads;
        vault.FailWith(null);

        Assert.Throws<InvalidOperationException>(() => secrets.StripeApiKey);
        Assert.Throws<InvalidOperationException>(() => secrets.RequestHmacSecret);
        Assert.Throws<InvalidOperationException>(() => secrets.DataProtectionCertificate);
        Assert.Equal(reads, vault.Reads);
    }

    [Fact]
    public async Task Refresh_KeyRotatedInVault_NewKeyInUseAndVersionLogged()
    {
        var vault = FakeVault.WithDefaults();
        using var secrets = Store(vault);
        secrets.EnsureLoaded();
        var version = vault.Set("stripe-api-key", "rk_test_vault_two\n");

        var refreshed = await secrets.RefreshAsync(CancellationToken.None);

        Assert.True(refreshed);
        Assert.Equal("rk_test_vault_two", secrets.StripeApiKey);
        Assert.Equal("rk_test_vault_two", secrets.CurrentApiKey);
        var rotated = Assert.Single(logs.Lines, l => l.EventId.Name == "StripeApiKeyRotated");
        Assert.Contains(version, rotated.Text, StringComparison.Ordinal);
        AssertNoSecretValues(logs.AllText, "sk_test_vault_one", "rk_test_vault_two");
    }

    [Fact]
    public async Task Refresh_KeyUnchanged_NoRotationLogged()
    {
        using var secrets = Store(FakeVault.WithDefaults());

        Assert.True(await secrets.RefreshAsync(CancellationToken.None));

        Assert.DoesNotContain(logs.Lines, l => l.EventId.Name == "StripeApiKeyRotated");
    }

    public static TheoryData<string> RefreshFailures() => ["unreachable", "auth", "deleted", "malformed", "disabled"];

    [Theory]
    [MemberData(nameof(RefreshFailures))]
    public async Task Refresh_VaultFails_KeepsLastGoodKeyAndWarnsWithoutValue(string failure)
    {
        var vault = FakeVault.WithDefaults();
        using var secrets = Store(vault);
        secrets.EnsureLoaded();
        switch (failure)
        {
            case "unreachable": vault.FailWith(new AggregateException(new HttpRequestException("Connection refused"))); break;
            case "auth": vault.FailWith(new AuthenticationFailedException("token expired")); break;
            case "deleted": vault.Remove("stripe-api-key"); break;
            case "malformed": vault.Set("stripe-api-key", "pk_test_publishable_rotated"); break;
            default: vault.Set("stripe-api-key", "sk_test_disabled_rotated", enabled: false); break;
        }

        var refreshed = await secrets.RefreshAsync(CancellationToken.None);

        Assert.False(refreshed);
        Assert.Equal("sk_test_vault_one", secrets.StripeApiKey);
        var warning = Assert.Single(logs.Lines, l => l.EventId.Name == "SecretsRefreshFailed");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Null(warning.Exception);
        AssertNoSecretValues(logs.AllText, "sk_test_vault_one", "pk_test_publishable_rotated", "sk_test_disabled_rotated");
    }

    [Fact]
    public async Task Refresh_KeyRotated_GatewaySendsTheNewKeyOnTheNextCall()
    {
        var vault = FakeVault.WithDefaults();
        using var secrets = Store(vault);
        var handler = new AuthorizationRecorder();
        using var http = new HttpClient(handler);
        var client = StripeClientFactory.Create(
            new StripeGatewayOptions { ApiKey = secrets.CurrentApiKey, ApiBase = "http://stripe.test", MaxNetworkRetries = 0 }, http);
        var gateway = new StripeTokenGateway(client, secrets, logs.CreateLogger<StripeTokenGateway>());

        await gateway.CreateCustomerAsync("ref-1", "tkz_1_customer", CancellationToken.None);
        vault.Set("stripe-api-key", "rk_test_vault_rotated");
        await gateway.CreateCustomerAsync("ref-2", "tkz_2_customer", CancellationToken.None);
        await secrets.RefreshAsync(CancellationToken.None);
        await gateway.CreateCustomerAsync("ref-3", "tkz_3_customer", CancellationToken.None);

        Assert.Equal(
            ["Bearer sk_test_vault_one", "Bearer sk_test_vault_one", "Bearer rk_test_vault_rotated"],
            handler.Authorizations);
    }

    [Fact]
    public async Task RefreshService_IntervalElapses_PicksUpTheRotatedKey()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var harness = new SecretsHarness("Production") { Time = time };
        harness.WithVault().Settings["KeyVault:RefreshSeconds"] = "60";
        await harness.StartAsync();
        var secrets = harness.Get<ITokenizerSecrets>();
        harness.Vault!.Set("stripe-api-key", "sk_test_vault_timer");
        Assert.Equal("sk_test_vault_one", secrets.StripeApiKey);

        // The refresh loop starts in the background (BackgroundService): advance until its timer has seen an interval.
        await Eventually(() =>
        {
            time.Advance(TimeSpan.FromSeconds(60));
            return secrets.StripeApiKey == "sk_test_vault_timer";
        });
        Assert.Equal("sk_test_vault_timer", harness.Get<IStripeApiKeyProvider>().CurrentApiKey);
    }

    [Fact]
    public async Task RefreshService_RefreshFails_ServiceKeepsRunningAndRecoversNextTime()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var harness = new SecretsHarness("Production") { Time = time };
        harness.WithVault();
        await harness.StartAsync();
        var secrets = harness.Get<ITokenizerSecrets>();
        harness.Vault!.FailWith(new RequestFailedException(503, "Service Unavailable"));

        await Eventually(() =>
        {
            time.Advance(TimeSpan.FromSeconds(300));
            return harness.Logs.Lines.Any(l => l.EventId.Name == "SecretsRefreshFailed");
        });
        Assert.Equal("sk_test_vault_one", secrets.StripeApiKey);
        harness.Vault.FailWith(null);
        harness.Vault.Set("stripe-api-key", "sk_test_vault_recovered");

        await Eventually(() =>
        {
            time.Advance(TimeSpan.FromSeconds(300));
            return secrets.StripeApiKey == "sk_test_vault_recovered";
        });
    }

    [Fact]
    public void Load_EarlierCertificateVersions_KeptForDecryptionNewestFirst()
    {
        var vault = FakeVault.WithDefaults();
        var older = TestCertificates.CreateRsa("CN=older", 2048);
        vault.Set("dataprotection-certificate", TestCertificates.Pkcs12Base64(older));
        vault.Set("dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.CreateRsa("CN=disabled", 2048)), enabled: false);
        vault.Set("dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.Rsa2048));

        using var secrets = Store(vault);

        Assert.Equal(TestCertificates.Rsa2048.Thumbprint, secrets.DataProtectionCertificate.Thumbprint);
        Assert.Equal(
            [TestCertificates.Rsa2048.Thumbprint, older.Thumbprint, TestCertificates.Rsa3072.Thumbprint],
            secrets.DataProtectionDecryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public void Load_VersionsCannotBeListed_WarnsAndStartsWithTheCurrentCertificate()
    {
        var vault = FakeVault.WithDefaults();
        vault.FailListingWith(new RequestFailedException(403, "The user does not have secrets list permission", "Forbidden", null));

        using var secrets = Store(vault);

        Assert.Single(secrets.DataProtectionDecryptionCertificates);
        var warning = Assert.Single(logs.Lines, l => l.EventId.Name == "PreviousCertificatesUnavailable");
        Assert.Contains("status 403, code Forbidden", warning.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnreadableEarlierVersion_SkippedWithWarning()
    {
        var vault = new FakeVault();
        vault.Set("dataprotection-certificate", "garbage-earlier-version");
        foreach (var (name, value) in DefaultValues())
        {
            vault.Set(name, value);
        }

        using var secrets = Store(vault);

        Assert.Single(secrets.DataProtectionDecryptionCertificates);
        Assert.Single(logs.Lines, l => l.EventId.Name == "PreviousCertificateSkipped");
        Assert.DoesNotContain("garbage-earlier-version", logs.AllText, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> InvalidOptions() => new()
    {
        { "KeyVault:Uri", "http://tokenizer-test.vault.azure.net/", "KeyVault:Uri must be an absolute https URL" },
        { "KeyVault:Uri", "tokenizer-test", "KeyVault:Uri must be an absolute https URL" },
        { "KeyVault:RefreshSeconds", "5", "KeyVault:RefreshSeconds must be between 10 and 86400" },
        { "KeyVault:StripeApiKeySecretName", "stripe_api_key", "KeyVault:StripeApiKeySecretName must be a Key Vault secret name" },
        { "Stripe:ApiKey", "sk_test_also_in_config", "Stripe:ApiKey must be empty when KeyVault:Uri is set" },
        { "Tokenizer:RequestHmacSecret", Convert.ToBase64String(new byte[32]), "Tokenizer:RequestHmacSecret must be empty when KeyVault:Uri is set" },
        { "Tokenizer:AuditHmacSecret", Convert.ToBase64String(new byte[32]), "Tokenizer:AuditHmacSecret must be empty when KeyVault:Uri is set" },
        { "Tokenizer:DataProtection:CertificatePath", "/etc/tokenizer/dp.pfx", "Tokenizer:DataProtection:CertificatePath must be empty when KeyVault:Uri is set" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public async Task Start_InvalidKeyVaultSetting_StopsNamingTheSettingNotItsValue(string setting, string value, string expected)
    {
        await using var harness = new SecretsHarness("Production").WithVault();
        harness.Settings[setting] = value;

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => harness.StartAsync());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, harness.Vault!.Reads);
    }

    [Fact]
    public async Task AddTokenizerSecrets_KeyVaultUriAndNoSubstitute_BuildsASecretClientForThatVaultWithoutCallingIt()
    {
        await using var harness = new SecretsHarness("Production");
        harness.Settings["KeyVault:Uri"] = FakeVault.Uri;
        harness.Build();

        var client = harness.Get<Azure.Security.KeyVault.Secrets.SecretClient>();

        Assert.Equal(new System.Uri(FakeVault.Uri), client.VaultUri);
        Assert.IsType<TokenizerSecrets>(harness.Get<ITokenizerSecrets>());
        Assert.Same(harness.Get<ITokenizerSecrets>(), harness.Get<IStripeApiKeyProvider>());
    }

    internal static void AssertNoSecretValues(string text, params string[] stripeKeys)
    {
        foreach (var value in TestSecrets.Values(stripeKeys))
        {
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
        }
    }

    internal static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition());
    }

    private static IEnumerable<(string Name, string Value)> DefaultValues() =>
    [
        ("stripe-api-key", "sk_test_vault_one"),
        ("request-hmac-secret", Convert.ToBase64String(TestSecrets.RequestHmac)),
        ("audit-hmac-secret", Convert.ToBase64String(TestSecrets.AuditHmac)),
        ("dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.Rsa3072)),
    ];

    private TokenizerSecrets Store(FakeVault vault)
    {
        var options = new KeyVaultOptions { Uri = FakeVault.Uri };
        var logger = logs.CreateLogger<TokenizerSecrets>();
        return new TokenizerSecrets(new KeyVaultSecretSource(vault.Client, options, logger), logger, "Key Vault secret stripe-api-key");
    }

    /// <summary>Answers every Stripe call with a Customer and records the Authorization header sent.</summary>
    private sealed class AuthorizationRecorder : HttpMessageHandler
    {
        public List<string?> Authorizations { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorizations.Add(request.Headers.Authorization?.ToString());
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"id":"cus_1","object":"customer"}""", System.Text.Encoding.UTF8, "application/json"),
            });
        }
    }
}
