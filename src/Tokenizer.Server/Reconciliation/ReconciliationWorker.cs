using Microsoft.Extensions.Options;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Server.Audit;

namespace Tokenizer.Server.Reconciliation;

/// <summary>
/// Carries reconciliation runs out in the background, one at a time per process: new runs at once (woken by
/// StartReconciliation), runs whose worker died after <see cref="ReconciliationOptions.LeaseSeconds"/>, interrupted runs
/// after <see cref="ReconciliationOptions.ResumeDelaySeconds"/>; each claimed first, so replicas never run one run
/// twice. When <see cref="ReconciliationOptions.ScheduleEnabled"/>, starts the previous UTC day's run daily (one per day
/// however many replicas: its idempotency key is the day). Every finished run is recorded in the audit trail, counted in
/// metrics, and logged (a warning when it found anything but matched).
/// </summary>
internal sealed class ReconciliationWorker(
    IReconciliationStore store,
    Reconciler reconciler,
    ReconciliationRuns runs,
    IAuditTrail audit,
    ReconciliationMetrics metrics,
    IOptions<ReconciliationOptions> options,
    TimeProvider timeProvider,
    ILogger<ReconciliationWorker> logger) : BackgroundService
{
    /// <summary>The caller id of scheduled runs.</summary>
    public const string ScheduleCaller = "schedule";

    /// <summary>The audit action of a finished run.</summary>
    public const string FinishedAction = "reconciliation.finished";

    /// <summary>The audit action of a scheduled start.</summary>
    public const string ScheduledAction = "reconciliation.scheduled";

    private const int ResumeBatch = 10;

    private readonly SemaphoreSlim wake = new(0);
    private readonly ReconciliationOptions settings = options.Value;
    private DateOnly lastScheduledDay;

    /// <summary>Looks for work now instead of at the next poll.</summary>
    public void Wake() => wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ScheduleAsync(stoppingToken);
                while (await RunDueAsync(stoppingToken))
                {
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                ReconciliationLog.WorkerError(logger, AuditLog.Describe(error));
            }

            try
            {
                await wake.WaitAsync(TimeSpan.FromSeconds(settings.PollSeconds), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override void Dispose()
    {
        wake.Dispose();
        base.Dispose();
    }

    // Claims and runs what is due; true when it ran something (there may be more).
    private async Task<bool> RunDueAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var due = await store.ListResumableRunsAsync(
            now.AddSeconds(-settings.LeaseSeconds),
            now.AddSeconds(-settings.ResumeDelaySeconds),
            ResumeBatch,
            cancellationToken);
        var ran = false;
        foreach (var seen in due)
        {
            var owner = Guid.NewGuid().ToString("N");
            if (await store.ClaimRunAsync(seen, owner, timeProvider.GetUtcNow(), cancellationToken) is not { } claimed)
            {
                continue;
            }

            ran = true;
            if (await reconciler.RunAsync(claimed, owner, cancellationToken) is { } state)
            {
                await FinishedAsync(claimed.RunId, state, cancellationToken);
            }
        }

        return ran;
    }

    private async Task FinishedAsync(string runId, ReconciliationState state, CancellationToken cancellationToken)
    {
        metrics.RecordRun(state);
        var report = await runs.GetAsync(runId, cancellationToken);
        var run = report.Run;
        switch (state)
        {
            case ReconciliationState.Completed when run.Discrepancies == 0:
                ReconciliationLog.Completed(logger, runId, run.ItemsTotal);
                break;
            case ReconciliationState.Completed:
                long Count(ReconciliationCategory category) => report.Counts.Where(c => c.Category == category).Sum(c => c.Count);
                foreach (var category in Enum.GetValues<ReconciliationCategory>().Where(c => c != ReconciliationCategory.Matched))
                {
                    if (Count(category) is > 0 and var count)
                    {
                        metrics.RecordDiscrepancies(category, count);
                    }
                }

                ReconciliationLog.Discrepancies(
                    logger,
                    runId,
                    run.Discrepancies,
                    run.ItemsTotal,
                    Count(ReconciliationCategory.MissingAtGateway),
                    Count(ReconciliationCategory.MissingInLedger),
                    Count(ReconciliationCategory.StatusMismatch),
                    Count(ReconciliationCategory.FieldMismatch),
                    Count(ReconciliationCategory.Pending));
                break;
            case ReconciliationState.Interrupted:
                ReconciliationLog.Interrupted(logger, runId, run.ErrorReason ?? "unknown");
                break;
            default:
                ReconciliationLog.Failed(logger, runId, run.ErrorReason ?? "unknown");
                break;
        }

        await audit.AppendAsync(
            new AuditEvent(
                timeProvider.GetUtcNow(),
                AuditFacts.SystemCaller,
                null,
                FinishedAction,
                runId,
                state == ReconciliationState.Completed ? AuditOutcome.Success : AuditOutcome.Failure,
                state switch
                {
                    ReconciliationState.Completed => run.Discrepancies == 0 ? null : "DISCREPANCIES",
                    _ => run.ErrorReason ?? ReconciliationMetrics.StateName(state).ToUpperInvariant(),
                },
                runId),
            CancellationToken.None);
    }

    private async Task ScheduleAsync(CancellationToken cancellationToken)
    {
        if (!settings.ScheduleEnabled)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (today == lastScheduledDay || TimeOnly.FromDateTime(now.UtcDateTime) < settings.ScheduleTimeUtc)
        {
            return;
        }

        var to = new DateTimeOffset(today.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var day = today.AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var (run, replayed) = await runs.StartAsync(
            ScheduleCaller,
            new StartReconciliationCommand(to.AddDays(-1), to, null, null, "schedule-" + day),
            cancellationToken);
        lastScheduledDay = today;
        if (!replayed)
        {
            ReconciliationLog.Scheduled(logger, run.RunId, day);
            await audit.AppendAsync(
                new AuditEvent(now, AuditFacts.SystemCaller, null, ScheduledAction, run.RunId, AuditOutcome.Success, null, run.RunId),
                CancellationToken.None);
        }
    }
}
