using System.Globalization;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Audit records of calls refused before a handler ran (rate limited, unauthenticated, forbidden, oversized, unknown
/// method), aggregated so that a flood cannot turn the audit trail into the denial of service: one record per caller,
/// origin, action, outcome, reason and UTC second, with the number of calls it stands for, appended by a background
/// flush about once a second (and at shutdown).
/// </summary>
/// <remarks>
/// <para>
/// The record's time is the start of its second; its correlation id is <c>aggregate;count=N</c> (the chain's record
/// format is unchanged); its resource is null (the request body of a refused call is never read).
/// </para>
/// <para>
/// Memory is bounded: at most <see cref="MaxPendingKeys"/> distinct keys wait for a flush. Calls beyond that are counted
/// and written as one record (caller <c>various</c>, action <c>refused_calls</c>, reason
/// <see cref="OverflowReason"/>, the count in its correlation id), so the trail still says how many calls went
/// unitemised. The flush writes at most <see cref="MaxPendingKeys"/> + 1 records, so the trail's write rate under a
/// flood is bounded too.
/// </para>
/// <para>
/// Not fail-closed, unlike <see cref="AuditInterceptor"/>: these calls were refused anyway. A flush that cannot write
/// logs a Critical event with the number of calls it could not record.
/// </para>
/// </remarks>
internal sealed class RefusedCallAudit(IAuditTrail trail, TimeProvider timeProvider, ILogger<RefusedCallAudit> logger) : BackgroundService
{
    /// <summary>Distinct keys held between flushes.</summary>
    public const int MaxPendingKeys = 1024;

    /// <summary>Reason of the record that counts refused calls past <see cref="MaxPendingKeys"/>.</summary>
    public const string OverflowReason = "AUDIT_AGGREGATION_OVERFLOW";

    /// <summary>Caller of the overflow record: the calls it counts came from many callers.</summary>
    public const string OverflowCaller = "various";

    /// <summary>Action of the overflow record.</summary>
    public const string OverflowAction = "refused_calls";

    private readonly Lock gate = new();
    private Dictionary<Key, long> pending = [];
    private long overflow;
    private long overflowSecond;

    /// <summary>The correlation id of an aggregated record standing for <paramref name="count"/> calls.</summary>
    public static string AggregateCorrelationId(long count) => "aggregate;count=" + count.ToString(CultureInfo.InvariantCulture);

    /// <summary>Counts one refused call in its second. Never blocks on the trail; never throws.</summary>
    public void Add(string callerId, string? sourceAddress, string action, AuditOutcome outcome, string? reason)
    {
        var second = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        var key = new Key(second, callerId, sourceAddress, action, outcome, reason);
        lock (gate)
        {
            if (pending.TryGetValue(key, out var count))
            {
                pending[key] = count + 1;
            }
            else if (pending.Count < MaxPendingKeys)
            {
                pending[key] = 1;
            }
            else
            {
                if (overflow == 0)
                {
                    overflowSecond = second;
                }

                overflow++;
            }
        }
    }

    /// <summary>Appends every aggregate of a second that has ended (or all of them when <paramref name="all"/>).</summary>
    public async Task FlushAsync(bool all)
    {
        var now = timeProvider.GetUtcNow().ToUnixTimeSeconds();
        List<KeyValuePair<Key, long>> due;
        long overflowed;
        long overflowAt;
        lock (gate)
        {
            due = [.. pending.Where(entry => all || entry.Key.Second < now)];
            if (due.Count == pending.Count)
            {
                pending = [];
            }
            else
            {
                foreach (var entry in due)
                {
                    pending.Remove(entry.Key);
                }
            }

            (overflowed, overflowAt, overflow) = (overflow, overflowSecond, 0);
        }

        var records = due
            .OrderBy(entry => entry.Key.Second)
            .Select(entry => (Count: entry.Value, Event: new AuditEvent(
                DateTimeOffset.FromUnixTimeSeconds(entry.Key.Second),
                entry.Key.CallerId,
                entry.Key.SourceAddress,
                entry.Key.Action,
                null,
                entry.Key.Outcome,
                entry.Key.Reason,
                AggregateCorrelationId(entry.Value))))
            .ToList();
        if (overflowed > 0)
        {
            records.Add((overflowed, new AuditEvent(
                DateTimeOffset.FromUnixTimeSeconds(overflowAt),
                OverflowCaller,
                null,
                OverflowAction,
                null,
                AuditOutcome.Failure,
                OverflowReason,
                AggregateCorrelationId(overflowed))));
        }

        for (var i = 0; i < records.Count; i++)
        {
            try
            {
                await trail.AppendAsync(records[i].Event, CancellationToken.None);
            }
            catch (Exception failure)
            {
                var lost = records.Skip(i).Sum(record => record.Count);
                var exceptionType = AuditLog.Describe(failure);
                AuditLog.RefusedCallsNotRecorded(logger, lost, exceptionType);
                return;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(all: false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes what is left.
        }
    }

    /// <summary>Stops the timer, then writes every aggregate still held, the current second's included.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(all: true);
    }

    private readonly record struct Key(long Second, string CallerId, string? SourceAddress, string Action, AuditOutcome Outcome, string? Reason);
}
