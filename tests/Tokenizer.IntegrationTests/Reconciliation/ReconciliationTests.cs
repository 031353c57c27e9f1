using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Cli.Reports;
using Tokenizer.Server.Telemetry;
using Tokenizer.StripeSandbox.Faults;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>
/// A ledger with every category planted on purpose through the real service, the sandbox and the ledger file, then
/// reconciled once through the RPCs; the tests check the classification and the reports `tokenizer reconcile` writes.
/// </summary>
public sealed class PlantedLedgerFixture : IAsyncLifetime
{
    /// <summary>A customer reference a spreadsheet would run as a formula (printable ASCII: a valid reference).</summary>
    public const string FormulaReference = "=HYPERLINK(\"http://evil.example\",\"x\")";

    public ReconciliationServerFixture Host { get; } = new();

    public DateTimeOffset From { get; } = DateTimeOffset.UtcNow.AddDays(-1);

    public DateTimeOffset To { get; } = DateTimeOffset.UtcNow.AddDays(1);

    /// <summary>The token planted for each category (and extra matched ones).</summary>
    public Dictionary<string, string> Planted { get; } = [];

    public GetReconciliationResponse Result { get; private set; } = null!;

    public List<ReconciliationItem> Items { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Host.InitializeAsync();
        var billing = Host.Server.Client;
        async Task<string> CardAsync(string number, string customer) =>
            (await billing.TokenizeCardAsync(Requests.Card(number, Requests.NewKey(), customer, cvc: number[0] == '3' && number[1] is '4' or '7' ? "1234" : "123"))).Token.Token_;

        Planted["matched"] = await CardAsync("4242424242424242", "cust-recon-a");
        Planted["matched_sepa"] = (await billing.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: "cust-recon-a"))).Token.Token_;
        Planted["matched_formula"] = await CardAsync("4000056655665556", FormulaReference);
        Planted["matched_ok"] = await CardAsync("2223003122003222", "cust-ok");
        Planted["matched_revoked"] = await CardAsync("371449635398431", "cust-recon-a");
        await Host.Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = Planted["matched_revoked"], IdempotencyKey = Requests.NewKey() });

        // Detached at the gateway behind our back.
        Planted["missing_at_gateway"] = await CardAsync("5555555555554444", "cust-recon-a");
        await Host.StripePostAsync($"/v1/payment_methods/{Planted["missing_at_gateway"]}/detach");

        // The ledger row deleted: an orphan at the gateway.
        Planted["missing_in_ledger"] = await CardAsync("378282246310005", "cust-recon-a");
        await Host.LedgerSqlAsync("DELETE FROM tokens WHERE token = @token", Planted["missing_in_ledger"]);

        // Revoked here only.
        Planted["status_mismatch"] = await CardAsync("6011111111111117", "cust-recon-b");
        await Host.LedgerSqlAsync("UPDATE tokens SET status = 'revoked', revoked_at = created_at WHERE token = @token", Planted["status_mismatch"]);

        // The expiry changed at the gateway (Stripe API: update a PaymentMethod's card expiry).
        Planted["field_mismatch"] = await CardAsync("3566002020360505", "cust-recon-b");
        await Host.StripePostAsync($"/v1/payment_methods/{Planted["field_mismatch"]}", ("card[exp_year]", "2032"));

        // A tokenisation whose gateway outcome is unknown (Stripe answered 503 on every attempt): its intent stays
        // unresolved until the orphan sweep's grace period, longer than this test.
        Host.Server.Sandbox.Faults.Add("POST /v1/payment_methods", SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        var failed = await Assert.ThrowsAsync<RpcException>(() => CardAsync("4242424242424242", "cust-recon-b"));
        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Host.Server.Sandbox.Faults.Clear();

        Result = await Host.ReconcileAsync(From, To);
        Items = await Host.ItemsAsync(Result.Reconciliation.RunId, pageSize: 3);
    }

    public Task DisposeAsync() => Host.DisposeAsync();
}

