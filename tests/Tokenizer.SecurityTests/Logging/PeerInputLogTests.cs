using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests.Logging;

/// <summary>
/// What an unauthenticated or hostile peer can write into the server's output. A real server process, at the default
/// levels and at Trace, is sent client certificates whose subject and issuer carry a PAN written with dots and a marker
/// string, and requests whose :path, query, content-type, user-agent, gRPC headers and custom headers carry them too. Its whole
/// output is then searched per framework category for the PAN in any form (digits read through every separator, JSON
/// and percent escapes, any Unicode digit) and for the marker, which no scrubber would recognise: finding neither proves
/// the peer input is not logged at all, whatever the card-data detector sees.
/// </summary>
public sealed partial class PeerInputLogTests(PeerInputLogTests.HostileRuns runs) : IClassFixture<PeerInputLogTests.HostileRuns>
{
    public static TheoryData<string, string> Categories()
    {
        var data = new TheoryData<string, string>();
        foreach (var level in HostileRuns.Levels)
        {
            foreach (var category in (string[])[
                "Microsoft.AspNetCore.Server.Kestrel",
                "Microsoft.AspNetCore.Authentication.Certificate",
                "Microsoft.AspNetCore.Authentication",
                "Microsoft.AspNetCore.Authorization",
                "Grpc.AspNetCore.Server",
                "Microsoft.AspNetCore.Hosting",
                "Microsoft.AspNetCore.Routing",
                "Microsoft.AspNetCore.HostFiltering",
                "Microsoft.AspNetCore.RateLimiting",
                "Tokenizer",
                "*"])
            {
                data.Add(level, category);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Categories))]
    public void ServerOutput_HostilePeerInput_NeitherThePanInAnyFormNorTheMarkerInTheCategory(string level, string category)
    {
        var run = runs.Run(level);
        var lines = run.Lines.Where(line => category == "*" || line.Category.StartsWith(category, StringComparison.Ordinal)).ToList();
        var text = string.Join('\n', lines.Select(line => line.Text));

        Assert.False(ContainsPan(text, runs.Pan), $"{category} at {level}: the PAN's digits are in its output");
        Assert.DoesNotContain(runs.Marker, text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(LevelNames))]
    public void ServerOutput_RefusedCertificates_LoggedByThumbprintOnly(string level)
    {
        var run = runs.Run(level);

        // The control: every hostile certificate reached the server and was refused, logged by its SHA-256 thumbprint.
        Assert.Equal(3, run.RefusedThumbprints.Count);
        foreach (var thumbprint in run.RefusedThumbprints)
        {
            Assert.Contains(run.Lines, line => line.Category == SecurityServiceCollectionExtensions.ClientCertificateLogCategory
                && line.Text.Contains(thumbprint, StringComparison.OrdinalIgnoreCase));
        }

        Assert.All(run.CallStatuses, status => Assert.NotEqual(StatusCode.OK, status));
    }

    [Theory]
    [MemberData(nameof(LevelNames))]
    public void ServerOutput_HostileRequests_ReachedTheServerAndWereAnswered(string level)
    {
        var answers = runs.Run(level).Answers;

        // The control for the header and path checks: the requests were sent and answered, not lost on the way.
        Assert.Equal(16, answers.Count);
        Assert.All(answers, answer => Assert.DoesNotContain("unsent", answer, StringComparison.Ordinal));
        Assert.Contains(answers, answer => answer.EndsWith("/12", StringComparison.Ordinal));
    }

    public static TheoryData<string> LevelNames() => [.. HostileRuns.Levels];

    /// <summary>The search itself: it finds the PAN however it is written, so a clean result means something.</summary>
    [Theory]
    [InlineData("4242.4242.4242.4242")]
    [InlineData("4242_4242/4242+4242")]
    [InlineData("PAN 4242\\u002E4242\\u002e4242\\u002E4242 end")]
    [InlineData("/v1/4242%2E4242%2E4242%2E4242")]
    [InlineData("４２４２ ４２４２ ４２４２ ４２４２")]
    [InlineData("CN=4242.4242.4242.4242, O=x")]
    [InlineData("x4242a4242b4242c4242x")]
    public void ContainsPan_PanWrittenAnyWay_Found(string text)
    {
        Assert.True(ContainsPan(text, "4242424242424242"));
        Assert.False(ContainsPan(text.Replace("4242", "4243", StringComparison.Ordinal).Replace("４２４２", "４２４３", StringComparison.Ordinal), "4242424242424242"));
    }

