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
        "DOTNET_EnableDiagnostics=0 (or DOTNET_EnableDiagnostics_IPC=0 and DOTNET_EnableDiagnostics_Debugger=0) is required outside Development, and DOTNET_DbgEnableMiniDump must be unset or 0: a memory image of this process holds card data.";

    /// <summary>
    /// Throws outside Development when crash dumps or the diagnostics port (or the debugger) are on; does nothing elsewhere.
    /// </summary>
    /// <exception cref="InvalidOperationException">Outside Development with dumps or diagnostics on; the message is <see cref="Requirement"/> plus what is on.</exception>
    public static void EnsureOff(IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.IsDevelopment())
        {
            // Every other environment (Production, Staging, a custom name) may hold real card data.
            return;
        }

        var problems = Problems(Environment.GetEnvironmentVariable, DiagnosticsSocketExists(Environment.ProcessId));
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
    /// <param name="socketExists">Whether this process's diagnostics socket exists (the port is open, whatever the variables say).</param>
    /// <returns>Short descriptions (setting names only), empty when dumps and diagnostics are off.</returns>
    public static IReadOnlyList<string> Problems(Func<string, string?> variable, bool socketExists)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var problems = new List<string>();
        var diagnostics = Setting(variable, "EnableDiagnostics", NumberStyles.AllowHexSpecifier, 1) != 0;
        if (socketExists || (diagnostics && Setting(variable, "EnableDiagnostics_IPC", NumberStyles.AllowHexSpecifier, 1) != 0))
        {
            problems.Add("the diagnostics port is on (DOTNET_EnableDiagnostics, DOTNET_EnableDiagnostics_IPC)");
        }

        if (diagnostics && Setting(variable, "EnableDiagnostics_Debugger", NumberStyles.AllowHexSpecifier, 1) != 0)
        {
            problems.Add("the debugger is allowed (DOTNET_EnableDiagnostics, DOTNET_EnableDiagnostics_Debugger)");
        }

        if (Setting(variable, "DbgEnableMiniDump", NumberStyles.None, 0) != 0)
        {
            problems.Add("crash dumps are on (DOTNET_DbgEnableMiniDump)");
        }

        return problems;
    }

    /// <summary>Whether the runtime's diagnostics socket for <paramref name="processId"/> exists in the temp directory.</summary>
    public static bool DiagnosticsSocketExists(int processId) =>
        !OperatingSystem.IsWindows() && Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{processId}-*-socket").Length > 0;

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
