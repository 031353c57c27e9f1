using System.Text;
using Tokenizer.Core.Validation;

namespace Tokenizer.Security.Scanner.Tests;

/// <summary>A temporary directory to scan, and the scanner run in-process with its output captured.</summary>
public sealed class ScannerHarness : IDisposable
{
    /// <summary>A Luhn-valid Visa number that is on no allowlist (made here, not published anywhere).</summary>
    public static readonly string Pan = "453957876362148" + Luhn.ComputeCheckDigit("453957876362148");

    /// <summary>A second one, for files that hold two.</summary>
    public static readonly string OtherPan = "550000555500001" + Luhn.ComputeCheckDigit("550000555500001");

    public ScannerHarness() => Root = Directory.CreateTempSubdirectory("tokenizer-scan-").FullName;

    public string Root { get; }

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public string Write(string relative, string text) => WriteBytes(relative, Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string relative, byte[] bytes)
    {
        var path = PathOf(relative.Split('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Runs the scanner; every run also checks that no full PAN from this harness was printed.</summary>
    public static ScanResult Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = ScannerApp.Run(args, output, error);
        var result = new ScanResult(exitCode, output.ToString(), error.ToString());
        foreach (var secret in new[] { Pan, OtherPan })
        {
            Assert.DoesNotContain(secret, result.Output + result.Error, StringComparison.Ordinal);
        }

        return result;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Leftovers in the temp folder are harmless.
        }
    }
}

/// <summary>What a scanner run returned and printed.</summary>
public sealed record ScanResult(int ExitCode, string Output, string Error)
{
    /// <summary>The finding lines (everything before the summary line).</summary>
    public IReadOnlyList<string> Findings => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("card-data scan:", StringComparison.Ordinal)).ToList();

    /// <summary>The summary line.</summary>
    public string Summary => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
}
