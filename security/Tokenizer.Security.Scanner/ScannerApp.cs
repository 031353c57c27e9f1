using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Security.Scanner;

/// <summary>
/// The card-data scanner's command line: scans files and directories (recursively) for PANs, CVCs near PANs, IBANs and
/// labelled account numbers at rest, and prints one line per finding without ever printing the value.
/// </summary>
internal static class ScannerApp
{
    /// <summary>Exit code: nothing found.</summary>
    public const int Clean = 0;

    /// <summary>Exit code: at least one finding.</summary>
    public const int Found = 1;

    /// <summary>Exit code: bad usage, or a path that could not be read (the scan is incomplete).</summary>
    public const int Error = 2;

    /// <summary>The allowlist next to the tool, used unless <c>--allowlist</c> or <c>--no-allowlist</c> is given.</summary>
    public const string DefaultAllowlistName = "card-data-allowlist.txt";

    private const string Usage = """
        usage: Tokenizer.Security.Scanner [options] PATH...
          Scans files and directories (recursively, symbolic links not followed) for card and bank data at rest:
          Luhn-valid PANs of 12-19 digits (with or without single space/dash separators), CVCs near PANs,
          mod-97-valid IBANs, and account numbers after account-number labels; in every file, as ASCII/UTF-8 and UTF-16LE
          (SQLite databases and WALs record by record: each value on its own, the rest of the file as bytes).
        options:
          --allowlist FILE   published test numbers to ignore, one per line, '#' comments
                             (default: card-data-allowlist.txt next to the tool)
          --no-allowlist     report test numbers too
          --exclude GLOB     skip paths under a directory argument that match, e.g. 'tests/**', '**/bin/**', '*.png'
                             (repeatable; '**' spans directories, a pattern without '/' matches names at any depth)
          -h, --help         this text
        output: 'path:offset: KIND ****last4' per finding (offset in bytes), then a summary line.
        exit code: 0 clean, 1 findings, 2 usage or I/O error.
        """;

