using System.Globalization;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Tokenization;
using Tokenizer.Ledger.Audit;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Audit;

/// <summary>
/// The start-up checks on the keys and the audit trail, and the anchoring of the trail's head outside the database.
/// </summary>
/// <remarks>
/// <para>
/// At start-up, before any call is taken (each failure stops the host with a message naming the setting, never a value):
/// the stored check value of the request HMAC secret must be the configured secret's or a previous one's (then the
/// stored value moves to the current one: a rotation); the newest audit record must verify under a configured audit
/// key; the anchored record must still exist with the anchored MAC; and the whole chain must verify, walked from record
/// 1 in pages as <c>audit verify</c> walks it (an edited or deleted record anywhere stops start-up naming it); and the
/// audit table must be as the migrations created it: no trigger or rule this service did not create on any table of the
/// database (a guard's name on another table included), the same definition (SQLite: STRICT; column types,
/// nullability, key; the stored table definition with its CHECK constraints and every index, compared as text).
/// </para>
/// <para>
/// A trail shorter than its anchor stops start-up rather than starting NOT_SERVING: appending would write new records
/// over the deleted positions and make the loss harder to see, and a refused start is the one signal no one can miss.
/// Recovery is deliberate: restore the database from a backup holding the anchored record, or (accepting the loss, which
/// the audit records as a missing anchor on the next start) move the anchor aside.
/// </para>
/// </remarks>
internal sealed class AuditGuard(
    RelationalAuditTrail trail,
    IAuditAnchorStore store,
    ITokenizerSecrets secrets,
    ConfigurationAudit configuration,
    IOptions<TokenizerOptions> options,
    ILogger<AuditGuard> logger)
{
    /// <summary>The name the request HMAC secret's check value is stored under.</summary>
    public const string RequestSecretCheckName = "request-hmac-secret";

    /// <summary>The name the check value of the secret that keys privacy pseudonyms is stored under.</summary>
    public const string PseudonymSecretCheckName = "privacy-pseudonym-secret";

    // Broken records named in the start-up refusal; the line stays one line whatever the damage.
    private const int ListedAtStart = 10;

    private long lastAnchored;

    /// <summary>
    /// The secret that keys the stored privacy pseudonyms: the oldest request HMAC secret configured (the last of the
    /// previous ones, else the current one). Pseudonyms are stored, so they must not change with a rotation; the
    /// start-up check refuses a configuration that drops it.
    /// </summary>
    public static ReadOnlyMemory<byte> PseudonymSecret(ITokenizerSecrets secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return secrets.PreviousRequestHmacSecrets.Count > 0 ? secrets.PreviousRequestHmacSecrets[^1] : secrets.RequestHmacSecret;
    }

    /// <summary>
    /// The end of every refusal about the trail: the server does not start, so the online <c>audit verify</c> cannot be
    /// asked; the offline one reads the stopped server's SQLite ledger read-only and lists every broken record.
    /// </summary>
    private string OfflineVerifyHint => string.Create(
        CultureInfo.InvariantCulture,
        $" To list every broken record without starting the server (SQLite ledger): tokenizer audit verify --offline --data-directory {Path.GetFullPath(options.Value.DataDirectory)}");

    /// <summary>How often the head is anchored.</summary>
    public TimeSpan Interval => TimeSpan.FromSeconds(options.Value.AuditAnchor.IntervalSeconds);

    /// <summary>Where the anchor lives, for messages.</summary>
    public string StoreDescription => store.Description;

    /// <summary>Runs the start-up checks described on the class; call after the ledger migrations.</summary>
    /// <exception cref="StartupException">A check failed; the message names the setting or the store and the cause.</exception>
    public async Task CheckAtStartAsync(CancellationToken cancellationToken)
    {
        // The key first: under a wrong key the anchor fails its seal too, and the key is then the cause to name.
        var text = await store.ReadAsync(cancellationToken);
        var anchor = text is null ? null : trail.Keys.Open(text);
        var check = await trail.CheckAsync(anchor, cancellationToken);
        var (auditSetting, auditPrevious) = secrets.AuditHmacSecretSettings;
        if (!check.HeadVerifies && (anchor is not null || (check.HeadKeyId is { } headKey && trail.Keys.Knows(headKey))))
        {
            // The configured keys are right (the anchor opened under one, or the record names one of them), yet the
            // newest record does not verify: its content was changed after it was signed.
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tokenizer:AuditAnchor: the newest audit record (sequence {check.HeadSequence}) was changed after it was written: it does not verify under the configured audit key that signed it ({store.Description}). Restore the database from a copy taken before the change.{OfflineVerifyHint}"));
        }

        if (!check.HeadVerifies)
        {
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"{auditSetting} does not verify the newest audit record (sequence {check.HeadSequence}): it is not the key that signed the trail, and records signed with it would verify under no key. Configure the key in use; after a rotation keep the old one in {auditPrevious}.{OfflineVerifyHint}"));
        }

        if (text is not null && anchor is null)
        {
            throw new StartupException(InvalidAnchor().Message);
        }

        if (anchor is not null && check.AnchorProblem == AuditProblems.Truncated)
        {
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tokenizer:AuditAnchor: the audit trail is truncated: it ends at sequence {check.HeadSequence}, before the anchored record {anchor.Sequence} ({store.Description}). Its newest records were deleted (or the database was restored from an older backup). Restore the database, or move the anchor aside to accept the loss.{OfflineVerifyHint}"));
        }

        if (anchor is not null && check.AnchorProblem == AuditProblems.AnchorMismatch)
        {
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tokenizer:AuditAnchor: the audit record at the anchored sequence {anchor.Sequence} has another MAC than the anchor ({store.Description}): the trail was truncated and appended to, or rebuilt. Restore the database, or move the anchor aside to accept the loss.{OfflineVerifyHint}"));
        }

        if (anchor is null && check.HeadSequence > 0)
        {
            AuditLog.AnchorMissing(logger, store.Description, check.HeadSequence);
        }
        else if (anchor is null && check.UsedBefore)
        {
            // Every start writes a record, so a ledger that was started before has a trail: this one was emptied.
            AuditLog.TrailEmptied(logger, store.Description);
        }

        // A trigger or rule that fires on INSERT drops or changes records before the chain can see them, and one on any
        // other table can delete the newest record whenever that table is written (the next append then reuses its
        // sequence): the walk below cannot find a record that was never written or whose place was taken.
        var foreign = await trail.ForeignTriggersAsync(cancellationToken);
        if (foreign.Count > 0)
        {
            var names = string.Join(", ", foreign.Take(ListedAtStart).Select(name => SensitiveDataScrubber.Scrub(name.Length > 140 ? name[..140] : name)));
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tokenizer:AuditAnchor: the ledger database has {foreign.Count} trigger(s) or rule(s) this service did not create ({names}): one on the audit table that fires on an insert, or one on any table that writes the audit table, can drop or change audit records as they are written. Keep a copy of the database as evidence, drop them, and start again.{OfflineVerifyHint}"));
        }

        // A table whose STRICT was removed or whose column types changed stores values the walk reads converted (its MAC
        // still verifies) while SQL compares them as stored: a time kept as a BLOB falls out of every export's period.
        // An index b-tree swapped under an unchanged schema misleads anything that reads through it.
        var definition = await trail.TableDefinitionProblemsAsync(cancellationToken);
        if (definition.Count > 0)
        {
            throw new StartupException(string.Create(
                CultureInfo.InvariantCulture,
                $"Tokenizer:AuditAnchor: the audit table's definition or storage was changed outside this service ({string.Join("; ", definition.Take(ListedAtStart))}): records can then be stored in a shape that verification and export read differently, and be hidden from exports. Keep a copy of the database as evidence and restore it from a copy taken before the change.{OfflineVerifyHint}"));
        }

        // The head and the anchored record can be intact while a record between them was edited or deleted with the
        // service stopped: only a walk of the whole chain (the one `audit verify` runs, page by page) finds that.
        // A guard changed under its own name is a table problem only until start-up recreates it (after this check).
        var walk = await trail.VerifyAsync(anchor, cancellationToken);
        var onlyChangedGuards = walk.Problem == AuditProblems.TableChanged
            && walk.TableProblems.All(problem => problem.StartsWith(RelationalAuditTrail.ChangedGuardProblem, StringComparison.Ordinal));
        if (!walk.Intact && !onlyChangedGuards)
        {
            throw new StartupException(BrokenTrail(walk, auditPrevious));
        }

        await CheckRequestSecretAsync(cancellationToken);
        if (check.HeadKeyId is { } keyId && !string.Equals(keyId, trail.Keys.CurrentKeyId, StringComparison.Ordinal))
        {
            await configuration.RecordAsync(ConfigurationAudit.KeyRotated, "audit-hmac-key", AuditOutcome.Success, null, cancellationToken);
        }
    }

    /// <summary>
    /// The stored anchor, verified under the configured audit keys; null when none is stored.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stored anchor fails its seal (edited, forged, or sealed under an unconfigured key).</exception>
    public async Task<AuditAnchor?> ReadAnchorAsync(CancellationToken cancellationToken)
    {
        var text = await store.ReadAsync(cancellationToken);
        if (text is null)
        {
            return null;
        }

        return trail.Keys.Open(text) ?? throw InvalidAnchor();
    }

    /// <summary>
    /// Anchors the committed head unless the stored anchor is already at or past it (the anchor never goes backwards,
    /// also when several replicas anchor one shared chain). Never throws but for cancellation: a failure is logged and
    /// the next attempt follows; a stored anchor ahead of the trail, or one that fails its seal, is logged as critical
    /// and left as found.
    /// </summary>
    /// <returns>True when the stored anchor is at the head (written now or already).</returns>
    public async Task<bool> AnchorAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = true;
            await trail.AnchorAsync(
                async (head, ct) =>
                {
                    if (head.Sequence == Interlocked.Read(ref lastAnchored))
                    {
                        return;
                    }

                    var text = await store.ReadAsync(ct);
                    var stored = text is null ? null : trail.Keys.Open(text);
                    if (text is not null && stored is null)
                    {
                        AuditLog.AnchorInvalid(logger, store.Description);
                        result = false;
                        return;
                    }

                    if (stored is not null && stored.Sequence >= head.Sequence)
                    {
                        if (stored.Sequence > head.Sequence || !stored.Mac.AsSpan().SequenceEqual(head.Mac))
                        {
                            AuditLog.AnchorAheadOfTrail(logger, store.Description, stored.Sequence, head.Sequence);
                            result = false;
                        }

                        return;
                    }

                    await store.WriteAsync(trail.Keys.Seal(head), ct);
                    Interlocked.Exchange(ref lastAnchored, head.Sequence);
                },
                cancellationToken);
            return result;
        }
        catch (Exception failure) when (!(failure is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            AuditLog.AnchorFailed(logger, store.Description, AuditLog.Describe(failure));
            return false;
        }
    }

    /// <summary>Anchors every <see cref="Interval"/> until cancelled.</summary>
    public async Task RunAsync(TimeProvider timeProvider, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await AnchorAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the final anchor is written by the caller after the last record.
        }
    }

    /// <summary>The one-line refusal for a chain broken before its head: the first broken record and what happened to it.</summary>
    private string BrokenTrail(AuditVerification walk, string auditPrevious)
    {
        var k = walk.FirstBrokenSequence.ToString(CultureInfo.InvariantCulture);
        var before = (walk.FirstBrokenSequence - 1).ToString(CultureInfo.InvariantCulture);
        var cause = walk.Problem switch
        {
            AuditProblems.MacMismatch => $"audit record {k} was changed after it was written (mac mismatch: it does not verify under the audit key that signed it)",
            AuditProblems.SequenceGap => $"audit record {k} is missing (sequence gap): it was deleted after it was written",
            AuditProblems.LinkMismatch => $"audit record {k} does not follow record {before} (link mismatch): it was replaced by a record of another chain signed with the same key",
            AuditProblems.UnknownKey => $"audit record {k} names a key that no configured audit key has (unknown key): keep every earlier key in {auditPrevious} after a rotation; otherwise its key id was altered",
            AuditProblems.KeyIdMissing => $"audit record {k} has no key id although earlier records have one (key id missing): it was removed so the record is tried under every configured key",
            AuditProblems.RecordedTimeMissing => $"audit record {k} is in the older format although earlier records are not (recorded time missing): it was written outside the service",
            AuditProblems.RecordedOutOfOrder => $"audit record {k} was recorded before an earlier record (recorded out of order): it was back-dated outside the service",
            AuditProblems.RecordedInTheFuture => $"audit record {k} is dated more than a few minutes after this host's clock (recorded in the future): it was written outside the service, or the clock that wrote it was ahead",
            AuditProblems.StoredTypeChanged => $"audit record {k} holds a value stored with another type than its column's (stored type changed): it was rewritten outside the service, which can hide it from exports",
            AuditProblems.SequenceOutOfRange => $"audit record {k} has a sequence below 1 (sequence out of range): it was written past the table's constraint",
            AuditProblems.RetiredKey => $"audit record {k} is signed by an audit key that a newer one had replaced more than Tokenizer:AuditKeyRotationGraceMinutes before (retired key): it was forged with a retired key, or a replica kept the old key after the rotation",
            _ => $"audit record {k} is broken ({walk.Problem})",
        };
        // The server does not start, so `audit verify` cannot be asked: the line itself lists what the walk found.
        var listed = string.Join(", ", walk.Broken.Take(ListedAtStart).Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Sequence} {b.Problem}")));
        var more = walk.BrokenCount > ListedAtStart ? string.Create(CultureInfo.InvariantCulture, $", ... ({walk.BrokenCount} in all)") : string.Empty;
        return $"Tokenizer:AuditAnchor: the audit trail is broken: {cause}. Broken records: {listed}{more} ({store.Description}). Keep a copy of this database as evidence and restore it from a copy taken before the change.{OfflineVerifyHint}";
    }

    private InvalidOperationException InvalidAnchor() => new(
        $"Tokenizer:AuditAnchor: the audit anchor ({store.Description}) fails its seal under the configured audit keys ({secrets.AuditHmacSecretSettings.Current}): it was edited or forged, or sealed under a key no longer configured.{OfflineVerifyHint}");

    private async Task CheckRequestSecretAsync(CancellationToken cancellationToken)
    {
        var current = RequestHasher.CheckValue(secrets.RequestHmacSecret.Span);
        var previous = secrets.PreviousRequestHmacSecrets.Select(s => RequestHasher.CheckValue(s.Span)).ToList();
        var adopt = options.Value.AdoptKeyChecks;
        var outcome = await trail.CheckKeyAsync(RequestSecretCheckName, current, previous, adopt, cancellationToken);
        var (setting, previousSetting) = secrets.RequestHmacSecretSettings;
        switch (outcome)
        {
            case KeyCheckOutcome.Mismatch:
                throw new StartupException(
                    $"{setting} is not the secret this ledger was used with (its key check value differs): stored idempotency records would no longer match, and a retried request would get a second token. Configure the secret in use; to rotate, set the new one and keep the old one in {previousSetting}.");
            case KeyCheckOutcome.Missing:
                throw new StartupException(MissingCheck(setting));
            case KeyCheckOutcome.Rotated:
                await configuration.RecordAsync(ConfigurationAudit.KeyRotated, "request-hmac-key", AuditOutcome.Success, null, cancellationToken);
                break;
        }

        await NoteStoredOrAdoptedAsync(outcome, setting, "request-hmac-key", cancellationToken);
        var pseudonymSetting = secrets.PreviousRequestHmacSecrets.Count > 0 ? $"{previousSetting} (its last entry)" : setting;
        var pseudonyms = RequestHasher.CheckValue(PseudonymSecret(secrets).Span);
        var pseudonymOutcome = await trail.CheckKeyAsync(PseudonymSecretCheckName, pseudonyms, [], adopt, cancellationToken);
        switch (pseudonymOutcome)
        {
            case KeyCheckOutcome.Mismatch:
                throw new StartupException(
                    $"{previousSetting} must keep the oldest request secret (last in the list) while privacy pseudonyms made with it are kept: they are keyed by it, and without it erasure and export would no longer find existing subjects.");
            case KeyCheckOutcome.Missing:
                throw new StartupException(MissingCheck(pseudonymSetting));
        }

        await NoteStoredOrAdoptedAsync(pseudonymOutcome, pseudonymSetting, "privacy-pseudonym-key", cancellationToken);
    }

    private async Task NoteStoredOrAdoptedAsync(KeyCheckOutcome outcome, string setting, string resource, CancellationToken cancellationToken)
    {
        if (outcome == KeyCheckOutcome.Stored)
        {
            AuditLog.KeyCheckStored(logger, setting);
        }
        else if (outcome == KeyCheckOutcome.Adopted)
        {
            AuditLog.KeyCheckAdopted(logger, setting);
            await configuration.RecordAsync(ConfigurationAudit.KeyCheckAdopted, resource, AuditOutcome.Success, null, cancellationToken);
        }
    }

    // The check value was deleted from a used ledger: the secret cannot be checked, so it is refused as a mismatch is.
    private static string MissingCheck(string setting) =>
        $"{setting} cannot be checked: this ledger holds idempotency records, tokens or privacy data keyed by the secret, but its key check value is missing from key_checks (deleted). A changed secret would give a retried request a second token and lose privacy subjects. Configure the secret in use; if you know the configured one is the secret this ledger was used with, start once with Tokenizer:AdoptKeyChecks=true (it stores the check value, logs a Warning and writes configuration/key_check_adopted), then remove that setting.";
}
