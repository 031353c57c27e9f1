namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Settings of the one resilience pipeline every Stripe call goes through (<see cref="StripeResilience"/>); the host
/// binds them from <c>Stripe:Resilience</c>. Read once when the pipeline is built.
/// </summary>
/// <remarks>
/// Time budget: one call (all attempts and back-offs) ends after <see cref="TotalTimeout"/>, which must stay inside the
/// server's per-call cap (<c>Tokenizer:Limits:CallTimeoutSeconds</c>, 30 s by default); the caller's own deadline, when
/// shorter, cancels the call earlier (an <see cref="OperationCanceledException"/>, not a gateway failure).
/// </remarks>
public sealed class StripeResilienceOptions
{
    /// <summary>The longest one HTTP attempt may take (a hung connection); then it counts as a transient failure. 10 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest one Stripe call may take with all its retries and back-offs. 25 s.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Retries after the first attempt (0 to 10; 0 turns retries off). 3.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The first back-off; each next one doubles, with jitter (Polly's decorrelated jitter). 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest single back-off. 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The circuit breaker (section <c>Stripe:Resilience:CircuitBreaker</c>).</summary>
    public StripeCircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>
    /// Every problem with these settings, each naming the setting under <paramref name="prefix"/> (e.g.
    /// <c>Stripe:Resilience:</c>) and never its value; empty when valid.
    /// </summary>
    public IReadOnlyList<string> Validate(string prefix)
    {
        var failures = new List<string>();
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10) || AttemptTimeout > TimeSpan.FromMinutes(2))
        {
            failures.Add(prefix + "AttemptTimeout must be between 10 ms and 2 minutes.");
        }

        if (TotalTimeout < AttemptTimeout || TotalTimeout > TimeSpan.FromMinutes(2))
        {
            failures.Add(prefix + "TotalTimeout must be at least AttemptTimeout and at most 2 minutes.");
        }

        if (MaxRetries is < 0 or > 10)
        {
            failures.Add(prefix + "MaxRetries must be between 0 and 10.");
        }

        if (BaseDelay < TimeSpan.Zero || BaseDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add(prefix + "BaseDelay must be between 0 and 1 minute.");
        }

        if (MaxDelay < BaseDelay || MaxDelay > TimeSpan.FromMinutes(1))
        {
            failures.Add(prefix + "MaxDelay must be at least BaseDelay and at most 1 minute.");
        }

        failures.AddRange((CircuitBreaker ?? new()).Validate(prefix + "CircuitBreaker:"));
        return failures;
    }
}

/// <summary>
/// When the pipeline stops sending and answers at once: once at least <see cref="MinimumThroughput"/> attempts were
/// seen in <see cref="SamplingDuration"/> and at least <see cref="FailureRatio"/> of them failed (network error, attempt
/// timeout, 5xx, 429), every call fails fast for <see cref="BreakDuration"/>, then one trial attempt decides.
/// </summary>
public sealed class StripeCircuitBreakerOptions
{
    /// <summary>The share of failed attempts that opens the circuit, above 0 and at most 1. 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Attempts the sampling window must hold before the ratio counts; at least 2. 20.</summary>
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>The sliding window the ratio is measured over; at least 0.5 s. 30 s.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open circuit answers without sending; 0.5 s to 1 hour. 15 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Every problem with these settings, each naming the setting, never its value.</summary>
    public IReadOnlyList<string> Validate(string prefix)
    {
        var failures = new List<string>();
        if (!(FailureRatio > 0 && FailureRatio <= 1))
        {
            failures.Add(prefix + "FailureRatio must be above 0 and at most 1.");
        }

        if (MinimumThroughput < 2)
        {
            failures.Add(prefix + "MinimumThroughput must be at least 2.");
        }

        if (SamplingDuration < TimeSpan.FromMilliseconds(500) || SamplingDuration > TimeSpan.FromDays(1))
        {
            failures.Add(prefix + "SamplingDuration must be between 0.5 s and 1 day.");
        }

        if (BreakDuration < TimeSpan.FromMilliseconds(500) || BreakDuration > TimeSpan.FromHours(1))
        {
            failures.Add(prefix + "BreakDuration must be between 0.5 s and 1 hour.");
        }

        return failures;
    }
}