public sealed class ReconciliationTests(PlantedLedgerFixture planted) : IClassFixture<PlantedLedgerFixture>
{
    private ReconciliationItem ItemOf(string plantedAs) => Assert.Single(planted.Items, i => i.Token == planted.Planted[plantedAs]);

    [Fact]
    public void Reconcile_EveryCategoryPlanted_EachTokenClassified()
    {
        // Assert
        Assert.Equal(ReconciliationState.Completed, planted.Result.Reconciliation.State);
        Assert.Equal(planted.Planted.Count + 1, planted.Items.Count);
        var pending = Assert.Single(planted.Items, i => i.Category == ReconciliationCategory.Pending);
        Assert.Equal(("absent", "not_checked", "cust-recon-b", TokenType.Card), (pending.LedgerStatus, pending.GatewayStatus, pending.CustomerReference, pending.Type));
        Assert.StartsWith("tkz_", pending.Token, StringComparison.Ordinal);
        Assert.Contains("unknown gateway outcome", pending.Detail, StringComparison.Ordinal);
        foreach (var matched in new[] { "matched", "matched_sepa", "matched_formula", "matched_ok", "matched_revoked" })
        {
            Assert.Equal(ReconciliationCategory.Matched, ItemOf(matched).Category);
        }

        Assert.Equal(("active", "not_attached", ReconciliationCategory.MissingAtGateway), Facts(ItemOf("missing_at_gateway")));
        Assert.Equal(("absent", "attached", ReconciliationCategory.MissingInLedger), Facts(ItemOf("missing_in_ledger")));
        Assert.Equal(("revoked", "attached", ReconciliationCategory.StatusMismatch), Facts(ItemOf("status_mismatch")));
        Assert.Equal(("active", "attached", ReconciliationCategory.FieldMismatch), Facts(ItemOf("field_mismatch")));
        Assert.Equal("exp_year differs", ItemOf("field_mismatch").Detail);
        Assert.Equal("cust-recon-a", ItemOf("missing_in_ledger").CustomerReference);
        Assert.Equal(("amex", "0005"), (ItemOf("missing_in_ledger").Brand, ItemOf("missing_in_ledger").Last4));
        Assert.Equal(("revoked", "not_attached"), (ItemOf("matched_revoked").LedgerStatus, ItemOf("matched_revoked").GatewayStatus));
        Assert.Equal(TokenType.SepaDebit, ItemOf("matched_sepa").Type);
        Assert.Equal("19043", ItemOf("matched_sepa").Brand);
    }

    [Fact]
    public async Task GetReconciliation_Completed_SummaryCountsDailyCountsAndProgressAgreeWithItems()
    {
        // Arrange
        var run = planted.Result.Reconciliation;

        // Act
        var byCategory = planted.Result.Counts.GroupBy(c => c.Category).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var list = await planted.Host.Finance.ListReconciliationsAsync(new ListReconciliationsRequest());

        // Assert
        Assert.Equal(5, byCategory[ReconciliationCategory.Matched]);
        Assert.All(
            new[] { ReconciliationCategory.MissingAtGateway, ReconciliationCategory.MissingInLedger, ReconciliationCategory.StatusMismatch, ReconciliationCategory.FieldMismatch, ReconciliationCategory.Pending },
            category => Assert.Equal(1, byCategory[category]));
        Assert.Equal((10L, 5L), (run.ItemsTotal, run.Discrepancies));
        Assert.Equal(run.ItemsTotal, planted.Result.DailyCounts.Sum(d => d.Count));
        Assert.Equal((4L, 4L), (run.CustomersDone, run.CustomersTotal));
        Assert.True(run.GatewayRequests >= 4, "at least one paced page per customer");
        Assert.Contains(planted.Result.Counts, c => c.Category == ReconciliationCategory.FieldMismatch && c.Type == TokenType.Card && c.Brand == "jcb");
        var listed = Assert.Single(list.Reconciliations, r => r.RunId == run.RunId);
        Assert.Equal((ReconciliationState.Completed, 10L, 5L, "finance-staff"), (listed.State, listed.ItemsTotal, listed.Discrepancies, listed.StartedBy));
    }

