using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using HdrHistogram;
using Tokenizer.Contracts.V1;
using Tokenizer.LoadTests.Echo;

namespace Tokenizer.LoadTests;

/// <summary>
/// Drives load at the Tokenizer server (<c>--target tokenizer</c>) or the echo ceiling (<c>--target echo</c>) and writes
/// one result JSON.
/// </summary>
/// <remarks>
/// <para>
/// Closed loop (<c>--concurrency N</c>): N callers, each sending its next call when the last one returns; saturates the
/// server. Open loop (<c>--rate R</c>): calls start on a fixed schedule whatever the server does, and each latency is
/// measured from the call's scheduled start, so a stalled server shows up in the tail instead of slowing the generator
/// (no coordinated omission).
/// </para>
/// <para>
/// The server's CPU time (user + system) and peak resident memory (VmHWM, reset through <c>/proc/{pid}/clear_refs</c>
/// when the measured window starts) come from the server process itself (<c>--server-pid</c>), measured over the window
/// after the warm-up.
/// </para>
/// </remarks>
internal static class LoadRole
{
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> RunAsync(IConfiguration settings)
    {
        var options = LoadOptions.From(settings);
        var channels = Enumerable.Range(0, options.Connections).Select(_ => OpenChannel(options)).ToArray();
        var mix = new RequestMix(options.ReplayShare, options.InvalidShare, options.BankShare);
        var callers = channels.Select(c => new Caller(c, options.Target, mix)).ToArray();

        // Warm-up: JIT, TLS sessions, connection pools, the sandbox's first customers; not recorded.
        await RunPhaseAsync(options, callers, options.Warmup, record: null);

        var server = options.ServerPid is { } pid ? Process.GetProcessById(pid) : null;
        ResetPeakMemory(options.ServerPid);
        var cpuBefore = server?.TotalProcessorTime;
        var machineBefore = MachineTicks();
        var recorder = new Recorder();
        var stopwatch = Stopwatch.StartNew();
        await RunPhaseAsync(options, callers, options.Duration, recorder);
        var elapsed = stopwatch.Elapsed;
        server?.Refresh();
        var cpu = server is null ? (TimeSpan?)null : server.TotalProcessorTime - cpuBefore!.Value;
        var peakRss = PeakResidentBytes(options.ServerPid);
        var machineBusy = BusyShare(machineBefore, MachineTicks());

        var result = recorder.ToResult(options, elapsed, cpu, peakRss, machineBusy);
        var json = JsonSerializer.Serialize(result, Indented);
        if (options.Output is { } output)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
            await File.WriteAllTextAsync(output, json);
        }

        Console.WriteLine(json);
        foreach (var channel in channels)
        {
            channel.Dispose();
        }

