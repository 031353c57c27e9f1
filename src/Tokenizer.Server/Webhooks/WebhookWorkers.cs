using Microsoft.Extensions.Options;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// Works through the webhook inbox: claims pending rows with a lease (<see cref="WebhookOptions.LeaseSeconds"/>; safe
/// across replicas sharing a PostgreSQL ledger), processes each through <see cref="WebhookProcessor"/> and marks it
/// processed or ignored under the same claim. Events run side by side, up to <see cref="WebhookOptions.Concurrency"/> at
/// once, so a slow or hanging event never holds up the independent events behind it; two events that share an ordering
/// key (<see cref="WebhookProcessor.KeysAsync"/>: the same object or token) run one after the other, oldest first in the
/// inbox's order (<see cref="WebhookClaim.IsBefore"/>: Stripe's <c>created</c>, then arrival). An event has a sixth of the
/// lease to start (<see cref="StartDeadline"/>: its turn behind events on the same key, and a free slot; otherwise it is
/// handed back unstarted, its attempt not counted) and half the lease to finish (<see cref="FinishDeadline"/>; otherwise
/// it fails like any other failure), so a claim ends within its lease. The order survives a hand-back: the later events
/// waiting behind a handed-back one go back with it, and a waiting event that an older one (delivered late) should
/// precede gives way to it, so the next claims put them in order again.
/// An event for an object no token holds is tried again for a while
/// (<see cref="IsYoung"/>: its Tokenize call may not have committed yet), then ignored. A failure (Stripe unreachable, ledger busy, a defect) gives the claim up
/// with a back-off that doubles per attempt from the lease up to <see cref="WebhookOptions.MaxRetryDelaySeconds"/>: the
/// event is never dropped, and one that always fails neither spins nor holds up the rows behind it. From
/// <see cref="WebhookOptions.AlertAfterAttempts"/> failures on it is logged at Error and counted in the
/// <c>tokenizer.webhook.inbox.failing</c> gauge. A crash after the delivery was acknowledged loses nothing: the row stays
/// claimed until its lease runs out.
/// </summary>
internal sealed partial class WebhookWorker(
    RelationalWebhookStore store,
    WebhookProcessor processor,
    IOptions<WebhookOptions> options,
    WebhookSignal signal,
    WebhookMetrics metrics,
    TimeProvider timeProvider,
    ILogger<WebhookWorker> logger) : BackgroundService
{
    /// <summary>How long after Stripe created it an event for an object no token holds (yet) is tried again.</summary>
    internal static readonly TimeSpan NotOursWindow = TimeSpan.FromMinutes(10);

    /// <summary>The first wait before such an event is tried again (doubled per attempt).</summary>
    internal static readonly TimeSpan NotOursRetryDelay = TimeSpan.FromSeconds(5);

    private int failures;

    /// <summary>This process's claim owner: host, process id and a random part (a restarted process is a new owner).</summary>
    public static string Owner { get; } = string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{Environment.MachineName}/{Environment.ProcessId}/{System.Security.Cryptography.RandomNumberGenerator.GetHexString(8, lowercase: true)}");

    /// <summary>How long a claimed event may wait for its turn: a sixth of <paramref name="lease"/>.</summary>
    internal static TimeSpan StartDeadline(TimeSpan lease) => lease / 6;

    /// <summary>
    /// How long an event's processing may take once started: half of <paramref name="lease"/>, so start and finish end
    /// well before another replica may take the row.
    /// </summary>
    internal static TimeSpan FinishDeadline(TimeSpan lease) => lease / 2;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        var lease = TimeSpan.FromSeconds(settings.LeaseSeconds);
        var poll = TimeSpan.FromMilliseconds(settings.PollMilliseconds);

        // Claims held at once: the running events plus as many waiting for a slot or for an earlier event on their key.
        var maxClaims = settings.Concurrency * 2;
        using var slots = new SemaphoreSlim(settings.Concurrency, settings.Concurrency);
        var running = new List<Task>();

        // Per ordering key, the events claimed on it that have not ended yet, in claim order.
        var onKey = new Dictionary<string, List<InFlight>>(StringComparer.Ordinal);
        Task<bool>? wake = null;
        var failingSeen = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                running.RemoveAll(t => t.IsCompleted);
                foreach (var (key, events) in onKey.ToList())
                {
                    // An ended event is forgotten here, before the next claims: a hand-back is seen only by the events
                    // that waited behind it, never by later claims, so it cannot make them hand back in turn forever.
                    events.RemoveAll(e => e.Run.IsCompleted);
                    if (events.Count == 0)
                    {
                        onKey.Remove(key);
                    }
                }

                var room = maxClaims - running.Count;
                var claims = room > 0
                    ? await store.ClaimAsync(Owner, timeProvider.GetUtcNow(), lease, room, stoppingToken)
                    : [];
                foreach (var claim in claims)
                {
                    // Keys are read at once, in claim order: an event waits for every event on any of its keys claimed
                    // before it and not yet ended (running, or waiting: a later one among these gives way at once).
                    var keys = await processor.KeysAsync(claim.Event, stoppingToken);
                    var before = keys.SelectMany(k => onKey.GetValueOrDefault(k) ?? []).Distinct().ToArray();

                    // An event that comes later in the inbox's order but was claimed first (this one was delivered
                    // late) gives way if it has not started: it is handed back and claimed again behind this one.
                    foreach (var later in before.Where(e => claim.IsBefore(e.Claim) && e.Claim.Event.EventId != claim.Event.EventId))
                    {
                        later.GiveWay.TrySetResult();
                    }

                    var giveWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var task = RunAsync(store, processor, claim, before, giveWay.Task, slots, settings, stoppingToken);
                    foreach (var key in keys)
                    {
                        if (!onKey.TryGetValue(key, out var events))
                        {
                            onKey[key] = events = [];
                        }

                        events.Add(new InFlight(claim, task, giveWay));
                    }

                    running.Add(task);
                }

                // Counted after a failure, and while the count is not back to 0 (so the gauge falls again).
                if (Interlocked.Exchange(ref failures, 0) > 0 || failingSeen)
                {
                    var failing = await store.CountFailingAsync(settings.AlertAfterAttempts, stoppingToken);
                    metrics.Failing(failing);
                    failingSeen = failing > 0;
                }

                if (claims.Count > 0 && claims.Count == room)
                {
                    // Possibly more pending: claim again as soon as a claim ends.
                    await Task.WhenAny(running);
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                LogPassFailed(logger, error.GetType().Name);
            }

            try
            {
                wake = wake is { IsCompleted: false } ? wake : signal.WaitAsync(poll, stoppingToken);
                await (running.Count == 0 ? (Task)wake : Task.WhenAny(wake, Task.WhenAny(running)));
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        // Shutting down: the running events see the stopping token; their claims end (or their leases run out).
        await Task.WhenAll(running.Select(t => t.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)));
    }

    /// <summary>
    /// The wait before attempt <paramref name="attempts"/> + 1 of a failed event: the lease, doubled per attempt after the
    /// first, at most <paramref name="max"/>.
    /// </summary>
    internal static TimeSpan RetryDelay(int attempts, TimeSpan lease, TimeSpan max)
    {
        var doublings = Math.Clamp(attempts - 1, 0, 30);
        var delay = lease * Math.Pow(2, doublings);
        return delay < max ? delay : max;
    }

    /// <summary>
    /// Whether an event no token holds is tried again rather than ignored: Stripe created it less than
    /// <see cref="NotOursWindow"/> ago and it was claimed fewer than <see cref="WebhookOptions.AlertAfterAttempts"/> times.
    /// With the default settings the retries come 5, 10, 20 and 40 s apart, so a Tokenize call that commits within
    /// about 75 s of the event still gets it.
    /// </summary>
    internal static bool IsYoung(WebhookClaim claim, DateTimeOffset now, WebhookOptions settings) =>
        claim.Attempts < settings.AlertAfterAttempts && now - claim.Event.Created < NotOursWindow;

    /// <summary>
    /// Runs one claimed event once the events <paramref name="before"/> it (same keys) have ended and a slot is free.
    /// Hands it back unstarted, its attempt not counted, when that takes longer than <see cref="StartDeadline"/>, when
    /// <paramref name="giveWay"/> ends first (an event that comes before it was claimed after it), or at once when an
    /// event it waits for that comes before it (<see cref="WebhookClaim.IsBefore"/>) was handed back: the events behind a
    /// handed-back one go back with it and are claimed again in the inbox's order, never ahead of it. Returns true when
    /// it ran (processed, ignored or failed), false when handed back. Never throws but on shutdown.
    /// </summary>
    private async Task<bool> RunAsync(RelationalWebhookStore store, WebhookProcessor processor, WebhookClaim claim, InFlight[] before, Task giveWay, SemaphoreSlim slots, WebhookOptions settings, CancellationToken stoppingToken)
    {
        var lease = TimeSpan.FromSeconds(settings.LeaseSeconds);
        using (var startTimer = new CancellationTokenSource(StartDeadline(lease), timeProvider))
        using (var startBy = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, startTimer.Token))
        {
            bool started;
            try
            {
                started = await TurnAsync(claim, before, giveWay, startBy.Token);
                if (started)
                {
                    await slots.WaitAsync(startBy.Token);
                    if (giveWay.IsCompleted)
                    {
                        // Told to give way while it waited for a slot: not started after all.
                        slots.Release();
                        started = false;
                    }
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // Its turn did not come in time (events on its key or in every slot are slow).
                started = false;
            }

            if (!started)
            {
                // Handed back unstarted, so its claim never outlives the lease; the next pass claims it again.
                metrics.Processed(claim.Event.Type, "deferred");
                try
                {
                    await store.ReleaseAsync(claim, Owner, stoppingToken);
                }
                catch (Exception giveUp) when (giveUp is not OperationCanceledException)
                {
                    // The claim stays ours until its lease runs out; the row is claimed again then.
                    LogPassFailed(logger, giveUp.GetType().Name);
                }

                return false;
            }
        }

        try
        {
            using var finishTimer = new CancellationTokenSource(FinishDeadline(lease), timeProvider);
            using var finishBy = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, finishTimer.Token);
            if (!await ProcessOneAsync(store, processor, claim, settings, finishBy.Token, stoppingToken))
            {
                Interlocked.Increment(ref failures);
            }
        }
        finally
        {
            slots.Release();
        }

        return true;
    }

    /// <summary>
    /// Waits until every event in <paramref name="before"/> has ended (true), or until one that comes before
    /// <paramref name="claim"/> was handed back or <paramref name="giveWay"/> ended (false, at once). A hand-back of the
    /// same event (its own earlier claim) or of an event that comes after it changes nothing: that one goes behind it.
    /// </summary>
    private static async Task<bool> TurnAsync(WebhookClaim claim, InFlight[] before, Task giveWay, CancellationToken startBy)
    {
        var pending = before.Select(e => (Task)e.Run).Append(giveWay).ToList();
        while (pending.Count > 1 && !giveWay.IsCompleted)
        {
            await Task.WhenAny(pending).WaitAsync(startBy);
            foreach (var ended in before.Where(e => e.Run.IsCompleted && pending.Contains(e.Run)))
            {
                pending.Remove(ended.Run);
                if (ended.Run is { IsCompletedSuccessfully: true, Result: false }
                    && ended.Claim.Event.EventId != claim.Event.EventId
                    && ended.Claim.IsBefore(claim))
                {
                    return false;
                }
            }
        }

        return !giveWay.IsCompleted;
    }

    /// <summary>
    /// Processes one claimed event within <paramref name="cancellationToken"/> (its deadline); false when it failed (and
    /// was given up with a back-off).
    /// </summary>
    private async Task<bool> ProcessOneAsync(RelationalWebhookStore store, WebhookProcessor processor, WebhookClaim claim, WebhookOptions settings, CancellationToken cancellationToken, CancellationToken stoppingToken)
    {
        var type = claim.Event.Type;
        using var activity = WebhookTracing.Start(type, claim.Attempts);
        try
        {
            var state = await processor.ProcessAsync(claim.Event, cancellationToken);
            if (state == WebhookProcessor.NotOurs)
            {
                var now = timeProvider.GetUtcNow();
                if (IsYoung(claim, now, settings))
                {
                    // Possibly a token whose Tokenize call has not committed yet: tried again soon, not a failure (no
                    // warning, and never enough attempts to reach the failing gauge).
                    metrics.Processed(type, "deferred");
                    WebhookTracing.End(activity, "deferred", null);
                    await store.FailAsync(claim, Owner, now + RetryDelay(claim.Attempts, NotOursRetryDelay, TimeSpan.FromSeconds(settings.MaxRetryDelaySeconds)), stoppingToken);
                    return true;
                }

                state = WebhookState.Ignored;
            }

            if (await store.FinishAsync(claim, Owner, state, timeProvider.GetUtcNow(), stoppingToken))
            {
                metrics.Processed(type, state == WebhookState.Processed ? "processed" : "ignored");
                WebhookTracing.End(activity, state == WebhookState.Processed ? "processed" : "ignored", null);
            }

            return true;
        }
        catch (Exception error) when (!(error is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            metrics.Processed(type, "failed");
            WebhookTracing.End(activity, "failed", error);
            var delay = RetryDelay(claim.Attempts, TimeSpan.FromSeconds(settings.LeaseSeconds), TimeSpan.FromSeconds(settings.MaxRetryDelaySeconds));
            var shownType = WebhookEventTypes.IsHandled(type) ? type : "other";

            // The deadline's cancellation surfaces as whatever the call in flight threw: name it for what it is.
            var cause = cancellationToken.IsCancellationRequested ? nameof(TimeoutException) : error.GetType().Name;
            if (claim.Attempts >= settings.AlertAfterAttempts)
            {
                LogEventFailingRepeatedly(logger, claim.Event.EventId, shownType, claim.Attempts, cause, (int)delay.TotalSeconds);
            }
            else
            {
                LogEventFailed(logger, claim.Event.EventId, shownType, claim.Attempts, cause, (int)delay.TotalSeconds);
            }

            try
            {
                await store.FailAsync(claim, Owner, timeProvider.GetUtcNow() + delay, stoppingToken);
            }
            catch (Exception giveUp) when (giveUp is not OperationCanceledException)
            {
                // The claim stays ours until its lease runs out; the row is retried then.
                LogPassFailed(logger, giveUp.GetType().Name);
            }

            return false;
        }
    }

    /// <summary>A claimed event that has not ended: its claim, its run (true: it ran; false: handed back) and its signal to give way.</summary>
    private sealed record InFlight(WebhookClaim Claim, Task<bool> Run, TaskCompletionSource GiveWay);

    [LoggerMessage(EventId = 7103, EventName = "WebhookEventFailed", Level = LogLevel.Warning,
        Message = "Stripe event {EventId} ({Type}, attempt {Attempt}) could not be processed ({ExceptionType}); it is tried again in {RetryDelaySeconds} s")]
    private static partial void LogEventFailed(ILogger logger, string eventId, string type, int attempt, string exceptionType, int retryDelaySeconds);

    [LoggerMessage(EventId = 7108, EventName = "WebhookEventFailingRepeatedly", Level = LogLevel.Error,
        Message = "Stripe event {EventId} ({Type}) failed again at attempt {Attempt} ({ExceptionType}); the ledger may lag Stripe for its token until it goes through: it is tried again in {RetryDelaySeconds} s (gauge tokenizer.webhook.inbox.failing)")]
    private static partial void LogEventFailingRepeatedly(ILogger logger, string eventId, string type, int attempt, string exceptionType, int retryDelaySeconds);

    [LoggerMessage(EventId = 7104, EventName = "WebhookPassFailed", Level = LogLevel.Warning,
        Message = "The webhook inbox could not be read ({ExceptionType}); the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, string exceptionType);
}

/// <summary>
/// Catch-up: every <see cref="WebhookOptions.CatchUpIntervalSeconds"/> lists Stripe's events of the handled types
/// (Stripe API GET /v1/events, <c>created[gte]</c> the newest event already seen less
/// <see cref="WebhookOptions.CatchUpOverlapSeconds"/>; a position ahead of now counts as now, and the cursor is never
/// moved past now plus <see cref="WebhookReceiver.MaxClockAhead"/>) and adds the ones the inbox does not hold, so deliveries lost
/// while the endpoint was down or unreachable are processed once, like any other. A pass adds its events oldest first:
/// by <c>created</c>, and within one second in Stripe's list order reversed (the list is newest first across its pages;
/// event ids are random and say nothing of order). The first pass of a new ledger starts
/// from now (there is nothing of ours before it). A listed event whose id or object id holds card data is refused as
/// the listener refuses it (<see cref="WebhookReceiver.HoldsCardData"/>): never stored, counted in
/// <c>tokenizer.webhook.catchup.refused</c> and audited in aggregate.
/// </summary>
internal sealed partial class WebhookCatchUpWorker(
    IServiceProvider services,
    IOptions<WebhookOptions> options,
    WebhookSignal signal,
    TimeProvider timeProvider,
    ILogger<WebhookCatchUpWorker> logger) : BackgroundService
{
    private const int MaxEventsPerPass = 10_000;

    /// <summary>Runs one pass; returns how many events it added to the inbox.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<RelationalWebhookStore>();
        var gateway = services.GetRequiredService<StripeTokenGateway>();
        var now = timeProvider.GetUtcNow();
        if (await store.CatchUpPositionAsync(cancellationToken) is not { } position)
        {
            await store.AdvanceCatchUpAsync(now, now, cancellationToken);
            return 0;
        }

        // No position lies ahead of now: one that does came from an event with a forged or skewed created, and must not
        // hide the events still to come (the listing starts from now less the overlap instead).
        var from = (position < now ? position : now) - TimeSpan.FromSeconds(options.Value.CatchUpOverlapSeconds);
        var listed = await gateway.ListEventsAsync(from, WebhookEventTypes.Handled, MaxEventsPerPass, cancellationToken);
        var added = 0;
        var ceiling = now + WebhookReceiver.MaxClockAhead;
        var newest = position < ceiling ? position : ceiling;
        // Oldest first, within one second too: Stripe lists newest first across all pages (created has whole seconds,
        // ids are random), so the list reversed is the order the events happened in; the stable sort by created keeps it.
        foreach (var item in listed.Reverse().OrderBy(e => e.Created))
        {
            var listedEvent = new WebhookEvent(item.Id, item.Type, item.Created, item.ObjectId);
            var refusal = WebhookReceiver.HoldsCardData(listedEvent) ? WebhookReasons.CardData
                : item.Created > ceiling ? WebhookReasons.CreatedInFuture
                : null;
            if (refusal is not null)
            {
                // As the listener refuses it: never stored, counted and audited in aggregate (no peer: Stripe's API).
                services.GetRequiredService<WebhookMetrics>().CatchUpRefused(refusal);
                services.GetRequiredService<WebhookRefusalAudit>().Add(refusal, null);
                continue;
            }

            if (!await store.ContainsAsync(item.Id, cancellationToken)
                && await store.AddAsync(listedEvent, WebhookSource.CatchUp, now, cancellationToken))
            {
                added++;
            }

            newest = item.Created > newest ? item.Created : newest;
        }

        await store.AdvanceCatchUpAsync(newest, now, cancellationToken);
        if (added > 0)
        {
            LogCaughtUp(logger, added);
            signal.Wake();
        }

        return added;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled || settings.CatchUpIntervalSeconds == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.CatchUpIntervalSeconds), timeProvider);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogPassFailed(logger, error.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 7105, EventName = "WebhookCatchUp", Level = LogLevel.Information,
        Message = "Catch-up added {Count} Stripe events that were never delivered to the inbox")]
    private static partial void LogCaughtUp(ILogger logger, int count);

    [LoggerMessage(EventId = 7106, EventName = "WebhookCatchUpFailed", Level = LogLevel.Warning,
        Message = "The catch-up listing of Stripe events failed ({ExceptionType}); the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, string exceptionType);
}
