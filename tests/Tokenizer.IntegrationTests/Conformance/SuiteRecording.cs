using System.Runtime.CompilerServices;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>
/// Makes every sandbox the integration suite starts (in this process, and the servers it runs as child processes,
/// which inherit the environment) append its requests to <see cref="Folder"/>, where
/// <see cref="SuiteConformanceTests"/> judges them after the suite (scripts/test.sh runs it as its own step).
/// </summary>
internal static class SuiteRecording
{
    /// <summary><c>artifacts/sandbox-requests</c> under the repository root (scripts/test.sh empties it before the suite).</summary>
    public static string Folder { get; } = Path.Combine(RepositoryRoot(), "artifacts", "sandbox-requests");

#pragma warning disable CA2255 // A test assembly: the variable must be set before any test starts a sandbox, in any order.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(SandboxRequestLog.ExportDirectoryVariable)))
        {
            Environment.SetEnvironmentVariable(SandboxRequestLog.ExportDirectoryVariable, Folder);
        }
    }

    /// <summary>The folder sandboxes export to in this run (the variable may have been set from outside).</summary>
    public static string Current => Environment.GetEnvironmentVariable(SandboxRequestLog.ExportDirectoryVariable) ?? Folder;

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tokenizer.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Tokenizer.sln not found above the test assembly");
    }
}