        return 0;
    }

    private static async Task RunPhaseAsync(LoadOptions options, Caller[] callers, TimeSpan duration, Recorder? record)
    {
        if (duration <= TimeSpan.Zero)
        {
            return;
        }

        using var stop = new CancellationTokenSource(duration);
        if (options.Rate is { } rate)
        {
            await OpenLoopAsync(callers, rate, record, stop.Token);
        }
        else
        {
            var workers = Enumerable.Range(0, options.Concurrency).Select(i => ClosedLoopAsync(callers[i % callers.Length], record, stop.Token));
            await Task.WhenAll(workers);
        }
    }

    private static async Task ClosedLoopAsync(Caller caller, Recorder? record, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            var status = await caller.CallAsync();
            record?.Record(status.Kind, status.Code, Stopwatch.GetElapsedTime(started));
        }
    }

    private static async Task OpenLoopAsync(Caller[] callers, int rate, Recorder? record, CancellationToken stop)
    {
        var inFlight = new ConcurrentDictionary<long, Task>();
        var origin = Stopwatch.GetTimestamp();

        // The schedule runs on its own thread and sleeps with Thread.Sleep(1) (about 1.1 ms here): Task.Delay(1) waits
        // for the runtime's timer, which ticks every 4 ms on this VM, and would add up to 4 ms of the generator's own lag
        // to every open-loop latency (the echo at 500/s measured p50 4.3 ms that way).
        // Completed by the schedule thread when the phase ends (or with its exception), so nothing blocks on Join.
        var scheduleEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = new Thread(() =>
        {
            try
            {
                Schedule();
                scheduleEnded.SetResult();
            }
            catch (Exception error)
            {
                scheduleEnded.SetException(error);
            }
        })
        {
            IsBackground = true,
            Name = "open-loop schedule",
            Priority = ThreadPriority.AboveNormal,
        };
        scheduler.Start();
        await scheduleEnded.Task;
        await Task.WhenAll(inFlight.Values);

        void Schedule()
        {
            long sent = 0;
            while (!stop.IsCancellationRequested)
            {
                var due = (long)(Stopwatch.GetElapsedTime(origin).TotalSeconds * rate);
                for (; sent < due; sent++)
                {
                    // Latency counts from the scheduled start, not from when this loop got round to it.
                    var scheduled = origin + (long)(sent * (double)Stopwatch.Frequency / rate);
                    var caller = callers[sent % callers.Length];
                    var id = sent;
                    inFlight[id] = Task.Run(async () =>
                    {
                        var status = await caller.CallAsync();
                        record?.Record(status.Kind, status.Code, Stopwatch.GetElapsedTime(scheduled));
                        inFlight.TryRemove(id, out _);
                    }, CancellationToken.None);
                }

                // Started calls run to the end; only the schedule stops.
                Thread.Sleep(1);
            }
        }
    }

    private static GrpcChannel OpenChannel(LoadOptions options)
    {
        var pki = options.Pki;
        using var pem = X509Certificate2.CreateFromPemFile(Path.Combine(pki, options.Certificate + ".crt"), Path.Combine(pki, options.Certificate + ".key"));
        var handler = new SocketsHttpHandler
        {
            // One HTTP/2 connection per channel, so --connections is the connection count.
            EnableMultipleHttp2Connections = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            SslOptions =
            {
                ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)],
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pki, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
        };
        return GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    private static void ResetPeakMemory(int? pid)
    {
        if (pid is not null)
        {
            // "5" resets the peak RSS (VmHWM) of a process we own (Linux proc(5)).
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
    }

    /// <summary>The machine's CPU ticks (busy, total) from the first line of /proc/stat (Linux proc(5)); null elsewhere.</summary>
    private static (long Busy, long Total)? MachineTicks()
    {
        if (!File.Exists("/proc/stat"))
        {
            return null;
        }

        // cpu  user nice system idle iowait irq softirq steal ...: idle and iowait are the idle time.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Take(8).Sum();
        var idle = fields[3] + fields[4];
        return (total - idle, total);
    }

    /// <summary>
    /// How busy all cores were over the window (0-1): generator, sandbox, server and everything else together. Near 1
    /// the processes queue for CPU and every latency figure measures that queue as much as the server.
    /// </summary>
    private static double? BusyShare((long Busy, long Total)? before, (long Busy, long Total)? after) =>
        before is { } b && after is { } a && a.Total > b.Total ? (double)(a.Busy - b.Busy) / (a.Total - b.Total) : null;

    private static long? PeakResidentBytes(int? pid)
    {
        if (pid is null)
        {
            return null;
        }

        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kilobytes * 1024;
    }

    /// <summary>One connection's client and the request mix.</summary>
    private sealed class Caller(GrpcChannel channel, string target, RequestMix mix)
    {
        private readonly TokenizerService.TokenizerServiceClient tokenizer = new(channel);
        private readonly EchoService.EchoServiceClient echo = new(channel);

        public async Task<(RequestKind Kind, StatusCode Code)> CallAsync()
        {
            if (target == "echo")
            {
                return await Try(RequestKind.Echo, async () => await echo.EchoAsync(new EchoRequest { Payload = "ping" }));
            }

            var next = mix.Next();
            var outcome = await Try(next.Kind, async () =>
            {
                if (next.Card is { } card)
                {
                    await tokenizer.TokenizeCardAsync(card);
                }
                else
                {
                    await tokenizer.TokenizeBankAccountAsync(next.Bank!);
                }
            });
            if (outcome.Item2 == StatusCode.OK)
            {
                mix.Succeeded(next);
            }

            return outcome;
        }

        private static async Task<(RequestKind, StatusCode)> Try(RequestKind kind, Func<Task> call)
        {
            try
            {
                await call();
                return (kind, StatusCode.OK);
            }
            catch (RpcException error)
            {
                return (kind, error.StatusCode);
            }
        }
    }

    /// <summary>Latency histograms (microseconds) and status counts, thread-safe.</summary>
    private sealed class Recorder
    {
        private readonly LongConcurrentHistogram all = new(1, 3_600_000_000, 3);
        private readonly ConcurrentDictionary<string, long> statuses = new(StringComparer.Ordinal);
        private long unexpected;

        public void Record(RequestKind kind, StatusCode code, TimeSpan latency)
        {
            all.RecordValue(Math.Max(1, (long)latency.TotalMicroseconds));
            statuses.AddOrUpdate($"{kind}:{code}", 1, (_, n) => n + 1);
            // Invalid inputs are meant to answer INVALID_ARGUMENT; anything else not OK is an error.
            var expected = kind == RequestKind.Invalid ? StatusCode.InvalidArgument : StatusCode.OK;
            if (code != expected)
            {
                Interlocked.Increment(ref unexpected);
            }
        }

        public LoadResult ToResult(LoadOptions options, TimeSpan elapsed, TimeSpan? cpu, long? peakRss, double? machineBusy)
        {
            var count = all.TotalCount;
            double Ms(double percentile) => all.GetValueAtPercentile(percentile) / 1000.0;
            return new LoadResult(
                options.Scenario,
                options.Target,
                options.Rate is null ? "closed" : "open",
                options.Rate,
                options.Rate is null ? options.Concurrency : null,
                options.Connections,
                options.SandboxLatencyMs,
                elapsed.TotalSeconds,
                count,
                count / elapsed.TotalSeconds,
                Ms(50),
                Ms(90),
                Ms(99),
                Ms(99.9),
                all.GetMaxValue() / 1000.0,
                Interlocked.Read(ref unexpected),
                new SortedDictionary<string, long>(statuses, StringComparer.Ordinal),
                cpu?.TotalSeconds,
                cpu is { } c && count > 0 ? c.TotalMicroseconds / count : null,
                peakRss is { } rss ? rss / (1024.0 * 1024.0) : null,
                machineBusy is { } busy ? Math.Round(busy * 100, 1) : null,
                Environment.ProcessorCount,
                DateTimeOffset.UtcNow);
        }
    }
}

