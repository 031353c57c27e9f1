using System.Diagnostics;
using System.Globalization;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// scripts/tokenizer.sh builds the CLI on first use, and the README's walkthrough runs it in two terminals at once: two
/// first runs must not build at the same time (MSBuild's outputs collide: "GenerateDepsFile ... being used by another
/// process"), and the one that waited must not build again. Each test runs a copy of the real script (and lib.sh) in a
/// scratch tree with no built CLI, with a stand-in <c>dotnet</c> first on PATH whose <c>build</c> fails when another
/// build is already running and holds each build until the test lets it go; the test lets the first build go only once
/// the second run is either blocked on the build lock (a <c>flock</c> child) or has reached a build of its own. So the
/// order of events is decided by the test, never by timing. The two controls run the same scenario on the script with
/// the lock removed and with the check under the lock removed, and see each defect.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")] // bash, flock and /proc, as the script itself needs
public sealed class CliScriptBuildLockTests
{
    private const string FakeDotnet = """
        #!/usr/bin/env bash
        set -u
        scratch="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
        if [ "${1:-}" = build ]; then
          echo build >> "$scratch/arrivals"
          mkdir "$scratch/building" 2>/dev/null || { echo "two builds at once" >&2; exit 1; }
          # Held until the test says go (bounded: 60 s).
          for _ in $(seq 1200); do [ -e "$scratch/go" ] && break; sleep 0.05; done
          mkdir -p "$scratch/src/Tokenizer.Cli/bin/Release/net10.0"
          touch "$scratch/src/Tokenizer.Cli/bin/Release/net10.0/tokenizer.dll"
          rmdir "$scratch/building"
          exit 0
        fi
        echo "cli ran"
        """;

    [Fact]
    public async Task TokenizerScript_TwoFirstRunsAtOnce_OneBuildsTheOtherWaitsThenBothRun()
    {
        var (first, second, builds) = await TwoFirstRunsAsync(script => script);

        Assert.Equal((0, 0), (first.Code, second.Code));
        Assert.Contains("cli ran", first.Output, StringComparison.Ordinal);
        Assert.Contains("cli ran", second.Output, StringComparison.Ordinal);
        Assert.Equal(1, builds);
    }

    [Fact]
    public async Task TokenizerScript_Control_WithoutTheLock_SecondFirstRunsBuildCollides()
    {
        var (first, second, builds) = await TwoFirstRunsAsync(script => Edit(script, "{ flock 9; ", "{ "));

        Assert.Equal(0, first.Code);
        Assert.NotEqual(0, second.Code);
        Assert.Contains("two builds at once", second.Error, StringComparison.Ordinal);
        Assert.Equal(2, builds);
    }

    [Fact]
    public async Task TokenizerScript_Control_WithoutTheCheckUnderTheLock_SecondRunBuildsAgain()
    {
        var (first, second, builds) = await TwoFirstRunsAsync(
            script => Edit(Edit(script, "if cli_stale; then build_quietly", "build_quietly"), "; fi; }", "; }"));

        Assert.Equal((0, 0), (first.Code, second.Code));
        Assert.Equal(2, builds);
    }

    /// <summary>The script with <paramref name="text"/> (which must be there) replaced: a control's change.</summary>
    private static string Edit(string script, string text, string replacement)
    {
        Assert.Contains(text, script, StringComparison.Ordinal);
        return script.Replace(text, replacement, StringComparison.Ordinal);
    }

    private static async Task<(Run First, Run Second, int Builds)> TwoFirstRunsAsync(Func<string, string> edit)
    {
        var scratch = Directory.CreateTempSubdirectory("tokenizer-cli-build-").FullName;
        try
        {
            var repository = RepositoryRoot();
            Directory.CreateDirectory(Path.Combine(scratch, "scripts"));
            Directory.CreateDirectory(Path.Combine(scratch, "bin"));
            var script = Path.Combine(scratch, "scripts", "tokenizer.sh");
            await File.WriteAllTextAsync(script, edit(await File.ReadAllTextAsync(Path.Combine(repository, "scripts", "tokenizer.sh"))));
            File.Copy(Path.Combine(repository, "scripts", "lib.sh"), Path.Combine(scratch, "scripts", "lib.sh"));
            foreach (var source in new[] { "src/Tokenizer.Cli/Program.cs", "src/Tokenizer.Contracts/A.cs", "src/Tokenizer.Core/A.cs", "src/Tokenizer.Ledger/A.cs", "proto/a.proto" })
            {
                var path = Path.Combine(scratch, source);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, string.Empty);
            }

            var dotnet = Path.Combine(scratch, "bin", "dotnet");
            await File.WriteAllTextAsync(dotnet, FakeDotnet.ReplaceLineEndings("\n") + "\n");
            File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            using var first = Start(scratch, script);
            Assert.True(await EventuallyAsync(() => Directory.Exists(Path.Combine(scratch, "building"))), "the first run never started its build");
            using var second = Start(scratch, script);

            // The second run is now either waiting for the lock or has reached a build of its own.
            Assert.True(
                await EventuallyAsync(() => Arrivals(scratch) >= 2 || second.Process.HasExited || HasChild(second.Process.Id, "flock")),
                "the second run neither waited for the lock nor built");
            await File.WriteAllTextAsync(Path.Combine(scratch, "go"), string.Empty);

            return (await first.EndAsync(), await second.EndAsync(), Arrivals(scratch));
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static int Arrivals(string scratch)
    {
        var path = Path.Combine(scratch, "arrivals");
        return File.Exists(path) ? File.ReadAllLines(path).Length : 0;
    }

    /// <summary>Whether process <paramref name="parent"/> has a child named <paramref name="name"/> now (Linux /proc).</summary>
    private static bool HasChild(int parent, string name)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read from the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var close = stat.LastIndexOf(')');
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var fields = stat[(close + 2)..].Split(' ');
                if (open > 0 && stat[(open + 1)..close] == name && int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    return true;
                }
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // Not a process directory, or the process ended while it was read.
            }
        }

        return false;
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    private static ScriptRun Start(string scratch, string script)
    {
        var start = new ProcessStartInfo("bash", [script, "tokens", "list"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PATH"] = Path.Combine(scratch, "bin") + ":" + Environment.GetEnvironmentVariable("PATH");
        start.Environment.Remove("Tokenizer__DataDirectory");
        return new ScriptRun(Process.Start(start)!);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tokenizer.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Tokenizer.sln not found above the test assembly");
    }

    private sealed record Run(int Code, string Output, string Error);

    private sealed class ScriptRun(Process process) : IDisposable
    {
        private readonly Task<string> output = process.StandardOutput.ReadToEndAsync();
        private readonly Task<string> error = process.StandardError.ReadToEndAsync();

        public Process Process => process;

        public async Task<Run> EndAsync()
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync(bound.Token);
            return new Run(process.ExitCode, await output, await error);
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }
}
