using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Tokenizer.LoadTests.Echo;

namespace Tokenizer.LoadTests;

/// <summary>
/// The ceiling: a bare unary echo served by ASP.NET Core gRPC over the same TLS (the development PKI's server
/// certificate, HTTP/2 only) with the same client-certificate rule as the service (a certificate chaining to the PKI's
/// CA and a known subject), and nothing else: no validation, ledger, gateway, audit or logging.
/// </summary>
internal static class EchoRole
{
    public static async Task<int> RunAsync(IConfiguration settings)
    {
        var pki = settings["pki"] ?? Path.Combine("data", "pki");
        var url = settings["urls"] ?? "https://127.0.0.1:5099";
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki, "ca.crt"));
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(pki, "server.crt"), Path.Combine(pki, "server.key"));
        var serverCertificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var callers = new HashSet<string>(StringComparer.Ordinal) { "CN=billing", "CN=finance", "CN=admin" };

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ServerCertificate = serverCertificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(certificate) && callers.Contains(certificate.Subject);
                };
            });
        });
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<EchoServiceImpl>();
        await app.StartAsync();
        Console.WriteLine($"echo ready on {url}");
        await app.WaitForShutdownAsync();
        return 0;
    }

    private sealed class EchoServiceImpl : EchoService.EchoServiceBase
    {
        public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
            Task.FromResult(new EchoResponse { Payload = request.Payload });
    }
}
