using System.Globalization;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// Outside Development the process must not be readable through a memory image: no crash dump (a dump holds the PANs and
/// CVCs of requests in flight and in pooled buffers) and no diagnostics port or managed debugger (either can read the
/// heap or ask for a dump). The .NET runtime reads these switches only from the environment (there is no
/// runtimeconfig.json or MSBuild property for them), so the build cannot turn them off: the server checks them and
/// refuses to start instead.
/// </summary>
public static class MemoryImagePosture
{
    /// <summary>The message when the posture is wrong: names the variables, never their values.</summary>
    public const string Requirement =
        "DOTNET_EnableDiagnostics=0 (or DOTNET_EnableDiagnostics_IPC=0 and DOTNET_EnableDiagnostics_Debugger=0) is required outside Development, and DOTNET_DbgEnableMiniDump, DOTNET_EnableEventPipe, CORECLR_ENABLE_PROFILING and CORECLR_ENABLE_NOTIFICATION_PROFILERS must be unset or 0, and DOTNET_STARTUP_HOOKS unset: a memory image or trace of this process, or code loaded into it, holds card data.";

    /// <summary>
    /// Throws outside Development when crash dumps or the diagnostics port (or the debugger) are on, or when the kernel's
    /// core dump could not be turned off (<paramref name="coreDumpFailure"/>, from <c>KernelCoreDump.TurnOff</c>);
    /// does nothing in Development.
    /// </summary>
    /// <param name="environment">The host environment.</param>
    /// <param name="coreDumpFailure">Null when the kernel's core dump is off for this process; else why it is not.</param>
    /// <exception cref="StartupException">Outside Development, the kernel's core dump could not be turned off.</exception>
    /// <exception cref="InvalidOperationException">Outside Development with dumps or diagnostics on; the message is <see cref="Requirement"/> plus what is on.</exception>
    public static void EnsureOff(IHostEnvironment environment, string? coreDumpFailure = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.IsDevelopment())
        {
            // Every other environment (Production, Staging, a custom name) may hold real card data.
            return;
        }

        if (coreDumpFailure is not null)
        {
            throw new StartupException($"the kernel core dump of this process cannot be turned off: {coreDumpFailure}; a core file would hold card data");
        }

