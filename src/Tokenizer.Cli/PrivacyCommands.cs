using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer privacy export|correct|erase|status</c>, over tokenizer.v1.PrivacyService (admin role). Personal data
/// never travels in arguments: corrections are read as JSON from standard input, and an export is written only to a new
/// file (mode 0600). Exit codes: 0 success, 3 a correction the gateway refused for some token or an erasure that is not
/// finished (run it again later), 1 the server answered with an error, 2 bad usage (e.g. the output file exists).
/// </summary>
public static class PrivacyCommands
{
    /// <summary>Exit code of <c>privacy correct</c> when at least one token was not updated.</summary>
    public const int ExitPartial = 3;

    /// <summary>
    /// Exit code of <c>privacy erase</c> when the erasure is not finished (it stopped at <c>detaching</c>: a setup at the
    /// gateway is still processing, or a tokenisation for the person that started before it is still in flight); running it again later resumes it. Same value as <see cref="ExitPartial"/>: the
    /// command did its part, and the rest is to repeat.
    /// </summary>
    public const int ExitNotFinished = ExitPartial;

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>The <c>privacy</c> command; <paramref name="channel"/> and <paramref name="json"/> are the root's recursive options.</summary>
    public static Command Build(CliChannel channel, Option<bool> json, TextReader input, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);

        var privacy = new Command("privacy", "Answer a data subject's request: export, correct or erase what is held about one customer (admin role)");
        var customer = new Option<string>("--customer") { Description = "customer_reference of the person", Required = true };
        var key = new Option<string?>("--idempotency-key") { Description = "Idempotency key (default: a new random key, shown when a call fails in a way a retry could mend; reuse it to retry safely)" };

