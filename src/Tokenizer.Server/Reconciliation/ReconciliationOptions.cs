using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Reconciliation;

/// <summary>Configuration section <c>Tokenizer:Reconciliation</c>.</summary>
public sealed class ReconciliationOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Tokenizer:Reconciliation";

    /// <summary>
    /// Gateway requests per second a run may make, shared by every run of the process (Stripe allows about 100 live and
    /// 25 in test mode, for all of the account's traffic). Default 20.
    /// </summary>
    public double GatewayRequestsPerSecond { get; set; } = 20;

    /// <summary>PaymentMethods per gateway page, 1-100. Default 100.</summary>
    public int GatewayPageSize { get; set; } = 100;

    /// <summary>
    /// Seconds after which a claimed run whose worker stopped saving progress (the process died) may be taken over.
    /// Longer than one gateway page with all its retries. Default 120.
    /// </summary>
    public int LeaseSeconds { get; set; } = 120;

    /// <summary>Seconds an interrupted run (gateway or ledger unavailable) waits before it is resumed. Default 60.</summary>
    public int ResumeDelaySeconds { get; set; } = 60;

    /// <summary>Seconds between checks for runs to resume (new runs start at once). Default 10.</summary>
    public int PollSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds an intent may stay unresolved before a run reports it as pending; at least
    /// <c>Tokenizer:Recovery:GracePeriodSeconds</c> makes sense (the recovery worker resolves most first). Default 1800.
    /// </summary>
    public int PendingGraceSeconds { get; set; } = 1800;

    /// <summary>Off by default: when true, a run for the previous UTC day starts daily at <see cref="ScheduleTimeUtc"/>.</summary>
    public bool ScheduleEnabled { get; set; }

    /// <summary>When the daily run starts, UTC, <c>HH:mm</c>. Default <c>02:00</c>.</summary>
    public TimeOnly ScheduleTimeUtc { get; set; } = new(2, 0);
}

/// <summary>Refuses values that cannot work, naming the setting and never its value.</summary>
internal sealed class ReconciliationOptionsValidator : IValidateOptions<ReconciliationOptions>
{
    public ValidateOptionsResult Validate(string? name, ReconciliationOptions options)
    {
        var failures = new List<string>();
        if (!(options.GatewayRequestsPerSecond is >= 0.1 and <= 1000))
        {
            failures.Add("Tokenizer:Reconciliation:GatewayRequestsPerSecond must be between 0.1 and 1000.");
        }

        if (options.GatewayPageSize is < 1 or > 100)
        {
            failures.Add("Tokenizer:Reconciliation:GatewayPageSize must be between 1 and 100.");
        }

        if (options.LeaseSeconds is < 1 or > 3600)
        {
            failures.Add("Tokenizer:Reconciliation:LeaseSeconds must be between 1 and 3600.");
        }

        if (options.ResumeDelaySeconds is < 0 or > 86400)
        {
            failures.Add("Tokenizer:Reconciliation:ResumeDelaySeconds must be between 0 and 86400.");
        }

        if (options.PendingGraceSeconds is < 0 or > 604800)
        {
            failures.Add("Tokenizer:Reconciliation:PendingGraceSeconds must be between 0 and 604800.");
        }

        if (options.PollSeconds is < 1 or > 3600)
        {
            failures.Add("Tokenizer:Reconciliation:PollSeconds must be between 1 and 3600.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
