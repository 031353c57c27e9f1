using System.Globalization;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// Audit records of refused webhook deliveries (bad or missing signature, stale timestamp, oversize or malformed body,
/// rate limited), aggregated so that a flood neither floods the trail nor writes to the ledger on the request path:
/// one record per reason and peer address per window (<see cref="WebhookOptions.RefusalAuditSeconds"/>), caller
/// <c>anonymous</c>, action <see cref="Action"/>, outcome denied (signature) or failure, correlation id
/// <c>aggregate;count=N</c>, written when the window ends and at shutdown.
/// </summary>
/// <remarks>
/// Memory is bounded: past <see cref="MaxPendingKeys"/> distinct keys a window's further refusals are counted without
/// their address. Not fail-closed: the deliveries were refused anyway; a failed write is logged with its count.
/// </remarks>
internal sealed partial class WebhookRefusalAudit(
    IAuditTrail trail, IOptions<WebhookOptions> options, TimeProvider timeProvider, ILogger<WebhookRefusalAudit> logger) : BackgroundService
{
    /// <summary>The audit action of webhook deliveries.</summary>
    public const string Action = "stripe.webhook/delivery";

    /// <summary>Distinct (reason, address) keys held per window.</summary>
    public const int MaxPendingKeys = 256;

    private readonly Lock gate = new();
    private Dictionary<(string Reason, string? Address), long> pending = [];
    private DateTimeOffset windowStart = timeProvider.GetUtcNow();

    /// <summary>Counts one refusal. Never blocks on the trail; never throws.</summary>
    public void Add(string reason, string? sourceAddress)
    {
        lock (gate)
        {
            var key = (reason, sourceAddress);
            if (!pending.ContainsKey(key) && pending.Count >= MaxPendingKeys)
            {
                key = (reason, null);
            }

            pending[key] = pending.TryGetValue(key, out var count) ? count + 1 : 1;
        }
    }

    /// <summary>Writes the current window's aggregates and starts a new window.</summary>
    public async Task FlushAsync()
    {
        Dictionary<(string Reason, string? Address), long> due;
        DateTimeOffset start;
        lock (gate)
        {
            (due, pending) = (pending, []);
            (start, windowStart) = (windowStart, timeProvider.GetUtcNow());
        }

        var left = due.Values.Sum();
        foreach (var ((reason, address), count) in due.OrderBy(e => e.Key.Reason, StringComparer.Ordinal))
        {
            var outcome = reason is WebhookReasons.MissingSignature or WebhookReasons.BadSignature or WebhookReasons.StaleTimestamp
                ? AuditOutcome.Denied
                : AuditOutcome.Failure;
            try
            {
                await trail.AppendAsync(
                    new AuditEvent(start, "anonymous", address, Action, null, outcome, reason, "aggregate;count=" + count.ToString(CultureInfo.InvariantCulture)),
                    CancellationToken.None);
                left -= count;
            }
            catch (Exception failure)
            {
                var exceptionType = failure.GetType().Name;
                LogNotRecorded(logger, left, exceptionType);
                return;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RefusalAuditSeconds), timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync();
    }

    [LoggerMessage(EventId = 7111, EventName = "WebhookRefusalsNotRecorded", Level = LogLevel.Critical,
        Message = "The audit trail could not record {Count} refused webhook deliveries (aggregated); they were refused anyway: {ExceptionType}")]
    private static partial void LogNotRecorded(ILogger logger, long count, string exceptionType);
}
