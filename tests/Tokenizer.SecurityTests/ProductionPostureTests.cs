using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Google.Protobuf;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The server as production runs it: Production environment, configured TLS and secrets, crash dumps and the
/// diagnostics port off. A memory dump or an attached diagnostics client could read a PAN from the heap.
/// </summary>
public sealed class ProductionPostureTests
{
    /// <summary>Diagnostics and dumps off, as the README asks.</summary>
    private static readonly Dictionary<string, string> MemoryImagesOff = new()
    {
        ["DOTNET_EnableDiagnostics"] = "0",
        ["DOTNET_DbgEnableMiniDump"] = "0",
    };

    public static TheoryData<string, string[], string> MemoryImageSwitchesOn() => new()
    {
        // Nothing set: the runtime's defaults leave the diagnostics port and the debugger on.
        { "nothing set", [], "DOTNET_EnableDiagnostics" },
        { "diagnostics on", ["DOTNET_EnableDiagnostics=1", "DOTNET_DbgEnableMiniDump=0"], "diagnostics port is on" },
        { "dumps on", ["DOTNET_EnableDiagnostics=0", "DOTNET_DbgEnableMiniDump=1"], "crash dumps are on (DOTNET_DbgEnableMiniDump)" },
        { "legacy prefix", ["COMPlus_EnableDiagnostics=1"], "diagnostics port is on" },
        { "only the port off", ["DOTNET_EnableDiagnostics_IPC=0"], "debugger is allowed" },
        { "unparsable", ["DOTNET_EnableDiagnostics=off"], "diagnostics port is on" },
        // A startup trace file and a startup profiler work with the diagnostics port off.
        {
            "EventPipe trace file",
            ["DOTNET_EnableDiagnostics=0", "DOTNET_EnableEventPipe=1", "DOTNET_EventPipeOutputPath=/tmp/tokenizer-posture-refused.nettrace"],
            "an EventPipe trace file is on (DOTNET_EnableEventPipe)"
        },
        { "startup profiler", ["DOTNET_EnableDiagnostics=0", "CORECLR_ENABLE_PROFILING=1"], "a startup profiler is on (CORECLR_ENABLE_PROFILING)" },
        // With only the port and debugger off (as the README allows), a notification
        // profiler loaded its library into the Production process.
        {
            "notification profiler",
            ["DOTNET_EnableDiagnostics_IPC=0", "DOTNET_EnableDiagnostics_Debugger=0", "CORECLR_ENABLE_NOTIFICATION_PROFILERS=1"],
            "a notification profiler is on (CORECLR_ENABLE_NOTIFICATION_PROFILERS)"
        },
        // A hook file that does not exist: were hooks supported, the runtime would fail on it before Main with its own error.
        { "startup hook", ["DOTNET_EnableDiagnostics=0", "DOTNET_STARTUP_HOOKS=/tmp/tokenizer-posture-no-such-hook.dll"], "a startup hook is set (DOTNET_STARTUP_HOOKS)" },
    };

