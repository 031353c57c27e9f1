using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Events;

/// <summary>Configuration section <c>Tokenizer:TokenEvents</c>: how long token events are kept and how watchers are served.</summary>
public sealed class TokenEventOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Tokenizer:TokenEvents";

    /// <summary>
    /// How long an event is kept after it was recorded, 1 hour to 3650 days (a TimeSpan: <c>30.00:00:00</c>, or <c>30</c>
    /// for days). Default 30 days. The retention purge (<c>Tokenizer:Privacy:PurgeIntervalSeconds</c>) deletes older ones;
    /// a watcher that is further behind than this misses them.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often a WatchTokenEvents stream looks for new events once it has caught up, 100 to 60000 ms. Default 1000.</summary>
    public int WatchPollIntervalMilliseconds { get; set; } = 1000;

    /// <summary>WatchTokenEvents streams one caller may hold open at once (per replica), 1 to 64. Default 4.</summary>
    public int MaxWatchesPerCaller { get; set; } = 4;
}

/// <summary>Validates <see cref="TokenEventOptions"/> at start-up; messages name the setting, never its value.</summary>
internal sealed class TokenEventOptionsValidator : IValidateOptions<TokenEventOptions>
{
    public ValidateOptionsResult Validate(string? name, TokenEventOptions options)
    {
        var failures = new List<string>();
        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(3650))
        {
            failures.Add("Tokenizer:TokenEvents:Retention must be between 1 hour and 3650 days.");
        }

        if (options.WatchPollIntervalMilliseconds is < 100 or > 60000)
        {
            failures.Add("Tokenizer:TokenEvents:WatchPollIntervalMilliseconds must be between 100 and 60000.");
        }

        if (options.MaxWatchesPerCaller is < 1 or > 64)
        {
            failures.Add("Tokenizer:TokenEvents:MaxWatchesPerCaller must be between 1 and 64.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
