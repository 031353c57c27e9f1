using System.Globalization;
using System.Net;
using System.Text;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Reports;

/// <summary>
/// The HTML report finance staff open in a browser: one self-contained file (inline CSS and SVG, no script, no external
/// font, image or stylesheet; a Content-Security-Policy that allows nothing else) with the period as the user asked for
/// it, the run id, the table of every token that is not matched (first: it is what the reader acts on), the summary
/// counts and a chart of tokens per day by category; an empty period says so in words instead. Printable (print styles). The markup is also well-formed XML, so it parses with any XML parser. Every value is encoded.
/// </summary>
public static class HtmlReport
{
    private const int ChartWidth = 960;
    private const int ChartHeight = 300;
    private const int Left = 60;
    private const int Right = 20;
    private const int Top = 20;
    private const int Bottom = 60;

    /// <summary>The colour of each category in the chart and the tables.</summary>
    public static IReadOnlyDictionary<ReconciliationCategory, string> Colours { get; } = new Dictionary<ReconciliationCategory, string>
    {
        [ReconciliationCategory.Matched] = "#2e7d32",
        [ReconciliationCategory.MissingAtGateway] = "#c62828",
        [ReconciliationCategory.MissingInLedger] = "#6a1b9a",
        [ReconciliationCategory.StatusMismatch] = "#ef6c00",
        [ReconciliationCategory.FieldMismatch] = "#1565c0",
        [ReconciliationCategory.Pending] = "#616161",
    };

