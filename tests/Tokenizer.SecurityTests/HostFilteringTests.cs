using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tokenizer.Core.Audit;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests;

/// <summary>A server with <c>AllowedHosts</c> set (only 127.0.0.1) and every log category at Trace.</summary>
public sealed class HostFilteringFixture : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(
        null,
        "--AllowedHosts=127.0.0.1",
        "--Logging:LogLevel:Default=Trace",
        "--Logging:LogLevel:Microsoft.AspNetCore=Trace",
        "--Logging:LogLevel:Microsoft.AspNetCore.HostFiltering=Trace");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// With <c>AllowedHosts</c> set, ASP.NET Core's host filtering refuses a request whose Host is not listed. That refusal
/// is a call like any other: it is audited (PCI DSS 10.2), and the Host an unauthenticated peer chose never reaches the
/// log, even at Trace (the framework's event quotes it).
/// </summary>
public sealed class HostFilteringTests(HostFilteringFixture fixture) : IClassFixture<HostFilteringFixture>
{
    private TokenizerServerFixture Server => fixture.Server;

    [Fact]
    public async Task GetToken_HostNotAllowed_RefusedAuditedOnceAndTheHostNeverLogged()
    {
        // Arrange: letters only, so no scrubber would mask it: seen in the log means the Host was logged.
        var marker = "hostmarker" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 12);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Act
        // Control: an allowed Host reaches gRPC (no certificate: UNAUTHENTICATED), so the filter is what refuses below.
        var allowed = await SendAsync("127.0.0.1");
        var refused = await SendAsync(marker + ".attacker.example");

        // Assert
        Assert.Equal("200/16", allowed);
        Assert.Equal("400/-", refused);
        var records = await AuditProbe.WaitForAsync(Server, before, e => e.ReasonCode == "HTTP_400");
        var record = Assert.Single(records);
        Assert.Equal(1, AuditProbe.Count(record));
        Assert.Equal(AuditOutcome.Failure, record.Outcome);
        Assert.StartsWith("unauthenticated", record.CallerId, StringComparison.Ordinal);
        Assert.DoesNotContain(marker, record.ToString(), StringComparison.OrdinalIgnoreCase);

        Assert.DoesNotContain(Server.Logs.Lines, line => line.Contains(marker, StringComparison.OrdinalIgnoreCase));
        // The capture takes events below Information (so the Host's absence is the floor's doing, not a quiet level).
        Assert.Contains(Server.Logs.Lines, line => line.StartsWith("Debug ", StringComparison.Ordinal) || line.StartsWith("Trace ", StringComparison.Ordinal));
    }

    /// <summary>A raw gRPC GetToken without a client certificate, with <paramref name="host"/> as :authority; "HTTP status/grpc-status".</summary>
    private async Task<string> SendAsync(string host)
    {
        using var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(Server.PkiDirectory, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },

                // The server certificate names 127.0.0.1, not the hostile Host: only that mismatch is let through.
                RemoteCertificateValidationCallback = (_, _, _, errors) => errors is SslPolicyErrors.None or SslPolicyErrors.RemoteCertificateNameMismatch,
            },
        };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.Address, "/tokenizer.v1.TokenizerService/GetToken"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(RawCall.Frame([0x0A, 0x03, 0x70, 0x6D, 0x5F])),
        };
        request.Headers.Host = host;
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        using var response = await client.SendAsync(request);
        _ = await response.Content.ReadAsByteArrayAsync();
        var grpcStatus = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : "-";
        return $"{(int)response.StatusCode}/{grpcStatus}";
    }
}
