namespace Tokenizer.Core.Audit;

/// <summary>One stored audit record: its position in the chain and what it says.</summary>
/// <param name="Sequence">Position in the chain, from 1, gapless.</param>
/// <param name="Event">The record as stored (sanitised: control characters stripped, text capped).</param>
public sealed record AuditRecord(long Sequence, AuditEvent Event);

/// <summary>
/// A chain head an operator wrote down (or exported to write-once storage) earlier: the record at
/// <paramref name="Sequence"/> must still exist with exactly this MAC. Detects deletion of the newest records and a
/// chain rebuilt under the same key, which the chain alone cannot.
/// </summary>
/// <param name="Sequence">A sequence number of at least 1.</param>
/// <param name="Mac">That record's 32-byte MAC, as reported by an earlier verification.</param>
public sealed record AuditAnchor(long Sequence, byte[] Mac);

/// <summary>The result of walking the chain from record 1 to its newest record.</summary>
/// <param name="Intact">
/// True when every MAC and link verifies, every value has its column's type, the sequence is gapless, the anchor (if
/// any) matches and the table is as the migrations created it (<see cref="AuditVerification.TableProblems"/>).
/// </param>
/// <param name="RecordsChecked">Records read: the whole trail (the walk goes on past a broken record).</param>
/// <param name="FirstBrokenSequence">
/// 0 when intact. Otherwise the first position whose record is not what the key signed: the altered record
/// (<see cref="AuditProblems.MacMismatch"/>, <see cref="AuditProblems.LinkMismatch"/>), the first missing sequence
/// number (<see cref="AuditProblems.SequenceGap"/>), the record after the head (<see cref="AuditProblems.Truncated"/>)
/// or the anchored record (<see cref="AuditProblems.AnchorMismatch"/>).
/// </param>
/// <param name="Problem">One of <see cref="AuditProblems"/>; null when intact.</param>
/// <param name="HeadSequence">
/// The newest record of the intact part, before the first break (the newest record when intact; 0 for an empty trail):
/// anchor it outside the host.
/// </param>
/// <param name="HeadMac">That record's 32-byte MAC (32 zero bytes for an empty trail).</param>
public sealed record AuditVerification(
    bool Intact,
    long RecordsChecked,
    long FirstBrokenSequence,
    string? Problem,
    long HeadSequence,
    byte[] HeadMac)
{
    /// <summary>
    /// Every broken record found, in sequence order (the first is <see cref="FirstBrokenSequence"/> and
    /// <see cref="Problem"/>), at most the first 1000; empty when intact.
    /// </summary>
    public IReadOnlyList<AuditBreak> Broken { get; init; } = [];

    /// <summary>How many broken records were found in all; may exceed the length of <see cref="Broken"/>.</summary>
    public long BrokenCount { get; init; }

    /// <summary>
    /// What is wrong with the audit table itself, one short text each (names in it are scrubbed and capped): a trigger
    /// or rule this service did not create, or a definition other than the migrations create (SQLite: STRICT removed; a
    /// column's declared type, nullability or key changed, added or dropped; the time index changed). Any makes
    /// <see cref="Intact"/> false: such a change lets rows be dropped as they are written or stored in a shape the walk
    /// and the export read differently. Empty when the table is as created.
    /// </summary>
    public IReadOnlyList<string> TableProblems { get; init; } = [];
}

/// <summary>One broken record found by a verification.</summary>
/// <param name="Sequence">The record's sequence; for <see cref="AuditProblems.SequenceGap"/> the first missing number.</param>
/// <param name="Problem">One of <see cref="AuditProblems"/>.</param>
public sealed record AuditBreak(long Sequence, string Problem);

/// <summary>The problems <see cref="IAuditTrailReader.VerifyAsync"/> reports, as stable strings.</summary>
public static class AuditProblems
{
    /// <summary>The record's content (or sequence number) is not what the key signed: altered, swapped or forged.</summary>
    public const string MacMismatch = "mac mismatch";

    /// <summary>A sequence number is missing: that record was deleted.</summary>
    public const string SequenceGap = "sequence gap";

    /// <summary>
    /// The record is validly signed but does not follow its predecessor: spliced in from another chain under the same
    /// key (e.g. an old backup) in place of the original.
    /// </summary>
    public const string LinkMismatch = "link mismatch";

    /// <summary>
    /// The record names a key id that no configured audit key has: the key that signed it is missing from the
    /// configuration (after a rotation, list it among the previous audit secrets), or the key id was altered.
    /// </summary>
    public const string UnknownKey = "unknown key";