    /// <summary>Writes the report to <paramref name="stream"/>; returns the discrepancy rows written.</summary>
    public static async Task<long> WriteAsync(ReconciliationReportSource source, Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var html = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true) { NewLine = "\n" };
        var run = source.Summary.Reconciliation;
        var period = Period(run.Filter.From, run.Filter.To);
        var empty = run.ItemsTotal == 0;
        await html.WriteLineAsync($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8" />
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>Reconciliation {{E(run.RunId)}}</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 2em; color: #212121; }
            h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
            table { border-collapse: collapse; margin: 0.5em 0; }
            th, td { border: 1px solid #bdbdbd; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; }
            th { background: #eeeeee; }
            .swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; }
            .ok { color: #2e7d32; } .bad { color: #c62828; font-weight: bold; }
            .empty { font-size: 1.1em; padding: 0.8em 1em; background: #fff8e1; border: 1px solid #ffe082; max-width: 60em; }
            svg text { font-family: inherit; fill: #212121; }
            .nowrap { white-space: nowrap; }
            @media print { body { margin: 0; } tr { page-break-inside: avoid; } }
            </style>
            </head>
            <body>
            <h1>Token reconciliation</h1>
            <table id="run">
            <tr><th>Period</th><td id="period">{{E(period)}}</td></tr>
            <tr><th>Run</th><td id="run-id">{{E(run.RunId)}}</td></tr>
            <tr><th>Customer reference</th><td>{{E(run.Filter.CustomerReference.Length > 0 ? run.Filter.CustomerReference : "all")}}</td></tr>
            <tr><th>Type</th><td>{{E(run.Filter.Type == TokenType.Unspecified ? "all" : ReportText.TypeLabel(run.Filter.Type))}}</td></tr>
            <tr><th>Started by</th><td>{{E(run.StartedBy)}}</td></tr>
            <tr><th>Started</th><td>{{E(Moment(run.CreatedAt))}}</td></tr>
            <tr><th>Completed</th><td>{{E(Moment(run.CompletedAt))}}</td></tr>
            <tr><th>Tokens compared</th><td class="n" id="items-total">{{ReportText.Number(run.ItemsTotal)}}</td></tr>
            <tr><th>Discrepancies</th><td class="n {{(run.Discrepancies == 0 ? "ok" : "bad")}}" id="discrepancies">{{ReportText.Number(run.Discrepancies)}}</td></tr>
            </table>
            """.AsMemory(), cancellationToken);

        if (empty)
        {
            // Said in words: an empty chart and empty tables read as a broken report.
            await html.WriteLineAsync(
                $"<p id=\"empty\" class=\"empty\">No tokens were created in this period{(run.Filter.CustomerReference.Length > 0 || run.Filter.Type != TokenType.Unspecified ? " for this filter" : string.Empty)}: there was nothing to reconcile. Check the period (dates are UTC).</p>".AsMemory(),
                cancellationToken);
        }

        await html.WriteLineAsync("""
            <h2>Discrepancies: everything that is not matched</h2>
            <table id="discrepancy-table">
            <thead><tr><th>Category</th><th>Token</th><th>Type</th><th>Brand or bank</th><th>Last4</th><th>Customer reference</th><th>Created</th><th>Ledger</th><th>Gateway</th><th>Detail</th></tr></thead>
            <tbody>
            """.AsMemory(), cancellationToken);
        var rows = 0L;
        foreach (var category in ReportText.Categories.Where(c => c != ReconciliationCategory.Matched))
        {
            await foreach (var item in source.Items(category).WithCancellation(cancellationToken))
            {
                await html.WriteLineAsync(
                    $"<tr class=\"{ReportText.Category(item.Category)}\"><td class=\"nowrap\"><span class=\"swatch\" style=\"background:{Colours[item.Category]}\"></span>{ReportText.Label(item.Category)}</td>"
                    + $"<td>{E(item.Token)}</td><td class=\"nowrap\">{E(ReportText.TypeLabel(item.Type))}</td><td>{E(item.Brand)}</td><td>{E(item.Last4)}</td>"
                    + $"<td>{E(item.CustomerReference)}</td><td class=\"nowrap\">{E(Moment(item.CreatedAt))}</td><td>{E(Words(item.LedgerStatus))}</td>"
                    + $"<td>{E(Words(item.GatewayStatus))}</td><td>{E(item.Detail)}</td></tr>");
                rows++;
            }
        }

        if (rows == 0)
        {
            var none = empty ? "None: there were no tokens to compare." : "None: every token matched.";
            await html.WriteLineAsync($"<tr><td colspan=\"10\" class=\"ok\">{none}</td></tr>".AsMemory(), cancellationToken);
        }

        await html.WriteLineAsync("</tbody>\n</table>".AsMemory(), cancellationToken);

        await html.WriteLineAsync(Summary(source.Summary, byBrand: !empty).AsMemory(), cancellationToken);
        if (!empty)
        {
            await html.WriteLineAsync(Chart(source.Summary).AsMemory(), cancellationToken);
        }

        await html.WriteLineAsync("</body>\n</html>".AsMemory(), cancellationToken);
        await html.FlushAsync(cancellationToken);
        return rows;
    }

    private static string Summary(GetReconciliationResponse summary, bool byBrand)
    {
        var html = new StringBuilder("<h2>Summary</h2>\n<table id=\"summary\">\n<thead><tr><th>Category</th><th>Tokens</th></tr></thead>\n<tbody>\n");
        foreach (var category in ReportText.Categories)
        {
            var count = summary.Counts.Where(c => c.Category == category).Sum(c => c.Count);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td><span class=\"swatch\" style=\"background:{Colours[category]}\"></span>{ReportText.Label(category)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\" id=\"count-{ReportText.Category(category)}\">{ReportText.Number(count)}</td></tr>\n");
        }

        if (!byBrand)
        {
            return html.Append("</tbody>\n</table>").ToString();
        }

        html.Append("</tbody>\n</table>\n<h2>By type and brand</h2>\n<table id=\"by-brand\">\n")
            .Append("<thead><tr><th>Category</th><th>Type</th><th>Brand or bank</th><th>Tokens</th></tr></thead>\n<tbody>\n");
        foreach (var count in summary.Counts)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{ReportText.Label(count.Category)}</td><td>{E(ReportText.TypeLabel(count.Type))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{E(count.Brand)}</td><td class=\"n\">{ReportText.Number(count.Count)}</td></tr>\n");
        }

        return html.Append("</tbody>\n</table>").ToString();
    }

    // A stacked bar per UTC day, one segment per category, over every day from the first to the last day with tokens
    // (days without tokens keep their place, so gaps show). The count axis has round ticks with grid lines; the day axis
    // labels at most about twelve days, as "3 Nov", with the year on the first label and on each 1 January.
    private static string Chart(GetReconciliationResponse summary)
    {
        var counts = summary.DailyCounts
            .Select(d => (Day: DateOnly.TryParseExact(d.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : (DateOnly?)null, d.Category, d.Count))
            .Where(d => d.Day is not null)
            .Select(d => (Day: d.Day!.Value, d.Category, d.Count))
            .ToList();
        var first = counts.Count == 0 ? DateOnly.MinValue : counts.Min(d => d.Day);
        var last = counts.Count == 0 ? DateOnly.MinValue : counts.Max(d => d.Day);
        var dayCount = counts.Count == 0 ? 0 : last.DayNumber - first.DayNumber + 1;
        var totals = new long[dayCount];
        foreach (var (day, _, count) in counts)
        {
            totals[day.DayNumber - first.DayNumber] += count;
        }

        var (step, top) = Ticks(totals.DefaultIfEmpty(0).Max());
        var plotWidth = ChartWidth - Left - Right;
        var plotHeight = ChartHeight - Top - Bottom;
        var slot = dayCount == 0 ? plotWidth : (double)plotWidth / dayCount;
        var barWidth = Math.Max(1, slot * 0.8);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<h2>Tokens per day by category</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart\" role=\"img\" aria-label=\"Tokens per day by category\" width=\"{ChartWidth}\" height=\"{ChartHeight + 30}\" viewBox=\"0 0 {ChartWidth} {ChartHeight + 30}\">\n");

        // Count axis: a grid line and a label per tick, and the axis title.
        for (var value = 0L; value <= top; value += step)
        {
            var y = Top + plotHeight - ((double)value / top * plotHeight);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{y:0.##}\" x2=\"{Left + plotWidth}\" y2=\"{y:0.##}\" stroke=\"#e0e0e0\" />")
                .Append(CultureInfo.InvariantCulture, $"<text class=\"y-tick\" x=\"{Left - 8}\" y=\"{y + 4:0.##}\" text-anchor=\"end\" font-size=\"12\">{Number(value)}</text>\n");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"14\" y=\"{Top + (plotHeight / 2)}\" transform=\"rotate(-90 14 {Top + (plotHeight / 2)})\" text-anchor=\"middle\" font-size=\"12\">Tokens</text>\n")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\" stroke=\"#424242\" />\n")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Left + plotWidth}\" y2=\"{Top + plotHeight}\" stroke=\"#424242\" />\n");

        var labelEvery = Math.Max(1, (int)Math.Ceiling(dayCount / 12.0));
        for (var i = 0; i < dayCount; i++)
        {
            var day = first.AddDays(i);
            var key = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var x = Left + (i * slot) + ((slot - barWidth) / 2);
            var y = (double)(Top + plotHeight);
            foreach (var category in ReportText.Categories)
            {
                var count = counts.Where(d => d.Day == day && d.Category == category).Sum(d => d.Count);
                if (count == 0)
                {
                    continue;
                }

                var height = (double)count / top * plotHeight;
                y -= height;
                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar {ReportText.Category(category)}\" x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{barWidth:0.##}\" height=\"{height:0.##}\" fill=\"{Colours[category]}\">")
                    .Append(CultureInfo.InvariantCulture, $"<title>{key} {ReportText.Category(category)}: {ReportText.Number(count)}</title></rect>\n");
            }

            if (i % labelEvery == 0)
            {
                var label = i == 0 || (day.Month == 1 && day.Day <= labelEvery)
                    ? day.ToString("d MMM yyyy", CultureInfo.InvariantCulture)
                    : day.ToString("d MMM", CultureInfo.InvariantCulture);
                var centre = Left + (i * slot) + (slot / 2);
                svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{centre:0.##}\" y1=\"{Top + plotHeight}\" x2=\"{centre:0.##}\" y2=\"{Top + plotHeight + 5}\" stroke=\"#424242\" />")
                    .Append(CultureInfo.InvariantCulture, $"<text class=\"x-tick\" x=\"{centre:0.##}\" y=\"{Top + plotHeight + 19}\" text-anchor=\"middle\" font-size=\"12\">{label}</text>\n");
            }
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (plotWidth / 2)}\" y=\"{Top + plotHeight + 40}\" text-anchor=\"middle\" font-size=\"12\">Day the token was created (UTC)</text>\n");
        var legendX = Left;
        foreach (var category in ReportText.Categories)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"{ChartHeight + 6}\" width=\"12\" height=\"12\" fill=\"{Colours[category]}\" />")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{legendX + 17}\" y=\"{ChartHeight + 16}\" font-size=\"12\">{ReportText.Label(category)}</text>\n");
            legendX += 148;
        }

        return svg.Append("</svg>").ToString();
    }

    /// <summary>
    /// Round ticks for a count axis from 0 to at least <paramref name="max"/>: a step of 1, 2 or 5 times a power of ten
    /// giving at most about five intervals, and the top tick (a multiple of the step, at least 1).
    /// </summary>
    public static (long Step, long Top) Ticks(long max)
    {
        var step = 1L;
        while (true)
        {
            foreach (var factor in new[] { 1L, 2L, 5L })
            {
                if (max <= step * factor * 5)
                {
                    var chosen = step * factor;
                    return (chosen, Math.Max(chosen, (max + chosen - 1) / chosen * chosen));
                }
            }

            step *= 10;
        }
    }

    // The period as the user asked for it: whole UTC days show the inclusive last day (--to 2026-11-30 shows 30 Nov
    // 2026, not the exclusive 1 Dec); other bounds show their times and say the end is exclusive.
    private static string Period(Google.Protobuf.WellKnownTypes.Timestamp? from, Google.Protobuf.WellKnownTypes.Timestamp? to)
    {
        if (from is null || to is null)
        {
            return string.Empty;
        }

        var start = from.ToDateTimeOffset();
        var end = to.ToDateTimeOffset();
        if (start.TimeOfDay == TimeSpan.Zero && end.TimeOfDay == TimeSpan.Zero && end > start)
        {
            var lastDay = end.AddDays(-1);
            return $"{start.ToString("d MMM yyyy", CultureInfo.InvariantCulture)} to {lastDay.ToString("d MMM yyyy", CultureInfo.InvariantCulture)}, whole days (UTC)";
        }

        return $"{Day(from)} to {Day(to)} (end exclusive)";
    }

    // "17 Nov 2026 10:01 UTC": a time a person reads at a glance (the CSV and JSON keep ISO 8601).
    private static string Moment(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? string.Empty : time.ToDateTimeOffset().ToString("d MMM yyyy HH:mm 'UTC'", CultureInfo.InvariantCulture);

    // not_attached -> not attached.
    private static string Words(string? status) => (status ?? string.Empty).Replace('_', ' ');

    private static string Number(long value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string Day(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? string.Empty : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    // Encoded for HTML and XML; control characters (never valid in XML 1.0) are dropped.
    private static string E(string? value) =>
        WebUtility.HtmlEncode(string.Concat((value ?? string.Empty).Where(c => !char.IsControl(c))));
}
