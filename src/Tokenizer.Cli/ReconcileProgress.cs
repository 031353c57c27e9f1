using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli;

/// <summary>
/// A reconciliation run's progress on standard error: on a terminal, Spectre.Console's live bar (percentage of customers
/// walked, then the counts and the state), redrawn in place; anywhere else (a pipe, a log, a terminal without ANSI) one
/// plain line per change of state, so logs stay short.
/// </summary>
internal static class ReconcileProgress
{
    /// <summary>
    /// Runs <paramref name="poll"/>, which passes every state of the run it reads to the callback it is given, and
    /// returns its result; the display ends when it returns or throws.
    /// </summary>
    public static async Task<T> ShowAsync<T>(TextWriter error, Func<Action<Reconciliation>, Task<T>> poll)
    {
        // Spectre redraws in place with ANSI only: a terminal it finds none on (TERM unset or dumb) gets the plain lines,
        // which its own fallback would not print at all.
        var console = CliTerminal.IsTerminal(error) ? CliTerminal.Create(error, terminal: true) : null;
        if (console is null || !console.Profile.Capabilities.Ansi)
        {
            var last = string.Empty;
            return await poll(run =>
            {
                if (!string.Equals(State(run), last, StringComparison.Ordinal))
                {
                    last = State(run);
                    error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Fraction(run),4:P0} {Line(run)}"));
                }
            });
        }

        var result = default(T)!;
        var summary = new SummaryColumn();
        await console
            .Progress()
            .AutoClear(false)
            .Columns(new ProgressBarColumn { Width = 20 }, new PercentageColumn(), summary)
            .StartAsync(async context =>
            {
                var task = context.AddTask("reconciliation", maxValue: 1);
                result = await poll(run =>
                {
                    summary.Line = Line(run);
                    task.Value = Fraction(run);

                    // Spectre reads a description as markup (where it falls back to plain lines): the server's error
                    // reason must print as written, never as styles.
                    task.Description = Markup.Escape(summary.Line);
                });
            });
        return result;
    }

    private static double Fraction(Reconciliation run) =>
        run.State == ReconciliationState.Completed ? 1.0
        : run.CustomersTotal == 0 ? 0.0
        : Math.Min(1.0, (double)run.CustomersDone / run.CustomersTotal);

    private static string Line(Reconciliation run) => string.Create(
        CultureInfo.InvariantCulture,
        $"customers {run.CustomersDone}/{run.CustomersTotal}, tokens {run.ItemsTotal}, discrepancies {run.Discrepancies}, gateway requests {run.GatewayRequests}: {State(run)}");

    private static string State(Reconciliation run) => run.State switch
    {
        ReconciliationState.Interrupted => $"interrupted ({run.ErrorReason}), resuming",
        ReconciliationState.Completed => "completed",
        ReconciliationState.Failed => "failed",
        _ => "running",
    };

    /// <summary>
    /// The counts and the state as plain text (never markup), wrapped below itself when the terminal is narrow; Spectre's
    /// own description column never wraps, so a long line there squeezes the bar and the percentage away.
    /// </summary>
    private sealed class SummaryColumn : ProgressColumn
    {
        public string Line { get; set; } = string.Empty;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(Line);
    }
}
