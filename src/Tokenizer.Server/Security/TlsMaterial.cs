using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Security;

/// <summary>
/// The server certificate and the CA client certificates must chain to: from <c>Tokenizer:Tls</c> (PEM paths), or in
/// Development from the development PKI under <c>{DataDirectory}/pki/</c>, created on first run.
/// </summary>
public sealed partial class TlsMaterial : IDisposable
{
    private readonly Lazy<(X509Certificate2 Server, X509Certificate2 ClientCa)> material;

    public TlsMaterial(IOptions<TokenizerOptions> options, DataDirectory dataDirectory, IHostEnvironment environment, TimeProvider timeProvider, ILogger<TlsMaterial> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        var tls = options.Value.Tls;
        material = new Lazy<(X509Certificate2, X509Certificate2)>(() =>
        {
            if (!string.IsNullOrEmpty(tls.CertificatePath))
            {
                return (
                    Load("Tokenizer:Tls:CertificatePath and KeyPath", () => LoadServer(tls.CertificatePath, tls.KeyPath!)),
                    Load("Tokenizer:Tls:ClientCaPath", () => X509CertificateLoader.LoadCertificateFromFile(tls.ClientCaPath!)));
            }

            if (!environment.IsDevelopment())
            {
                throw new InvalidOperationException("Tokenizer:Tls:CertificatePath is required outside Development.");
            }

            var pki = PkiDirectory = Path.Combine(dataDirectory.Root, "pki");
            var created = DevelopmentPki.EnsureCreated(pki, timeProvider);
            LogDevelopmentPki(logger, pki, created ? "created" : "found");
            return (LoadServer(Path.Combine(pki, "server.crt"), Path.Combine(pki, "server.key")), X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki, "ca.crt")));
        });
    }

    /// <summary>The development PKI directory, when it is in use.</summary>
    public string? PkiDirectory { get; private set; }

    /// <summary>The server certificate with its private key.</summary>
    public X509Certificate2 ServerCertificate => material.Value.Server;

    /// <summary>The CA that client certificates must chain to.</summary>
    public X509Certificate2 ClientCa => material.Value.ClientCa;

    public void Dispose()
    {
        if (material.IsValueCreated)
        {
            material.Value.Server.Dispose();
            material.Value.ClientCa.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="load"/>; a file that cannot be read or parsed becomes a <see cref="StartupException"/> naming
    /// <paramref name="settings"/> and the kind of failure (never the file's contents).
    /// </summary>
    private static X509Certificate2 Load(string settings, Func<X509Certificate2> load)
    {
        try
        {
            return load();
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StartupException($"{settings}: the file does not exist", error);
        }
        catch (Exception error) when (error is UnauthorizedAccessException or IOException)
        {
            throw new StartupException($"{settings}: the file cannot be read ({error.GetType().Name})", error);
        }
        catch (Exception error) when (error is System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new StartupException($"{settings}: not a PEM certificate (and, for the server, its matching private key)", error);
        }
    }

    private static X509Certificate2 LoadServer(string certificatePath, string keyPath)
    {
        using var ephemeral = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // SslStream wants a key it can use for the life of the process; a PKCS#12 round trip gives one on every platform.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    [LoggerMessage(EventId = 5001, EventName = "DevelopmentPki", Level = LogLevel.Information, Message = "Development PKI {Action} at {Directory} (ca.crt, server, billing, finance, admin); the CLI uses it by default")]
    private static partial void LogDevelopmentPki(ILogger logger, string directory, string action);
}
