namespace Tokenizer.StripeSandbox.Faults;

/// <summary>What the plan decided for one request: the added latency (zero for none) and at most one other fault.</summary>
internal readonly record struct FaultDecision(TimeSpan Latency, SandboxFault? Fault)
{
    public static FaultDecision None => default;

    /// <summary>The action recorded for the request: the fault's, or <c>latency</c> when only latency fired.</summary>
    public SandboxFaultAction? Recorded => Fault?.Action ?? (Latency > TimeSpan.Zero ? SandboxFaultAction.Latency : null);
}

/// <summary>
/// The sandbox's fault plan: an ordered list of <see cref="SandboxFaultRule"/>s applied to <c>/v1</c> requests (after the
/// API key check; control and stats endpoints are never faulted). Thread-safe. Also served over HTTP as
/// <c>/_sandbox/faults</c> when a control token is configured.
/// </summary>
/// <remarks>
/// For each request every matching rule counts it; then every due <c>latency</c> rule fires (the delays add up) and the
/// first due rule of any other action fires. Exhausted rules leave the plan.
/// </remarks>
public sealed class SandboxFaultPlan : IDisposable
{
    /// <summary>The most rules the plan holds at once.</summary>
    public const int MaxRules = 1000;

    private readonly Lock gate = new();
    private readonly List<Entry> entries = [];

    // Cancelled and replaced by EndHolds; a replaced one is not disposed (a request that read its token just before may
    // still link to it), only the last one, with the plan.
    private CancellationTokenSource holds = new();

    /// <summary>The rules still in the plan, in order, with their counters.</summary>
    public IReadOnlyList<SandboxPendingFault> Pending
    {
        get
        {
            lock (gate)
            {
                return [.. entries.Select(e => new SandboxPendingFault(e.Rule, e.Seen, e.Fired))];
            }
        }
    }

    /// <summary>Appends a rule.</summary>
    /// <exception cref="InvalidOperationException">The plan already holds <see cref="MaxRules"/> rules.</exception>
    public void Add(SandboxFaultRule rule) => AddRange([rule]);

    /// <summary>Appends a rule built from its parts (see <see cref="SandboxFaultRule(string, SandboxFault, int, int)"/>) and returns it.</summary>
    /// <exception cref="ArgumentException">A part is malformed or out of range.</exception>
    /// <exception cref="InvalidOperationException">The plan already holds <see cref="MaxRules"/> rules.</exception>
    public SandboxFaultRule Add(string match, SandboxFault fault, int nth = 1, int count = 1)
    {
        var rule = new SandboxFaultRule(match, fault, nth, count);
        Add(rule);
        return rule;
    }

    /// <summary>Appends rules, all or none.</summary>
    /// <exception cref="InvalidOperationException">The plan would hold more than <see cref="MaxRules"/> rules.</exception>
    public void AddRange(IEnumerable<SandboxFaultRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var added = rules.Select(r => new Entry(r ?? throw new ArgumentException("rules must not hold null.", nameof(rules)))).ToList();
        lock (gate)
        {
            if (entries.Count + added.Count > MaxRules)
            {
                throw new InvalidOperationException($"The fault plan holds at most {MaxRules} rules.");
            }

            entries.AddRange(added);
        }
    }

    /// <summary>Removes every rule. Requests already holding a fault keep it.</summary>
    public void Clear()
    {
        lock (gate)
        {
            entries.Clear();
        }
    }

    /// <summary>
    /// Ends every hold in progress now (<see cref="SandboxFaultAction.Hang"/>, <see cref="SandboxFaultAction.HangAfterSuccess"/>,
    /// and latency not yet waited out) as if its wait had run out: the connection is aborted. Holds that begin later wait
    /// as usual. For tests that need a hanging call to end at a chosen moment rather than at a timeout.
    /// </summary>
    public void EndHolds()
    {
        Interlocked.Exchange(ref holds, new CancellationTokenSource()).Cancel();
    }

    /// <inheritdoc/>
    public void Dispose() => holds.Dispose();

    /// <summary>Cancelled when <see cref="EndHolds"/> is called; read when a hold begins.</summary>
    internal CancellationToken HoldsEnd => Volatile.Read(ref holds).Token;

    /// <summary>Counts the request against every matching rule and returns what fires.</summary>
    internal FaultDecision Next(string method, string path)
    {
        lock (gate)
        {
            if (entries.Count == 0)
            {
                return FaultDecision.None;
            }

            var latency = TimeSpan.Zero;
            SandboxFault? fault = null;
            foreach (var entry in entries)
            {
                if (!entry.Rule.Matcher.IsMatch(method, path))
                {
                    continue;
                }

                entry.Seen = SaturatingIncrement(entry.Seen);
                if (entry.Seen < entry.Rule.Nth)
                {
                    continue;
                }

                if (entry.Rule.Fault.Action == SandboxFaultAction.Latency)
                {
                    latency += entry.Rule.Fault.Delay!.Value;
                    entry.Fired = SaturatingIncrement(entry.Fired);
                }
                else if (fault is null)
                {
                    fault = entry.Rule.Fault;
                    entry.Fired = SaturatingIncrement(entry.Fired);
                }
            }

            entries.RemoveAll(e => e.Rule.Count != SandboxFaultRule.Unlimited && e.Fired >= e.Rule.Count);
            return new FaultDecision(latency, fault);
        }
    }

    // Unlimited rules on a long load run must not wrap around into "not yet due".
    private static int SaturatingIncrement(int value) => value == int.MaxValue ? value : value + 1;

    private sealed class Entry(SandboxFaultRule rule)
    {
        public SandboxFaultRule Rule { get; } = rule;

        public int Seen { get; set; }

        public int Fired { get; set; }
    }
}
