using System.Diagnostics.Metrics;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Server.Reconciliation;

/// <summary>
/// Reconciliation instruments on the <c>Tokenizer</c> meter: runs finished by outcome, and the discrepancies completed
/// runs found, by category. Tags are fixed vocabularies (states and categories), never run ids or tokens.
/// </summary>
internal sealed class ReconciliationMetrics
{
    private readonly Counter<long> runs;
    private readonly Counter<long> discrepancies;

    public ReconciliationMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(TokenizerMetrics.MeterName);
        runs = meter.CreateCounter<long>("tokenizer.reconciliation.runs", "{run}", "Reconciliation runs that stopped, by outcome (completed, interrupted, failed)");
        discrepancies = meter.CreateCounter<long>(
            "tokenizer.reconciliation.discrepancies",
            "{token}",
            "Tokens that completed reconciliation runs found not matched, by category");
    }

    /// <summary>A run stopped in <paramref name="state"/>.</summary>
    public void RecordRun(ReconciliationState state) =>
        runs.Add(1, new KeyValuePair<string, object?>("outcome", StateName(state)));

    /// <summary>A completed run found <paramref name="count"/> tokens of <paramref name="category"/>.</summary>
    public void RecordDiscrepancies(ReconciliationCategory category, long count) =>
        discrepancies.Add(count, new KeyValuePair<string, object?>("category", CategoryName(category)));

    internal static string StateName(ReconciliationState state) => state switch
    {
        ReconciliationState.Completed => "completed",
        ReconciliationState.Interrupted => "interrupted",
        ReconciliationState.Failed => "failed",
        ReconciliationState.Running => "released",
        _ => TokenizerMetrics.Other,
    };

    internal static string CategoryName(ReconciliationCategory category) =>
        Enum.IsDefined(category) ? ReconciliationTexts.Category.Text(category) : TokenizerMetrics.Other;
}
