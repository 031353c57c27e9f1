using Microsoft.Extensions.Options;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// Runs <see cref="RecoveryService.RunOnceAsync"/> at start-up and then every <see cref="RecoveryOptions.IntervalSeconds"/>
/// while the host runs (unless <see cref="RecoveryOptions.Enabled"/> is false). A failed pass (ledger or gateway down) is
/// logged and the next one tries again; it never stops the host.
/// </summary>
internal sealed partial class RecoveryWorker(
    RecoveryService recovery,
    IOptions<TokenizerOptions> options,
    TimeProvider timeProvider,
    ILogger<RecoveryWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Recovery;
        if (!settings.Enabled)
        {
            LogDisabled(logger);
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.IntervalSeconds), timeProvider);
        do
        {
            try
            {
                var result = await recovery.RunOnceAsync(stoppingToken);
                if (result.Completed + result.Released + result.Detached + result.Escalated + result.Deferred + result.Interrupted > 0)
                {
                    LogPass(logger, result.Completed, result.Released, result.Detached, result.Escalated, result.Deferred, result.Interrupted);
                }
                else
                {
                    LogEmptyPass(logger);
                }
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

    [LoggerMessage(EventId = 1201, EventName = "RecoveryDisabled", Level = LogLevel.Warning, Message = "The recovery worker is disabled (Tokenizer:Recovery:Enabled=false): cut-off requests wait for their caller's retry")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 1202, EventName = "RecoveryPass", Level = LogLevel.Information, Message = "Recovery pass: {Completed} completed, {Released} closed, {Detached} orphans detached, {Escalated} escalated, {Deferred} deferred, {Interrupted} cut-off calls audited")]
    private static partial void LogPass(ILogger logger, int completed, int released, int detached, int escalated, int deferred, int interrupted);

    [LoggerMessage(EventId = 1204, EventName = "RecoveryPassEmpty", Level = LogLevel.Debug, Message = "Recovery pass: nothing to do")]
    private static partial void LogEmptyPass(ILogger logger);

    [LoggerMessage(EventId = 1203, EventName = "RecoveryPassFailed", Level = LogLevel.Warning, Message = "Recovery pass failed ({ErrorType}); the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, string errorType);
}
