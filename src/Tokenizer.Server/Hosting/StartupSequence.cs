using Tokenizer.Server.Audit;
using Tokenizer.Server.Privacy;
using Tokenizer.Server.Reconciliation;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Telemetry;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// The server's start-up order, in one place: <see cref="Steps"/>. The host knows one hosted service of ours, this one;
/// the steps are plain singletons that it resolves and starts one after the other, each only when the step before it has
/// started. So a step's constructor may take what an earlier step made ready (the Stripe client, which needs the
/// embedded sandbox's address), and nothing depends on the order of <c>AddHostedService</c> calls.
/// </summary>
/// <remarks>
/// The steps start in <see cref="StartingAsync"/>, which the host runs before any hosted service's <c>StartAsync</c>:
/// before OpenTelemetry's, Data Protection's and the web host's, which binds Kestrel. So secrets load, the ledger is
/// migrated and the audit start-up checks pass before anything listens, and a failure (a
/// <see cref="StartupException"/>, an <see cref="InvalidOperationException"/> naming a setting) stops start-up as it
/// did. They stop in reverse order in <see cref="StopAsync"/>, after the web host (registered later) has drained its
/// calls. A step that is a <see cref="BackgroundService"/> is watched as the host watches its own: if it fails, the
/// failure is logged (its type only) and the host stops.
/// </remarks>
internal sealed partial class StartupSequence(
    IServiceProvider services, IReadOnlyList<Type> steps, IHostApplicationLifetime lifetime, ILogger<StartupSequence> logger)
    : IHostedLifecycleService
{
    private readonly List<IHostedService> started = [];

    /// <summary>The step types in start order (stop order is the reverse).</summary>
    public IReadOnlyList<Type> Order => steps;

    /// <summary>The step types started so far, in order; for tests that check what ran before the listener.</summary>
    public IReadOnlyList<Type> Started
    {
        get
        {
            lock (started)
            {
                return [.. started.Select(s => s.GetType())];
            }
        }
    }

    /// <summary>
    /// The steps, in order, and why each stands where it does. <paramref name="embeddedSandbox"/> is the embedded Stripe
    /// sandbox's step, or null where it is not composed (Production: <see cref="EmbeddedSandboxComposition"/>).
    /// </summary>
    public static IReadOnlyList<Type> Steps(Type? embeddedSandbox) =>
    [
        // Secrets first: they load, or stop start-up naming the setting, before anything else starts.
        typeof(SecretsRefreshService),
        // Only registers a callback for ApplicationStarted (the bound addresses).
        typeof(StartupBanner),
        // Before every step that builds the Stripe client: the client is pointed at the sandbox's address.
        .. embeddedSandbox is null ? Type.EmptyTypes : [embeddedSandbox],
        // The ledger is migrated before anything reads or writes it.
        typeof(LedgerInitializer),
        // Opens the audit trail, checks keys and anchor, records service_started (a failure stops start-up).
        typeof(AuditStartup),
        // After AuditStartup, so it stops before it: refused calls are flushed before service_stopped.
        typeof(RefusedCallAudit),
        // Workers: on an initialised ledger, with the gateway ready.
        typeof(RecoveryWorker),
        typeof(ReconciliationWorker),
        typeof(RetentionWorker),
        // The webhook refusal audit before the listener that feeds it, the inbox worker and catch-up after.
        typeof(WebhookRefusalAudit),
        typeof(WebhookListener),
        typeof(WebhookWorker),
        typeof(WebhookCatchUpWorker),
        // The metrics listener last: it serves what the steps above measure.
        typeof(MetricsEndpoint),
    ];

    /// <inheritdoc />
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var type in steps)
        {
            // Resolved here, not before: what an earlier step made ready is there for this one's constructor.
            var step = (IHostedService)services.GetRequiredService(type);
            await step.StartAsync(cancellationToken).ConfigureAwait(false);
            lock (started)
            {
                started.Add(step);
            }

            if (step is BackgroundService background)
            {
                _ = WatchAsync(background);
            }
        }
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<IHostedService> stopping;
        lock (started)
        {
            stopping = [.. started];
            started.Clear();
        }

        // Reverse order, every step even when one fails (as the host does); the failures together at the end.
        var failures = new List<Exception>();
        for (var i = stopping.Count - 1; i >= 0; i--)
        {
            try
            {
                await stopping[i].StopAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                failures.Add(error);
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("One or more start-up steps failed to stop.", failures);
        }
    }

    /// <inheritdoc />
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>As the host does for its own background services (BackgroundServiceExceptionBehavior.StopHost).</summary>
    private async Task WatchAsync(BackgroundService background)
    {
        if (background.ExecuteTask is not { } running)
        {
            return;
        }

        try
        {
            await running.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (running.IsCanceled)
        {
            // Stopped.
        }
        catch (Exception error)
        {
            // The type only: an exception's message may quote a value.
            var errorType = error.GetType().Name;
            LogStepFailed(logger, background.GetType().Name, errorType);
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(EventId = 1011, EventName = "StartupStepFailed", Level = LogLevel.Critical,
        Message = "The background service {Service} failed ({ErrorType}); stopping the host")]
    private static partial void LogStepFailed(ILogger logger, string service, string errorType);
}