        var outFile = new Option<string>("--out") { Description = "The new file (mode 0600) the export is written to, as JSON; removed again if the export fails", Required = true }.CreatesFile();
        var export = new Command("export", "Write everything held about the person (tokens, billing details, gateway Customer, audit events) to --out");
        export.Options.Add(customer);
        export.Options.Add(outFile);
        export.SetAction((result, ct) => RunAsync(result, error, () => channel.Open(result, "admin"), async client =>
        {
            // The file first: an existing file stops the command before anything is read (and audited).
            var path = result.GetValue(outFile)!;
            ExportSubjectDataResponse response;
            var file = AuditCommands.CreateExportFile(path);
            var done = false;
            try
            {
                response = await client.ExportSubjectDataAsync(
                    new ExportSubjectDataRequest { CustomerReference = result.GetValue(customer) ?? string.Empty }, cancellationToken: ct);
                await file.WriteAsync(Formatter.Format(response).AsMemory(), ct);
                await file.WriteLineAsync();
                await file.FlushAsync(ct);
                done = true;
            }
            finally
            {
                await file.DisposeAsync();
                if (!done)
                {
                    // Only the file this run created: a retry must not meet "already exists".
                    File.Delete(path);
                }
            }

            await error.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"exported {response.Tokens.Count} tokens and {response.AuditEvents.Count} audit events of {response.SubjectPseudonym} to {SensitiveDataScrubber.Scrub(path)}"));
            return 0;
        }));

        var correct = new Command("correct", "Correct the person's billing details here and at the gateway. stdin JSON: {\"name\",\"email\",\"phone\",\"address\":{...}}; only the fields given change");
        correct.Options.Add(customer);
        correct.Options.Add(key);
        correct.SetAction((result, ct) => RunAsync(result, error, () => channel.Open(result, "admin"), async client =>
        {
            var billing = new CliConsole(input, output, error).ReadBillingDetails();
            var response = await client.CorrectSubjectDataAsync(
                new CorrectSubjectDataRequest
                {
                    CustomerReference = result.GetValue(customer) ?? string.Empty,
                    IdempotencyKey = CliErrors.IdempotencyKey(result, key, "N"),
                    BillingDetails = billing,
                },
                cancellationToken: ct);
            if (result.GetValue(json))
            {
                output.WriteLine(Formatter.Format(response));
            }
            else
            {
                CliTerminal.WriteTable(
                    output,
                    headers: null,
                    response.Results.Select(row => new[] { row.Token, Name(row.Outcome), row.Reason }).Prepend(["subject", response.SubjectPseudonym]),
                    gap: 2);
                if (response.Results.Count == 0)
                {
                    output.WriteLine("no active token: nothing was corrected (revoked tokens are not corrected: Stripe updates attached payment methods only)");
                }
            }

            return response.Results.All(r => r.Outcome == CorrectionOutcome.Updated) ? 0 : ExitPartial;
        }));

        var reason = new Option<string?>("--reason") { Description = "Why (checked, at most 200 characters, but not stored: it could name the person)" };
        var erase = new Command("erase", "Erase the person: detach every PaymentMethod, delete the gateway Customer, revoke the tokens, destroy the data key. Idempotent: run again to resume");
        erase.Options.Add(customer);
        erase.Options.Add(key);
        erase.Options.Add(reason);
        erase.SetAction((result, ct) => RunAsync(result, error, () => channel.Open(result, "admin"), async client =>
        {
            var response = await client.EraseSubjectAsync(
                new EraseSubjectRequest
                {
                    CustomerReference = result.GetValue(customer) ?? string.Empty,
                    IdempotencyKey = CliErrors.IdempotencyKey(result, key, "N"),
                    Reason = result.GetValue(reason) ?? string.Empty,
                },
                cancellationToken: ct);
            PrintStatus(output, response.SubjectPseudonym, response.Status, result.GetValue(json));
            if (response.Status.State == ErasureState.Completed)
            {
                return 0;
            }

            // Not an error (nothing failed, nothing to fix), but not done either: a script must not read it as done.
            var why = response.Status.State == ErasureState.Detaching
                ? "it waits for a payment method's setup still processing at the gateway (a Bacs mandate being registered takes a few business days; the Customer is kept until it settles), or for a tokenisation or correction for this person that started before the erasure and has not finished (a tokenisation cut off by a crash is settled by the recovery worker, a correction cut off stops counting after its 2-minute lease); the server log says which"
                : "it stopped before its end";
            return CliErrors.NotFinished(
                error,
                result.GetValue(json),
                ExitNotFinished,
                $"erasure not finished ({Name(response.Status.State)}): {why}; run the same `tokenizer privacy erase` again later (`tokenizer privacy status` shows where it stands)");
        }));

        var status = new Command("status", "Where the person's erasure stands");
        status.Options.Add(customer);
        status.SetAction((result, ct) => RunAsync(result, error, () => channel.Open(result, "admin"), async client =>
        {
            var response = await client.GetErasureStatusAsync(
                new GetErasureStatusRequest { CustomerReference = result.GetValue(customer) ?? string.Empty }, cancellationToken: ct);
            PrintStatus(output, response.SubjectPseudonym, response.Status, result.GetValue(json));
            return 0;
        }));

        privacy.Subcommands.Add(export);
        privacy.Subcommands.Add(correct);
        privacy.Subcommands.Add(erase);
        privacy.Subcommands.Add(status);
        return privacy;
    }

    private static void PrintStatus(TextWriter output, string subject, ErasureStatus status, bool json)
    {
        if (json)
        {
            output.WriteLine(Formatter.Format(new GetErasureStatusResponse { SubjectPseudonym = subject, Status = status }));
            return;
        }

        var rows = new List<(string, string)>
        {
            ("subject", subject),
            ("erasure", Name(status.State)),
            ("payment methods detached", status.PaymentMethodsDetached.ToString(CultureInfo.InvariantCulture)),
        };
        if (status.PaymentMethodsNotCleared > 0)
        {
            // Only when there are some: the line tells the operator to act (the gateway still holds their details).
            rows.Add(("payment methods not cleared", status.PaymentMethodsNotCleared.ToString(CultureInfo.InvariantCulture)
                + " (the gateway keeps their billing details: ask it to erase them; the server log names them)"));
        }
        if (status.CompletedAt is { } completed)
        {
            rows.Add(("completed at", completed.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture)));
        }
        if (status.UsedAgainAt is { } usedAgain)
        {
            rows.Add(("used again at", usedAgain.ToDateTimeOffset().ToString("O", CultureInfo.InvariantCulture)
                + " (tokenised again after the erasure: it holds data again, which `tokenizer privacy erase` would erase)"));
        }

        CliTerminal.WriteFields(output, rows);
    }

    private static string Name(ErasureState state) => state switch
    {
        ErasureState.None => "none",
        ErasureState.Detaching => "detaching",
        ErasureState.DeletingCustomer => "deleting customer",
        ErasureState.DestroyingKey => "destroying key",
        ErasureState.Completed => "completed",
        _ => "unknown",
    };

    private static string Name(CorrectionOutcome outcome) => outcome switch
    {
        CorrectionOutcome.Updated => "updated",
        CorrectionOutcome.GatewayRefused => "REFUSED by the gateway",
        CorrectionOutcome.GatewayUnavailable => "gateway unavailable (run the correction again with a new --idempotency-key, or none; the same key replays this answer)",
        _ => "unknown",
    };

    private static Task<int> RunAsync(ParseResult result, TextWriter error, Func<GrpcChannel> open, Func<PrivacyService.PrivacyServiceClient, Task<int>> call) =>
        AuditCommands.RunAsync(result, error, open, channel => new PrivacyService.PrivacyServiceClient(channel), call);
}
