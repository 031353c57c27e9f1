using System.Net;
using System.Net.Sockets;
using Tokenizer.Cli;
using Tokenizer.Server.Security;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// Files the CLI tests point options at: a real development PKI, one whose keys belong to other certificates, one of
/// garbage files, and an address on which nothing listens.
/// </summary>
public sealed class CliFixture : IDisposable
{
    public CliFixture()
    {
        Root = Directory.CreateTempSubdirectory("tokenizer-cli-").FullName;
        Pki = Path.Combine(Root, "pki");
        DevelopmentPki.EnsureCreated(Pki, TimeProvider.System);

        // Same file names, but every client key is another client's: each certificate is loaded with a key that does not match it.
        MismatchedPki = Path.Combine(Root, "mismatched");
        Directory.CreateDirectory(MismatchedPki);
        File.Copy(Path.Combine(Pki, "ca.crt"), Path.Combine(MismatchedPki, "ca.crt"));
        string[] names = ["billing", "finance", "admin"];
        for (var i = 0; i < names.Length; i++)
        {
            File.Copy(Path.Combine(Pki, names[i] + ".crt"), Path.Combine(MismatchedPki, names[i] + ".crt"));
            File.Copy(Path.Combine(Pki, names[(i + 1) % names.Length] + ".key"), Path.Combine(MismatchedPki, names[i] + ".key"));
        }

        GarbagePki = Path.Combine(Root, "garbage");
        Directory.CreateDirectory(GarbagePki);
        foreach (var name in new[] { "ca.crt", "billing.crt", "billing.key", "finance.crt", "finance.key", "admin.crt", "admin.key" })
        {
            File.WriteAllText(Path.Combine(GarbagePki, name), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
        }

        // Directories where files are expected: reading them throws UnauthorizedAccessException/IOException.
        DirectoryPki = Path.Combine(Root, "directories");
        foreach (var name in new[] { "ca.crt", "billing.crt", "billing.key", "finance.crt", "finance.key", "admin.crt", "admin.key" })
        {
            Directory.CreateDirectory(Path.Combine(DirectoryPki, name));
        }

        ExistingFile = Path.Combine(Root, "existing.txt");
        File.WriteAllText(ExistingFile, "keep");

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        ClosedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
    }

    public string Root { get; }

    public string Pki { get; }

    public string MismatchedPki { get; }

    public string GarbagePki { get; }

    public string DirectoryPki { get; }

    public string ExistingFile { get; }

    /// <summary>A loopback port nothing listens on (it was bound and released).</summary>
    public int ClosedPort { get; }

    public string ClosedAddress => $"https://127.0.0.1:{ClosedPort}";

    /// <summary>
    /// A path in the fixture's folder that does not exist yet. Its name has no digits: a run of 12-19 hex digits of a
    /// GUID can pass Luhn, and <c>--out</c> refuses any name holding a card number.
    /// </summary>
    public string NewPath(string extension) =>
        Path.Combine(Root, string.Concat(Guid.NewGuid().ToString("N").Select(c => char.IsAsciiDigit(c) ? (char)('g' + (c - '0')) : c)) + "." + extension);

    /// <summary>Runs the CLI as <c>Program.cs</c> does, with <paramref name="environment"/> as its environment.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string stdin, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.RunAsync(args, input, output, error, name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Deletes a temp folder and all it holds; one left behind is harmless, so a failure is ignored.</summary>
    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    public void Dispose() => TryDelete(Root);
}
