using Google.Protobuf.WellKnownTypes;
using Tokenizer.Cli.Reports;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Tests;

/// <summary>A finished reconciliation run as the server answers it, for rendering reports without a server.</summary>
internal static class ReportSamples
{
    /// <summary>
    /// November 2026 (<c>--from 2026-11-01 --to 2026-11-30</c>): 20 days with tokens, most matched, one of each
    /// discrepancy, with leading-zero last4 and bank codes; or the same period with no tokens at all.
    /// </summary>
    public static ReconciliationReportSource November(bool empty = false)
    {
        var run = new Tokenizer.Contracts.V1.Reconciliation
        {
            RunId = "rec_01JDEMO0000000000000000000",
            State = ReconciliationState.Completed,
            Filter = new ReconciliationFilter
            {
                From = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero)),
                To = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)),
            },
            StartedBy = "finance",
            CreatedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero)),
            CompletedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 1, 8, 2, 13, TimeSpan.Zero)),
        };
        var items = new List<ReconciliationItem>();
        var response = new GetReconciliationResponse { Reconciliation = run };
        if (!empty)
        {
            var categories = new[]
            {
                (ReconciliationCategory.MissingAtGateway, "active", "not_attached", "0668", "visa", "card", "PaymentMethod not found at the gateway"),
                (ReconciliationCategory.MissingInLedger, "absent", "attached", "0005", "108800", "bacs_debit", "attached at the gateway, unknown to the ledger"),
                (ReconciliationCategory.StatusMismatch, "revoked", "attached", "0042", "000-000", "au_becs_debit", "revoked here, still attached at the gateway"),
                (ReconciliationCategory.FieldMismatch, "active", "attached", "0505", "jcb", "card", "exp_year differs"),
                (ReconciliationCategory.Pending, "pending", "attached", "0101", "110000000", "us_bank_account", "intent still open"),
            };
            var n = 0;
            foreach (var (category, ledger, gateway, last4, brand, type, detail) in categories)
            {
                items.Add(Item(++n, category, ledger, gateway, last4, brand, type, detail));
            }

            for (var day = 1; day <= 30; day++)
            {
                if (day % 3 == 0)
                {
                    continue;
                }

                var count = 3 + ((day * 7) % 11);
                response.DailyCounts.Add(new ReconciliationDailyCount { Day = $"2026-11-{day:00}", Category = ReconciliationCategory.Matched, Count = count });
                for (var i = 0; i < count; i++)
                {
                    items.Add(Item(++n, ReconciliationCategory.Matched, "active", "attached", "4242", "visa", "card", string.Empty));
                }
            }

            foreach (var (category, _, _, _, _, _, _) in categories)
            {
                response.DailyCounts.Add(new ReconciliationDailyCount { Day = "2026-11-17", Category = category, Count = 1 });
            }

            foreach (var group in items.GroupBy(i => (i.Category, i.Type, i.Brand)))
            {
                response.Counts.Add(new ReconciliationCount { Category = group.Key.Category, Type = group.Key.Type, Brand = group.Key.Brand, Count = group.Count() });
            }

            run.ItemsTotal = items.Count;
            run.Discrepancies = items.Count(i => i.Category != ReconciliationCategory.Matched);
        }

        return new ReconciliationReportSource(response, category => Stream(items.Where(i => category is null || i.Category == category).OrderBy(i => i.Token, StringComparer.Ordinal)));
    }

    /// <summary>Renders the HTML report of <paramref name="source"/>.</summary>
    public static async Task<string> HtmlAsync(ReconciliationReportSource source)
    {
        using var stream = new MemoryStream();
        await HtmlReport.WriteAsync(source, stream, CancellationToken.None);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static ReconciliationItem Item(int n, ReconciliationCategory category, string ledger, string gateway, string last4, string brand, string type, string detail) => new()
    {
        // Token order differs from category order, so "discrepancies first" is a real reordering.
        Token = $"pm_{(category == ReconciliationCategory.Matched ? "a" : "z")}{n:000000}",
        Category = category,
        LedgerStatus = ledger,
        GatewayStatus = gateway,
        Last4 = last4,
        Brand = brand,
        Type = type switch
        {
            "bacs_debit" => TokenType.BacsDebit,
            "au_becs_debit" => TokenType.AuBecsDebit,
            "us_bank_account" => TokenType.UsBankAccount,
            _ => TokenType.Card,
        },
        CustomerReference = $"cust-{n % 7:000}",
        CreatedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 11, 17, 10, n % 60, 0, TimeSpan.Zero)),
        Detail = detail,
    };

    private static async IAsyncEnumerable<ReconciliationItem> Stream(IEnumerable<ReconciliationItem> items)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            yield return item;
        }
    }
}
