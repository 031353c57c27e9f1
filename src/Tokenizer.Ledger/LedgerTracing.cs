using System.Diagnostics;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Ledger;

/// <summary>
/// The ledger's spans (<see cref="TokenizerTracing.Ledger"/>): one per write transaction and per read, named
/// <c>ledger {operation}</c> after the ledger method that ran it (<c>ledger Claim</c>, <c>ledger CompleteWithToken</c>...).
/// </summary>
/// <remarks>
/// Only inside a traced unit of work (an RPC or webhook event span, or any other current span): the background
/// workers' polling reads and writes would otherwise each start a trace of their own. Attributes: <c>db.system.name</c>,
/// <c>tokenizer.ledger.operation</c> (a method name from code), <c>tokenizer.ledger.access</c> (<c>write</c> or
/// <c>read</c>); on failure <c>error.type</c> and the error reason. Never SQL text, parameters or rows.
/// </remarks>
internal static class LedgerTracing
{
    /// <summary>Starts a ledger span under the current one, or returns null when there is none or nobody listens.</summary>
    /// <param name="system"><c>sqlite</c> or <c>postgresql</c>.</param>
    /// <param name="access"><c>write</c> or <c>read</c>.</param>
    /// <param name="operation">The calling member's name (<c>BeginAsync</c>...), from [CallerMemberName].</param>
    public static Activity? Start(string system, string access, string operation)
    {
        if (Activity.Current is null || !TokenizerTracing.Ledger.HasListeners())
        {
            return null;
        }

        var name = TokenizerTracing.CodeName(operation.EndsWith("Async", StringComparison.Ordinal) ? operation[..^"Async".Length] : operation);
        var activity = TokenizerTracing.Ledger.StartActivity("ledger " + name, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("db.system.name", system);
            activity.SetTag("tokenizer.ledger.operation", name);
            activity.SetTag("tokenizer.ledger.access", access);
        }

        return activity;
    }

    /// <summary>
    /// Runs <paramref name="run"/> inside a ledger span (<see cref="Start"/>), recording a failure on it; the span ends
    /// when the work does.
    /// </summary>
    public static async Task<T> TraceAsync<T>(string system, string access, string operation, Func<Task<T>> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var activity = Start(system, access, operation);
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (Exception error)
        {
            TokenizerTracing.RecordError(activity, error);
            throw;
        }
    }
}
