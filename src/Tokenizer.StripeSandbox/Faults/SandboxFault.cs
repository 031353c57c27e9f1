namespace Tokenizer.StripeSandbox.Faults;

/// <summary>What a fault does to the request it fires on. Wire names (JSON, <c>Sandbox-Fault</c> header) are snake_case.</summary>
public enum SandboxFaultAction
{
    /// <summary><c>latency</c>: waits <see cref="SandboxFault.Delay"/>, then the request continues (other rules may still fire on it).</summary>
    Latency,

    /// <summary>
    /// <c>status</c>: answers an error before the request runs: 409 <c>idempotency_key_in_use</c>, 429 <c>rate_limit</c> or
    /// <c>lock_timeout</c>, or 500/502/503/504 <c>api_error</c>, with Stripe's JSON error body. Nothing is kept for the
    /// Idempotency-Key, so a retry with the same key runs normally.
    /// </summary>
    Status,

    /// <summary><c>non_json</c>: answers an HTML page (502 by default) before the request runs, like a proxy in front of Stripe.</summary>
    NonJson,

    /// <summary><c>reset</c>: aborts the connection before the request runs (<c>HttpContext.Abort()</c>); nothing is kept.</summary>
    Reset,

    /// <summary>
    /// <c>hang</c>: holds the request without running it until the client goes away, the sandbox stops, or
    /// <see cref="SandboxFault.MaxWait"/> passes; then aborts the connection. Nothing is kept.
    /// </summary>
    Hang,

    /// <summary>
    /// <c>drop_after_success</c>: runs the request exactly as normal (state changes and the idempotency result are kept),
    /// then aborts the connection instead of answering, whatever the answer was. A retry with the same Idempotency-Key
    /// replays the kept answer with <c>Idempotent-Replayed: true</c>.
    /// </summary>
    DropAfterSuccess,

    /// <summary>
    /// <c>hang_after_success</c>: runs the request as normal (everything kept, as <see cref="DropAfterSuccess"/>), then holds
    /// the answer until the client goes away (its timeout), the sandbox stops, or <see cref="SandboxFault.MaxWait"/>
    /// passes, and aborts the connection.
    /// </summary>
    HangAfterSuccess,
}

/// <summary>
/// One fault: an action and its parameters. Build it with the factory methods, which check the parameters and throw
/// <see cref="ArgumentOutOfRangeException"/> (or <see cref="ArgumentException"/>) for a value outside the documented range.
/// </summary>
public sealed record SandboxFault
{
    /// <summary>The longest <see cref="Delay"/> or <see cref="MaxWait"/>: 10 minutes.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(10);

    /// <summary>The default <see cref="MaxWait"/> of <see cref="Hang"/> and <see cref="HangAfterSuccess"/>: 60 seconds.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromSeconds(60);

    /// <summary>The statuses <see cref="Status"/> accepts.</summary>
    public static readonly IReadOnlyList<int> StatusCodes = [409, 429, 500, 502, 503, 504];

    /// <summary>The statuses <see cref="NonJson"/> accepts.</summary>
    public static readonly IReadOnlyList<int> NonJsonStatusCodes = [500, 502, 503, 504];

    /// <summary>The error codes a 429 may carry.</summary>
    public static readonly IReadOnlyList<string> RateLimitCodes = ["rate_limit", "lock_timeout"];

    private SandboxFault(SandboxFaultAction action, int? statusCode = null, bool? shouldRetry = null, string? code = null, TimeSpan? delay = null, TimeSpan? maxWait = null)
    {
        Action = action;
        StatusCode = statusCode;
        ShouldRetry = shouldRetry;
        Code = code;
        Delay = delay;
        MaxWait = maxWait;
    }

    /// <summary>What the fault does.</summary>
    public SandboxFaultAction Action { get; }

    /// <summary>The HTTP status answered (<see cref="SandboxFaultAction.Status"/>, <see cref="SandboxFaultAction.NonJson"/>); otherwise null.</summary>
    public int? StatusCode { get; }

