using System.Text;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Reports;

/// <summary>
/// The CSV report: one row per token, the columns of <see cref="Columns"/>, UTF-8 with a byte order mark (so spreadsheet
/// programs read it as UTF-8), CRLF line ends and RFC 4180 quoting. Cells that a spreadsheet would read as a formula
/// (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return) are neutralised with a leading
/// apostrophe, so opening the file never executes anything.
/// </summary>
public static class CsvReport
{
    /// <summary>The header row, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "run_id", "token", "type", "brand_or_bank_identifier", "last4", "customer_reference", "created_at",
        "ledger_status", "gateway_status", "category", "detail",
    ];

    /// <summary>Writes the report to <paramref name="stream"/>, reading items page by page; returns the rows written.</summary>
    public static async Task<long> WriteAsync(ReconciliationReportSource source, Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), leaveOpen: true) { NewLine = "\r\n" };
        await writer.WriteLineAsync(string.Join(',', Columns.Select(Cell)).AsMemory(), cancellationToken);
        var runId = source.Summary.Reconciliation.RunId;
        var rows = 0L;
        await foreach (var item in source.Items(null).WithCancellation(cancellationToken))
        {
            string[] cells =
            [
                runId, item.Token, ReportText.Type(item.Type), item.Brand, item.Last4, item.CustomerReference,
                ReportText.Time(item.CreatedAt), item.LedgerStatus, item.GatewayStatus, ReportText.Category(item.Category), item.Detail,
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(Cell)).AsMemory(), cancellationToken);
            rows++;
        }

        await writer.FlushAsync(cancellationToken);
        return rows;
    }

    /// <summary>One cell: neutralised if a spreadsheet would take it for a formula, then quoted per RFC 4180 when needed.</summary>
    public static string Cell(string? value)
    {
        var text = value ?? string.Empty;
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.AsSpan().IndexOfAny("\",\r\n") >= 0
            ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : text;
    }
}
