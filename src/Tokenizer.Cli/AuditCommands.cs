using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer audit verify</c> and <c>tokenizer audit export</c>, over tokenizer.v1.AuditService (admin role);
/// <c>audit verify --offline</c> reads a stopped server's SQLite ledger read-only instead (<see cref="OfflineAuditVerification"/>).
/// Exit codes: 0 success (verify: the trail is intact), 4 verify found a broken record, 1 the server answered with an
/// error (offline: the ledger could not be read), 2 bad usage (e.g. the output file exists, no ledger or key found).
/// </summary>
public static class AuditCommands
{
    /// <summary>Exit code of <c>audit verify</c> when the chain is broken.</summary>
    public const int ExitBroken = 4;

    private const int MacLength = 32;

    // Every field on every line, so each JSON line has the same keys (empty strings for absent values).
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>
    /// The <c>audit</c> command and its subcommands. <paramref name="channel"/> and <paramref name="json"/> are the
    /// root's recursive options; output and errors go to the writers given.
    /// </summary>
    public static Command Build(CliChannel channel, Option<bool> json, TextWriter output, TextWriter error) =>
        Build(channel, json, output, error, Environment.GetEnvironmentVariable);

    /// <summary>As <see cref="Build(CliChannel, Option{bool}, TextWriter, TextWriter)"/>; <paramref name="environment"/> reads the variables <c>--offline</c> takes its keys and data directory from.</summary>
    public static Command Build(CliChannel channel, Option<bool> json, TextWriter output, TextWriter error, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var audit = new Command("audit", "Verify or export the tamper-evident audit trail (admin role)");

        var anchor = new Option<AnchorValue?>("--anchor")
        {
            Description = "SEQUENCE:HEX_MAC of a head printed by an earlier verify, kept elsewhere: detects deleted newest records",
            CustomParser = ParseAnchor,
        };
        var offline = new Option<bool>("--offline")
        {
            Description = "Verify a stopped server's SQLite ledger directly, read-only (when start-up refuses a broken trail); "
                + "keys from Tokenizer__AuditHmacSecret and Tokenizer__AuditHmacPreviousSecrets__N, else {data}/secrets/audit-hmac.key",
        };
        var dataDirectory = new Option<string?>("--data-directory")
        {
            Description = $"With --offline: the server's data directory (default: ${CliApp.DataDirectoryVariable}, else data)",
        };
        var anchorFile = new Option<string?>("--anchor-file")
        {
            Description = "With --offline: the anchor file of the File anchor store (default: {data}/anchor/audit-anchor.json)",
        };
        var verify = new Command("verify", "Recompute the HMAC chain and name the first broken record (exit 0 intact, 4 broken)");
        verify.Options.Add(anchor);
        verify.Options.Add(offline);
        verify.Options.Add(dataDirectory);
        verify.Options.Add(anchorFile);
        verify.SetAction((result, ct) => result.GetValue(offline)
            ? CliErrors.RunAsync(result, error, async () =>
            {
                var report = await OfflineAuditVerification.VerifyAsync(
                    result.GetValue(dataDirectory), result.GetValue(anchorFile), result.GetValue(anchor), environment, ct);
                PrintVerification(output, report, result.GetValue(json));
                return report.Intact ? 0 : ExitBroken;
            })
            : RunAsync(result, error, () => channel.Open(result, "admin"), async client =>
        {
            if (result.GetValue(dataDirectory) is not null || result.GetValue(anchorFile) is not null)
            {
                throw new CliInputException("--data-directory and --anchor-file need --offline");
            }

            var request = new VerifyAuditTrailRequest();
            if (result.GetValue(anchor) is { } value)
            {
                request.AnchorSequence = value.Sequence;
                request.AnchorMac = ByteString.CopyFrom(value.Mac);
            }

            var response = await client.VerifyAuditTrailAsync(request, cancellationToken: ct);
            PrintVerification(output, response, result.GetValue(json));
            return response.Intact ? 0 : ExitBroken;
        }));

        var from = new Option<DateTimeOffset?>("--from")
        {
            Description = "First UTC day of the period, inclusive (e.g. 2026-11-01), or an ISO 8601 date-time with Z or an offset (e.g. 2026-11-01T12:00:00Z)",
            CustomParser = result => CliInput.ParseTime(result, "--from", lastDay: false),
        };
        var to = new Option<DateTimeOffset?>("--to")
        {
            Description = "Last UTC day of the period, inclusive (e.g. 2026-11-30); or an ISO 8601 date-time with Z or an offset, exclusive",
            CustomParser = result => CliInput.ParseTime(result, "--to", lastDay: true),
        };
        var outFile = new Option<string?>("--out") { Description = "Write to this new file (mode 0600) instead of standard output; removed again if the export fails" }.CreatesFile();
        var export = new Command("export", "Write the records whose time lies in the period (--from up to and including the --to day) as JSON lines, oldest first");
        export.Options.Add(from);
        export.Options.Add(to);
        export.Options.Add(outFile);
        export.SetAction((result, ct) => CliErrors.RunAsync(result, error, async () =>
        {
            // The period first: one the server would refuse is bad usage, said before any file or call.
            CliInput.CheckPeriod(result.GetValue(from), result.GetValue(to), maxDays: null);
            var request = new ExportAuditEventsRequest
            {
                From = result.GetValue(from) is { } f ? Timestamp.FromDateTimeOffset(f) : null,
                To = result.GetValue(to) is { } t ? Timestamp.FromDateTimeOffset(t) : null,
            };
            var path = result.GetValue(outFile);
            var file = path is null ? null : new StreamWriter(CreateNewFile(path, "--out"));
            var done = false;
            try
            {
                using var grpc = channel.Open(result, "admin");
                var client = new AuditService.AuditServiceClient(grpc);
                var writer = file ?? output;
                using var call = client.ExportAuditEvents(request, cancellationToken: ct);
                var count = 0L;
                await foreach (var message in call.ResponseStream.ReadAllAsync(ct))
                {
                    await writer.WriteLineAsync(Formatter.Format(message.Event).AsMemory(), ct);
                    count++;
                }

                await writer.FlushAsync(ct);
                done = true;
                if (path is not null)
                {
                    await error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"exported {count} audit events to {SensitiveDataScrubber.Scrub(path)}"));
                }

                return 0;
            }
            finally
            {
                if (file is not null)
                {
                    await file.DisposeAsync();
                    if (!done)
                    {
                        // Only the file this run created: a retry must not meet "already exists" for an empty export.
                        File.Delete(path!);
                    }
                }
            }
        }));

        audit.Subcommands.Add(verify);
        audit.Subcommands.Add(export);
        return audit;
    }

    private static Task<int> RunAsync(ParseResult result, TextWriter error, Func<GrpcChannel> open, Func<AuditService.AuditServiceClient, Task<int>> call) =>
        RunAsync(result, error, open, channel => new AuditService.AuditServiceClient(channel), call);

    /// <summary>
    /// Opens the channel, makes the call with a client of it; exit code from the call, or the failure reported by
    /// <see cref="CliErrors"/> (1 for a server error, 2 for bad usage). Shared with <see cref="PrivacyCommands"/>.
    /// </summary>
    internal static Task<int> RunAsync<TClient>(
        ParseResult result,
        TextWriter error,
        Func<GrpcChannel> open,
        Func<GrpcChannel, TClient> client,
        Func<TClient, Task<int>> call) =>
        CliErrors.RunAsync(result, error, async () =>
        {
            using var channel = open();
            return await call(client(channel));
        });

    private static void PrintVerification(TextWriter output, VerifyAuditTrailResponse response, bool json)
    {
        if (json)
        {
            output.WriteLine(Formatter.Format(response));
            return;
        }

        var rows = new List<(string, string)> { ("intact", response.Intact ? "yes" : "NO") };
        if (!response.Intact)
        {
            if (response.FirstBrokenSequence > 0)
            {
                rows.Add(("first broken record", response.FirstBrokenSequence.ToString(CultureInfo.InvariantCulture)));
            }

            rows.Add(("problem", response.Problem));

            // Every broken record the walk found, not only the first: a second forgery behind the first is listed too.
            foreach (var broken in response.Broken)
            {
                rows.Add(("broken record", string.Create(CultureInfo.InvariantCulture, $"{broken.Sequence} {broken.Problem}")));
            }

            // The table itself: a foreign trigger or a changed definition, which no record's MAC shows.
            foreach (var problem in response.TableProblems)
            {
                rows.Add(("table problem", problem));
            }

            if (response.BrokenCount > response.Broken.Count)
            {
                rows.Add(("broken records", string.Create(
                    CultureInfo.InvariantCulture,
                    $"{response.BrokenCount} in all; the first {response.Broken.Count} are listed")));
            }
        }

        rows.Add(("records checked", response.RecordsChecked.ToString(CultureInfo.InvariantCulture)));
        rows.Add(("compared with anchor", response.AnchorSequence > 0 ? response.AnchorSequence.ToString(CultureInfo.InvariantCulture) : "none"));
        if (response.Intact)
        {
            rows.Add(("head", response.HeadSequence.ToString(CultureInfo.InvariantCulture)));
            rows.Add(("anchor", string.Create(
                CultureInfo.InvariantCulture,
                $"{response.HeadSequence}:{Convert.ToHexStringLower(response.HeadMac.Span)}")));
        }
        else
        {
            // Nothing from the first broken record on is proven by this check, even where later MACs recompute (an
            // anchor mismatch: the chain verifies under the key but no longer passes through the anchored record).
            // Only the table changed (first broken record 0): every record verified up to the head.
            var lastIntact = response.FirstBrokenSequence > 0 ? Math.Min(response.HeadSequence, response.FirstBrokenSequence - 1) : response.HeadSequence;
            if (response.Broken.Any(b => b.Problem == AuditProblems.AnchorMismatch))
            {
                // The chain no longer passes through the anchored record: a key holder may have rewritten any record up
                // to it and re-signed the rest, so nothing after an older anchor you hold is proven.
                rows.Add(("last intact record", "not known: the chain does not pass through the anchored record; compare with an older anchor (--anchor)"));
                rows.Add(("not proven", string.Create(
                    CultureInfo.InvariantCulture,
                    $"records 1 to {Math.Max(response.HeadSequence, response.AnchorSequence)}")));
            }
            else
            {
                rows.Add(("last intact record", lastIntact > 0 ? lastIntact.ToString(CultureInfo.InvariantCulture) : "none"));
            }

            if (response.FirstBrokenSequence > 0 && response.HeadSequence >= response.FirstBrokenSequence && !response.Broken.Any(b => b.Problem == AuditProblems.AnchorMismatch))
            {
                rows.Add(("not proven", string.Create(
                    CultureInfo.InvariantCulture,
                    $"records {response.FirstBrokenSequence} to {response.HeadSequence}: their MACs recompute under the key, but they follow the broken record")));
            }

            rows.Add(("anchor", "none printed for a broken trail; keep the anchor you hold"));
        }

        CliTerminal.WriteFields(output, rows);
    }

    /// <summary>A new text file for <c>--out</c>, owner-only (0600), never an existing one; shared with privacy export.</summary>
    /// <exception cref="CliInputException">The file exists or cannot be created.</exception>
    internal static StreamWriter CreateExportFile(string path) => new(CreateNewFile(path, "--out"));

    /// <summary>A new file, owner-only (0600); never overwrites (exports and reports are evidence).</summary>
    /// <exception cref="CliInputException">The file exists or cannot be created (names <paramref name="option"/> and the path).</exception>
    internal static FileStream CreateNewFile(string path, string option)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            throw new CliInputException($"{option}: must name a file");
        }

        CliInput.CheckNewFilePath(path, option);

        try
        {
            return new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new CliInputException($"{option}: the file already exists; never overwritten");
        }
        catch (Exception problem) when (problem is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliInputException($"{option}: the file cannot be created (its folder must exist and be writable)");
        }
    }

    private static AnchorValue? ParseAnchor(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0
            && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            && sequence >= 1
            && text.Length - colon - 1 == MacLength * 2)
        {
            try
            {
                return new AnchorValue(sequence, Convert.FromHexString(text.AsSpan(colon + 1)));
            }
            catch (FormatException)
            {
                // Reported below.
            }
        }

        result.AddError("--anchor: expected SEQUENCE:HEX_MAC as printed by `tokenizer audit verify` (64 hex digits)");
        return null;
    }

    /// <summary>A parsed <c>--anchor</c>.</summary>
    internal sealed record AnchorValue(long Sequence, byte[] Mac);
}
