using System.Data.Common;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Records the service's own events in the audit trail as caller <c>system</c>, action <c>configuration/{change}</c>
/// (PCI DSS 10.2.1.5-10.2.1.7: starting and stopping the audit log, changes to credentials and keys). Throws when the
/// record cannot be written, like every append.
/// </summary>
/// <remarks>
/// For key and secret events pass what changed as <c>resource</c> by name (e.g. <c>request-hmac-key</c>), never a
/// value, hash or fingerprint of the key.
/// </remarks>
internal sealed class ConfigurationAudit(IAuditTrail trail, TimeProvider timeProvider)
{
    /// <summary>The prefix of every configuration action.</summary>
    public const string ActionPrefix = "configuration/";

    /// <summary>The service started and the audit trail is open (recorded by <see cref="AuditStartup"/>).</summary>
    public const string ServiceStarted = "service_started";

    /// <summary>The service is stopping (recorded by <see cref="AuditStartup"/>, best effort).</summary>
    public const string ServiceStopped = "service_stopped";

    /// <summary>A key or secret was created (e.g. generated on first start).</summary>
    public const string KeyCreated = "key_created";

    /// <summary>A key or secret was replaced.</summary>
    public const string KeyRotated = "key_rotated";

    /// <summary>
    /// A secret's missing check value was stored on the operator's word (<c>Tokenizer:AdoptKeyChecks</c>) although the
    /// ledger held data keyed by it (resource: <c>request-hmac-key</c> or <c>privacy-pseudonym-key</c>).
    /// </summary>
    public const string KeyCheckAdopted = "key_check_adopted";

    /// <summary>An append-only guard of the audit trail was found missing at start-up and recreated (resource: its name).</summary>
    public const string AuditGuardRestored = "audit_guard_restored";

    /// <summary>Appends <c>configuration/{change}</c> with a fresh correlation id.</summary>
    /// <param name="change">What happened, lower_snake_case (see the constants on this class).</param>
    /// <param name="resource">What it happened to, by name; null when the service itself.</param>
    /// <param name="outcome">Success unless the change failed or was refused.</param>
    /// <param name="reasonCode">A stable reason code when the outcome is not success.</param>
    /// <param name="cancellationToken">Cancels the append (the record may then be missing).</param>
    public Task RecordAsync(
        string change,
        string? resource,
        AuditOutcome outcome,
        string? reasonCode,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(change);
        return trail.AppendAsync(
            new AuditEvent(
                timeProvider.GetUtcNow(),
                AuditFacts.SystemCaller,
                null,
                ActionPrefix + change,
                resource,
                outcome,
                reasonCode,
                Guid.NewGuid().ToString("N")),
            cancellationToken);
    }
}

/// <summary>
/// Opens the audit trail before the server takes calls (applies the ledger migrations, including the audit table),
/// restores missing or changed append-only guards (a Warning and a <c>configuration/audit_guard_restored</c> record each), runs the
/// <see cref="AuditGuard"/> checks (keys, anchor, the whole chain) when the host has one, and records
/// <c>configuration/service_started</c>; a failure stops the host from starting (fail closed). Then anchors the head
/// every few seconds. On shutdown records <c>configuration/service_stopped</c> (best effort) and anchors the final head.
/// </summary>
internal sealed class AuditStartup(
    RelationalAuditTrail trail,
    ConfigurationAudit configuration,
    ILogger<AuditStartup> logger,
    AuditGuard? guard = null,
    TimeProvider? timeProvider = null) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private Task anchoring = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await trail.InitializeAsync(cancellationToken);

        // The guards only stop careless SQL; the MAC chain, walked by the check, is what shows whether anything changed
        // while one was down. So start-up refuses only on a broken chain, and a missing guard is restored and reported
        // after the check passed: a refused start leaves the database as it found it (the operator keeps it as
        // evidence, and a dropped guard is part of that evidence).
        if (guard is not null)
        {
            await guard.CheckAtStartAsync(cancellationToken);
        }

        IReadOnlyList<string> restored = [];
        try
        {
            restored = await trail.RestoreGuardsAsync(cancellationToken);
        }
        catch (DbException failure)
        {
            AuditLog.GuardsNotRestored(logger, AuditLog.Describe(failure));
        }

        foreach (var name in restored)
        {
            AuditLog.GuardRestored(logger, name);
        }

        await configuration.RecordAsync(ConfigurationAudit.ServiceStarted, null, AuditOutcome.Success, null, cancellationToken);
        foreach (var name in restored)
        {
            await configuration.RecordAsync(ConfigurationAudit.AuditGuardRestored, name, AuditOutcome.Success, null, cancellationToken);
        }
        if (guard is not null)
        {
            await guard.AnchorAsync(cancellationToken);
            anchoring = guard.RunAsync(timeProvider ?? TimeProvider.System, stopping.Token);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        await anchoring;
        try
        {
            await configuration.RecordAsync(ConfigurationAudit.ServiceStopped, null, AuditOutcome.Success, null, cancellationToken);
        }
        catch (Exception failure)
        {
            // Stopping must not hang or fail on the trail; the missing record itself is the signal.
            var exceptionType = AuditLog.Describe(failure);
            AuditLog.StopNotRecorded(logger, exceptionType);
        }

        if (guard is not null)
        {
            await guard.AnchorAsync(cancellationToken);
        }
    }

    public void Dispose() => stopping.Dispose();
}
