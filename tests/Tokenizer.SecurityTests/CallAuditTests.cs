using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using CsCheck;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using AuditEvent = Tokenizer.Core.Audit.AuditEvent;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests;

/// <summary>
/// A server that logs gRPC and ASP.NET Core at Information (above the shipped Warning), so a stack trace the framework
/// would write for a refused call shows up in the captured log.
/// </summary>
public sealed class CallAuditFixture : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(
        null,
        "--Logging:LogLevel:Grpc=Information",
        "--Logging:LogLevel:Microsoft.AspNetCore=Information");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// Every call leaves an audit record (PCI DSS 10.2), including the ones refused before a handler runs: malformed and
/// oversized messages, unknown methods, refused certificates. Malformed protobuf and invalid UTF-8 answer
/// INVALID_ARGUMENT with ErrorInfo MALFORMED_REQUEST and leave no stack trace in the log.
/// </summary>
public sealed class CallAuditTests(CallAuditFixture fixture) : IClassFixture<CallAuditFixture>
{
    private const string GetToken = "/tokenizer.v1.TokenizerService/GetToken";

    private TokenizerServerFixture Server => fixture.Server;

    public static TheoryData<string, byte[]> MalformedMessages => new()
    {
        // Field 1 (string) announcing 10 bytes, then 2: truncated.
        { "truncated", [0x0A, 0x0A, 0x61, 0x62] },
        // A varint tag that never ends.
        { "endless-varint", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] },
        // Wire type 7 does not exist.
        { "bad-wire-type", [0x0F, 0x00] },
        // Field 1 (token, a string) holding invalid UTF-8: C3 28 is a broken two-byte sequence.
        { "invalid-utf8", [0x0A, 0x02, 0xC3, 0x28] },
        // A lone surrogate encoded in UTF-8 (ED A0 80) is not valid UTF-8 either.
        { "utf8-surrogate", [0x0A, 0x03, 0xED, 0xA0, 0x80] },
    };

    /// <summary>Request bodies whose gRPC framing is broken (the message inside, where there is one, is valid).</summary>
    public static TheoryData<string, byte[], string?> BrokenFrames
    {
        get
        {
            byte[] valid = [0x0A, 0x03, 0x70, 0x6D, 0x5F];
            using var gzipped = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(valid);
            }

            return new()
            {
                { "empty body", [], null },
                { "short header", [0x00, 0x00, 0x00], null },
                { "shorter than its length", RawCall.Frame(valid)[..^2], null },
                { "two messages on a unary call", [.. RawCall.Frame(valid), .. RawCall.Frame(valid)], null },
                { "compressed flag without grpc-encoding", RawCall.Frame(valid, flag: 1), null },
                { "flag neither 0 nor 1", RawCall.Frame(valid, flag: 7), null },
                { "invalid gzip", RawCall.Frame(valid, flag: 1), "gzip" },
                { "valid gzip then garbage", RawCall.Frame([.. gzipped.ToArray()[..^4], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], flag: 1), "gzip" },
            };
        }
    }

    [Theory]
    [MemberData(nameof(BrokenFrames))]
    public async Task GetToken_BrokenFrame_InvalidArgumentMalformedRequestAuditedNoStackTrace(string name, byte[] body, string? encoding)
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        bool Malformed(AuditEvent e) => e.CallerId.StartsWith("billing", StringComparison.Ordinal) && e.Action == GetToken.TrimStart('/') && e.ReasonCode == "MALFORMED_REQUEST";
        var earlier = (await AuditProbe.ReadAsync(Server, before)).Where(Malformed).Sum(AuditProbe.Count);

        var answer = await RawCall.SendBodyAsync(Server, "billing", GetToken, body, encoding);

        Assert.True(answer.Status == StatusCode.InvalidArgument, $"{name}: {answer.Status} {answer.Message}");
        var info = Assert.IsType<ErrorInfo>(answer.Details?.GetDetail<ErrorInfo>());
        Assert.Equal("MALFORMED_REQUEST", info.Reason);
        await AuditProbe.WaitForAsync(Server, before, Malformed, found => found.Sum(AuditProbe.Count) > earlier);
        AssertNoStackTrace(Server);
    }

    [Theory]
    [InlineData("grpc-encoding", "x4000056655665556")]
    [InlineData("content-type", "text/4000-0566-5566-5556")]
    public async Task GetToken_UnsupportedHeaderHoldingACardNumber_RefusedWithoutQuotingIt(string header, string value)
    {
        var answer = await RawCall.SendBodyAsync(
            Server, "billing", GetToken, RawCall.Frame([0x0A, 0x03, 0x70, 0x6D, 0x5F]), header == "grpc-encoding" ? value : null, header == "content-type" ? value : null);

        Assert.Equal(StatusCode.InvalidArgument, answer.Status);
        Assert.Equal("MALFORMED_REQUEST", answer.Details?.GetDetail<ErrorInfo>()?.Reason);
        Assert.DoesNotContain("0566", answer.Message ?? string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("5566", answer.Details?.ToString() ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetToken_LengthPrefixPastTwoGibibytes_ResourceExhaustedAuditedNoStackTrace()
    {
        var answer = await RawCall.SendBodyAsync(Server, "billing", GetToken, [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x0A], encoding: null);

        Assert.Equal(StatusCode.ResourceExhausted, answer.Status);
        Assert.Equal("MESSAGE_TOO_LARGE", answer.Details?.GetDetail<ErrorInfo>()?.Reason);
        AssertNoStackTrace(Server);
    }

    [Fact]
    public async Task GetToken_WellFormedGzipFrame_Answered()
    {
        // Control: a compressed request the guard can read reaches the handler (an unknown token: NOT_FOUND).
        using var gzipped = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write([0x0A, 0x03, 0x70, 0x6D, 0x5F]);
        }

        var answer = await RawCall.SendBodyAsync(Server, "billing", GetToken, RawCall.Frame(gzipped.ToArray(), flag: 1), "gzip");

        Assert.Equal(StatusCode.NotFound, answer.Status);
    }

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public async Task GetToken_MalformedMessage_InvalidArgumentMalformedRequestAuditedNoStackTrace(string name, byte[] payload)
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        bool Malformed(AuditEvent e) => e.CallerId == "billing-service" && e.Action == GetToken.TrimStart('/') && e.ReasonCode == "MALFORMED_REQUEST";
        var earlier = (await AuditProbe.ReadAsync(Server, before)).Count(Malformed);

        var answer = await RawCall.SendAsync(Server, "billing", GetToken, payload);

        Assert.True(answer.Status == StatusCode.InvalidArgument, $"{name}: {answer.Status} {answer.Message}");
        var info = Assert.IsType<ErrorInfo>(answer.Details?.GetDetail<ErrorInfo>());
        Assert.Equal("MALFORMED_REQUEST", info.Reason);
        Assert.Equal("tokenizer.v1", info.Domain);
        var records = await AuditProbe.WaitForAsync(Server, before, Malformed, found => found.Count > earlier);
        Assert.Equal(earlier + 1, records.Count);
        Assert.Equal(AuditOutcome.Failure, records[^1].Outcome);
        AssertNoStackTrace(Server);
    }

    [Fact]
    public void Property_GeneratedBytes_EveryUnparsableMessageAnsweredMalformedRequest()
    {
        // Random bytes, mostly unparsable; the class of input, not the five examples above.
        var sent = 0;
        Gen.Byte.Array[1, 64].Sample(
            bytes =>
            {
                sent++;
                var parsable = TryParse(bytes);
                var answer = RawCall.SendAsync(Server, "billing", GetToken, bytes).GetAwaiter().GetResult();
                if (parsable)
                {
                    // A valid GetTokenRequest: the handler ran and answered for the token (validation or not found).
                    return answer.Status is StatusCode.InvalidArgument or StatusCode.NotFound
                        && answer.Details?.GetDetail<ErrorInfo>()?.Reason != "MALFORMED_REQUEST";
                }

                return answer.Status == StatusCode.InvalidArgument
                    && answer.Details?.GetDetail<ErrorInfo>()?.Reason == "MALFORMED_REQUEST";
            },
            iter: 60,
            threads: 1);

        Assert.Equal(60, sent);
        AssertNoStackTrace(Server);
    }

    [Theory]
    [InlineData("/tokenizer.v1.TokenizerService/Nope")]
    [InlineData("/x.Y/Z")]
    public async Task UnknownMethod_AuthenticatedCaller_UnimplementedAndAuditedAsUnknownMethod(string path)
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var answer = await RawCall.SendAsync(Server, "billing", path, []);

        Assert.Equal(StatusCode.Unimplemented, answer.Status);
        var records = await AuditProbe.WaitForAsync(Server, before, e =>
            e.CallerId == "billing-service" && e.Action == "unknown_method" && e.ReasonCode == "UNIMPLEMENTED");
        Assert.Equal(AuditOutcome.Failure, records[0].Outcome);
        Assert.DoesNotContain(await AuditProbe.ReadAsync(Server, before), e => e.Action.Contains("Nope", StringComparison.Ordinal) || e.Action.Contains("x.Y", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownMethod_NoCertificate_DeniedAndAuditedAsUnknownMethod()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var answer = await RawCall.SendAsync(Server, (string?)null, "/x.Y/Z", []);

        Assert.Equal(StatusCode.Unauthenticated, answer.Status);
        var records = await AuditProbe.WaitForAsync(Server, before, e =>
            e.CallerId == "unauthenticated" && e.Action == "unknown_method" && e.ReasonCode == "UNAUTHENTICATED");
        Assert.Equal(AuditOutcome.Denied, records[0].Outcome);
    }

    public static TheoryData<string> RefusedCertificates => new() { "self-signed", "chained-unmapped" };

    [Theory]
    [MemberData(nameof(RefusedCertificates))]
    public async Task GetToken_RefusedCertificate_AuditedWithThumbprintNeverSubject(string kind)
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var subject = "CN=stranger-" + Guid.NewGuid().ToString("N")[..12];
        using var certificate = kind == "self-signed" ? SelfSigned(subject) : ChainedUnmapped(Server, subject);
        var thumbprint = Base64UrlSha256(certificate);

        var answer = await RawCall.SendAsync(Server, certificate, GetToken, new GetTokenRequest { Token = "pm_x" }.ToByteArray());

        Assert.Equal(StatusCode.Unauthenticated, answer.Status);
        var records = await AuditProbe.WaitForAsync(Server, before, e =>
            e.CallerId.StartsWith("unauthenticated", StringComparison.Ordinal) && e.CallerId.Contains(thumbprint, StringComparison.Ordinal));
        var record = Assert.Single(records);
        Assert.Equal(AuditOutcome.Denied, record.Outcome);
        Assert.Equal("UNAUTHENTICATED", record.ReasonCode);
        Assert.Equal(GetToken.TrimStart('/'), record.Action);
        var everything = await AuditProbe.ReadAsync(Server, before);
        Assert.DoesNotContain(everything, e => $"{e}".Contains(subject[3..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task AuditVerify_AfterEveryKindOfRefusedCall_Intact()
    {
        foreach (var (_, payload) in MalformedMessages.Select(row => ((string)row[0], (byte[])row[1])))
        {
            await RawCall.SendAsync(Server, "billing", GetToken, payload);
        }

        await RawCall.SendAsync(Server, "billing", "/x.Y/Z", []);
        await RawCall.SendAsync(Server, (string?)null, "/x.Y/Z", []);
        using var stranger = SelfSigned("CN=verify-stranger");
        await RawCall.SendAsync(Server, stranger, GetToken, []);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await RawCall.SendAsync(Server, (string?)null, "/x.Y/Z", []);
        await AuditProbe.WaitForAsync(Server, before, e => e.Action == "unknown_method" && e.CallerId == "unauthenticated");

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse(["audit", "verify", "--server", Server.Address.ToString().TrimEnd('/'), "--pki", Server.PkiDirectory])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });

        Assert.True(code == 0, output + error.ToString());
        Assert.Contains("intact", output.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    internal static void AssertNoStackTrace(TokenizerServerFixture server)
    {
        string[] levels = ["Information", "Warning", "Error", "Critical"];
        var offending = server.Logs.Lines
            .Where(line => levels.Any(level => line.StartsWith(level + " ", StringComparison.Ordinal)))
            .Where(line => line.Contains("\n   at ", StringComparison.Ordinal)
                || line.Contains("InvalidProtocolBufferException", StringComparison.Ordinal)
                || line.Contains("DecoderFallbackException", StringComparison.Ordinal)
                || line.Contains("Google.Protobuf", StringComparison.Ordinal))
            .ToList();
        Assert.True(offending.Count == 0, string.Join(Environment.NewLine, offending.Take(3)));
    }

    private static bool TryParse(byte[] bytes)
    {
        try
        {
            GetTokenRequest.Parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            return false;
        }
    }

    internal static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private static X509Certificate2 ChainedUnmapped(TokenizerServerFixture server, string subject)
    {
        var name = "stranger-" + Guid.NewGuid().ToString("N")[..8];
        DevelopmentPki.IssueClient(server.PkiDirectory, name, subject, TimeProvider.System);
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(server.PkiDirectory, name + ".crt"), Path.Combine(server.PkiDirectory, name + ".key"));
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    internal static string Base64UrlSha256(X509Certificate2 certificate) =>
        Convert.ToBase64String(SHA256.HashData(certificate.RawData)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Oversized messages, on a server with the shipped log levels: gRPC refuses them before any interceptor, with an
/// exception it logs at Information (filtered out by the shipped Grpc=Warning).
/// </summary>
public sealed class OversizedCallAuditTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task TokenizeCard_OverReceiveLimit_ResourceExhaustedAndAudited()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var request = Requests.Card("4242424242424242", Requests.NewKey());
        request.BillingDetails = new BillingDetails { Name = new string('x', 20 * 1024) };

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        var records = await AuditProbe.WaitForAsync(server, before, e =>
            e.CallerId == "billing-service" && e.Action == "tokenizer.v1.TokenizerService/TokenizeCard" && e.ReasonCode == "MESSAGE_TOO_LARGE");
        Assert.Equal(AuditOutcome.Failure, records[0].Outcome);
    }
}

/// <summary>A server with a tiny per-caller rate limit, for the aggregated audit of refused calls.</summary>
public sealed class RateLimitAuditFixture : IAsyncLifetime
{
    public TokenizerServerFixture Server { get; } = new(null, "--Tokenizer:Limits:PermitsPerSecond=1", "--Tokenizer:Limits:Burst=2");

    public Task InitializeAsync() => Server.InitializeAsync();

    public Task DisposeAsync() => Server.DisposeAsync();
}

public sealed class RateLimitAuditTests(RateLimitAuditFixture fixture) : IClassFixture<RateLimitAuditFixture>
{
    [Fact]
    public async Task Flood_RateLimitedCalls_OneAggregatedRecordPerSecondWithTheRightCount()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var limited = 0;
        var calls = Enumerable.Range(0, 40).Select(async _ =>
        {
            try
            {
                await fixture.Server.Finance.GetTokenAsync(new GetTokenRequest { Token = "pm_missing" });
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.ResourceExhausted)
            {
                Interlocked.Increment(ref limited);
            }
            catch (RpcException)
            {
                // NOT_FOUND: the calls the bucket let through.
            }
        });
        await Task.WhenAll(calls);
        Assert.True(limited >= 30, $"only {limited} calls were rate limited");

        var records = await AuditProbe.WaitForAsync(
            fixture.Server,
            before,
            e => e.CallerId == "finance-staff" && e.ReasonCode == "RATE_LIMITED",
            found => found.Sum(AuditProbe.Count) >= limited);

        Assert.Equal(limited, records.Sum(AuditProbe.Count));
        Assert.True(records.Count < limited, $"{records.Count} records for {limited} refused calls: not aggregated");
        Assert.All(records, e => Assert.Equal(AuditOutcome.Failure, e.Outcome));
        Assert.All(records, e => Assert.Equal("tokenizer.v1.TokenizerService/GetToken", e.Action));
        // One record per caller, action, outcome and second.
        Assert.All(records.GroupBy(e => e.Time.ToUnixTimeSeconds()), second => Assert.Single(second));
        Assert.All(records, e => Assert.Equal(0, e.Time.Millisecond));
    }
}

/// <summary>Reads the server's audit trail in-process (no call of its own, so no record and no rate limit).</summary>
internal static partial class AuditProbe
{
    /// <summary>How many calls a record stands for: its aggregate count, else 1.</summary>
    public static int Count(AuditEvent auditEvent) =>
        CountPattern().Match(auditEvent.CorrelationId) is { Success: true } match ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;

    public static async Task<List<AuditEvent>> ReadAsync(TokenizerServerFixture server, DateTimeOffset from)
    {
        var reader = server.App.Services.GetRequiredService<IAuditTrailReader>();
        var events = new List<AuditEvent>();
        await foreach (var record in reader.ReadAsync(from.AddSeconds(-2), null, CancellationToken.None))
        {
            events.Add(record.Event);
        }

        return events;
    }

    /// <summary>Polls (up to 15 s) until a record matches and <paramref name="enough"/> holds; returns the matches.</summary>
    public static async Task<List<AuditEvent>> WaitForAsync(
        TokenizerServerFixture server,
        DateTimeOffset from,
        Func<AuditEvent, bool> match,
        Func<List<AuditEvent>, bool>? enough = null)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(15);
        while (true)
        {
            var found = (await ReadAsync(server, from)).Where(match).ToList();
            if (found.Count > 0 && (enough is null || enough(found)))
            {
                // A little longer: a second record for the same call would show up now.
                await Task.Delay(1500);
                return (await ReadAsync(server, from)).Where(match).ToList();
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, "no matching audit record within 15 s");
            await Task.Delay(200);
        }
    }

    [GeneratedRegex(@"(?:^|;)count=(\d+)")]
    private static partial Regex CountPattern();
}

/// <summary>A gRPC call with raw bytes over HTTP/2 and TLS, past any client-side marshaller.</summary>
internal static class RawCall
{
    public sealed record Answer(StatusCode Status, string? Message, Google.Rpc.Status? Details);

    public static Task<Answer> SendAsync(TokenizerServerFixture server, string? callerName, string path, byte[] payload) =>
        SendBodyAsync(server, callerName, path, Frame(payload), encoding: null);

    /// <summary>Sends <paramref name="body"/> as the request body as it is (no framing added).</summary>
    public static Task<Answer> SendBodyAsync(TokenizerServerFixture server, string? callerName, string path, byte[] body, string? encoding, string? contentType = null)
    {
        X509Certificate2? certificate = null;
        if (callerName is not null)
        {
            using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(server.PkiDirectory, callerName + ".crt"), Path.Combine(server.PkiDirectory, callerName + ".key"));
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        return SendAsync(server, certificate, path, body, encoding, contentType, disposeCertificate: true);
    }

    public static Task<Answer> SendAsync(TokenizerServerFixture server, X509Certificate2? certificate, string path, byte[] payload) =>
        SendAsync(server, certificate, path, Frame(payload), encoding: null, contentType: null, disposeCertificate: false);

    /// <summary>One gRPC frame: uncompressed flag, big-endian length, the message.</summary>
    public static byte[] Frame(byte[] payload, byte flag = 0)
    {
        var frame = new byte[5 + payload.Length];
        frame[0] = flag;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static async Task<Answer> SendAsync(TokenizerServerFixture server, X509Certificate2? certificate, string path, byte[] frame, string? encoding, string? contentType, bool disposeCertificate)
    {
        try
        {
            using var handler = new SocketsHttpHandler
            {
                SslOptions =
                {
                    CertificateChainPolicy = new X509ChainPolicy
                    {
                        TrustMode = X509ChainTrustMode.CustomRootTrust,
                        CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(server.PkiDirectory, "ca.crt")) },
                        RevocationMode = X509RevocationMode.NoCheck,
                    },
                },
            };
            if (certificate is not null)
            {
                handler.SslOptions.ClientCertificates = [certificate];
            }

            using var client = new HttpClient(handler);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, path))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = new ByteArrayContent(frame),
            };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType ?? "application/grpc");
            request.Headers.TryAddWithoutValidation("TE", "trailers");
            if (encoding is not null)
            {
                request.Headers.TryAddWithoutValidation("grpc-encoding", encoding);
            }

            using var response = await client.SendAsync(request);
            _ = await response.Content.ReadAsByteArrayAsync();
            string? Header(string name) =>
                response.TrailingHeaders.TryGetValues(name, out var trailer) ? trailer.FirstOrDefault()
                : response.Headers.TryGetValues(name, out var header) ? header.FirstOrDefault()
                : null;
            var status = Header("grpc-status") is { } code ? (StatusCode)int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) : StatusCode.Unknown;
            var details = Header("grpc-status-details-bin") is { } bin
                ? Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(bin.PadRight(bin.Length + ((4 - (bin.Length % 4)) % 4), '=')))
                : null;
            return new Answer(status, Header("grpc-message"), details);
        }
        finally
        {
            if (disposeCertificate)
            {
                certificate?.Dispose();
            }
        }
    }
}