    /// <summary>
    /// <see cref="SandboxFaultAction.Status"/> only: the <c>Stripe-Should-Retry</c> header sent (<c>true</c> or <c>false</c>);
    /// null sends no header. Stripe.net obeys the header before it looks at the status.
    /// </summary>
    public bool? ShouldRetry { get; }

    /// <summary>The Stripe error <c>code</c> of a 429 (<c>rate_limit</c> or <c>lock_timeout</c>) or 409 (<c>idempotency_key_in_use</c>); otherwise null.</summary>
    public string? Code { get; }

    /// <summary><see cref="SandboxFaultAction.Latency"/> only: the added delay.</summary>
    public TimeSpan? Delay { get; }

    /// <summary><see cref="SandboxFaultAction.Hang"/> and <see cref="SandboxFaultAction.HangAfterSuccess"/> only: the longest hold before the connection is aborted.</summary>
    public TimeSpan? MaxWait { get; }

    /// <summary>Whether the fault lets the request run first (<c>drop_after_success</c>, <c>hang_after_success</c>).</summary>
    public bool RunsRequest => Action is SandboxFaultAction.DropAfterSuccess or SandboxFaultAction.HangAfterSuccess;

    /// <summary>Adds <paramref name="delay"/> (more than zero, at most <see cref="MaxDuration"/>) before the request is handled.</summary>
    public static SandboxFault Latency(TimeSpan delay)
    {
        CheckDuration(delay, nameof(delay));
        return new SandboxFault(SandboxFaultAction.Latency, delay: delay);
    }

    /// <summary>
    /// Answers <paramref name="statusCode"/> before the request runs: 409 (<c>idempotency_key_in_use</c>), 429
    /// (<paramref name="code"/> <c>rate_limit</c>, the default, or <c>lock_timeout</c>), 500, 502, 503 or 504
    /// (<c>api_error</c>). <paramref name="shouldRetry"/> sends <c>Stripe-Should-Retry</c>; null sends none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The status is not one of <see cref="StatusCodes"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="code"/> is given for a status other than 429, or is not one of <see cref="RateLimitCodes"/>.</exception>
    public static SandboxFault Status(int statusCode, bool? shouldRetry = null, string? code = null)
    {
        if (!StatusCodes.Contains(statusCode))
        {
            throw new ArgumentOutOfRangeException(nameof(statusCode), "must be one of 409, 429, 500, 502, 503, 504.");
        }

        if (code is not null && (statusCode != 429 || !RateLimitCodes.Contains(code)))
        {
            throw new ArgumentException("is only for status 429 and must be rate_limit or lock_timeout.", nameof(code));
        }

        code = statusCode switch
        {
            429 => code ?? "rate_limit",
            409 => "idempotency_key_in_use",
            _ => null,
        };
        return new SandboxFault(SandboxFaultAction.Status, statusCode, shouldRetry, code);
    }

    /// <summary>Answers an HTML page with <paramref name="statusCode"/> (500, 502, 503 or 504; 502 by default) before the request runs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The status is not one of <see cref="NonJsonStatusCodes"/>.</exception>
    public static SandboxFault NonJson(int statusCode = 502) => NonJsonStatusCodes.Contains(statusCode)
        ? new SandboxFault(SandboxFaultAction.NonJson, statusCode)
        : throw new ArgumentOutOfRangeException(nameof(statusCode), "must be one of 500, 502, 503, 504.");

    /// <summary>Aborts the connection before the request runs.</summary>
    public static SandboxFault Reset() => new(SandboxFaultAction.Reset);

    /// <summary>Holds the request, unrun, until the client goes away or <paramref name="maxWait"/> (default 60 s, at most 10 min) passes; then aborts.</summary>
    public static SandboxFault Hang(TimeSpan? maxWait = null) => new(SandboxFaultAction.Hang, maxWait: CheckedMaxWait(maxWait));

