using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Privacy;

/// <summary>Configuration section <c>Tokenizer:Privacy</c>: retention periods and the purge worker.</summary>
public sealed class PrivacyOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Tokenizer:Privacy";

    /// <summary>
    /// Days a revoked token's id and masked metadata (and an erased subject's tokens, under the erased pseudonym) are
    /// kept after revocation, 1 to 3650. Default 365.
    /// </summary>
    public int RevokedTokenRetentionDays { get; set; } = 365;

    /// <summary>
    /// Days a finished idempotency record (and its intent) is kept, 1 to 3650. Default 30. After that a retry with the
    /// same key runs afresh; keep it well above the callers' retry horizon and Stripe's 24 hours.
    /// </summary>
    public int IdempotencyRetentionDays { get; set; } = 30;

    /// <summary>Run the retention purge (default true).</summary>
    public bool PurgeEnabled { get; set; } = true;

    /// <summary>Seconds between purges (the first runs at start-up), 60 to 86400. Default 3600.</summary>
    public int PurgeIntervalSeconds { get; set; } = 3600;
}

/// <summary>Validates <see cref="PrivacyOptions"/> at start-up; messages name the setting, never its value.</summary>
internal sealed class PrivacyOptionsValidator : IValidateOptions<PrivacyOptions>
{
    public ValidateOptionsResult Validate(string? name, PrivacyOptions options)
    {
        var failures = new List<string>();
        if (options.RevokedTokenRetentionDays is < 1 or > 3650)
        {
            failures.Add("Tokenizer:Privacy:RevokedTokenRetentionDays must be between 1 and 3650.");
        }

        if (options.IdempotencyRetentionDays is < 1 or > 3650)
        {
            failures.Add("Tokenizer:Privacy:IdempotencyRetentionDays must be between 1 and 3650.");
        }

        if (options.PurgeIntervalSeconds is < 60 or > 86400)
        {
            failures.Add("Tokenizer:Privacy:PurgeIntervalSeconds must be between 60 and 86400.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
