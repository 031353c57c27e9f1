using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using Grpc.Net.Client;
using Tokenizer.Cli.Reports;
using Tokenizer.Contracts.V1;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using TokenType = Tokenizer.Contracts.V1.TokenType;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer reconcile --from --to [--customer] [--type] --format csv|json|html --out FILE</c> (finance role): starts a
/// reconciliation run (or follows <c>--run</c>), shows its progress on standard error, and writes the report when it
/// completes. Exit codes: 0 every token matched, 3 discrepancies found (the report lists them), 1 the server answered
/// with an error or the run failed, 2 bad usage (e.g. the output file exists).
/// </summary>
public static class ReconcileCommand
{
    /// <summary>Exit code when the run found anything but matched.</summary>
    public const int ExitDiscrepancies = 3;

    private const int ItemPageSize = 1000;

    // The longest period the server accepts (ReconciliationFilter.to: at most 366 days after from).
    private const int MaxPeriodDays = 366;

    /// <summary>The command; <paramref name="channel"/> is the root's connection options.</summary>
    public static Command Build(CliChannel channel, TextWriter output, TextWriter error, TimeSpan? pollInterval = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var poll = pollInterval ?? TimeSpan.FromMilliseconds(500);
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
        var customer = new Option<string?>("--customer") { Description = "Only this customer_reference" };
        var type = new Option<string?>("--type") { Description = "Only this token type" };
        type.AcceptOnlyFromAmong("card", "au_becs_debit", "sepa_debit", "bacs_debit", "us_bank_account");
        var format = new Option<string>("--format") { Description = "csv (spreadsheets), html (people) or json (machines)", Required = true };
        format.AcceptOnlyFromAmong("csv", "json", "html");
        var outFile = new Option<string>("--out") { Description = "The report file to create (mode 0600); never overwritten", Required = true }.CreatesFile();
        var run = new Option<string?>("--run") { Description = "Report an existing run (its id) instead of starting one" };
        var key = new Option<string?>("--idempotency-key") { Description = "Reuse to follow the run a lost invocation started (default: new)" };

        var command = new Command("reconcile", "Compare the ledger's tokens with the gateway for a period and write a report (finance role)");
        foreach (var option in new Option[] { from, to, customer, type, format, outFile, run, key })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            // GetResult, not GetValue: a value its parser refused must not be read here (it throws).
            if (result.GetResult(run) is null && (result.GetResult(from) is null || result.GetResult(to) is null))
            {
                result.AddError("--from and --to are required unless --run names an existing run");
            }
        });

        command.SetAction((result, ct) => CliErrors.RunAsync(result, error, async () =>
        {
            // The period before anything else: a period the server would refuse is bad usage, said before any call.
            if (result.GetValue(run) is null)
            {
                CliInput.CheckPeriod(result.GetValue(from), result.GetValue(to), MaxPeriodDays);
            }

            // The report file next: a run (gateway requests, audit records) must not be spent on a report that then
            // cannot be written. Removed again when no report is written into it.
            var path = result.GetValue(outFile)!;
            var file = AuditCommands.CreateNewFile(path, "--out");
            var written = false;
            try
            {
                using var grpc = channel.Open(result, "finance");
                var client = new ReconciliationService.ReconciliationServiceClient(grpc);
                var runId = result.GetValue(run) ?? await StartAsync(client, result, from, to, customer, type, key, error, ct);
                var summary = await WaitAsync(client, runId, error, poll, ct);
                if (summary.Reconciliation.State == ReconciliationState.Failed)
                {
                    await error.WriteLineAsync($"error: reconciliation {runId} failed: {summary.Reconciliation.ErrorReason}");
                    return 1;
                }

                var source = new ReconciliationReportSource(summary, category => ItemsAsync(client, runId, category, ct));
                _ = result.GetValue(format) switch
                {
                    "csv" => await CsvReport.WriteAsync(source, file, ct),
                    "json" => await JsonReport.WriteAsync(source, file, ct),
                    _ => await HtmlReport.WriteAsync(source, file, ct),
                };
                written = true;

                var r = summary.Reconciliation;
                await output.WriteLineAsync(string.Create(
                    CultureInfo.InvariantCulture,
                    $"reconciliation {runId}: {r.ItemsTotal} tokens, {r.Discrepancies} discrepancies; report written to {path}"));
                return r.Discrepancies == 0 ? 0 : ExitDiscrepancies;
            }
            finally
            {
                await file.DisposeAsync();
                if (!written)
                {
                    File.Delete(path);
                }
            }
        }));
        return command;
    }

    private static async Task<string> StartAsync(
        ReconciliationService.ReconciliationServiceClient client,
        ParseResult result,
        Option<DateTimeOffset?> from,
        Option<DateTimeOffset?> to,
        Option<string?> customer,
        Option<string?> type,
        Option<string?> key,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        var response = await client.StartReconciliationAsync(
            new StartReconciliationRequest
            {
                Filter = new ReconciliationFilter
                {
                    From = Timestamp.FromDateTimeOffset(result.GetValue(from)!.Value),
                    To = Timestamp.FromDateTimeOffset(result.GetValue(to)!.Value),
                    CustomerReference = result.GetValue(customer) ?? string.Empty,
                    Type = WireText.Parse(Server.Grpc.ProtoEnums.TokenType, Core.Domain.TokenTexts.Type, result.GetValue(type)),
                },
                IdempotencyKey = CliErrors.IdempotencyKey(result, key),
            },
            cancellationToken: cancellationToken);
        await error.WriteLineAsync($"reconciliation {response.RunId} {(response.Replayed ? "(already started)" : "started")}");
        return response.RunId;
    }

    // Polls until the run completes or fails; interrupted runs resume on the server, so it keeps waiting for them.
    private static Task<GetReconciliationResponse> WaitAsync(
        ReconciliationService.ReconciliationServiceClient client,
        string runId,
        TextWriter error,
        TimeSpan poll,
        CancellationToken cancellationToken) =>
        ReconcileProgress.ShowAsync(error, async show =>
        {
            while (true)
            {
                var response = await client.GetReconciliationAsync(new GetReconciliationRequest { RunId = runId }, cancellationToken: cancellationToken);
                show(response.Reconciliation);
                if (response.Reconciliation.State is ReconciliationState.Completed or ReconciliationState.Failed)
                {
                    return response;
                }

                await Task.Delay(poll, cancellationToken);
            }
        });

    private static async IAsyncEnumerable<ReconciliationItem> ItemsAsync(
        ReconciliationService.ReconciliationServiceClient client,
        string runId,
        ReconciliationCategory? category,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var pageToken = string.Empty;
        do
        {
            var page = await client.ListReconciliationItemsAsync(
                new ListReconciliationItemsRequest
                {
                    RunId = runId,
                    Category = category ?? ReconciliationCategory.Unspecified,
                    PageSize = ItemPageSize,
                    PageToken = pageToken,
                },
                cancellationToken: cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);
    }
}
