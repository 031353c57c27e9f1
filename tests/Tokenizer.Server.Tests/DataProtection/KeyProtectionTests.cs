using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.DataProtection;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Server.Tests.DataProtection;

/// <summary>Data Protection keys at rest: encrypted with the certificate, never in clear, and readable after restarts and rotations.</summary>
public sealed class KeyProtectionTests
{
    private const string NoEncryptorWarning = "No XML encryptor configured";
    private const string Personal = "Jenny Rosen, jenny.rosen@example.com";

    [Fact]
    public async Task KeyFiles_AfterProtect_HoldOnlyAnEncryptedSecret()
    {
        await using var harness = new SecretsHarness("Development");
        await harness.StartAsync();

        harness.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Protect(Personal);

        var files = Directory.GetFiles(harness.KeysDirectory, "*.xml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var xml = await File.ReadAllTextAsync(file);
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            Assert.Contains("http://www.w3.org/2001/04/xmlenc#", xml, StringComparison.Ordinal);
            Assert.Contains(typeof(CertificateKeyDecryptor).FullName!, xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("unencrypted", xml, StringComparison.OrdinalIgnoreCase);
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(harness.KeysDirectory));
        }
    }

    [Fact]
    public async Task Host_StartAndProtect_NoXmlEncryptorWarningAndNoDataProtectionWarnings()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-dp-").FullName;
        using var logs = new LogCapture();
        try
        {
            await using var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development", "--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace"],
                builder => builder.Logging.ClearProviders().AddProvider(logs));
            await app.StartAsync();

            var protector = app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose);
            Assert.Equal(Personal, protector.Unprotect(protector.Protect(Personal)));
            await app.StopAsync();

            // The key was created in this run, by the component that would warn about a missing encryptor.
            Assert.Contains(logs.Lines, l => l.Category == "Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager" && l.Text.StartsWith("Creating key", StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Lines, l => l.Text.Contains(NoEncryptorWarning, StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Lines, l => l.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) && l.Level >= LogLevel.Warning);
            Assert.All(Directory.GetFiles(Path.Combine(directory, "keys"), "*.xml"), f => Assert.DoesNotContain("<masterKey", File.ReadAllText(f), StringComparison.Ordinal));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task PositiveControl_FileKeysWithoutEncryptor_TheWarningIsCaptured()
    {
        // Proves the capture above would see the framework's warning: the same logger, keys on disk, no encryptor.
        var directory = Directory.CreateTempSubdirectory("tokenizer-dp-").FullName;
        using var logs = new LogCapture();
        try
        {
            var services = new ServiceCollection();
            services.AddLogging(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
            services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(directory));
            await using var provider = services.BuildServiceProvider();

            provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("control").Protect("x");

            Assert.Contains(logs.Lines, l => l.Level == LogLevel.Warning && l.Text.Contains(NoEncryptorWarning, StringComparison.Ordinal));
            Assert.Contains("<masterKey", await File.ReadAllTextAsync(Directory.GetFiles(directory, "*.xml").Single()), StringComparison.Ordinal);
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Restart_SameCertificate_UnprotectsEarlierPayload()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-dp-").FullName;
        try
        {
            string protectedValue;
            await using (var first = new SecretsHarness("Development", directory))
            {
                await first.StartAsync();
                protectedValue = first.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Protect(Personal);
            }

            await using var second = new SecretsHarness("Development", directory);
            await second.StartAsync();

            // A new process reads the key from disk and decrypts it with the certificate (CertificateKeyDecryptor).
            Assert.Equal(Personal, second.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Unprotect(protectedValue));
            Assert.Single(Directory.GetFiles(second.KeysDirectory, "*.xml"));
            Assert.DoesNotContain(second.Logs.Lines, l => l.Category.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) && l.Level >= LogLevel.Warning);
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task KeyVaultCertificateRotated_EarlierVersionStillDecryptsOldKeys_NewKeysUseTheNewCertificate()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-dp-").FullName;
        var vault = FakeVault.WithDefaults();
        try
        {
            string protectedValue;
            await using (var first = new SecretsHarness("Production", directory).WithVault(vault))
            {
                await first.StartAsync();
                protectedValue = first.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Protect(Personal);
            }

            vault.Set("dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.Rsa2048));
            await using var second = new SecretsHarness("Production", directory).WithVault(vault);
            await second.StartAsync();

            var secrets = second.Get<ITokenizerSecrets>();
            Assert.Equal(TestCertificates.Rsa2048.Thumbprint, secrets.DataProtectionCertificate.Thumbprint);
            Assert.Equal(Personal, second.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Unprotect(protectedValue));
            var encryptor = new CertificateKeyEncryptor(secrets, second.Get<ILoggerFactory>());
            var encrypted = encryptor.Encrypt(new System.Xml.Linq.XElement("secret", "x")).EncryptedElement.ToString();
            Assert.Contains(Convert.ToBase64String(TestCertificates.Rsa2048.RawData)[..40], encrypted, StringComparison.Ordinal);
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task CertificateLost_EarlierPayload_FailsWithCryptographicExceptionOnly()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-dp-").FullName;
        try
        {
            string protectedValue;
            await using (var first = new SecretsHarness("Development", directory))
            {
                await first.StartAsync();
                protectedValue = first.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Protect(Personal);
            }

            // The key file stays; the certificate that encrypted it is replaced by a new local one.
            File.Delete(Path.Combine(directory, "secrets", "dataprotection-cert.pem"));
            await using var second = new SecretsHarness("Development", directory);
            await second.StartAsync();

            var protector = second.Get<IDataProtectionProvider>().CreateProtector(TokenizerDataProtection.PersonalDataPurpose);
            Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(protectedValue));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Unprotect_OtherPurposeOrTampered_FailsWithCryptographicException()
    {
        await using var harness = new SecretsHarness("Development");
        await harness.StartAsync();
        var provider = harness.Get<IDataProtectionProvider>();
        var protectedValue = provider.CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Protect(Personal);
        var tampered = protectedValue[..^2] + (protectedValue[^2] == 'A' ? "B" : "A") + protectedValue[^1];

        Assert.DoesNotContain("Jenny", protectedValue, StringComparison.Ordinal);
        Assert.ThrowsAny<CryptographicException>(() => provider.CreateProtector("Tokenizer.Other.v1").Unprotect(protectedValue));
        Assert.ThrowsAny<CryptographicException>(() => provider.CreateProtector(TokenizerDataProtection.PersonalDataPurpose).Unprotect(tampered));
    }
}
