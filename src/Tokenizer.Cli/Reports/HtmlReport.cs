using System.Globalization;
using System.Net;
using System.Text;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Reports;

/// <summary>
/// The HTML report finance staff open in a browser: one self-contained file (inline CSS and SVG, no script, no external
/// font, image or stylesheet; a Content-Security-Policy that allows nothing else) with the period, the run id, the
/// summary counts, a chart of tokens per day by category, and the table of every token that is not matched. Printable
/// (print styles). The markup is also well-formed XML, so it parses with any XML parser. Every value is encoded.
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
        var period = $"{Day(run.Filter.From)} to {Day(run.Filter.To)} (exclusive)";
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
            .ok { color: #2e7d32; } .bad { color: #c62828; }
            @media print { body { margin: 0; } tr { page-break-inside: avoid; } }
            </style>
            </head>
            <body>
            <h1>Token reconciliation</h1>
            <table id="run">
            <tr><th>Period</th><td id="period">{{E(period)}}</td></tr>
            <tr><th>Run</th><td id="run-id">{{E(run.RunId)}}</td></tr>
            <tr><th>Customer reference</th><td>{{E(run.Filter.CustomerReference.Length > 0 ? run.Filter.CustomerReference : "all")}}</td></tr>
            <tr><th>Type</th><td>{{E(run.Filter.Type == TokenType.Unspecified ? "all" : ReportText.Type(run.Filter.Type))}}</td></tr>
            <tr><th>Started by</th><td>{{E(run.StartedBy)}}</td></tr>
            <tr><th>Started</th><td>{{E(ReportText.Time(run.CreatedAt))}}</td></tr>
            <tr><th>Completed</th><td>{{E(ReportText.Time(run.CompletedAt))}}</td></tr>
            <tr><th>Tokens compared</th><td class="n" id="items-total">{{ReportText.Number(run.ItemsTotal)}}</td></tr>
            <tr><th>Discrepancies</th><td class="n {{(run.Discrepancies == 0 ? "ok" : "bad")}}" id="discrepancies">{{ReportText.Number(run.Discrepancies)}}</td></tr>
            </table>
            """.AsMemory(), cancellationToken);

        await html.WriteLineAsync(Summary(source.Summary).AsMemory(), cancellationToken);
        await html.WriteLineAsync(Chart(source.Summary).AsMemory(), cancellationToken);

        await html.WriteLineAsync("""
            <h2>Discrepancies</h2>
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
                    $"<tr class=\"{ReportText.Category(item.Category)}\"><td><span class=\"swatch\" style=\"background:{Colours[item.Category]}\"></span>{ReportText.Category(item.Category)}</td>"
                    + $"<td>{E(item.Token)}</td><td>{E(ReportText.Type(item.Type))}</td><td>{E(item.Brand)}</td><td>{E(item.Last4)}</td>"
                    + $"<td>{E(item.CustomerReference)}</td><td>{E(ReportText.Time(item.CreatedAt))}</td><td>{E(item.LedgerStatus)}</td>"
                    + $"<td>{E(item.GatewayStatus)}</td><td>{E(item.Detail)}</td></tr>");
                rows++;
            }
        }

        if (rows == 0)
        {
            await html.WriteLineAsync("<tr><td colspan=\"10\" class=\"ok\">None: every token matched.</td></tr>".AsMemory(), cancellationToken);
        }

        await html.WriteLineAsync("</tbody>\n</table>\n</body>\n</html>".AsMemory(), cancellationToken);
        await html.FlushAsync(cancellationToken);
        return rows;
    }

    private static string Summary(GetReconciliationResponse summary)
    {
        var html = new StringBuilder("<h2>Summary</h2>\n<table id=\"summary\">\n<thead><tr><th>Category</th><th>Tokens</th></tr></thead>\n<tbody>\n");
        foreach (var category in ReportText.Categories)
        {
            var count = summary.Counts.Where(c => c.Category == category).Sum(c => c.Count);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td><span class=\"swatch\" style=\"background:{Colours[category]}\"></span>{ReportText.Category(category)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"n\" id=\"count-{ReportText.Category(category)}\">{ReportText.Number(count)}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n<h2>By type and brand</h2>\n<table id=\"by-brand\">\n")
            .Append("<thead><tr><th>Category</th><th>Type</th><th>Brand or bank</th><th>Tokens</th></tr></thead>\n<tbody>\n");
        foreach (var count in summary.Counts)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{ReportText.Category(count.Category)}</td><td>{E(ReportText.Type(count.Type))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{E(count.Brand)}</td><td class=\"n\">{ReportText.Number(count.Count)}</td></tr>\n");
        }

        return html.Append("</tbody>\n</table>").ToString();
    }

    // A stacked bar per UTC day of the period that has tokens, one segment per category.
    private static string Chart(GetReconciliationResponse summary)
    {
        var days = summary.DailyCounts.GroupBy(d => d.Day, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var max = Math.Max(1, days.Select(g => g.Sum(d => d.Count)).DefaultIfEmpty(0).Max());
        var plotWidth = ChartWidth - Left - Right;
        var plotHeight = ChartHeight - Top - Bottom;
        var slot = days.Count == 0 ? plotWidth : (double)plotWidth / days.Count;
        var barWidth = Math.Max(1, slot * 0.8);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<h2>Tokens per day by category</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"chart\" role=\"img\" aria-label=\"Tokens per day by category\" width=\"{ChartWidth}\" height=\"{ChartHeight + 30}\" viewBox=\"0 0 {ChartWidth} {ChartHeight + 30}\">\n")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\" stroke=\"#424242\" />\n")
            .Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Left + plotWidth}\" y2=\"{Top + plotHeight}\" stroke=\"#424242\" />\n")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Top + 4}\" text-anchor=\"end\" font-size=\"11\">{ReportText.Number(max)}</text>\n")
            .Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{Top + plotHeight}\" text-anchor=\"end\" font-size=\"11\">0</text>\n");
        var labelEvery = Math.Max(1, (int)Math.Ceiling(days.Count / 12.0));
        for (var i = 0; i < days.Count; i++)
        {
            var x = Left + (i * slot) + ((slot - barWidth) / 2);
            var y = (double)(Top + plotHeight);
            foreach (var category in ReportText.Categories)
            {
                var count = days[i].Where(d => d.Category == category).Sum(d => d.Count);
                if (count == 0)
                {
                    continue;
                }

                var height = (double)count / max * plotHeight;
                y -= height;
                svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar {ReportText.Category(category)}\" x=\"{x:0.##}\" y=\"{y:0.##}\" width=\"{barWidth:0.##}\" height=\"{height:0.##}\" fill=\"{Colours[category]}\">")
                    .Append(CultureInfo.InvariantCulture, $"<title>{E(days[i].Key)} {ReportText.Category(category)}: {ReportText.Number(count)}</title></rect>\n");
            }

            if (i % labelEvery == 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + (barWidth / 2):0.##}\" y=\"{Top + plotHeight + 14}\" text-anchor=\"middle\" font-size=\"10\">{E(days[i].Key)}</text>\n");
            }
        }

        var legendX = Left;
        foreach (var category in ReportText.Categories)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{legendX}\" y=\"{ChartHeight}\" width=\"10\" height=\"10\" fill=\"{Colours[category]}\" />")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{legendX + 14}\" y=\"{ChartHeight + 9}\" font-size=\"11\">{ReportText.Category(category)}</text>\n");
            legendX += 150;
        }

        return svg.Append("</svg>").ToString();
    }

    private static string Day(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? string.Empty : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    // Encoded for HTML and XML; control characters (never valid in XML 1.0) are dropped.
    private static string E(string? value) =>
        WebUtility.HtmlEncode(string.Concat((value ?? string.Empty).Where(c => !char.IsControl(c))));
}
