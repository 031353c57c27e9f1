using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer tokens watch</c>: streams token events (WatchTokenEvents) and prints one line per event, oldest first:
/// <c>CURSOR OCCURRED_AT KIND TOKEN</c>, plus <c>BRAND LAST4 MM/YYYY</c> for card_updated (with <c>--json</c>, one JSON
/// object per line). Runs until interrupted (exit 0, also while it waits to reconnect). When the server ends the stream
/// (UNAVAILABLE: shutting down or unreachable) it reconnects after the last cursor printed, so nothing is printed twice
/// and nothing is skipped, waiting 1, 2, 4, 8, 16 s before the attempts; after <see cref="MaxReconnects"/> failed
/// attempts in a row (an event printed starts the count again) it stops (exit 1) and says which <c>--after</c> resumes.
/// </summary>
public static class WatchCommand
{
    /// <summary>Reconnection attempts in a row (without an event in between) before the command gives up.</summary>
    public const int MaxReconnects = 5;

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    /// <summary>The <c>watch</c> subcommand of <c>tokens</c>; the billing certificate by default (its own tokens' events).</summary>
    public static Command Build(CliChannel channel, Option<bool> json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var after = new Option<string?>("--after") { Description = "Resume after this cursor (the first column of a line printed earlier); default: from the oldest event kept" };
        var count = new Option<int?>("--count")
        {
            Description = "Stop after this many events, 1-1000000 (default: run until interrupted)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 1_000_000)
                {
                    return value;
                }

                result.AddError("--count: must be a whole number from 1 to 1000000");
                return null;
            },
        };
        var watch = new Command(
            "watch",
            "Print token events as they happen, one line each (billing certificate: its own tokens; --cert finance: all). Resume with --after CURSOR");
        watch.Options.Add(after);
        watch.Options.Add(count);
        watch.SetAction((result, ct) => CliErrors.RunAsync(result, error, async () =>
        {
            var cursor = result.GetValue(after) ?? string.Empty;
            var asJson = result.GetValue(json);
            var remaining = result.GetValue(count) ?? int.MaxValue;
            var failures = 0;
            var printed = false;
            while (true)
            {
                try
                {
                    using var grpc = channel.Open(result, "billing");
                    var client = new TokenizerService.TokenizerServiceClient(grpc);
                    using var call = client.WatchTokenEvents(new WatchTokenEventsRequest { After = cursor }, cancellationToken: ct);
                    while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
                    {
                        var item = call.ResponseStream.Current;
                        Print(output, item, asJson);
                        cursor = item.Cursor;
                        printed = true;
                        failures = 0;
                        if (--remaining == 0)
                        {
                            return 0;
                        }
                    }

                    return 0;
                }
                catch (Exception e) when (ct.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
                {
                    // Interrupted (Ctrl+C): everything received was printed.
                    return 0;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && ++failures <= MaxReconnects)
                {
                    // Only a cursor the server sent is repeated: never a value the user typed.
                    await error.WriteLineAsync(printed
                        ? $"stream ended (UNAVAILABLE); reconnecting after {cursor}"
                        : "stream ended (UNAVAILABLE); reconnecting").ConfigureAwait(false);
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << (failures - 1))), ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        // Interrupted while waiting to reconnect: as above, everything received was printed.
                        return 0;
                    }
                }
                catch (RpcException) when (printed)
                {
                    await error.WriteLineAsync($"to resume: tokens watch --after {cursor}").ConfigureAwait(false);
                    throw;
                }
            }
        }));
        return watch;
    }

    /// <summary>
    /// The <c>events</c> subcommand of <c>tokens</c>: one page of ListTokenEvents after <c>--after</c> (default: from the
    /// oldest event kept), <c>--page-size</c> 1-500 (default 100), printed as <c>watch</c> prints them; the billing
    /// certificate by default (its own tokens' events; <c>--cert</c> finance: all). A full page ends with a line on
    /// standard error naming the <c>--after</c> of the next page; <c>--json</c> prints the whole response (events and
    /// <c>next_cursor</c>) as one JSON object.
    /// </summary>
    public static Command BuildList(CliChannel channel, Option<bool> json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var after = new Option<string?>("--after") { Description = "The page after this cursor (the first column of a line printed earlier); default: from the oldest event kept" };
        var pageSize = new Option<int>("--page-size")
        {
            Description = "Events per page, 1-500 (default 100)",
            DefaultValueFactory = _ => 100,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 500)
                {
                    return value;
                }

                result.AddError("--page-size: must be a whole number from 1 to 500");
                return 0;
            },
        };
        var events = new Command(
            "events",
            "Print one page of token events, oldest first, one line each (billing certificate: its own tokens; --cert finance: all). Next page: --after CURSOR");
        events.Options.Add(after);
        events.Options.Add(pageSize);
        events.SetAction((result, ct) => CliErrors.RunAsync(result, error, async () =>
        {
            using var grpc = channel.Open(result, "billing");
            var client = new TokenizerService.TokenizerServiceClient(grpc);
            var size = result.GetValue(pageSize);
            var page = await client.ListTokenEventsAsync(
                new ListTokenEventsRequest { After = result.GetValue(after) ?? string.Empty, PageSize = size },
                cancellationToken: ct).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                await output.WriteLineAsync(Formatter.Format(page)).ConfigureAwait(false);
                return 0;
            }

            foreach (var item in page.Events)
            {
                Print(output, item, json: false);
            }

            if (page.Events.Count == size)
            {
                // Only a cursor the server sent is repeated: never a value the user typed.
                await error.WriteLineAsync($"more may follow: tokens events --after {page.NextCursor}").ConfigureAwait(false);
            }

            return 0;
        }));
        return events;
    }

    /// <summary>One event as one line.</summary>
    internal static void Print(TextWriter output, TokenEvent item, bool json)
    {
        if (json)
        {
            output.WriteLine(Formatter.Format(item));
            output.Flush();
            return;
        }

        var occurred = item.OccurredAt?.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) ?? "-";
        var kind = KindName(item.Kind);
        var line = $"{item.Cursor} {occurred} {kind} {item.Token}";
        if (item.Card is { } card)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" {Or(card.Brand)} {Or(card.Last4)} {card.ExpMonth:D2}/{card.ExpYear:D4}");
        }

        output.WriteLine(line);
        output.Flush();
    }

    private static string Or(string value) => value.Length > 0 ? value : "-";

    private static string KindName(TokenEventKind kind) =>
        WireText.Of(Server.Grpc.ProtoEnums.TokenEventKind, Core.Ports.TokenEventKinds.Texts, kind, "unknown");
}