    /// <summary>
    /// True when the digits of <paramref name="panDigits"/> appear in order in <paramref name="text"/> with anything but
    /// digits between them: JSON <c>\uXXXX</c> and percent escapes decoded first, every Unicode decimal digit read as 0-9.
    /// </summary>
    internal static bool ContainsPan(string text, string panDigits)
    {
        var unescaped = PercentEscape().Replace(
            JsonEscape().Replace(text, m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString()),
            m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToString());
        var digits = new StringBuilder(unescaped.Length);
        foreach (var c in unescaped)
        {
            var value = CharUnicodeInfo.GetDecimalDigitValue(c);
            if (value >= 0)
            {
                digits.Append((char)('0' + value));
            }
        }

        return digits.ToString().Contains(panDigits, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\\u([0-9A-Fa-f]{4})")]
    private static partial Regex JsonEscape();

    [GeneratedRegex("%([0-9A-Fa-f]{2})")]
    private static partial Regex PercentEscape();

    /// <summary>One server per level, attacked the same way; the output is kept for the tests above.</summary>
    public sealed class HostileRuns : IAsyncLifetime
    {
        public static readonly string[] Levels = ["default", "Trace"];

        private readonly Dictionary<string, Run> runs = new(StringComparer.Ordinal);

        /// <summary>A fresh Luhn-valid 16-digit Visa-range number: no test card, so nothing else prints it.</summary>
        public string Pan { get; } = NewPan();

        /// <summary>A string no detector would mask (letters only): seen in the output means the input was logged.</summary>
        public string Marker { get; } = "peermarker" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 12);

        public string DottedPan => string.Join('.', Pan.Chunk(4).Select(c => new string(c)));

        public Run Run(string level) => runs[level];

        public async Task InitializeAsync()
        {
            foreach (var level in Levels)
            {
                runs[level] = await AttackAsync(level);
            }
        }

        public Task DisposeAsync() => Task.CompletedTask;

        private static string NewPan()
        {
            var digits = new int[16];
            digits[0] = 4;
            for (var i = 1; i < 15; i++)
            {
                digits[i] = RandomNumberGenerator.GetInt32(10);
            }

            var sum = 0;
            for (var i = 0; i < 15; i++)
            {
                // From the right, with the check digit at position 0: positions 1, 3, ... are doubled.
                var d = digits[14 - i];
                if (i % 2 == 0)
                {
                    d *= 2;
                    if (d > 9)
                    {
                        d -= 9;
                    }
                }

                sum += d;
            }

            digits[15] = (10 - (sum % 10)) % 10;
            return string.Concat(digits);
        }

        private async Task<Run> AttackAsync(string level)
        {
            var directory = Directory.CreateTempSubdirectory("tokenizer-peer-logs-").FullName;
            try
            {
                string[] args = level == "Trace"
                    ? ["--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Trace", "--Logging:LogLevel:Grpc=Trace", "--Logging:LogLevel:Microsoft.AspNetCore.Authentication.Certificate=Trace"]
                    : [];
                await using var server = await ServerProcess.StartAsync(directory, args);
                var pki = Path.Combine(directory, "pki");
                var hostile = $"CN={DottedPan}, O={Marker}";
                var thumbprints = new List<string>();
                var statuses = new List<StatusCode>();

                // 1. Self-signed, subject = issuer = the PAN and the marker.
                using (var key = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    var request = new CertificateRequest(hostile, key, HashAlgorithmName.SHA256);
                    request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
                    using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
                    statuses.Add(await CallAsync(server.Address, pki, selfSigned, thumbprints));
                }

                // 2. Chained to the trusted CA but mapped to no caller.
                DevelopmentPki.IssueClient(pki, "hostile", hostile, TimeProvider.System);
                using (var chained = Load(pki, "hostile"))
                {
                    statuses.Add(await CallAsync(server.Address, pki, chained, thumbprints));
                }

                // 3. From another CA whose name (the client certificate's issuer) carries them.
                var foreign = Path.Combine(directory, "foreign-pki");
                DevelopmentPki.EnsureCreated(foreign, TimeProvider.System, hostile);
                using (var stranger = Load(foreign, "billing"))
                {
                    statuses.Add(await CallAsync(server.Address, pki, stranger, thumbprints));
                }

                // 4. A mapped caller (past authentication) and no caller at all, sending hostile :path, query,
                //    user-agent, content-type, grpc-timeout, grpc-encoding, grpc-message and a custom header.
                var answers = new List<string>();
                using (var billing = Load(pki, "billing"))
                {
                    await RawRequestsAsync(server.Address, pki, billing, answers);
                }

                await RawRequestsAsync(server.Address, pki, null, answers);

                await server.StopAsync();
                return new Run(Parse(server.Output), thumbprints, statuses, answers);
            }
            finally
            {
                TokenizerServerFixture.TryDelete(directory);
            }
        }

        private static X509Certificate2 Load(string pki, string name)
        {
            using var ephemeral = X509Certificate2.CreateFromPemFile(Path.Combine(pki, name + ".crt"), Path.Combine(pki, name + ".key"));
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }

        private static SocketsHttpHandler Handler(string pki, X509Certificate2? certificate)
        {
            var handler = new SocketsHttpHandler
            {
                SslOptions =
                {
                    CertificateChainPolicy = new X509ChainPolicy
                    {
                        TrustMode = X509ChainTrustMode.CustomRootTrust,
                        CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki, "ca.crt")) },
                        RevocationMode = X509RevocationMode.NoCheck,
                    },

                },
            };
            if (certificate is not null)
            {
                handler.SslOptions.ClientCertificates = [certificate];
            }

