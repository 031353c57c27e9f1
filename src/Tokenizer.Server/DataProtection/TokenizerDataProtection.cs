using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.DataProtection;

/// <summary>
/// ASP.NET Core Data Protection for Tokenizer: application name <c>Tokenizer</c>, keys persisted under
/// <c>{DataDirectory}/keys</c> (directory 0700) and encrypted at rest with <see cref="ITokenizerSecrets.DataProtectionCertificate"/>
/// (XML Encryption, the content key wrapped with the certificate's RSA key); decryptable with any of
/// <see cref="ITokenizerSecrets.DataProtectionDecryptionCertificates"/>. This is
/// <c>PersistKeysToFileSystem(dir).ProtectKeysWithCertificate(cert).UnprotectKeysWithAnyCertificate(certs)</c>, resolved
/// from the container: the certificates are only known once the secrets load, and the framework's decryption
/// certificate list cannot be filled from the container (its options type is internal), hence
/// <see cref="CertificateKeyEncryptor"/> and <see cref="CertificateKeyDecryptor"/>.
/// </summary>
/// <remarks>
/// Use <see cref="IDataProtectionProvider"/> with a purpose from this class. A payload protected under one purpose
/// never unprotects under another, and every failure to unprotect is a
/// <see cref="System.Security.Cryptography.CryptographicException"/> (no oracle). Personal data (billing details) is held
/// encrypted under per-subject data keys, which are wrapped under
/// <see cref="DataProtectionSubjectKeyProtector.Purpose"/> (privacy).
/// </remarks>
public static class TokenizerDataProtection
{
    /// <summary>The Data Protection application name: keys are isolated to it.</summary>
    public const string ApplicationName = "Tokenizer";

    /// <summary>The purpose for personal data (billing name, email, phone, address) should it ever be stored.</summary>
    public const string PersonalDataPurpose = "Tokenizer.PersonalData.v1";

    /// <summary>The folder under the data directory that holds the key ring.</summary>
    public const string KeysDirectory = "keys";

    /// <summary>Adds Data Protection as described on the class. Needs <c>AddTokenizerSecrets</c> and <see cref="DataDirectory"/>.</summary>
    public static IServiceCollection AddTokenizerDataProtection(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<DataDirectory, ITokenizerSecrets, ILoggerFactory, IServiceProvider>((options, data, secrets, loggers, sp) =>
        {
            // PostgreSQL keeps the key ring in the database so replicas share it; SQLite keeps it under the data directory.
            options.XmlRepository = sp.GetService<IXmlRepository>()
                ?? new FileSystemXmlRepository(new DirectoryInfo(KeysDirectoryOf(data)), loggers);
            options.XmlEncryptor = new CertificateKeyEncryptor(secrets, loggers);
        });
        return services;
    }

    private static string KeysDirectoryOf(DataDirectory data)
    {
        var path = data.Subdirectory(KeysDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