    /// <summary>Runs the request, keeps everything, and aborts the connection instead of answering.</summary>
    public static SandboxFault DropAfterSuccess() => new(SandboxFaultAction.DropAfterSuccess);

    /// <summary>Runs the request, keeps everything, then holds the answer until the client goes away or <paramref name="maxWait"/> passes; then aborts.</summary>
    public static SandboxFault HangAfterSuccess(TimeSpan? maxWait = null) => new(SandboxFaultAction.HangAfterSuccess, maxWait: CheckedMaxWait(maxWait));

    private static TimeSpan CheckedMaxWait(TimeSpan? maxWait)
    {
        var value = maxWait ?? DefaultMaxWait;
        CheckDuration(value, nameof(maxWait));
        return value;
    }

    private static void CheckDuration(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > MaxDuration)
        {
            throw new ArgumentOutOfRangeException(name, "must be more than 0 and at most 10 minutes.");
        }
    }
}

/// <summary>
/// A rule of the fault plan: which requests it matches, when it fires and what it does.
/// </summary>
/// <remarks>
/// <para><see cref="Match"/>: <c>"METHOD /path"</c>, <c>"/path"</c> (any method) or <c>"*"</c> (every <c>/v1</c> request).
/// METHOD is an HTTP method or <c>*</c>. In the path, <c>*</c> matches exactly one segment and a final <c>**</c> matches any
/// number of segments (none included); e.g. <c>"POST /v1/payment_methods/*/attach"</c>, <c>"GET /v1/customers/**"</c>.
/// The query string is never matched.</para>
/// <para>Each rule counts the requests it matches from the moment it is added. It fires on the <see cref="Nth"/> matching
/// request, and on each following one until it has fired <see cref="Count"/> times (then it is removed). If an earlier
/// rule took a request the rule was due to fire on, it fires on the next matching request instead.</para>
/// </remarks>
public sealed record SandboxFaultRule
{
    /// <summary>A <see cref="Count"/> that never runs out: the rule fires until the plan is cleared.</summary>
    public const int Unlimited = 0;

    /// <summary>Creates a rule.</summary>
    /// <param name="match">The requests it applies to (see the remarks), at most 200 characters.</param>
    /// <param name="fault">What it does.</param>
    /// <param name="nth">The first matching request it fires on, counted from 1 (1 to 1,000,000).</param>
    /// <param name="count">How many times it fires (1 to 1,000,000), or <see cref="Unlimited"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="match"/> is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nth"/> or <paramref name="count"/> is out of range.</exception>
    public SandboxFaultRule(string match, SandboxFault fault, int nth = 1, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(match);
        ArgumentNullException.ThrowIfNull(fault);
        Matcher = RequestMatcher.Parse(match) ?? throw new ArgumentException(RequestMatcher.FormatMessage, nameof(match));
        if (nth is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(nth), "must be between 1 and 1000000.");
        }

        if (count is < 0 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "must be between 1 and 1000000, or 0 for unlimited.");
        }

        Match = match;
        Fault = fault;
        Nth = nth;
        Count = count;
    }

    /// <summary>The request pattern, as given.</summary>
    public string Match { get; }

    /// <summary>What the rule does.</summary>
    public SandboxFault Fault { get; }

    /// <summary>The first matching request (from 1) the rule fires on.</summary>
    public int Nth { get; }

    /// <summary>How many times the rule fires; <see cref="Unlimited"/> (0) for ever.</summary>
    public int Count { get; }

    internal RequestMatcher Matcher { get; }
}

/// <summary>A rule still in the plan, with how many matching requests it has seen and how many times it fired.</summary>
/// <param name="Rule">The rule.</param>
/// <param name="Seen">Matching requests since it was added.</param>
/// <param name="Fired">Times it fired.</param>
public sealed record SandboxPendingFault(SandboxFaultRule Rule, int Seen, int Fired);
