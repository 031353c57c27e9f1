using System.Text;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Reports;

/// <summary>
/// The CSV report: one row per token, the columns of <see cref="Columns"/>, discrepancies first (in the order of
/// <see cref="ReportText.Categories"/>), then the matched tokens; UTF-8 with a byte order mark (so spreadsheet programs
/// read it as UTF-8), CRLF line ends and RFC 4180 quoting. Text that a spreadsheet could read as a formula is
/// neutralised with an apostrophe (see <see cref="Cell"/>), also where a spreadsheet splitting on <c>;</c>, tab or
/// <c>|</c> instead of <c>,</c> would start a cell inside ours, so opening the file never executes anything. Numeric identifiers (last4 and bank codes, in
/// <c>last4</c> and <c>brand_or_bank_identifier</c>) are written as the text formula <c>="0668"</c>, which Excel,
/// LibreOffice and Google Sheets show as 0668 with its leading zero: the trade-off is that a strict RFC 4180 reader sees
/// <c>="0668"</c> as the cell's text (machines should read the JSON report).
/// </summary>
public static class CsvReport
{
    /// <summary>
    /// Characters that make a spreadsheet read a cell as a formula when they begin it: OWASP ASVS 5.0 requirement
    /// 1.2.10 (<c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab, NUL), and CR, which the rule held before and common guards list.
    /// </summary>
    internal const string FormulaTriggers = "=+-@\t\r\0";

    /// <summary>Characters at which a spreadsheet (in some region or import setting) may start a new cell or row.</summary>
    internal const string Separators = ",;\t|\r\n";

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
        var order = ReportText.Categories.Where(c => c != ReconciliationCategory.Matched).Append(ReconciliationCategory.Matched);
        foreach (var category in order)
        {
            await foreach (var item in source.Items(category).WithCancellation(cancellationToken))
            {
                string[] cells =
                [
                    Cell(runId), Cell(item.Token), Cell(ReportText.Type(item.Type)), Identifier(item.Brand), Identifier(item.Last4), Cell(item.CustomerReference),
                    Cell(ReportText.Time(item.CreatedAt)), Cell(item.LedgerStatus), Cell(item.GatewayStatus), Cell(ReportText.Category(item.Category)), Cell(item.Detail),
                ];
                await writer.WriteLineAsync(string.Join(',', cells).AsMemory(), cancellationToken);
                rows++;
            }
        }

        await writer.FlushAsync(cancellationToken);
        return rows;
    }

    /// <summary>
    /// A cell for a code whose leading zeros matter: digits (with <c>-</c> or space between groups, as in a sort code or
    /// a BSB) become <c>="0668"</c>, quoted per RFC 4180 (<c>"=""0668"""</c>), so a spreadsheet keeps them as text;
    /// anything else (a card brand) is an ordinary <see cref="Cell"/>. Only digits, dashes and spaces ever go inside the
    /// formula, so it can do nothing but show them.
    /// </summary>
    public static string Identifier(string? value)
    {
        var text = value ?? string.Empty;
        return text.Length > 0 && char.IsAsciiDigit(text[0]) && text.All(c => char.IsAsciiDigit(c) || c is '-' or ' ')
            ? "\"=\"\"" + text + "\"\"\""
            : Cell(text);
    }

    /// <summary>
    /// One cell: neutralised, then quoted per RFC 4180 when it holds <c>"</c>, <c>,</c>, CR or LF. Neutralising puts
    /// <c>'</c> before every formula trigger (<see cref="FormulaTriggers"/>: <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab,
    /// CR, NUL) that could begin a spreadsheet cell: one at the start of the text, or after any character a spreadsheet
    /// may split a line at (<see cref="Separators"/>: <c>,</c> <c>;</c> tab <c>|</c> CR LF), with only spaces and
    /// <c>"</c> between. Excel splits a comma CSV at <c>;</c> where that is the region's list separator and does not
    /// start a cell at an RFC 4180 quote there, so the rule holds for every fragment of the written line, not only for
    /// the cell's start.
    /// </summary>
    public static string Cell(string? value)
    {
        var text = Neutralise(value ?? string.Empty);
        return text.AsSpan().IndexOfAny("\",\r\n") >= 0
            ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : text;
    }

    private static string Neutralise(string text)
    {
        StringBuilder? neutral = null;
        var cellMayStart = true;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (cellMayStart && FormulaTriggers.Contains(c, StringComparison.Ordinal))
            {
                (neutral ??= new StringBuilder(text, 0, i, text.Length + 8)).Append('\'');
            }

            neutral?.Append(c);

            // A spreadsheet may skip spaces and quotes before a cell's content, so a trigger after them counts too.
            cellMayStart = Separators.Contains(c, StringComparison.Ordinal) || (cellMayStart && c is ' ' or '"');
        }

        return neutral?.ToString() ?? text;
    }
}
