using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tokenizer.LoadTests;

/// <summary>
/// Reads every scenario JSON in <c>--results</c> and writes <c>latest.md</c>: one row per scenario with its figures and
/// its ratio to the echo ceiling measured in the same run, then each target and whether it holds.
/// </summary>
internal static class ReportRole
{
    public static int Run(IConfiguration settings)
    {
        var directory = settings["results"] ?? throw new ArgumentException("--results is required");
        var results = Directory.GetFiles(directory, "*.json")
            .Where(f => !f.EndsWith("latest.json", StringComparison.Ordinal))
            .Select(f => JsonSerializer.Deserialize<LoadResult>(File.ReadAllText(f))!)
            .ToDictionary(r => r.Scenario, StringComparer.Ordinal);
        string F(double? value, string format = "0.0") => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
        LoadResult? Get(string name) => results.GetValueOrDefault(name);

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run finished {results.Values.Max(r => r.FinishedAt):yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {settings["machine"] ?? "this machine"}; ledger: {settings["ledger"] ?? "SQLite (WAL, synchronous=FULL)"}.");
        md.AppendLine();
        md.AppendLine("| scenario | target | load | sandbox latency | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server CPU µs/call | server peak MiB | machine busy % |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.Values.OrderBy(r => r.FinishedAt))
        {
            var load = r.Mode == "open" ? $"{r.RatePerSecond}/s open" : $"{r.Concurrency} closed";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Scenario} | {r.Target} | {load}, {r.Connections} conn | {r.SandboxLatencyMs} ms | {F(r.Throughput)} | {F(r.P50Ms, "0.00")} | {F(r.P90Ms, "0.00")} | {F(r.P99Ms, "0.00")} | {F(r.P999Ms, "0.00")} | {F(r.MaxMs, "0.0")} | {r.Errors} | {F(r.ServerCpuMicrosPerCall, "0")} | {F(r.ServerPeakRssMiB)} | {F(r.MachineBusyPercent, "0")} |");
        }

        md.AppendLine();
        md.AppendLine("| target | figure | holds |");
        md.AppendLine("|---|---|---|");
        void Target(string name, string figure, bool? holds) =>
            md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {figure} | {(holds is null ? "not measured" : holds.Value ? "yes" : "**no**")} |");

        var echoCost = Get("ceiling-echo-closed");
        var serviceCost = Get("service-cost");
        var costRatio = serviceCost?.ServerCpuMicrosPerCall / echoCost?.ServerCpuMicrosPerCall;
        Target("service cost: CPU per tokenisation ≤ 5 × CPU per echo call", $"{F(serviceCost?.ServerCpuMicrosPerCall, "0")} µs vs {F(echoCost?.ServerCpuMicrosPerCall, "0")} µs = {F(costRatio, "0.0")}×", costRatio is null ? null : costRatio <= 5);

        // A tokenisation waits on two sequential Stripe requests (create the PaymentMethod, then attach it), so the
        // gateway's share of a call is twice the sandbox's per-request latency.
        const int GatewayRequestsPerTokenisation = 2;
        var added = Get("added-latency");
        var addedP99 = added?.P99Ms - (GatewayRequestsPerTokenisation * added?.SandboxLatencyMs);
        var echo500 = Get("ceiling-echo-500");
        Target("added latency: p99 − gateway time (2 requests × 100 ms) ≤ 5 ms at 500/s, no errors", $"{F(addedP99, "0.00")} ms (echo p99 at 500/s {F(echo500?.P99Ms, "0.00")} ms), {added?.Errors} errors", added is null ? null : addedP99 <= 5 && added.Errors == 0);

        var inFlight = Get("many-in-flight");
        var inFlightRatio = inFlight?.P99Ms / (GatewayRequestsPerTokenisation * inFlight?.SandboxLatencyMs);
        Target("many in flight: no errors, p99 ≤ 1.2 × gateway time (2 × 300 ms), peak < 300 MiB at 1,000/s", $"p99 {F(inFlight?.P99Ms, "0.0")} ms = {F(inFlightRatio, "0.00")}×, {inFlight?.Errors} errors, {F(inFlight?.ServerPeakRssMiB)} MiB", inFlight is null ? null : inFlight.Errors == 0 && inFlightRatio <= 1.2 && inFlight.ServerPeakRssMiB < 300);

        var growth = Get("growth");
        var growthRatio = growth?.P99Ms / added?.P99Ms;
        Target("growth: p99 with 1,000,000 tokens ≤ 1.2 × empty", $"{F(growth?.P99Ms, "0.00")} ms vs {F(added?.P99Ms, "0.00")} ms = {F(growthRatio, "0.00")}×", growthRatio is null ? null : growthRatio <= 1.2);

        File.WriteAllText(Path.Combine(directory, "latest.md"), md.ToString());
        File.WriteAllText(Path.Combine(directory, "latest.json"), JsonSerializer.Serialize(results.Values.OrderBy(r => r.FinishedAt), LoadRole.Indented));
        Console.WriteLine(md.ToString());
        return 0;
    }
}
