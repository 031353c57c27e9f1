using Microsoft.Extensions.Options;
using Tokenizer.Core.Privacy;

namespace Tokenizer.Server.Privacy;

/// <summary>
/// Runs <see cref="RetentionService.PurgeOnceAsync"/> at start-up and then every
/// <see cref="PrivacyOptions.PurgeIntervalSeconds"/> while the host runs (unless <see cref="PrivacyOptions.PurgeEnabled"/>
/// is false). A failed purge is logged and the next one tries again; it never stops the host.
/// </summary>
internal sealed partial class RetentionWorker(
    IServiceProvider services,
    IOptions<PrivacyOptions> options,
    TimeProvider timeProvider,
    ILogger<RetentionWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.PurgeEnabled)
        {
            LogDisabled(logger);
            return;
        }

        var retention = services.GetRequiredService<RetentionService>();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(settings.PurgeIntervalSeconds), timeProvider);
        do
        {
            try
            {
                var purge = await retention.PurgeOnceAsync(stoppingToken);
                if (purge.RevokedTokens + purge.IdempotencyRecords + purge.TokenEvents > 0)
                {
                    LogPurged(logger, purge.RevokedTokens, purge.IdempotencyRecords, purge.TokenEvents);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogPurgeFailed(logger, error.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 1611, EventName = "RetentionPurgeDisabled", Level = LogLevel.Warning, Message = "The retention purge is disabled (Tokenizer:Privacy:PurgeEnabled=false): expired records are kept")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(EventId = 1612, EventName = "RetentionPurged", Level = LogLevel.Information, Message = "Retention purge: {RevokedTokens} revoked tokens, {IdempotencyRecords} idempotency records and {TokenEvents} token events deleted")]
    private static partial void LogPurged(ILogger logger, int revokedTokens, int idempotencyRecords, int tokenEvents);

    [LoggerMessage(EventId = 1613, EventName = "RetentionPurgeFailed", Level = LogLevel.Warning, Message = "Retention purge failed ({ErrorType}); the next one tries again")]
    private static partial void LogPurgeFailed(ILogger logger, string errorType);
}
