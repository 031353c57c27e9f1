using System.Text;
using CsCheck;
using Google.Protobuf.WellKnownTypes;
using Tokenizer.Cli.Reports;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The CSV formula rule read the way spreadsheets read a line: split at <c>,</c>, <c>;</c>, tab or <c>|</c> (the
/// list separator differs by region and import setting), both ignoring quotes and honouring them; no fragment that a
/// caller's text begins may start with a formula trigger.
/// </summary>
public sealed class CsvFormulaTests
{
    // OWASP ASVS 5.0 1.2.10 (=, +, -, @, tab, NUL) and CR.
    private const string Triggers = "=+-@\t\r\0";

    private static readonly char[] Delimiters = [',', ';', '\t', '|'];

    // Triggers, separators, quotes, spaces, the apostrophe and letters: everything the rule has to tell apart.
    private static readonly Gen<string[]> CellTexts = Gen.String[Gen.Char["=+-@\t\r\0,;|\n\" 'ab(1"], 0, 10].Array[1, 4];

    [Fact]
    public void CsvCell_GeneratedTexts_NoFragmentAfterAnySeparatorStartsWithAFormulaTrigger() =>
        CellTexts.Sample(texts => AssertNoFormulaFragment(texts, CsvReport.Cell), iter: 20_000);

    [Fact]
    public void CsvCell_Control_TheFirstCharacterOnlyRuleFailsTheSameProperty() =>
        // The rule before: only a cell's first character was neutralised, so "x;=1" split at ';' starts a formula.
        Assert.Throws<CsCheckException>(() => CellTexts.Sample(texts => AssertNoFormulaFragment(texts, FirstCharacterOnly), iter: 20_000));

    [Theory]
    [InlineData("x;=cmd|'/Ccalc'!A0;y", "x;'=cmd|'/Ccalc'!A0;y")]
    [InlineData("a;@SUM(1+1)*cmd|'/Ccalc'!A0;b", "a;'@SUM(1+1)*cmd|'/Ccalc'!A0;b")]
    [InlineData("x;=1+1;y", "x;'=1+1;y")]
    [InlineData("a|+1", "a|'+1")]
    [InlineData("a; -1", "a; '-1")]
    [InlineData("a;\"=1", "\"a;\"\"'=1\"")]
    [InlineData("a,=1", "\"a,'=1\"")]
    [InlineData("a-b;c=d", "a-b;c=d")]
    public async Task CsvReport_ReviewersReferences_EveryFragmentNeutralisedThroughTheWholeReport(string reference, string expectedCell)
    {
        // Act: the reference as customer_reference of a report row, written by the report itself.
        var line = await CsvLineAsync(reference);

        // Assert
        Assert.Equal(expectedCell, CsvReport.Cell(reference));
        Assert.Contains("," + expectedCell + ",", line, StringComparison.Ordinal);
        AssertNoFormulaFragment(line, ownFormulaCellOffsets: [line.IndexOf(",\"=\"\"4242\"\"\",", StringComparison.Ordinal) + 1]);
    }

    [Fact]
    public async Task CsvReport_Last4FormulaCell_StillTheDeliberateTextFormula()
    {
        // Act
        var line = await CsvLineAsync("x;=1");

        // Assert: our own leading-zero cell is untouched by the rule (it never goes through Cell).
        Assert.Contains(",\"=\"\"4242\"\"\",", line, StringComparison.Ordinal);
    }

    private static void AssertNoFormulaFragment(string[] texts, Func<string, string> cell)
    {
        // Our own text formula (last4) sits among the caller's cells, as in the report; it is the one allowed formula.
        var cells = texts.Select(cell).ToList();
        cells.Insert(1, CsvReport.Identifier("4242"));
        var line = string.Join(',', cells);
        var identifierOffset = cells[0].Length + 1;
        AssertNoFormulaFragment(line, [identifierOffset]);
    }

    private static void AssertNoFormulaFragment(string line, int[] ownFormulaCellOffsets)
    {
        foreach (var delimiter in Delimiters)
        {
            foreach (var (offset, text) in Naive(line, delimiter).Concat(QuoteAware(line, delimiter)))
            {
                if (ownFormulaCellOffsets.Contains(offset))
                {
                    continue;
                }

                // A spreadsheet may skip spaces (and, reading naively, quotes) before a cell's content.
                var content = text.TrimStart(' ');
                Assert.False(
                    content.Length > 0 && Triggers.Contains(content[0], StringComparison.Ordinal),
                    $"delimiter {(int)delimiter}: fragment at {offset} starts a formula in line {Escape(line)}");
            }
        }
    }

    // Split at the delimiter and at line breaks, quotes kept as characters; leading quotes dropped.
    private static IEnumerable<(int Offset, string Text)> Naive(string line, char delimiter)
    {
        var start = 0;
        for (var i = 0; i <= line.Length; i++)
        {
            if (i == line.Length || line[i] == delimiter || line[i] is '\r' or '\n')
            {
                yield return (start, line[start..i].TrimStart(' ', '"'));
                start = i + 1;
            }
        }
    }

    // RFC 4180 with the given delimiter, read leniently as spreadsheets and Python's csv do: a quote opens a quoted
    // field only at the field's start, "" inside is a quote, text after the closing quote is kept as is.
    private static List<(int Offset, string Text)> QuoteAware(string line, char delimiter)
    {
        var fields = new List<(int Offset, string Text)>();
        var field = new StringBuilder();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && i == start)
            {
                quoted = true;
            }
            else if (c == delimiter || c is '\r' or '\n')
            {
                fields.Add((start, field.ToString()));
                field.Clear();
                start = i + 1;
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add((start, field.ToString()));
        return fields;
    }

    // The rule before this fix, kept as the control.
    private static string FirstCharacterOnly(string value)
    {
        var text = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
        return text.AsSpan().IndexOfAny("\",\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }

    private static async Task<string> CsvLineAsync(string reference)
    {
        var item = new ReconciliationItem
        {
            Token = "pm_formula",
            Category = ReconciliationCategory.Matched,
            LedgerStatus = "active",
            GatewayStatus = "attached",
            Last4 = "4242",
            Brand = "visa",
            Type = TokenType.Card,
            CustomerReference = reference,
            CreatedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 17, 10, 0, 0, TimeSpan.Zero)),
        };
        var response = new GetReconciliationResponse { Reconciliation = new Tokenizer.Contracts.V1.Reconciliation { RunId = "rec_formula" } };
        var source = new ReconciliationReportSource(response, category => One(category is null or ReconciliationCategory.Matched ? item : null));
        using var stream = new MemoryStream();
        await CsvReport.WriteAsync(source, stream, CancellationToken.None);
        var text = Encoding.UTF8.GetString(stream.ToArray()).TrimStart('\uFEFF');
        var firstRowEnd = text.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        return text[firstRowEnd..^2];
    }

    private static async IAsyncEnumerable<ReconciliationItem> One(ReconciliationItem? item)
    {
        await Task.Yield();
        if (item is not null)
        {
            yield return item;
        }
    }

    private static string Escape(string line) =>
        string.Concat(line.Select(c => c < ' ' ? $"\\x{(int)c:x2}" : c.ToString()));
}