    [Fact]
    public async Task ProductionServer_DiagnosticsOff_NoDiagnosticsSocketAndNoReflection()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-prod-").FullName;
        try
        {
            var (data, pki, args) = ProductionSetup(directory);

            await using var server = await ServerProcess.StartAsync(data, "Production", Variables(MemoryImagesOff), args);

            // Positive control: this test process runs with diagnostics on, and its socket is where we look. A leftover
            // of an earlier process with the server's pid (pids are reused; a killed process leaves its file) is not
            // the server's: the lookup is by pid and start time, shown here with one planted for this process's pid.
            var planted = Path.Combine(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-1-socket");
            File.WriteAllBytes(planted, []);
            try
            {
                var own = Assert.Single(DiagnosticSockets(Environment.ProcessId));
                Assert.NotEqual(planted, own);
            }
            finally
            {
                File.Delete(planted);
            }

            Assert.Empty(DiagnosticSockets(server.ProcessId));

            // The service works: an authenticated call is answered (NOT_FOUND for an unknown token).
            var lookup = await Assert.ThrowsAsync<RpcException>(() => server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_unknown" }).ResponseAsync);
            Assert.Equal(StatusCode.NotFound, lookup.StatusCode);

            // gRPC reflection is not served in Production, even to an admin.
            using var admin = TestChannels.Create(server.Address, pki, "admin");
            var reflection = await ReflectionStatusAsync(admin);
            Assert.Equal(StatusCode.Unimplemented, reflection);

            // No embedded sandbox and no local secrets in Production: the sandbox's assembly is not even loaded after a
            // call was served (the control, DevelopmentServer_EmbeddedDefault_LoadsTheSandboxAssembly, finds it loaded).
            Assert.False(Directory.Exists(Path.Combine(data, "sandbox")));
            Assert.False(Directory.Exists(Path.Combine(data, "secrets")));
            var mapped = MappedAssemblies(server.ProcessId);
            Assert.Contains("Tokenizer.Server.dll", mapped);
            Assert.DoesNotContain(EmbeddedSandboxComposition.AssemblyName + ".dll", mapped);

            // The certificate's expiry is logged in ISO 8601, which the scrubber leaves alone (a culture-formatted date
            // can read as a card number and be masked).
            var secretsLoaded = server.Output.Split('\n').Single(line => line.Contains("\"SecretsLoaded\"", StringComparison.Ordinal) || line.Contains("Secrets loaded", StringComparison.Ordinal));
            Assert.Matches("\"NotAfter\":\"\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{7}Z\"", secretsLoaded);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// The control for the Production check above: a Development server on embedded defaults runs the sandbox, and its
    /// process has the sandbox's assembly mapped, where the same look finds it.
    /// </summary>
    [Fact]
    public async Task DevelopmentServer_EmbeddedDefault_LoadsTheSandboxAssembly()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-dev-").FullName;
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(directory, "data"));

            var mapped = MappedAssemblies(server.ProcessId);

            Assert.Contains("Tokenizer.Server.dll", mapped);
            Assert.Contains(EmbeddedSandboxComposition.AssemblyName + ".dll", mapped);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// The file names of the managed assemblies a process has loaded: the runtime maps each assembly's file into memory
    /// (Linux: <c>/proc/{pid}/maps</c> names it), from outside the process and without its cooperation.
    /// </summary>
    private static HashSet<string> MappedAssemblies(int processId) =>
        File.ReadLines($"/proc/{processId}/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].EndsWith(".dll", StringComparison.Ordinal))
            .Select(fields => Path.GetFileName(fields[5]))
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The kernel's core dump is not a .NET switch: a server started with <c>ulimit -c unlimited</c> lowers its own
    /// RLIMIT_CORE to 0, soft and hard, in every environment, before it listens. The control is a child started the same
    /// way that is not the server: it keeps the unlimited limit, so the prelude did raise it.
    /// </summary>
    [Theory]
    [InlineData("Production")]
    [InlineData("Development")]
    public async Task Server_StartedWithCoreDumpsUnlimited_HasNoCoreLimitLeft(string environment)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        const string Unlimited = "ulimit -c unlimited";
        var directory = Directory.CreateTempSubdirectory("tokenizer-core-").FullName;
        try
        {
            using (var control = System.Diagnostics.Process.Start("bash", ["-c", Unlimited + "; exec sleep 60"]))
            {
                try
                {
                    Assert.Equal(("unlimited", "unlimited"), await CoreLimitAsync(control.Id, expectUnlimited: true));
                }
                finally
                {
                    control.Kill();
                    await control.WaitForExitAsync();
                }
            }

            var (data, _, args) = environment == "Production" ? ProductionSetup(directory) : (Path.Combine(directory, "data"), string.Empty, []);
            var variables = environment == "Production" ? Variables(MemoryImagesOff) : new Dictionary<string, string>();
            await using var server = await ServerProcess.StartUnderShellAsync(Unlimited, data, environment, variables, args);

            Assert.Equal(("0", "0"), await CoreLimitAsync(server.ProcessId, expectUnlimited: false));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// The diagnostics port and dumps are on unless the environment turns them off (the runtime offers no build setting):
    /// the Production binary refuses to start, naming the variables, and never listens.
    /// </summary>
    [Theory]
    [MemberData(nameof(MemoryImageSwitchesOn))]
    public async Task ProductionServer_MemoryImageSwitchOn_RefusesToStartNamingTheVariables(string situation, string[] switches, string named)
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-prod-").FullName;
        try
        {
            var (data, _, args) = ProductionSetup(directory);
            var variables = Variables(switches.Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p[1]));

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                // Stopped again if it does start, so a failing run leaves no server behind.
                await using var started = await ServerProcess.StartAsync(data, "Production", variables, args);
            });

            Assert.Contains("tokenizer: failed to start: DOTNET_EnableDiagnostics=0", refused.Message, StringComparison.Ordinal);
            Assert.Contains(named, refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "ledger", "tokenizer.db")), situation);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);

            // The runtime opens a startup trace file before any managed code runs; the refused process wrote only its start.
            File.Delete("/tmp/tokenizer-posture-refused.nettrace");
        }
    }

    /// <summary>Every environment but Development may hold real card data: Staging is held to the same rule.</summary>
    [Fact]
    public async Task StagingServer_NoMemoryImageSwitchSet_RefusesToStartNamingTheVariables()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-staging-").FullName;
        try
        {
            var (data, _, args) = ProductionSetup(directory);
            var variables = Variables(new Dictionary<string, string>());

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await using var started = await ServerProcess.StartAsync(data, "Staging", variables, args);
            });

            Assert.Contains("tokenizer: failed to start: DOTNET_EnableDiagnostics=0", refused.Message, StringComparison.Ordinal);
            Assert.Contains("outside Development", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "ledger", "tokenizer.db")));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// The audit records the socket peer's address (PCI DSS 10.2 origin), and it keys the unauthenticated rate limit:
    /// ASP.NET Core's <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c> would let any peer choose it with X-Forwarded-For,
    /// so Production refuses to start, naming the variable. The control: Development starts with it.
    /// </summary>
    [Fact]
    public async Task ProductionServer_ForwardedHeadersEnabled_RefusesToStartNamingTheVariable()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-prod-").FullName;
        try
        {
            var (data, _, args) = ProductionSetup(directory);
            var variables = Variables(MemoryImagesOff);
            variables["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true";

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await using var started = await ServerProcess.StartAsync(data, "Production", variables, args);
            });

            Assert.Contains("server did not start (exit code 1)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("tokenizer: failed to start: ASPNETCORE_FORWARDEDHEADERS_ENABLED", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "ledger", "tokenizer.db")));

            // Control: the rule is Production's; a development server with the same variable starts.
            var development = Path.Combine(directory, "development");
            await using var server = await ServerProcess.StartAsync(development, "Development", new Dictionary<string, string> { ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true" });
            Assert.Contains("Now listening", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// Free-text validation reads card numbers written in compatibility characters (<c>㊷</c> is 42) through ICU's NFKC.
    /// A globalization-invariant process has none and would silently pass them, so the server refuses to start, in every
    /// environment, naming the cause. The control: the same server without the switch starts.
    /// </summary>
    [Fact]
    public async Task Server_GlobalizationInvariant_RefusesToStartNamingTheCause()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-invariant-").FullName;
        try
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await using var started = await ServerProcess.StartAsync(
                    Path.Combine(directory, "invariant"), "Development", new Dictionary<string, string> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });
            });

            Assert.Contains("server did not start (exit code 1)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("tokenizer: failed to start: Unicode normalisation (NFKC) is not available", refused.Message, StringComparison.Ordinal);
            Assert.Contains("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", refused.Message, StringComparison.Ordinal);

            await using var server = await ServerProcess.StartAsync(Path.Combine(directory, "icu"));
            Assert.Contains("Now listening", server.Output, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>
    /// The development CA's private key sits in the data directory, so whoever reads that folder could mint callers:
    /// Production refuses it by its marker subject, and any CA that is the data directory's own pki/ca.crt.
    /// </summary>
    [Theory]
    [InlineData("development CA outside the data directory", "tls", DevelopmentPki.CaSubject)]
    [InlineData("development CA in the data directory", "data/pki", DevelopmentPki.CaSubject)]
    [InlineData("renamed CA in the data directory", "data/pki", "CN=Renamed Test CA")]
    public async Task ProductionServer_DevelopmentCa_RefusesToStart(string situation, string pkiFolder, string caSubject)
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-prod-").FullName;
        try
        {
            var (data, _, args) = ProductionSetup(directory, pkiFolder, caSubject);

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            {
                await using var started = await ServerProcess.StartAsync(data, "Production", Variables(MemoryImagesOff), args);
            });

            Assert.Contains("Tokenizer:Tls:ClientCaPath and CertificatePath must not be the development CA", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "ledger", "tokenizer.db")), situation);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>Everything Production needs, with a CA of <paramref name="caSubject"/> under <paramref name="pkiFolder"/>.</summary>
    private static (string Data, string Pki, string[] Args) ProductionSetup(string directory, string pkiFolder = "tls", string caSubject = "CN=Tokenizer Test CA")
    {
        var data = Path.Combine(directory, "data");
        var pki = Path.Combine(directory, pkiFolder);
        DevelopmentPki.EnsureCreated(pki, TimeProvider.System, caSubject);
        var (certificatePath, keyPath) = DataProtectionCertificate(directory);
        string[] args =
        [
            "--Stripe:ApiBase=https://127.0.0.1:9",
            $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
            $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
            $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
            "--Tokenizer:Callers:admin:Subject=CN=admin",
            "--Tokenizer:Callers:admin:Roles:0=admin",
            "--Tokenizer:Callers:billing:Subject=CN=billing",
            "--Tokenizer:Callers:billing:Roles:0=tokenize",
            $"--Tokenizer:DataProtection:CertificatePath={certificatePath}",
            $"--Tokenizer:DataProtection:CertificateKeyPath={keyPath}",
        ];
        return (data, pki, args);
    }

    /// <summary>The production secrets (through the environment, as the README says) plus <paramref name="switches"/>.</summary>
    private static Dictionary<string, string> Variables(IReadOnlyDictionary<string, string> switches)
    {
        var variables = new Dictionary<string, string>(switches)
        {
            ["Stripe__ApiKey"] = "sk_test_production_posture",
            ["Tokenizer__RequestHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Tokenizer__AuditHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        };
        return variables;
    }

    /// <summary>
    /// The soft and hard "Max core file size" of a running process, from /proc/{pid}/limits. A process just started by
    /// bash reads as bash until it execs: with <paramref name="expectUnlimited"/> it waits (up to 10 s) for that.
    /// </summary>
    private static async Task<(string Soft, string Hard)> CoreLimitAsync(int processId, bool expectUnlimited)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (true)
        {
            var line = (await File.ReadAllLinesAsync($"/proc/{processId}/limits")).Single(l => l.StartsWith("Max core file size", StringComparison.Ordinal));
            var fields = line["Max core file size".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!expectUnlimited || fields[0] == "unlimited" || DateTimeOffset.UtcNow > deadline)
            {
                return (fields[0], fields[1]);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The diagnostics socket of one live process: its pid and its start time (/proc/{pid}/stat), as the runtime names
    /// it. Pids are reused and a killed process leaves its socket file, so the pid alone can match another's leftover.
    /// </summary>
    private static string[] DiagnosticSockets(int processId)
    {
        var startTime = OperatingSystem.IsLinux()
            ? MemoryImagePosture.StartTimeFromStat(File.ReadAllText($"/proc/{processId}/stat"))
            : null;
        var own = MemoryImagePosture.OwnDiagnosticsSocket(
            Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{processId}-*"), processId, startTime);
        return own is null ? [] : [own];
    }

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