    [Fact]
    public void Worker_RunWithDiscrepancies_WarningLogWithCountsAndNoTokenOrReference()
    {
        // Act
        var warning = Assert.Single(planted.Host.Server.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("ReconciliationDiscrepancies", StringComparison.Ordinal) && l.Contains(planted.Result.Reconciliation.RunId, StringComparison.Ordinal));

        // Assert
        Assert.Contains("completed with 5 discrepancies among 10 tokens", warning, StringComparison.Ordinal);
        Assert.DoesNotContain(planted.Planted.Values, warning.Contains);
        Assert.DoesNotContain("cust-recon", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_RunWithDiscrepancies_CountedByCategoryAndOutcomeWithoutIds()
    {
        // Arrange
        var address = planted.Host.Server.App.Services.GetRequiredService<MetricsEndpoint>().Address!;
        using var http = new HttpClient();

        // Act
        var scrape = await http.GetStringAsync(new Uri(address, MetricsEndpoint.Path));

        // Assert
        var lines = scrape.Split('\n');
        foreach (var category in new[] { "missing_at_gateway", "missing_in_ledger", "status_mismatch", "field_mismatch", "pending" })
        {
            Assert.Contains(lines, l => l.StartsWith("tokenizer_reconciliation_discrepancies_total{", StringComparison.Ordinal) && l.Contains($"category=\"{category}\"", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith("tokenizer_reconciliation_runs_total{", StringComparison.Ordinal) && l.Contains("outcome=\"completed\"", StringComparison.Ordinal));
        Assert.DoesNotContain(planted.Result.Reconciliation.RunId, scrape, StringComparison.Ordinal);
        Assert.DoesNotContain(planted.Planted.Values, scrape.Contains);
    }

    [Fact]
    public async Task ListReconciliationItems_CategoryFilter_OnlyThatCategory()
    {
        // Act
        var mismatches = await planted.Host.ItemsAsync(planted.Result.Reconciliation.RunId, ReconciliationCategory.FieldMismatch);

        // Assert
        Assert.Equal(planted.Planted["field_mismatch"], Assert.Single(mismatches).Token);
    }

    [Fact]
    public async Task GetReconciliation_UnknownRunIdNotFound_MalformedOrCardHoldingRunIdInvalidArgumentWithoutEcho()
    {
        // Act
        var unknown = await Assert.ThrowsAsync<RpcException>(() => planted.Host.Finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = "rec_qqqqqqqqqqqqqqqqqqqq" }).ResponseAsync);
        var malformed = await Assert.ThrowsAsync<RpcException>(() => planted.Host.Finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = "4242 4242 4242 4242" }).ResponseAsync);
        var holdingPan = await Assert.ThrowsAsync<RpcException>(() => planted.Host.Finance.ListReconciliationItemsAsync(new ListReconciliationItemsRequest { RunId = "rec_4556_0601_1837_2949" }).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        foreach (var refused in new[] { malformed, holdingPan })
        {
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            var violation = Assert.Single(refused.GetRpcStatus()!.Details.Where(d => d.Is(Google.Rpc.BadRequest.Descriptor))
                .SelectMany(d => d.Unpack<Google.Rpc.BadRequest>().FieldViolations));
            Assert.Equal("run_id", violation.Field);
            Assert.DoesNotContain("4242", refused.Status.Detail + violation.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("2949", refused.Status.Detail + violation.Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StartReconciliation_InvalidPeriodAndKey_InvalidArgumentNamingFields()
    {
        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => planted.Host.Finance.StartReconciliationAsync(new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter { From = planted.Result.Reconciliation.Filter.To, To = planted.Result.Reconciliation.Filter.From },
        }).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("filter.to", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("idempotency_key", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartReconciliation_SameKeyTwice_SameRunReplayed()
    {
        // Arrange
        var request = new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter { From = planted.Result.Reconciliation.Filter.From, To = planted.Result.Reconciliation.Filter.To, CustomerReference = "cust-ok" },
            IdempotencyKey = Requests.NewKey(),
        };

        // Act
        var first = await planted.Host.Finance.StartReconciliationAsync(request);
        var second = await planted.Host.Finance.StartReconciliationAsync(request);

        // Assert
        Assert.Equal(first.RunId, second.RunId);
        Assert.Equal((false, true), (first.Replayed, second.Replayed));
        await planted.Host.WaitAsync(first.RunId, ReconciliationState.Completed);
    }

    [Fact]
    public async Task StartReconciliation_SameKeyDifferentFilter_IdempotencyKeyReusedNotTheOtherRun()
    {
        // Bug fix (review of #5): the same key with another customer silently answered the first run.
        var key = Requests.NewKey();
        var filter = planted.Result.Reconciliation.Filter;
        await planted.Host.Finance.StartReconciliationAsync(new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter { From = filter.From, To = filter.To, CustomerReference = "cust-ok" },
            IdempotencyKey = key,
        });

        var error = await Assert.ThrowsAsync<RpcException>(async () => await planted.Host.Finance.StartReconciliationAsync(new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter { From = filter.From, To = filter.To, CustomerReference = "cust-other" },
            IdempotencyKey = key,
        }));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", TokenizeTests.ErrorInfoOf(error).Reason);
        Assert.DoesNotContain("cust-other", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_Cli_OutputFileExists_RefusedBeforeAnyRunStarts()
    {
        // Bug fix (review of #5): the run (gateway quota, audit records) was spent before the file was refused.
        var path = NewReportPath("csv");
        await File.WriteAllTextAsync(path, "keep");
        var before = (await planted.Host.Finance.ListReconciliationsAsync(new ListReconciliationsRequest { PageSize = 100 })).Reconciliations.Count;

        var (code, _, error) = await planted.Host.CliAsync("reconcile", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "csv", "--out", path);

        Assert.Equal(2, code);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal(before, (await planted.Host.Finance.ListReconciliationsAsync(new ListReconciliationsRequest { PageSize = 100 })).Reconciliations.Count);
    }

    [Fact]
    public async Task Cli_ValueStartingWithAt_IsAValueNeverAResponseFile()
    {
        // Review of #5: "--customer @SUM(A1)" was read as a response file (and "@path" would read a file into the
        // command line). Here the value reaches the command, which then refuses the existing output file.
        var path = NewReportPath("csv");
        await File.WriteAllTextAsync(path, "keep");
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await Tokenizer.Cli.CliApp.RunAsync(
            ["reconcile", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "csv", "--out", path, "--customer", "@SUM(A1)"],
            TextReader.Null,
            output,
            error);

        Assert.Equal(2, code);
        Assert.Contains("already exists", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("esponse file", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--from", "2026-13-45")]
    [InlineData("--format", "xml")]
    [InlineData("--nonsense", "1")]
    public async Task Reconcile_Cli_BadUsage_ExitTwoWithoutAStackTrace(string option, string value)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var path = NewReportPath("csv");
        string[] args = ["reconcile", "--from", "2026-01-01", "--to", "2026-01-02", "--format", "csv", "--out", path, option, value];

        var code = await Tokenizer.Cli.CliApp.RunAsync(args, TextReader.Null, output, error);

        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task Reconcile_Cli_Csv_OneRowPerTokenDocumentedColumnsRfc4180AndNoFormula()
    {
        // Arrange
        var path = NewReportPath("csv");

        // Act
        var (code, output, _) = await planted.Host.CliAsync("reconcile", "--from", Day(planted.From), "--to", Day(planted.To), "--format", "csv", "--out", path);

        // Assert
        Assert.Equal(3, code);
        Assert.Contains("5 discrepancies", output, StringComparison.Ordinal);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(Encoding.UTF8.Preamble.ToArray(), bytes[..3]);
        var text = Encoding.UTF8.GetString(bytes[3..]);
        Assert.DoesNotContain("\n", text.Replace("\r\n", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        var rows = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            "run_id,token,type,brand_or_bank_identifier,last4,customer_reference,created_at,ledger_status,gateway_status,category,detail",
            rows[0]);
        Assert.Equal(11, rows.Length);
        var formulaRow = Assert.Single(rows, r => r.Contains(planted.Planted["matched_formula"], StringComparison.Ordinal));
        Assert.Contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",", formulaRow, StringComparison.Ordinal);
        var mismatch = Assert.Single(rows, r => r.Contains(planted.Planted["field_mismatch"], StringComparison.Ordinal));
        Assert.EndsWith(",card,jcb,\"=\"\"0505\"\"\",cust-recon-b," + mismatch.Split(',')[6] + ",active,attached,field_mismatch,exp_year differs", mismatch, StringComparison.Ordinal);
        Assert.NotEqual("matched", rows[1].Split(',')[9]);
        Assert.DoesNotContain(rows.Skip(1), row => row.Split(',').Any(cell => cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@'));
    }

    [Fact]
    public async Task Reconcile_Cli_Html_SelfContainedWithSummaryChartAndDiscrepancies()
    {
        // Arrange
        var path = NewReportPath("html");

        // Act
        var (code, _, _) = await planted.Host.CliAsync("reconcile", "--from", Day(planted.From), "--to", Day(planted.To), "--format", "html", "--out", path);

        // Assert: it parses (well-formed), holds the run, the period, the summary numbers, the chart and the discrepancies.
        Assert.Equal(3, code);
        var html = await File.ReadAllTextAsync(path);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        var document = XDocument.Load(reader);
        string TextOf(string id) => document.Descendants().Single(e => (string?)e.Attribute("id") == id).Value;
        var runId = TextOf("run-id");
        Assert.StartsWith("rec_", runId, StringComparison.Ordinal);
        Assert.Contains(planted.From.ToString("d MMM yyyy", System.Globalization.CultureInfo.InvariantCulture), TextOf("period"), StringComparison.Ordinal);
        Assert.Equal(("10", "5"), (TextOf("items-total"), TextOf("discrepancies")));
        Assert.Equal(("5", "1", "1", "1", "1", "1"), (TextOf("count-matched"), TextOf("count-missing_at_gateway"), TextOf("count-missing_in_ledger"), TextOf("count-status_mismatch"), TextOf("count-field_mismatch"), TextOf("count-pending")));
        XNamespace svg = "http://www.w3.org/2000/svg";
        var chart = Assert.Single(document.Descendants(svg + "svg"));
        var bars = chart.Descendants(svg + "rect").Where(r => ((string?)r.Attribute("class"))?.StartsWith("bar ", StringComparison.Ordinal) == true).ToList();
        Assert.Contains(bars, b => (string?)b.Attribute("class") == "bar matched");
        Assert.Contains(bars, b => (string?)b.Attribute("class") == "bar field_mismatch");
        var discrepancyRows = document.Descendants("table").Single(t => (string?)t.Attribute("id") == "discrepancy-table").Descendants("tbody").Single().Elements("tr").ToList();
        Assert.Equal(5, discrepancyRows.Count);
        Assert.Contains(discrepancyRows, r => r.Value.Contains(planted.Planted["missing_in_ledger"], StringComparison.Ordinal));
        Assert.DoesNotContain(discrepancyRows, r => r.Value.Contains(planted.Planted["matched"], StringComparison.Ordinal));

        // Self-contained: no script, no external resource of any kind.
        Assert.DoesNotContain(document.Descendants(), e => e.Name.LocalName is "script" or "link" or "img" or "iframe" or "object");
        Assert.DoesNotContain(document.Descendants().Attributes(), a => a.Name.LocalName is "src" or "href");
        Assert.DoesNotContain("url(", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_Cli_Json_MachineReadableWithEveryItem()
    {
        // Arrange
        var path = NewReportPath("json");

        // Act
        var (code, _, _) = await planted.Host.CliAsync("reconcile", "--from", Day(planted.From), "--to", Day(planted.To), "--format", "json", "--out", path);

        // Assert
        Assert.Equal(3, code);
        using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
        var root = json.RootElement;
        Assert.Equal("RECONCILIATION_STATE_COMPLETED", root.GetProperty("reconciliation").GetProperty("state").GetString());
        Assert.Equal("5", root.GetProperty("reconciliation").GetProperty("discrepancies").GetString());
        var items = root.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(10, items.Count);
        var orphan = Assert.Single(items, i => i.GetProperty("token").GetString() == planted.Planted["missing_in_ledger"]);
        Assert.Equal("RECONCILIATION_CATEGORY_MISSING_IN_LEDGER", orphan.GetProperty("category").GetString());
        Assert.NotEmpty(root.GetProperty("dailyCounts").EnumerateArray());
    }

    [Fact]
    public async Task Reconcile_Cli_OneCustomerAllMatched_ExitZero()
    {
        // Act
        var (code, output, error) = await planted.Host.CliAsync(
            "reconcile", "--from", Day(planted.From), "--to", Day(planted.To), "--customer", "cust-ok", "--format", "csv", "--out", NewReportPath("csv"));

        // Assert
        Assert.Equal(0, code);
        Assert.Contains("1 tokens, 0 discrepancies", output, StringComparison.Ordinal);
        Assert.Contains("completed", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_Cli_OutputFileExists_UsageErrorAndFileUntouched()
    {
        // Arrange
        var path = NewReportPath("csv");
        await File.WriteAllTextAsync(path, "keep");

        // Act
        var (code, _, error) = await planted.Host.CliAsync("reconcile", "--run", planted.Result.Reconciliation.RunId, "--format", "csv", "--out", path);

        // Assert
        Assert.Equal(2, code);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal("keep", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Reconciliation_StartedAndFinished_BothInTheAuditTrailWithTheRunId()
    {
        // Arrange
        var runId = planted.Result.Reconciliation.RunId;
        var audit = new AuditService.AuditServiceClient(planted.Host.Server.ChannelFor("admin"));

        // Act
        var events = new List<AuditEvent>();
        using (var call = audit.ExportAuditEvents(new ExportAuditEventsRequest()))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                events.Add(call.ResponseStream.Current.Event);
            }
        }

        // Assert
        var started = Assert.Single(events, e => e.Action == "tokenizer.v1.ReconciliationService/StartReconciliation" && e.Resource == runId);
        Assert.Equal(("finance-staff", "success"), (started.CallerId, started.Outcome));
        var finished = Assert.Single(events, e => e.Action == "reconciliation.finished" && e.Resource == runId);
        Assert.Equal(("system", "success", "DISCREPANCIES"), (finished.CallerId, finished.Outcome, finished.Reason));
        Assert.Contains(events, e => e.Action == "tokenizer.v1.ReconciliationService/GetReconciliation" && e.Resource == runId);
    }

    private static (string, string, ReconciliationCategory) Facts(ReconciliationItem item) => (item.LedgerStatus, item.GatewayStatus, item.Category);

    private static string Day(DateTimeOffset time) => time.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private string NewReportPath(string extension) =>
        // No digits in the name: a run of a GUID's hex digits can pass Luhn, and the CLI's --out refuses such paths.
        Path.Combine(planted.Host.Server.DataDirectory, $"report-{string.Concat(Guid.NewGuid().ToString("N").Select(c => char.IsAsciiDigit(c) ? (char)('g' + (c - '0')) : c))}.{extension}");
}

/// <summary>The CSV cell rule on its own: neutralise formula starts, then quote per RFC 4180.</summary>
public sealed class CsvReportTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+441234", "'+441234")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\r\nlines", "\"two\r\nlines\"")]
    [InlineData("=cmd|' /C calc'!A0,x", "\"'=cmd|' /C calc'!A0,x\"")]
    public void CsvCell_AnyValue_NeutralisedThenQuotedPerRfc4180(string value, string expected) =>
        Assert.Equal(expected, CsvReport.Cell(value));
}
