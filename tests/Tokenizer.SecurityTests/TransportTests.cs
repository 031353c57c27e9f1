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
