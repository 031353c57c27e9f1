using Tokenizer.Core.Audit;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Core.Privacy;

/// <summary>How long what is no longer needed is kept.</summary>
public sealed class RetentionSettings
{
    /// <summary>How long a revoked token's id and masked metadata are kept after its revocation.</summary>
    public TimeSpan RevokedTokens { get; set; } = TimeSpan.FromDays(365);

    /// <summary>How long a finished idempotency record (and its intent) is kept: a retry after that runs afresh.</summary>
    public TimeSpan IdempotencyRecords { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a token event is kept after it was recorded (configuration <c>Tokenizer:TokenEvents:Retention</c>).</summary>
    public TimeSpan TokenEvents { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>
/// Deletes what has outlived its retention period (<see cref="IPrivacyStore.PurgeExpiredAsync"/>), audits each purge
/// that deleted something as caller <c>system</c>, action <see cref="PurgeAction"/>, and counts what it deleted on
/// <c>tokenizer.retention.purged</c>. With a token event log it also deletes token events older than
/// <see cref="RetentionSettings.TokenEvents"/>. Thread-safe.
/// </summary>
public sealed class RetentionService(
    IPrivacyStore store,
    IAuditTrail audit,
    TokenizerMetrics metrics,
    TimeProvider timeProvider,
    RetentionSettings settings,
    Ports.ITokenEventReader? tokenEvents = null)
{
    /// <summary>The audit action of a purge.</summary>
    public const string PurgeAction = "retention/purge";

    /// <summary>One purge at the current time.</summary>
    public async Task<RetentionPurge> PurgeOnceAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var purge = await store.PurgeExpiredAsync(now - settings.RevokedTokens, now - settings.IdempotencyRecords, cancellationToken)
            .ConfigureAwait(false);
        metrics.RecordRetentionPurged(TokenizerMetrics.RetentionKinds.RevokedTokens, purge.RevokedTokens);
        metrics.RecordRetentionPurged(TokenizerMetrics.RetentionKinds.IdempotencyRecords, purge.IdempotencyRecords);
        if (tokenEvents is not null)
        {
            var events = await tokenEvents.PurgeRecordedBeforeAsync(now - settings.TokenEvents, cancellationToken).ConfigureAwait(false);
            metrics.RecordRetentionPurged(TokenizerMetrics.RetentionKinds.TokenEvents, events);
            purge = purge with { TokenEvents = events };
        }

        if (purge.RevokedTokens + purge.IdempotencyRecords + purge.TokenEvents > 0)
        {
            // The counts go in the resource: the record says what was deleted without naming any of it.
            var resource = string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"revoked_tokens={purge.RevokedTokens};idempotency_records={purge.IdempotencyRecords}");
            if (purge.TokenEvents > 0)
            {
                resource += string.Create(System.Globalization.CultureInfo.InvariantCulture, $";token_events={purge.TokenEvents}");
            }

            await audit.AppendAsync(
                new AuditEvent(timeProvider.GetUtcNow(), "system", null, PurgeAction, resource, AuditOutcome.Success, null, Guid.NewGuid().ToString("N")),
                CancellationToken.None).ConfigureAwait(false);
        }

        return purge;
    }
}