    /// <summary>
    /// The record has no key id although an earlier record has one: only records written before key ids existed may
    /// lack one, so its key id was removed (to have it tried under every configured key, retired ones included).
    /// </summary>
    public const string KeyIdMissing = "key id missing";

    /// <summary>
    /// The record has no recorded time although an earlier record has one: only records written before recorded times
    /// existed may lack one, so it was written in the older format (which signs neither key id nor recorded time) to
    /// escape the retired-key rule.
    /// </summary>
    public const string RecordedTimeMissing = "recorded time missing";

    /// <summary>
    /// The record's recorded time is earlier than an earlier record's: the service never writes one back in time (each
    /// is at least its predecessor's), so the record was written by someone else, back-dated.
    /// </summary>
    public const string RecordedOutOfOrder = "recorded out of order";

    /// <summary>
    /// The record's recorded time is later than the verifier's clock (plus a few minutes of clock difference): the
    /// service never records ahead of its own clock, so the record was written by someone else, dated ahead to keep a
    /// replaced key signing (the rotation grace is counted from recorded times).
    /// </summary>
    public const string RecordedInTheFuture = "recorded in the future";

    /// <summary>
    /// The record's sequence is below 1: the table's CHECK constraint forbids that, so it was written past it. No
    /// export serves it.
    /// </summary>
    public const string SequenceOutOfRange = "sequence out of range";

    /// <summary>
    /// The record was signed by an audit key that had been replaced: a newer key (the current one, or one that first
    /// signed after it) had signed its first record more than the rotation grace before this one was recorded. A
    /// retired key only verifies what it signed before; a new record under it was forged with a retired (perhaps leaked)
    /// key, or written by a replica still configured with the old key long after the rotation.
    /// </summary>
    public const string RetiredKey = "retired key";

    /// <summary>
    /// A value of the record is stored with another type than its column's (SQLite: e.g. its time as a BLOB of the same
    /// digits, possible once STRICT was removed from the table): the MAC may still verify over the converted value, but
    /// comparisons in SQL (an export's period) treat it differently, so the record could be hidden from every export.
    /// </summary>
    public const string StoredTypeChanged = "stored type changed";

    /// <summary>
    /// The audit table itself was changed (see <see cref="AuditVerification.TableProblems"/>): reported as the problem
    /// when every record verifies.
    /// </summary>
    public const string TableChanged = "table changed";

    /// <summary>The service's stored anchor fails its seal under the configured audit keys: it was edited or forged.</summary>
    public const string AnchorInvalid = "anchor invalid";

    /// <summary>The trail ends before the anchored record: the newest records were deleted.</summary>
    public const string Truncated = "truncated";

    /// <summary>
    /// The anchored record exists but has another MAC: the newest records were deleted and the service has appended new
    /// ones over their positions since, or the chain was rebuilt by someone holding the key.
    /// </summary>
    public const string AnchorMismatch = "anchor mismatch";
}

/// <summary>Reads and verifies the audit trail (the admin-only side of <see cref="IAuditTrail"/>).</summary>
public interface IAuditTrailReader
{
    /// <summary>
    /// Walks the whole chain in sequence order, recomputing every MAC and link, and lists every broken record (the walk
    /// goes on after a break: each record's own MAC is still checked).
    /// With <paramref name="anchor"/>, also checks that the anchored record still exists with its MAC.
    /// Memory is bounded: records are read in pages.
    /// </summary>
    /// <exception cref="ArgumentException">The anchor's sequence is below 1 or its MAC is not 32 bytes.</exception>
    Task<AuditVerification> VerifyAsync(AuditAnchor? anchor, CancellationToken cancellationToken);

    /// <summary>
    /// Streams the records whose time lies in [<paramref name="fromInclusive"/>, <paramref name="toExclusive"/>), oldest
    /// first (by time, then sequence); a null bound is open. Memory is bounded: records are read in pages. Does not
    /// verify the chain.
    /// </summary>
    IAsyncEnumerable<AuditRecord> ReadAsync(
        DateTimeOffset? fromInclusive,
        DateTimeOffset? toExclusive,
        CancellationToken cancellationToken);

    /// <summary>
    /// Every record whose resource is one of <paramref name="resources"/> (compared ordinally, as stored), oldest first
    /// (by time, then sequence): the records <see cref="ReadAsync"/> with open bounds streams for those resources, found
    /// through an index on the resource instead of a walk of the whole trail. Does not verify the chain.
    /// </summary>
    /// <exception cref="InvalidOperationException">The index served a row of another resource (its contents were changed: <c>tokenizer audit verify</c> names it).</exception>
    Task<IReadOnlyList<AuditRecord>> ReadByResourcesAsync(IReadOnlyCollection<string> resources, CancellationToken cancellationToken);
}
