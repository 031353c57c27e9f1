using System.Text;
using System.Xml;
using System.Xml.Linq;
using CsCheck;
using Tokenizer.Cli.Reports;

namespace Tokenizer.Cli.Tests;

/// <summary>What a finance reader sees in the HTML and CSV reports: the period as asked, an empty period said in words,
/// a readable chart axis, discrepancies first, and codes that keep their leading zeros in a spreadsheet.</summary>
public sealed class ReportTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public async Task Html_WholeDayPeriod_HeaderShowsTheLastDayAskedForNotTheExclusiveEnd()
    {
        // Act: --from 2026-11-01 --to 2026-11-30 reaches the server as [1 Nov, 1 Dec).
        var document = Parse(await ReportSamples.HtmlAsync(ReportSamples.November()));

        // Assert
        var period = ById(document, "period").Value;
        Assert.Contains("1 Nov 2026 to 30 Nov 2026", period, StringComparison.Ordinal);
        Assert.DoesNotContain("Dec", period, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Html_EmptyPeriod_SaysSoInWordsAndDrawsNoEmptyChart()
    {
        // Act
        var document = Parse(await ReportSamples.HtmlAsync(ReportSamples.November(empty: true)));

        // Assert
        Assert.Contains("No tokens were created in this period", ById(document, "empty").Value, StringComparison.Ordinal);
        Assert.Empty(document.Descendants(Svg + "svg"));
    }

    [Fact]
    public async Task Html_Chart_CountTicksAreRoundAndDayTicksAreDates()
    {
        // Act
        var document = Parse(await ReportSamples.HtmlAsync(ReportSamples.November()));

        // Assert: the count axis has several round ticks from 0; the day axis labels dates like "3 Nov".
        var chart = Assert.Single(document.Descendants(Svg + "svg"));
        var yTicks = chart.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "y-tick").Select(t => long.Parse(t.Value.Replace(",", string.Empty, StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.InRange(yTicks.Count, 3, 11);
        Assert.Equal(0, yTicks[0]);
        var step = yTicks[1] - yTicks[0];
        Assert.All(yTicks.Zip(yTicks.Skip(1)), pair => Assert.Equal(step, pair.Second - pair.First));
        Assert.True(yTicks[^1] >= 14, "the top tick is at least the highest day (14 tokens)");
        var xTicks = chart.Descendants(Svg + "text").Where(t => (string?)t.Attribute("class") == "x-tick").Select(t => t.Value).ToList();
        Assert.InRange(xTicks.Count, 4, 16);
        Assert.Equal("1 Nov 2026", xTicks[0]);
        Assert.All(xTicks.Skip(1), t => Assert.Matches(@"^\d{1,2} Nov$", t));
    }

    [Fact]
    public void Ticks_AnyMaximum_RoundStepAtMostFiveIntervalsCoveringIt()
    {
        Gen.Long[0, 10_000_000_000].Sample(max =>
        {
            var (step, top) = HtmlReport.Ticks(max);
            var mantissa = step;
            while (mantissa % 10 == 0)
            {
                mantissa /= 10;
            }

            Assert.Contains(mantissa, new long[] { 1, 2, 5 });
            Assert.True(top >= max && top >= 1 && top % step == 0, $"max {max} step {step} top {top}");
            Assert.InRange(top / step, 1, 5);
        });
    }

    [Fact]
    public async Task Csv_DiscrepanciesFirstThenMatched()
    {
        // Act
        var rows = await CsvRowsAsync();

        // Assert
        var categories = rows.Skip(1).Select(r => r[9]).ToList();
        var firstMatched = categories.IndexOf("matched");
        Assert.Equal(5, firstMatched);
        Assert.All(categories.Take(firstMatched), c => Assert.NotEqual("matched", c));
        Assert.All(categories.Skip(firstMatched), c => Assert.Equal("matched", c));
    }

    [Fact]
    public async Task Csv_Last4AndBankCodes_KeptAsTextFormulasWithTheirLeadingZeros()
    {
        // Act
        var rows = await CsvRowsAsync();

        // Assert: what a spreadsheet reads in each cell (after RFC 4180 unquoting).
        var bacs = Assert.Single(rows, r => r[2] == "bacs_debit");
        Assert.Equal(("=\"108800\"", "=\"0005\""), (bacs[3], bacs[4]));
        var becs = Assert.Single(rows, r => r[2] == "au_becs_debit");
        Assert.Equal(("=\"000-000\"", "=\"0042\""), (becs[3], becs[4]));
        var visa = rows.First(r => r[3] == "visa");
        Assert.Equal("=\"0668\"", visa[4]);
    }

    [Fact]
    public void CsvIdentifier_AnyText_OnlyDigitCodesBecomeFormulasAndNothingElseCanStartOne()
    {
        Gen.String[Gen.Char["0123456789- =+@\"'abcAB(),\t"], 0, 12].Sample(value =>
        {
            var cell = Unquote(CsvReport.Identifier(value));
            if (cell.StartsWith('='))
            {
                Assert.Matches("^=\"[0-9][0-9 -]*\"$", cell);
                Assert.Equal(value, cell[2..^1]);
            }
            else
            {
                Assert.False(cell.Length > 0 && cell[0] is '+' or '-' or '@' or '\t', cell);
            }
        });
    }

    private static async Task<List<string[]>> CsvRowsAsync()
    {
        using var stream = new MemoryStream();
        await CsvReport.WriteAsync(ReportSamples.November(), stream, CancellationToken.None);
        var text = Encoding.UTF8.GetString(stream.ToArray()).TrimStart('\uFEFF');
        return text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(SplitRow).ToList();
    }

    // RFC 4180: fields separated by commas, quoted fields with doubled quotes.
    private static string[] SplitRow(string row)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < row.Length; i++)
        {
            var c = row[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < row.Length && row[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }

        cells.Add(cell.ToString());
        return [.. cells];
    }

    private static string Unquote(string cell) => SplitRow(cell).Single();

    private static XDocument Parse(string html)
    {
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader);
    }

    private static XElement ById(XDocument document, string id) => document.Descendants().Single(e => (string?)e.Attribute("id") == id);
}
