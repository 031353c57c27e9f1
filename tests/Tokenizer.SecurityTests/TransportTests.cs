using System.Diagnostics;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Hosting;

namespace Tokenizer.SecurityTests;

/// <summary>TLS from outside with openssl s_client: 1.0 and 1.1 refused, 1.2 and 1.3 accepted; no Server header.</summary>
public sealed class TransportTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Theory]
    [InlineData("-tls1", false)]
    [InlineData("-tls1_1", false)]
    [InlineData("-tls1_2", true)]
    [InlineData("-tls1_3", true)]
    public async Task OpensslHandshake_ProtocolVersion_OnlyModernAccepted(string version, bool accepted)
    {
        // SECLEVEL=0 lets this client offer the old protocols, so a refusal is the server's.
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "s_client", "-connect", $"{server.Address.Host}:{server.Address.Port}", version, "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", Path.Combine(server.PkiDirectory, "ca.crt"), "-brief" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        var connected = output.Contains("Protocol version:", StringComparison.Ordinal) || output.Contains("CONNECTION ESTABLISHED", StringComparison.Ordinal);
        Assert.True(accepted == connected, $"{version}: expected accepted={accepted}; openssl said:\n{output}");
    }

    [Fact]
    public void Build_PlaintextAddressWithoutOptIn_Refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TokenizerHost.Build(["--urls", "http://127.0.0.1:0", "--environment", "Development", $"--Tokenizer:DataDirectory={server.DataDirectory}"]));

        Assert.Contains("Tokenizer:AllowInsecureLoopback", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InsecureLoopbackOnNonLoopbackAddress_Refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TokenizerHost.Build(["--urls", "http://0.0.0.0:0", "--environment", "Development", "--Tokenizer:AllowInsecureLoopback=true", $"--Tokenizer:DataDirectory={server.DataDirectory}"]));

        Assert.Contains("loopback", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Kestrel binds <c>Kestrel:Endpoints</c> instead of Urls: every way through it meets the same rules.</summary>
    public static TheoryData<string, string[], string> KestrelBypasses() => new()
    {
        { "Development", ["--Kestrel:Endpoints:Plain:Url=http://127.0.0.1:0"], "Kestrel:Endpoints:Plain:Url: plaintext (http://) addresses need Tokenizer:AllowInsecureLoopback" },
        { "Development", ["--Tokenizer:AllowInsecureLoopback=true", "--Kestrel:Endpoints:Plain:Url=http://0.0.0.0:0"], "Kestrel:Endpoints:Plain:Url: Tokenizer:AllowInsecureLoopback serves plaintext on loopback addresses only" },
        { "Development", ["--Kestrel:Endpoints:Old:Url=https://127.0.0.1:0", "--Kestrel:Endpoints:Old:SslProtocols:0=Tls11"], "Kestrel:Endpoints:Old may set only Url" },
        { "Development", ["--Kestrel:Endpoints:Open:Url=https://127.0.0.1:0", "--Kestrel:Endpoints:Open:ClientCertificateMode=NoCertificate"], "Kestrel:Endpoints:Open may set only Url" },
        { "Development", ["--Kestrel:EndpointDefaults:SslProtocols:0=Tls"], "Kestrel:EndpointDefaults and Kestrel:Certificates are refused" },
        { "Development", ["--urls=", "--http_ports=0"], "HTTP_PORTS" },
        { "Production", ["--Kestrel:Endpoints:Tls:Url=https://127.0.0.1:0"], "refused outside Development" },
        { "Production", ["--Kestrel:Certificates:Default:Path=/nonexistent.pfx"], "refused outside Development" },
    };

    [Theory]
    [MemberData(nameof(KestrelBypasses))]
    public void Build_KestrelConfigurationAroundTheUrlChecks_Refused(string environment, string[] args, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            TokenizerHost.Build(["--urls", "https://127.0.0.1:0", "--environment", environment, $"--Tokenizer:DataDirectory={server.DataDirectory}", .. args]));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_KestrelEndpointWithOnlyAnHttpsLoopbackUrlInDevelopment_Builds()
    {
        // The control: the rules refuse the bypasses above, not Kestrel:Endpoints as such in Development.
        var directory = Directory.CreateTempSubdirectory("tokenizer-endpoints-").FullName;
        try
        {
            await using var app = TokenizerHost.Build(["--environment", "Development", $"--Tokenizer:DataDirectory={directory}", "--Kestrel:Endpoints:Tls:Url=https://127.0.0.1:0"]);

            Assert.NotNull(app);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public void Build_InsecureLoopbackInProduction_Refused()
    {
        Assert.Throws<InvalidOperationException>(() =>
            TokenizerHost.Build(["--urls", "http://127.0.0.1:0", "--environment", "Production", "--Tokenizer:AllowInsecureLoopback=true", $"--Tokenizer:DataDirectory={server.DataDirectory}"]));
    }

    [Fact]
    public async Task Response_NoServerHeader()
    {
        var call = server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_missing" });
        await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

        var headers = await call.ResponseHeadersAsync;

        Assert.DoesNotContain(headers, h => h.Key.Equals("server", StringComparison.OrdinalIgnoreCase));
    }
}