    /// <summary>Runs the scanner.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Findings and the summary line.</param>
    /// <param name="error">Usage and I/O errors.</param>
    /// <returns>0 clean, 1 findings, 2 usage or I/O error.</returns>
    [SuppressMessage(
        "Design",
        "CA1031:Do not catch general exception types",
        Justification = "A scanner in a pipeline must end with its documented exit code (2), never an unhandled-exception crash code; only the exception type is printed, never its message (which might quote file contents).")]
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            return RunCore(args, output, error);
        }
        catch (Exception e)
        {
            error.WriteLine($"error: internal failure ({e.GetType().Name})");
            return Error;
        }
    }

    private static int RunCore(string[] args, TextWriter output, TextWriter error)
    {
        if (!TryParse(args, out var options, out var problem))
        {
            if (problem is not null)
            {
                error.WriteLine("error: " + problem);
            }

            error.WriteLine(Usage);
            return problem is null ? Clean : Error;
        }

        Allowlist allowlist;
        try
        {
            allowlist = options.NoAllowlist ? Allowlist.Empty : Allowlist.Load(options.AllowlistPath ?? Path.Combine(AppContext.BaseDirectory, DefaultAllowlistName));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine($"error: cannot use the allowlist: {(e is FormatException ? e.Message : e.GetType().Name)}");
            return Error;
        }

        var run = new ScanRun(new CardDataScanner(allowlist), options.Excludes, output, error);
        foreach (var path in options.Paths)
        {
            run.ScanArgument(path);
        }

        var findings = run.FindingCount;
        var kinds = string.Join(", ", run.CountsByKind.OrderBy(k => k.Key).Select(k => $"{Finding.KindName(k.Key)} {k.Value}"));
        var result = findings == 0 ? "clean" : string.Create(CultureInfo.InvariantCulture, $"{findings} finding(s) ({kinds}) in {run.FilesWithFindings} file(s)");
        var unreadable = run.Errors > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {run.Errors} path(s) unreadable") : string.Empty;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"card-data scan: {result}; {run.FilesScanned} file(s), {run.BytesScanned} bytes scanned; {run.Scanner.AllowlistedCount} allowlisted{unreadable}"));
        return run.Errors > 0 ? Error : findings > 0 ? Found : Clean;
    }

    /// <summary>Parses the command line; false with a null problem for --help.</summary>
    internal static bool TryParse(string[] args, out ScanOptions options, out string? problem)
    {
        options = new ScanOptions();
        problem = null;
        var onlyPaths = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (onlyPaths || !arg.StartsWith('-') || arg == "-")
            {
                options.Paths.Add(arg);
                continue;
            }

            switch (arg)
            {
                case "--":
                    onlyPaths = true;
                    break;
                case "-h" or "--help":
                    return false;
                case "--no-allowlist":
                    options.NoAllowlist = true;
                    break;
                case "--allowlist" or "--exclude" when i + 1 >= args.Length:
                    problem = $"{arg} needs a value";
                    return false;
                case "--allowlist":
                    options.AllowlistPath = args[++i];
                    break;
                case "--exclude":
                    var glob = args[++i];
                    if (string.IsNullOrWhiteSpace(glob))
                    {
                        problem = "--exclude needs a non-empty pattern";
                        return false;
                    }

                    options.Excludes.Add(new PathGlob(glob));
                    break;
                default:
                    problem = $"unknown option {arg}";
                    return false;
            }
        }

        if (options.NoAllowlist && options.AllowlistPath is not null)
        {
            problem = "--allowlist and --no-allowlist exclude each other";
            return false;
        }

        if (options.Paths.Count == 0)
        {
            problem = "no PATH to scan";
            return false;
        }

        return true;
    }

    /// <summary>One scan over all path arguments: walks, scans, prints, counts.</summary>
    private sealed class ScanRun(CardDataScanner scanner, List<PathGlob> excludes, TextWriter output, TextWriter error)
    {
        public CardDataScanner Scanner => scanner;

        public int FindingCount { get; private set; }

        public Dictionary<SensitiveDataKind, int> CountsByKind { get; } = [];

        public int FilesWithFindings { get; private set; }

        public int FilesScanned { get; private set; }

        public long BytesScanned { get; private set; }

        public int Errors { get; private set; }

        public void ScanArgument(string path)
        {
            if (File.Exists(path))
            {
                ScanFile(path);
            }
            else if (Directory.Exists(path))
            {
                ScanDirectory(new DirectoryInfo(path), string.Empty);
            }
            else
            {
                Fail(path, "no such file or directory");
            }
        }

        private void ScanDirectory(DirectoryInfo directory, string relative)
        {
            List<FileSystemInfo> entries;
            try
            {
                entries = [.. directory.EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false })
                    .OrderBy(e => e.Name, StringComparer.Ordinal)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(directory.FullName, e.GetType().Name);
                return;
            }

            foreach (var entry in entries)
            {
                // Symbolic links are not followed: no loops, nothing outside the tree.
                if (entry.LinkTarget is not null)
                {
                    continue;
                }

                var entryRelative = relative.Length == 0 ? entry.Name : relative + "/" + entry.Name;
                var isDirectory = entry is DirectoryInfo;
                if (excludes.Exists(glob => glob.Matches(entryRelative, isDirectory)))
                {
                    continue;
                }

                if (entry is DirectoryInfo subdirectory)
                {
                    ScanDirectory(subdirectory, entryRelative);
                }
                else
                {
                    ScanFile(entry.FullName);
                }
            }
        }

        private void ScanFile(string path)
        {
            var display = DisplayPath(path);
            IReadOnlyList<Finding> findings;
            try
            {
                // An empty file holds nothing to find, and is not opened: a running service's lock files (opened
                // FileShare.None, e.g. the sandbox's .lock) are empty, and opening them would fail.
                if (new FileInfo(path).Length == 0)
                {
                    FilesScanned++;
                    return;
                }

                findings = scanner.Scan(path, display);
                FilesScanned++;
                BytesScanned += new FileInfo(path).Length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(display, e.GetType().Name);
                return;
            }

            foreach (var finding in findings)
            {
                output.WriteLine(finding.ToString());
                CountsByKind[finding.Kind] = CountsByKind.GetValueOrDefault(finding.Kind) + 1;
            }

            FindingCount += findings.Count;
            FilesWithFindings += findings.Count > 0 ? 1 : 0;
        }

        private void Fail(string path, string reason)
        {
            Errors++;
            error.WriteLine($"error: {path}: {reason}");
        }

        /// <summary>Relative to the working directory when inside it, '/'-separated.</summary>
        private static string DisplayPath(string path)
        {
            var full = Path.GetFullPath(path);
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
            var inside = !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
            return (inside ? relative : full).Replace(Path.DirectorySeparatorChar, '/');
        }
    }
}

/// <summary>The parsed command line.</summary>
internal sealed class ScanOptions
{
    public List<string> Paths { get; } = [];

    public List<PathGlob> Excludes { get; } = [];

    public string? AllowlistPath { get; set; }

    public bool NoAllowlist { get; set; }
}
