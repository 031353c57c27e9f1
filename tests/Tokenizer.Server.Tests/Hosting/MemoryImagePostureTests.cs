using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Tests.Hosting;

/// <summary>
/// The diagnostics-socket check counts only a socket of this process: the runtime names it
/// <c>dotnet-diagnostic-{pid}-{start time}-socket</c>, and a file for the same pid with another start time is a leftover
/// of a dead process or a planted name, never a reason to refuse. A refusal names the file.
/// </summary>
public sealed class MemoryImagePostureTests
{
    private const int Pid = 4015;
    private const ulong StartTime = 352523;

    public static TheoryData<string, string[], string?> Listings => new()
    {
        { "own socket", ["/tmp/dotnet-diagnostic-4015-352523-socket"], "/tmp/dotnet-diagnostic-4015-352523-socket" },
        { "own socket among others", ["/tmp/dotnet-diagnostic-4015-1-socket", "/tmp/dotnet-diagnostic-40150-352523-socket", "/tmp/dotnet-diagnostic-4015-352523-socket"], "/tmp/dotnet-diagnostic-4015-352523-socket" },
        { "stale socket of a reused pid", ["/tmp/dotnet-diagnostic-4015-352522-socket"], null },
        { "planted name with a later start time", ["/tmp/dotnet-diagnostic-4015-9999999-socket"], null },
        { "another pid with our start time", ["/tmp/dotnet-diagnostic-401-352523-socket", "/tmp/dotnet-diagnostic-14015-352523-socket"], null },
        { "key not a number", ["/tmp/dotnet-diagnostic-4015-x352523-socket", "/tmp/dotnet-diagnostic-4015--socket", "/tmp/dotnet-diagnostic-4015-+352523-socket"], null },
        { "not a socket name", ["/tmp/dotnet-diagnostic-4015-352523-socketx", "/tmp/xdotnet-diagnostic-4015-352523-socket"], null },
        { "nothing", [], null },
    };

    [Theory]
    [MemberData(nameof(Listings))]
    public void OwnDiagnosticsSocket_Listing_OnlyThisProcesssSocket(string situation, string[] listing, string? expected)
    {
        Assert.True(expected == MemoryImagePosture.OwnDiagnosticsSocket(listing, Pid, StartTime), situation);
    }

    /// <summary>Where the start time is unknown (not Linux), the pid alone decides, as before: the safe side is to refuse.</summary>
    [Fact]
    public void OwnDiagnosticsSocket_StartTimeUnknown_PidDecides()
    {
        Assert.Equal("/tmp/dotnet-diagnostic-4015-77-socket", MemoryImagePosture.OwnDiagnosticsSocket(["/tmp/dotnet-diagnostic-4015-77-socket"], Pid, null));
        Assert.Null(MemoryImagePosture.OwnDiagnosticsSocket(["/tmp/dotnet-diagnostic-24016-77-socket"], Pid, null));
    }

    [Theory]
    [InlineData("4015 (dotnet) S x x x x x x x x x x x x x x x x x x 352523 x x", 352523UL)]
    [InlineData("4015 (a) b (c d) R x x x x x x x x x x x x x x x x x x 352523 x", 352523UL)]
    [InlineData("4015 (short) S x x x", null)]
    [InlineData("no parenthesis", null)]
    public void StartTimeFromStat_StatLine_Field22(string stat, ulong? expected)
    {
        Assert.Equal(expected, MemoryImagePosture.StartTimeFromStat(stat));
    }

    /// <summary>This process's own socket (the test runner has diagnostics on) is found with the start time read here.</summary>
    [Fact]
    public void OwnDiagnosticsSocket_ThisProcess_FoundWithItsStartTime()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics") == "0")
        {
            return;
        }

        var files = Directory.GetFiles(Path.GetTempPath(), "dotnet-diagnostic-*-socket");
        var start = MemoryImagePosture.ProcessStartTime();

        Assert.NotNull(start);
        Assert.NotNull(MemoryImagePosture.OwnDiagnosticsSocket(files, Environment.ProcessId, start));
        Assert.Null(MemoryImagePosture.OwnDiagnosticsSocket(files, Environment.ProcessId, start + 1));
    }

    [Fact]
    public void Problems_OwnSocketWhileVariablesSayOff_NamesTheFile()
    {
        var problems = MemoryImagePosture.Problems(name => name == "DOTNET_EnableDiagnostics" ? "0" : null, "/tmp/dotnet-diagnostic-4015-352523-socket");

        var problem = Assert.Single(problems);
        Assert.Contains("/tmp/dotnet-diagnostic-4015-352523-socket", problem, StringComparison.Ordinal);
        Assert.Empty(MemoryImagePosture.Problems(name => name == "DOTNET_EnableDiagnostics" ? "0" : null, null));
    }

    [Theory]
    [InlineData("DOTNET_EnableEventPipe", "1", "EventPipe")]
    [InlineData("COMPlus_EnableEventPipe", "0x1", "EventPipe")]
    [InlineData("DOTNET_EnableEventPipe", "yes", "EventPipe")]
    [InlineData("CORECLR_ENABLE_PROFILING", "1", "profiler")]
    [InlineData("CORECLR_ENABLE_PROFILING", "on", "profiler")]
    [InlineData("CORECLR_ENABLE_NOTIFICATION_PROFILERS", "1", "notification profiler")]
    [InlineData("DOTNET_ENABLE_NOTIFICATION_PROFILERS", "1", "notification profiler")]
    public void Problems_TraceFileOrProfilerOnWithTheDiagnosticsPortOff_Named(string name, string value, string named)
    {
        var problems = MemoryImagePosture.Problems(n => n == "DOTNET_EnableDiagnostics" ? "0" : n == name ? value : null, null);
        var control = MemoryImagePosture.Problems(n => n == "DOTNET_EnableDiagnostics" ? "0" : n == name ? "0" : null, null);

        var problem = Assert.Single(problems);
        Assert.Contains(named, problem, StringComparison.Ordinal);
        Assert.Empty(control);
    }

    [Fact]
    public void Problems_StartupHookSet_Named()
    {
        var problems = MemoryImagePosture.Problems(n => n == "DOTNET_EnableDiagnostics" ? "0" : n == "DOTNET_STARTUP_HOOKS" ? "/tmp/hook.dll" : null, null);
        var control = MemoryImagePosture.Problems(n => n == "DOTNET_EnableDiagnostics" ? "0" : n == "DOTNET_STARTUP_HOOKS" ? " " : null, null);

        Assert.Contains("DOTNET_STARTUP_HOOKS", Assert.Single(problems), StringComparison.Ordinal);
        Assert.Empty(control);
    }
}