            return handler;
        }

        private static async Task<StatusCode> CallAsync(Uri address, string pki, X509Certificate2 certificate, List<string> thumbprints)
        {
            thumbprints.Add(certificate.GetCertHashString(HashAlgorithmName.SHA256));
            using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = Handler(pki, certificate), DisposeHttpClient = true });
            var client = new TokenizerService.TokenizerServiceClient(channel);
            try
            {
                await client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" });
                return StatusCode.OK;
            }
            catch (RpcException error)
            {
                return error.StatusCode;
            }
        }

        private async Task RawRequestsAsync(Uri address, string pki, X509Certificate2? certificate, List<string> answers)
        {
            using var http = new HttpClient(Handler(pki, certificate)) { BaseAddress = address };
            string[] paths =
            [
                $"/tokenizer.v1.{DottedPan}.{Marker}/GetToken",
                $"/tokenizer.v1.TokenizerService/{Marker}{DottedPan}",
                "/tokenizer.v1.TokenizerService/GetToken",
                $"/{DottedPan}?{Marker}={DottedPan}",
            ];
            foreach (var path in paths)
            {
                foreach (var contentType in (string[])["application/grpc", $"application/{Marker}+{DottedPan}"])
                {
                    // A compressed frame, so the unknown grpc-encoding is read.
                    using var content = new ByteArrayContent([1, 0, 0, 0, 2, 0x0a, 0x00]);
                    content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                    using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                    request.Headers.TryAddWithoutValidation("user-agent", $"{Marker}/{DottedPan}");
                    request.Headers.TryAddWithoutValidation("te", "trailers");
                    request.Headers.TryAddWithoutValidation("grpc-timeout", $"{DottedPan}{Marker}");
                    request.Headers.TryAddWithoutValidation("grpc-encoding", $"{Marker}{DottedPan}");
                    request.Headers.TryAddWithoutValidation("grpc-accept-encoding", $"{Marker}{DottedPan}");
                    request.Headers.TryAddWithoutValidation("grpc-message", $"{Marker}{DottedPan}");
                    request.Headers.TryAddWithoutValidation("x-hostile", $"{Marker}{DottedPan}");
                    try
                    {
                        using var response = await http.SendAsync(request);
                        await response.Content.ReadAsByteArrayAsync();
                        var grpcStatus = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
                            : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : "-";
                        answers.Add($"{(int)response.StatusCode}/{grpcStatus}");
                    }
                    catch (HttpRequestException error)
                    {
                        // A stream the server reset is an answer too; anything else means the request never got there.
                        answers.Add(error.HttpRequestError == HttpRequestError.HttpProtocolError ? "reset" : "unsent: " + error.HttpRequestError);
                    }
                }
            }
        }

        private static List<Line> Parse(string output)
        {
            var lines = new List<Line>();
            foreach (var text in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var category = string.Empty;
                try
                {
                    using var json = JsonDocument.Parse(text);
                    if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("Category", out var value))
                    {
                        category = value.GetString() ?? string.Empty;
                    }
                }
                catch (JsonException)
                {
                    // Not one of the formatter's lines: it counts for the whole output ("*") only.
                }

                lines.Add(new Line(category, text));
            }

            return lines;
        }
    }

    public sealed record Line(string Category, string Text);

    /// <param name="Lines">Every line of the server's output, with its category when it is one of the formatter's.</param>
    /// <param name="RefusedThumbprints">The SHA-256 thumbprints of the hostile certificates presented.</param>
    /// <param name="CallStatuses">The gRPC status each hostile certificate got.</param>
    /// <param name="Answers">Per raw hostile request: HTTP status and grpc-status, or how it failed.</param>
    public sealed record Run(IReadOnlyList<Line> Lines, IReadOnlyList<string> RefusedThumbprints, IReadOnlyList<StatusCode> CallStatuses, IReadOnlyList<string> Answers);
}
