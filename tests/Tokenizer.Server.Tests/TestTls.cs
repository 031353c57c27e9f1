using Tokenizer.Server.Security;

namespace Tokenizer.Server.Tests;

/// <summary>TLS settings for hosts started outside Development in tests: a throwaway PKI made by the development PKI code.</summary>
internal static class TestTls
{
    /// <summary>Creates a PKI under <paramref name="directory"/>/test-pki and returns the Tokenizer:Tls arguments for it.</summary>
    public static string[] Args(string directory)
    {
        var pki = Path.Combine(directory, "test-pki");
        // Another CA name: outside Development the development CA is refused.
        DevelopmentPki.EnsureCreated(pki, TimeProvider.System, "CN=Tokenizer Test CA");
        return
        [
            $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
            $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
            $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
        ];
    }
}