        var socket = OperatingSystem.IsWindows()
            ? null
            : OwnDiagnosticsSocket(Directory.EnumerateFiles(Path.GetTempPath(), "dotnet-diagnostic-*-socket"), Environment.ProcessId, ProcessStartTime());
        var problems = Problems(Environment.GetEnvironmentVariable, socket);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"{Requirement} Found: {string.Join(", ", problems)}.");
        }
    }

    /// <summary>
    /// What is on, read as the runtime reads it: <c>DOTNET_</c> before <c>COMPlus_</c>; diagnostics values are hex and
    /// default to on; the dump switch is decimal and defaults to off. A value the runtime could not parse counts as on.
    /// </summary>
    /// <param name="variable">Reads an environment variable (null when unset).</param>
    /// <param name="socket">This process's diagnostics socket when it exists (the port is open, whatever the variables say), else null.</param>
    /// <returns>Short descriptions (setting names and the socket's path only), empty when dumps and diagnostics are off.</returns>
    public static IReadOnlyList<string> Problems(Func<string, string?> variable, string? socket)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var problems = new List<string>();
        var diagnostics = Setting(variable, "EnableDiagnostics", NumberStyles.AllowHexSpecifier, 1) != 0;
        if (diagnostics && Setting(variable, "EnableDiagnostics_IPC", NumberStyles.AllowHexSpecifier, 1) != 0)
        {
            problems.Add("the diagnostics port is on (DOTNET_EnableDiagnostics, DOTNET_EnableDiagnostics_IPC)");
        }
        else if (socket is not null)
        {
            problems.Add($"the diagnostics port is open: this process's socket {socket} exists (DOTNET_EnableDiagnostics, DOTNET_EnableDiagnostics_IPC)");
        }

        if (diagnostics && Setting(variable, "EnableDiagnostics_Debugger", NumberStyles.AllowHexSpecifier, 1) != 0)
        {
            problems.Add("the debugger is allowed (DOTNET_EnableDiagnostics, DOTNET_EnableDiagnostics_Debugger)");
        }

        if (Setting(variable, "DbgEnableMiniDump", NumberStyles.None, 0) != 0)
        {
            problems.Add("crash dumps are on (DOTNET_DbgEnableMiniDump)");
        }

        // A startup EventPipe session writes a trace file whatever DOTNET_EnableDiagnostics says, and a verbose provider
        // records outbound request bodies (the PAN and CVC on their way to the gateway).
        if (Setting(variable, "EnableEventPipe", NumberStyles.AllowHexSpecifier, 0) != 0)
        {
            problems.Add("an EventPipe trace file is on (DOTNET_EnableEventPipe)");
        }

        // A startup profiler is native code loaded into the process: it reads everything the process does.
        if (Flag(variable("CORECLR_ENABLE_PROFILING")) || Flag(variable("DOTNET_ENABLE_PROFILING")))
        {
            problems.Add("a startup profiler is on (CORECLR_ENABLE_PROFILING)");
        }

        // Notification profilers load beside (or without) the main one, by their own switch.
        if (Flag(variable("CORECLR_ENABLE_NOTIFICATION_PROFILERS")) || Flag(variable("DOTNET_ENABLE_NOTIFICATION_PROFILERS")))
        {
            problems.Add("a notification profiler is on (CORECLR_ENABLE_NOTIFICATION_PROFILERS)");
        }

        // A startup hook is managed code run inside the process before Main: it reads everything the process does too.
        // The build turns hooks off (StartupHookSupport), so the runtime ignores the variable; refusing it still tells
        // the operator someone tried.
        if (!string.IsNullOrWhiteSpace(variable("DOTNET_STARTUP_HOOKS")))
        {
            problems.Add("a startup hook is set (DOTNET_STARTUP_HOOKS)");
        }

        return problems;
    }

    /// <summary>
    /// The diagnostics socket of this process among <paramref name="paths"/>, or null. The runtime names it
    /// <c>dotnet-diagnostic-{pid}-{key}-socket</c>, where on Linux the key is the process's start time (field 22 of
    /// /proc/{pid}/stat, clock ticks since boot). A file for the same pid but another start time is a leftover of an
    /// earlier process (pids are reused), or one planted by anyone who can write the temp directory: not this process's.
    /// </summary>
    /// <param name="paths">The candidate files (any names; others are ignored).</param>
    /// <param name="processId">This process's id.</param>
    /// <param name="startTime">This process's start time as the runtime writes it; null where it is unknown (not
    /// Linux), and then the pid alone decides.</param>
    /// <returns>The matching path, or null.</returns>
    public static string? OwnDiagnosticsSocket(IEnumerable<string> paths, int processId, ulong? startTime)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var prefix = $"dotnet-diagnostic-{processId.ToString(CultureInfo.InvariantCulture)}-";
        const string Suffix = "-socket";
        foreach (var path in paths)
        {
            var name = Path.GetFileName(path);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(Suffix, StringComparison.Ordinal) || name.Length <= prefix.Length + Suffix.Length)
            {
                continue;
            }

            var key = name[prefix.Length..^Suffix.Length];
            if (startTime is null
                || (ulong.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed == startTime))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>
    /// This process's start time in clock ticks since boot (field 22 of /proc/self/stat), or null off Linux or when it
    /// cannot be read.
    /// </summary>
    public static ulong? ProcessStartTime()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return StartTimeFromStat(File.ReadAllText("/proc/self/stat"));
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Field 22 (starttime) of a /proc/{pid}/stat line; the command name (field 2) may hold spaces and parentheses.</summary>
    /// <returns>The start time, or null when the line has no such field.</returns>
    public static ulong? StartTimeFromStat(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        var afterName = stat.LastIndexOf(')');
        var fields = stat[(afterName + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // fields[0] is field 3 (state), so field 22 is fields[19].
        return afterName >= 0 && fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    /// <summary>A profiling switch (hex, default off) as the runtime reads it; unparsable counts as on.</summary>
    private static bool Flag(string? value)
    {
        if (value is null)
        {
            return false;
        }

        var text = value.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        return !uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var parsed) || parsed != 0;
    }

    private static uint Setting(Func<string, string?> variable, string name, NumberStyles style, uint unset)
    {
        var value = variable("DOTNET_" + name) ?? variable("COMPlus_" + name);
        if (value is null)
        {
            return unset;
        }

        var text = value.Trim();
        if (style == NumberStyles.AllowHexSpecifier && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            text = text[2..];
        }

        // Unparsable: count it as on, so a typo never leaves a memory image possible.
        return uint.TryParse(text, style, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
    }
}
