using Microsoft.Extensions.Configuration;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.LoadTests;

/// <summary>
/// The Stripe sandbox as its own process, in memory, with a standing latency on every request (<c>--latency-ms</c>),
/// so the gateway's time is a known constant the added latency can be measured against.
/// </summary>
internal static class SandboxRole
{
    public static async Task<int> RunAsync(IConfiguration settings)
    {
        var latency = TimeSpan.FromMilliseconds(settings.GetValue("latency-ms", 0));
        var options = new StripeSandboxOptions
        {
            Urls = settings["urls"] ?? "http://127.0.0.1:12111",
            ApiKey = settings["api-key"] ?? "sk_test_bench",
            RecordedRequestLimit = 0,
            // scripts/bench.sh changes the standing latency between scenarios through the control endpoint.
            ControlToken = settings["control-token"],
            ConfigureLogging = logging => logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Warning),
        };
        await using var server = await StripeSandboxServer.StartAsync(options, "Development");
        if (latency > TimeSpan.Zero)
        {
            server.Faults.Add("*", SandboxFault.Latency(latency), count: SandboxFaultRule.Unlimited);
        }

        Console.WriteLine($"sandbox ready on {server.BaseAddress} latency {latency.TotalMilliseconds} ms");
        await server.WaitForShutdownAsync();
        return 0;
    }
}