/// <summary>What a generated call is.</summary>
internal enum RequestKind
{
    Card,
    Bank,
    Replay,
    Invalid,
    Echo,
}

/// <summary>The load generator's settings (<c>--name value</c>).</summary>
internal sealed record LoadOptions(
    string Scenario,
    string Target,
    Uri Address,
    string Pki,
    string Certificate,
    int Connections,
    int Concurrency,
    int? Rate,
    TimeSpan Duration,
    TimeSpan Warmup,
    int? ServerPid,
    string? Output,
    int SandboxLatencyMs,
    double ReplayShare,
    double InvalidShare,
    double BankShare)
{
    public static LoadOptions From(IConfiguration s) => new(
        s["scenario"] ?? "adhoc",
        s["target"] ?? "tokenizer",
        new Uri(s["address"] ?? "https://127.0.0.1:5055"),
        s["pki"] ?? Path.Combine("data", "pki"),
        s["cert"] ?? "billing",
        s.GetValue("connections", 4),
        s.GetValue("concurrency", 32),
        s.GetValue<int?>("rate"),
        TimeSpan.FromSeconds(s.GetValue("duration", 20.0)),
        TimeSpan.FromSeconds(s.GetValue("warmup", 5.0)),
        s.GetValue<int?>("server-pid"),
        s["out"],
        s.GetValue("sandbox-latency-ms", 0),
        s.GetValue("replay-share", 0.05),
        s.GetValue("invalid-share", 0.02),
        s.GetValue("bank-share", 0.2));
}

/// <summary>One scenario's figures. Latencies in milliseconds, CPU in seconds and microseconds per call, memory in MiB.</summary>
internal sealed record LoadResult(
    string Scenario,
    string Target,
    string Mode,
    int? RatePerSecond,
    int? Concurrency,
    int Connections,
    int SandboxLatencyMs,
    double DurationSeconds,
    long Calls,
    double Throughput,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    long Errors,
    SortedDictionary<string, long> Statuses,
    double? ServerCpuSeconds,
    double? ServerCpuMicrosPerCall,
    double? ServerPeakRssMiB,
    double? MachineBusyPercent,
    int Cores,
    DateTimeOffset FinishedAt);
