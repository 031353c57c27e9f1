using System.Globalization;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Reports;

/// <summary>What a report shows: the run with its summary, and its items as they are read, page by page.</summary>
/// <param name="Summary">The finished run (GetReconciliation).</param>
/// <param name="Items">Items of one category (or every category for null), in token order, streamed from the server.</param>
public sealed record ReconciliationReportSource(
    GetReconciliationResponse Summary,
    Func<ReconciliationCategory?, IAsyncEnumerable<ReconciliationItem>> Items);

/// <summary>The words reports use for the wire enums.</summary>
public static class ReportText
{
    /// <summary>Every category, in the order reports list them.</summary>
    public static IReadOnlyList<ReconciliationCategory> Categories { get; } =
    [
        ReconciliationCategory.Matched,
        ReconciliationCategory.MissingAtGateway,
        ReconciliationCategory.MissingInLedger,
        ReconciliationCategory.StatusMismatch,
        ReconciliationCategory.FieldMismatch,
        ReconciliationCategory.Pending,
    ];

    /// <summary><c>missing_at_gateway</c> and so on, as in the ledger and the README.</summary>
    public static string Category(ReconciliationCategory category) =>
        WireText.Of(Server.Grpc.ProtoEnums.ReconciliationCategory, Core.Reconciliation.ReconciliationTexts.Category, category, "unspecified");

    /// <summary>The category in words for people (the HTML report): "Missing at gateway" and so on.</summary>
    public static string Label(ReconciliationCategory category) => category switch
    {
        ReconciliationCategory.Matched => "Matched",
        ReconciliationCategory.MissingAtGateway => "Missing at gateway",
        ReconciliationCategory.MissingInLedger => "Missing in ledger",
        ReconciliationCategory.StatusMismatch => "Status differs",
        ReconciliationCategory.FieldMismatch => "Details differ",
        ReconciliationCategory.Pending => "Pending",
        _ => "Unknown",
    };

    /// <summary>The token type in words for people (the HTML report): "Card", "SEPA Direct Debit" and so on.</summary>
    public static string TypeLabel(TokenType type) => type switch
    {
        TokenType.Card => "Card",
        TokenType.AuBecsDebit => "AU BECS Direct Debit",
        TokenType.SepaDebit => "SEPA Direct Debit",
        TokenType.BacsDebit => "Bacs Direct Debit",
        TokenType.UsBankAccount => "US bank account (ACH)",
        _ => string.Empty,
    };

    /// <summary><c>card</c>, <c>sepa_debit</c> and so on; empty when unknown.</summary>
    public static string Type(TokenType type) =>
        WireText.Of(Server.Grpc.ProtoEnums.TokenType, Core.Domain.TokenTexts.Type, type, string.Empty);

    /// <summary>A wire time as ISO 8601 UTC (<c>2026-11-03T10:15:00Z</c>); empty when unset.</summary>
    public static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? string.Empty : time.ToDateTimeOffset().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A count with invariant digits.</summary>
    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
