using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The server as production runs it: Production environment, configured TLS and secrets, crash dumps and the
/// diagnostics port off. A memory dump or an attached diagnostics client could read a PAN from the heap.
/// </summary>
public sealed class ProductionPostureTests
{
    [Fact]
    public async Task ProductionServer_DiagnosticsOff_NoDiagnosticsSocketAndNoReflection()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-prod-").FullName;
        try
        {
            var pki = Path.Combine(directory, "pki");
            DevelopmentPki.EnsureCreated(pki, TimeProvider.System);
            var (certificatePath, keyPath) = DataProtectionCertificate(directory);
            var variables = new Dictionary<string, string>
            {
                ["DOTNET_EnableDiagnostics"] = "0",
                ["DOTNET_DbgEnableMiniDump"] = "0",
                ["Stripe__ApiKey"] = "sk_test_production_posture",
                ["Tokenizer__RequestHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Tokenizer__AuditHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            };

            await using var server = await ServerProcess.StartAsync(
                directory,
                "Production",
                variables,
                "--Stripe:ApiBase=https://127.0.0.1:9",
                $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
                $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
                $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
                "--Tokenizer:Callers:admin:Subject=CN=admin",
                "--Tokenizer:Callers:admin:Roles:0=admin",
                "--Tokenizer:Callers:billing:Subject=CN=billing",
                "--Tokenizer:Callers:billing:Roles:0=tokenize",
                $"--Tokenizer:DataProtection:CertificatePath={certificatePath}",
                $"--Tokenizer:DataProtection:CertificateKeyPath={keyPath}");

            // Positive control: this test process runs with diagnostics on, and its socket is where we look.
            Assert.NotEmpty(DiagnosticSockets(Environment.ProcessId));
            Assert.Empty(DiagnosticSockets(server.ProcessId));

            // The service works: an authenticated call is answered (NOT_FOUND for an unknown token).
            var lookup = await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, lookup.StatusCode);

            // gRPC reflection is not served in Production, even to an admin.
            using var admin = TestChannels.Create(server.Address, pki, "admin");
            var reflection = await ReflectionStatusAsync(admin);
            Assert.Equal(StatusCode.Unimplemented, reflection);

            // No embedded sandbox and no local secrets in Production.
            Assert.False(Directory.Exists(Path.Combine(directory, "sandbox")));
            Assert.False(Directory.Exists(Path.Combine(directory, "secrets")));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private static string[] DiagnosticSockets(int processId) =>
        Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{processId}-*");

    private static async Task<StatusCode> ReflectionStatusAsync(Grpc.Net.Client.GrpcChannel channel)
    {
        var marshaller = Marshallers.Create<ByteString>(b => b.ToByteArray(), ByteString.CopyFrom);
        var method = new Method<ByteString, ByteString>(MethodType.DuplexStreaming, "grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", marshaller, marshaller);
        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions());
        try
        {
            await call.RequestStream.WriteAsync(ByteString.Empty);
            await call.RequestStream.CompleteAsync();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }

            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }

    private static (string Certificate, string Key) DataProtectionCertificate(string directory)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=Tokenizer Data Protection (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var certificatePath = Path.Combine(directory, "dp.crt");
        var keyPath = Path.Combine(directory, "dp.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
