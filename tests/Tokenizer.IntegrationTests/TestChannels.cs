using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace Tokenizer.IntegrationTests;

/// <summary>gRPC channels over TLS that present a client certificate from the development PKI (or none) and trust only its CA.</summary>
public static class TestChannels
{
    /// <summary>A channel presenting <c>{pki}/{name}.crt</c>, or no client certificate when <paramref name="name"/> is null.</summary>
    public static GrpcChannel Create(Uri address, string pkiDirectory, string? name)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pkiDirectory, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        if (name is not null)
        {
            using var ephemeral = X509Certificate2.CreateFromPemFile(Path.Combine(pkiDirectory, name + ".crt"), Path.Combine(pkiDirectory, name + ".key"));
            handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null)];
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }
}
