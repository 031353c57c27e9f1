using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Tokenizer.Cli;

/// <summary>
/// Connection settings shared by every command: the server address (<c>--server</c>, else <c>$TOKENIZER_SERVER</c>,
/// else https://127.0.0.1:5055) and the TLS client certificate. By default the
/// certificate of the command's role comes from the development PKI under the server's data directory
/// (<c>$Tokenizer__DataDirectory/pki</c>, else <c>./data/pki</c>, as scripts/run.sh makes it): billing for tokenize,
/// finance for reads, admin for revoke and audit. Files that cannot be used are bad usage (<see cref="CliInputException"/>
/// naming the option), never a crash.
/// </summary>
public sealed class CliChannel
{
    private CliChannel(RootCommand root, Func<string, string?> environment)
    {
        var dataDirectory = environment(CliApp.DataDirectoryVariable);
        var defaultPki = string.IsNullOrWhiteSpace(dataDirectory) ? Path.Combine("data", "pki") : Path.Combine(dataDirectory, "pki");
        var server = environment(CliApp.ServerVariable);
        var defaultServer = string.IsNullOrWhiteSpace(server) ? CliApp.DefaultServer : server.Trim();
        Server = new Option<string>("--server")
        {
            Description = $"Tokenizer gRPC address (default: ${CliApp.ServerVariable}, else {CliApp.DefaultServer})",
            DefaultValueFactory = _ => defaultServer,
            Recursive = true,
        };
        Pki = new Option<string>("--pki")
        {
            Description = $"Development PKI directory with <role>.crt/.key and ca.crt (default: ${CliApp.DataDirectoryVariable}/pki, else data/pki)",
            DefaultValueFactory = _ => defaultPki,
            Recursive = true,
        };
        Certificate = new Option<string?>("--cert") { Description = "Client certificate (PEM); default: the command's role from --pki", Recursive = true };
        Key = new Option<string?>("--key") { Description = "Client private key (PEM)", Recursive = true };
        Ca = new Option<string?>("--ca") { Description = "CA certificate that the server's certificate chains to (PEM); default: --pki/ca.crt", Recursive = true };
        root.Options.Add(Server);
        root.Options.Add(Pki);
        root.Options.Add(Certificate);
        root.Options.Add(Key);
        root.Options.Add(Ca);
    }

    public Option<string> Server { get; }

    public Option<string> Pki { get; }

    public Option<string?> Certificate { get; }

    public Option<string?> Key { get; }

    public Option<string?> Ca { get; }

    /// <summary>Adds the connection options to <paramref name="root"/> (recursive, so every command has them).</summary>
    public static CliChannel AddTo(RootCommand root) => new(root, Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="AddTo(RootCommand)"/>, reading <see cref="CliApp.DataDirectoryVariable"/> through <paramref name="environment"/>.</summary>
    public static CliChannel AddTo(RootCommand root, Func<string, string?> environment) => new(root, environment);

    /// <summary>
    /// A channel to the server. https addresses present the client certificate for <paramref name="role"/> (or --cert/--key)
    /// and trust only --ca; http addresses (the development plaintext loopback) present none.
    /// </summary>
    public GrpcChannel Open(ParseResult result, string role)
    {
        ArgumentNullException.ThrowIfNull(result);
        var address = result.GetValue(Server)!;
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            throw new CliInputException($"--server (or {CliApp.ServerVariable}): must be an https:// (or development http://) address");
        }

        if (uri.Scheme == "http")
        {
            return GrpcChannel.ForAddress(address);
        }

        var pki = result.GetValue(Pki)!;
        var certificatePath = result.GetValue(Certificate) ?? Path.Combine(pki, role + ".crt");
        var keyPath = result.GetValue(Key) ?? Path.Combine(pki, role + ".key");
        var caPath = result.GetValue(Ca) ?? Path.Combine(pki, "ca.crt");
        foreach (var (option, path) in new[] { ("--cert", certificatePath), ("--key", keyPath), ("--ca", caPath) })
        {
            if (!File.Exists(path))
            {
                throw new CliInputException(
                    $"{option}: no such file (the path given, else the one under --pki or the data directory's pki folder); start the server once with scripts/run.sh (it creates the development PKI), set {CliApp.DataDirectoryVariable} to the server's data directory, or pass --pki or --cert, --key and --ca");
            }
        }

        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                ClientCertificates = [LoadClient(certificatePath, keyPath)],
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { Load("--ca", caPath, X509CertificateLoader.LoadCertificateFromFile) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    // The certificate first, alone, so that a file that is no certificate and a key that is not the certificate's are
    // told apart; the loaders' own messages are not shown (they may quote the file).
    private static X509Certificate2 LoadClient(string certificatePath, string keyPath)
    {
        using var certificate = Load("--cert", certificatePath, X509CertificateLoader.LoadCertificateFromFile);
        using var ephemeral = Load("--key", keyPath, path => X509Certificate2.CreateFromPemFile(certificatePath, path));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 Load(string option, string path, Func<string, X509Certificate2> load)
    {
        try
        {
            return load(path);
        }
        catch (Exception problem) when (problem is UnauthorizedAccessException or IOException)
        {
            throw new CliInputException($"{option}: the file cannot be read (permissions?)");
        }
        catch (Exception problem) when (problem is CryptographicException or ArgumentException)
        {
            throw new CliInputException(option == "--key"
                ? "--key: not a PEM private key that matches the certificate (--cert)"
                : $"{option}: not a PEM or DER certificate");
        }
    }
}
