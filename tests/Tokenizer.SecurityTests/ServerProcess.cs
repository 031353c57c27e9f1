using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Grpc.Net.Client;
using Tokenizer.Contracts.V1;

namespace Tokenizer.SecurityTests;

/// <summary>
/// The real server as its own process (the dll scripts/run.sh starts), on embedded defaults in a temporary data
/// directory, with every line it prints on stdout and stderr captured.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int? exitCode;

    private ServerProcess(string dataDirectory, IEnumerable<string> extraArgs, string environment, IReadOnlyDictionary<string, string> variables, string? shellPrelude = null)
    {
        DataDirectory = dataDirectory;
        var start = new ProcessStartInfo(shellPrelude is null ? "dotnet" : "bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (shellPrelude is not null)
        {
            // bash runs the prelude, then exec replaces it with the server: same process id, inherited limits.
            foreach (var arg in (string[])["-c", shellPrelude + "; exec \"$@\"", "bash", "dotnet"])
            {
                start.ArgumentList.Add(arg);
            }
        }

        start.ArgumentList.Add(ServerDll());
        // Metrics on an ephemeral loopback port in every environment: parallel servers never contend for 9464.
        foreach (var arg in (string[])["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={dataDirectory}", "--environment", environment, "--Tokenizer:Metrics:Urls=http://127.0.0.1:0", .. extraArgs])
        {
            start.ArgumentList.Add(arg);
        }

        // Memory-image switches are the test's to set: none is inherited from the test runner's environment.
        foreach (var name in start.Environment.Keys.Where(IsMemoryImageSwitch).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in variables)
        {
            start.Environment[name] = value;
        }

        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string DataDirectory { get; }

    /// <summary>Everything the process printed so far (stdout and stderr, interleaved).</summary>
    public string Output => string.Join('\n', output);

    public GrpcChannel Channel { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    /// <summary>The Prometheus scraping endpoint (<c>http://127.0.0.1:port/metrics</c>), or null when metrics are off.</summary>
    public Uri? MetricsAddress { get; private set; }

    public TokenizerService.TokenizerServiceClient Client { get; private set; } = null!;

    /// <summary>The process id, for checks from outside (diagnostic sockets, dumps).</summary>
    public int ProcessId => process.Id;

    public static Task<ServerProcess> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartAsync(dataDirectory, "Development", new Dictionary<string, string>(), extraArgs);

    public static Task<ServerProcess> StartAsync(
        string dataDirectory,
        string environment,
        IReadOnlyDictionary<string, string> variables,
        params string[] extraArgs) =>
        StartUnderShellAsync(null, dataDirectory, environment, variables, extraArgs);

    /// <summary>
    /// Starts the server from <c>bash -c '{shellPrelude}; exec dotnet ...'</c> (null: dotnet directly), so the prelude can
    /// set what the server inherits (<c>ulimit -c unlimited</c>); waits until it listens.
    /// </summary>
    /// <exception cref="InvalidOperationException">It exited or did not listen within 60 s; the message holds its output.</exception>
    public static async Task<ServerProcess> StartUnderShellAsync(
        string? shellPrelude,
        string dataDirectory,
        string environment,
        IReadOnlyDictionary<string, string> variables,
        params string[] extraArgs)
    {
        var server = new ServerProcess(dataDirectory, extraArgs, environment, variables, shellPrelude);
        var exited = server.process.WaitForExitAsync();
        var winner = await Task.WhenAny(server.listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (winner != server.listening.Task)
        {
            await server.DisposeAsync();
            var code = winner == exited ? server.exitCode : null;
            throw new InvalidOperationException($"server did not start (exit code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}):\n" + server.Output);
        }

        server.Address = await server.listening.Task;
        server.Channel = Tokenizer.IntegrationTests.TestChannels.Create(server.Address, PkiDirectory(dataDirectory, extraArgs), "billing");
        server.Client = new TokenizerService.TokenizerServiceClient(server.Channel);
        return server;
    }

    /// <summary>Waits for the process to end by itself (a fail point killed it), then for its output to drain.</summary>
    /// <returns>Its exit code: 137 (128 + SIGKILL) when a crash-test fail point killed it.</returns>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>The webhook listener's endpoint (<c>https://host:port/stripe/webhook</c>), from its start-up line; waits up to 30 s.</summary>
    /// <exception cref="InvalidOperationException">The listener never said where it listens (it is off without <c>Tokenizer:Webhooks:Urls</c>).</exception>
    public async Task<Uri> WebhookEndpointAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (WebhookListeningPattern().Match(Output) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value + "/stripe/webhook");
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("the webhook listener never said where it listens:\n" + Output);
    }

    /// <summary>
    /// POSTs <paramref name="body"/> to the webhook listener, signed as Stripe signs (<c>t=</c>, <c>v1=</c> hex
    /// HMAC-SHA256 over <c>{t}.{body}</c> with <paramref name="secret"/>; null: no signature), trusting this server's
    /// development CA. Returns the status answered.
    /// </summary>
    public async Task<System.Net.HttpStatusCode> PostWebhookAsync(string body, string? secret)
    {
        var endpoint = await WebhookEndpointAsync();
        using var handler = new System.Net.Http.SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
                {
                    TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(DataDirectory, "pki", "ca.crt")) },
                    RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                },
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        if (secret is not null)
        {
            var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var mac = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), System.Text.Encoding.UTF8.GetBytes(t + "." + body));
            request.Headers.TryAddWithoutValidation("Stripe-Signature", $"t={t},v1={Convert.ToHexStringLower(mac)}");
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>SIGKILL: the process ends at once, with no shutdown code run (a power cut); waits for its output to drain.</summary>
    public void Kill()
    {
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Stops the server with SIGTERM (a graceful shutdown that flushes its logs) and waits for it.</summary>
    public async Task StopAsync()
    {
        if (process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        // Let the asynchronous readers drain the last lines.
        process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        await StopAsync();
        exitCode = process.ExitCode;
        process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        var metrics = MetricsPattern().Match(line);
        if (metrics.Success && MetricsAddress is null)
        {
            MetricsAddress = new Uri(metrics.Groups[1].Value);
        }

        var match = ListeningPattern().Match(line);
        if (match.Success)
        {
            listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    private static bool IsMemoryImageSwitch(string name) =>
        (name.StartsWith("DOTNET_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("COMPlus_", StringComparison.OrdinalIgnoreCase))
        && (name.Contains("EnableDiagnostics", StringComparison.OrdinalIgnoreCase) || name.Contains("DbgEnableMiniDump", StringComparison.OrdinalIgnoreCase));

    /// <summary>The folder of the configured client CA (<c>--Tokenizer:Tls:ClientCaPath=</c>), else the development PKI's.</summary>
    private static string PkiDirectory(string dataDirectory, string[] extraArgs)
    {
        const string clientCa = "--Tokenizer:Tls:ClientCaPath=";
        var configured = extraArgs.LastOrDefault(a => a.StartsWith(clientCa, StringComparison.Ordinal));
        return configured is null ? Path.Combine(dataDirectory, "pki") : Path.GetDirectoryName(configured[clientCa.Length..])!;
    }

    /// <summary>The server dll of the same configuration as this test assembly, as scripts/run.sh starts it.</summary>
    private static string ServerDll()
    {
        var baseDirectory = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = baseDirectory.Parent!.Name; // .../bin/{Configuration}/net10.0/
        var root = baseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tokenizer.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("Tokenizer.sln not found above the test assembly");
        }

        var dll = Path.Combine(root.FullName, "src", "Tokenizer.Server", "bin", configuration, "net10.0", "Tokenizer.Server.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("build the solution first", dll);
    }

    [GeneratedRegex(@"Now listening on: (https://[0-9.:]+)")]
    private static partial Regex ListeningPattern();

    [GeneratedRegex(@"Prometheus scraping endpoint on (http://[0-9.:\[\]]+/metrics)")]
    private static partial Regex MetricsPattern();

    [GeneratedRegex("Stripe webhook endpoint on (https://[^/\\s\"]+)/stripe/webhook")]
    private static partial Regex WebhookListeningPattern();
}
