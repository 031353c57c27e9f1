using System.Security.Cryptography;
using Tokenizer.Core.Audit;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// Walks an audit chain one row at a time, in sequence order, and lists every broken record: the walk goes on after a
/// break, because each record's own MAC can still be checked, so a second edit behind the first is reported too.
/// Independent of storage: feed it rows with <see cref="Accept"/> and read the result with <see cref="Result"/>.
/// </summary>
/// <remarks>
/// Each row is checked in this order (a row whose sequence is below 1 is <see cref="AuditProblems.SequenceOutOfRange"/>
/// and no part of the chain):
/// <list type="number">
/// <item>its sequence is the next one expected, else <see cref="AuditProblems.SequenceGap"/> naming the first missing
/// number (a deleted record k is reported as k; a run of deleted records is one gap); the row itself is still checked,
/// but not its link, whose predecessor is gone;</item>
/// <item>every value is stored with its column's type, else <see cref="AuditProblems.StoredTypeChanged"/> (SQLite
/// converts, e.g., a BLOB of digits to the same integer when read, so the MAC would verify, while SQL comparisons treat
/// the BLOB as larger than any number: the record falls out of every export's period);</item>
/// <item>its key id names a configured key, else <see cref="AuditProblems.UnknownKey"/>;</item>
/// <item>its MAC is the HMAC of its content, sequence and prev_mac under that key, else <see cref="AuditProblems.MacMismatch"/>
/// (altered content; swapped or renumbered rows, since the sequence is signed);</item>
/// <item>its prev_mac is the previous row's stored MAC, else <see cref="AuditProblems.LinkMismatch"/> (a validly signed
/// record from another chain under the same key). The stored MAC, not a recomputed one: a record whose content alone was
/// edited does not also break its successor's link;</item>
/// <item>it has a key id once any earlier record had one (only records from before key ids lack one), else
/// <see cref="AuditProblems.KeyIdMissing"/>: a record without one is tried under every configured key, retired ones
/// included, so a removed key id would let a retired key sign;</item>
/// <item>it has a recorded time once any earlier record had one, else <see cref="AuditProblems.RecordedTimeMissing"/>
/// (the older format signs neither key id nor recorded time), and that time is not earlier than any earlier record's,
/// else <see cref="AuditProblems.RecordedOutOfOrder"/> (a back-dated record), nor later than the verifier's clock allows,
/// else <see cref="AuditProblems.RecordedInTheFuture"/> (a record dated ahead would hold a rotation's grace open);</item>
/// <item>its key was not retired when it was recorded, else <see cref="AuditProblems.RetiredKey"/>. Keys take over in
/// the order they first sign, and the current key is always the newest: a key other than the current one is retired
/// <see cref="AuditKeyRing.RotationGrace"/> after a newer key's first recorded time. So after a rotation (for a suspected
/// leak, say) the old key verifies what it signed before, and a record it signs later, however valid its MAC, is
/// reported; within the grace, replicas still on the old key keep appending.</item>
/// </list>
/// The chain alone cannot show that its newest records were deleted: only an <see cref="AuditAnchor"/> kept elsewhere
/// can (<see cref="AuditProblems.Truncated"/>, <see cref="AuditProblems.AnchorMismatch"/>). Memory is bounded: at most
/// <see cref="MaxListed"/> broken records are kept, the rest only counted.
/// </remarks>
internal sealed class AuditVerifier
{
    /// <summary>The most broken records a result lists (the first ones in sequence order); the rest are counted.</summary>
    public const int MaxListed = 1000;

    /// <summary>How far ahead of the verifier's clock a recorded time may be: clocks of replicas and hosts differ a little.</summary>
    public static readonly TimeSpan ClockTolerance = TimeSpan.FromMinutes(5);

    private readonly AuditKeyRing keys;
    private readonly AuditAnchor? anchor;
    private readonly List<AuditBreak> broken = [];
    private long brokenCount;
    private long recordsChecked;
    private long lastSequence;
    private readonly Dictionary<string, int> keyOrder = new(StringComparer.Ordinal);
    private readonly List<long?> keyFirstRecorded = [];
    private bool keyedSeen;
    private bool chainBroken;
    private long? latestRecorded;
    private byte[] lastMac = AuditChain.Genesis();
    private long headSequence;
    private byte[] headMac = AuditChain.Genesis();
    private byte[]? anchoredMac;
    private readonly long? latestAllowedMicros;

    /// <param name="key">The audit key, at least 32 bytes.</param>
    /// <param name="anchor">An anchored head to check at the end, or null.</param>
    /// <exception cref="ArgumentException">The anchor's sequence is below 1 or its MAC is not 32 bytes, or the key is too short.</exception>
    public AuditVerifier(byte[] key, AuditAnchor? anchor)
        : this(new AuditKeyRing(key), anchor)
    {
    }

    /// <param name="keys">The configured audit keys: each record verifies under the key its key id names.</param>
    /// <param name="anchor">An anchored head to check at the end, or null.</param>
    /// <param name="nowMicros">
    /// The verifier's clock (unix microseconds UTC): a record recorded more than <see cref="ClockTolerance"/> after it is
    /// <see cref="AuditProblems.RecordedInTheFuture"/>. Null: not checked.
    /// </param>
    /// <exception cref="ArgumentException">The anchor's sequence is below 1 or its MAC is not 32 bytes.</exception>
    public AuditVerifier(AuditKeyRing keys, AuditAnchor? anchor, long? nowMicros = null)
    {
        latestAllowedMicros = nowMicros + (ClockTolerance.Ticks / TimeSpan.TicksPerMicrosecond);
        ArgumentNullException.ThrowIfNull(keys);
        if (anchor is not null && (anchor.Sequence < 1 || anchor.Mac is not { Length: AuditChain.MacLength }))
        {
            throw new ArgumentException("an audit anchor needs a sequence of at least 1 and a 32-byte MAC", nameof(anchor));
        }

        this.keys = keys;
        this.anchor = anchor;
    }

    /// <summary>The sequence of the last row fed in (0 before the first): the next row read must come after it.</summary>
    public long LastSequence => lastSequence;

    /// <summary>Checks the next row (rows must come in ascending sequence order); returns false when it breaks the chain.</summary>
    public bool Accept(AuditRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        recordsChecked++;
        if (row.Sequence <= lastSequence)
        {
            // Only a row below 1 comes before its predecessor (the walk reads in primary-key order): it is no part of
            // the chain, so it changes nothing the chain's checks rest on.
            Report(row.Sequence, AuditProblems.SequenceOutOfRange, breaksChain: false);
            return false;
        }

        var expected = lastSequence + 1;
        var follows = row.Sequence == expected;
        if (!follows)
        {
            Report(expected, AuditProblems.SequenceGap);
        }

        string? problem = null;
        if (!row.StoredTypesMatch)
        {
            // The MAC was checked over converted values; what SQL compares (an export's period) is the stored one.
            problem = AuditProblems.StoredTypeChanged;
        }
        else if (row.KeyId is { } keyId && !keys.Knows(keyId))
        {
            problem = AuditProblems.UnknownKey;
        }
        else if (!keys.Verifies(row))
        {
            problem = AuditProblems.MacMismatch;
        }
        else if (follows && !CryptographicOperations.FixedTimeEquals(row.PrevMac, lastMac))
        {
            problem = AuditProblems.LinkMismatch;
        }
        else if (row.KeyId is null && keyedSeen)
        {
            problem = AuditProblems.KeyIdMissing;
        }
        else if (row.RecordedAtMicros is null && latestRecorded is not null)
        {
            problem = AuditProblems.RecordedTimeMissing;
        }
        else if (row.RecordedAtMicros < latestRecorded)
        {
            problem = AuditProblems.RecordedOutOfOrder;
        }
        else if (row.RecordedAtMicros > latestAllowedMicros)
        {
            problem = AuditProblems.RecordedInTheFuture;
        }

        if (problem is null or AuditProblems.LinkMismatch)
        {
            // Only a record whose MAC verifies says anything true about when its key signed.
            problem ??= Retired(row);
            Learn(row);
        }

        if (problem is not null)
        {
            Report(row.Sequence, problem);
        }

        keyedSeen |= row.KeyId is not null;
        lastSequence = row.Sequence;
        lastMac = row.Mac;
        if (anchor is not null && row.Sequence == anchor.Sequence)
        {
            anchoredMac = row.Mac;
        }

        if (!chainBroken)
        {
            headSequence = row.Sequence;
            headMac = row.Mac;
        }

        return follows && problem is null;
    }

    /// <summary>The verdict over the rows fed so far, including the anchor check.</summary>
    public AuditVerification Result()
    {
        var listed = new List<AuditBreak>(broken);
        var count = brokenCount;
        if (anchor is not null)
        {
            // A deleted anchored record inside the walk is already a sequence gap; past its end, the trail is truncated.
            AuditBreak? anchorBreak = lastSequence < anchor.Sequence
                ? new AuditBreak(lastSequence + 1, AuditProblems.Truncated)
                : anchoredMac is not null && !CryptographicOperations.FixedTimeEquals(anchoredMac, anchor.Mac)
                    ? new AuditBreak(anchor.Sequence, AuditProblems.AnchorMismatch)
                    : null;
            if (anchorBreak is not null)
            {
                count++;
                var at = listed.FindIndex(b => b.Sequence > anchorBreak.Sequence);
                listed.Insert(at < 0 ? listed.Count : at, anchorBreak);
                if (listed.Count > MaxListed)
                {
                    listed.RemoveAt(listed.Count - 1);
                }
            }
        }

        var first = listed.Count > 0 ? listed[0] : null;
        return new AuditVerification(first is null, recordsChecked, first?.Sequence ?? 0, first?.Problem, headSequence, headMac.ToArray())
        {
            Broken = listed,
            BrokenCount = count,
        };
    }

    // The key's position in the order keys first signed; a key seen only on records older than recorded times takes
    // the first recorded time there is as its own (the upgrade is the earliest moment the chain can date).
    private void Learn(AuditRow row)
    {
        if (row.KeyId is { } keyId && !keyOrder.ContainsKey(keyId))
        {
            keyOrder[keyId] = keyFirstRecorded.Count;
            keyFirstRecorded.Add(row.RecordedAtMicros);
        }

        if (row.RecordedAtMicros is { } recorded)
        {
            for (var i = 0; i < keyFirstRecorded.Count; i++)
            {
                keyFirstRecorded[i] ??= recorded;
            }

            latestRecorded = Math.Max(latestRecorded ?? recorded, recorded);
        }
    }

    private string? Retired(AuditRow row)
    {
        if (row is not { KeyId: { } keyId, RecordedAtMicros: { } recorded }
            || string.Equals(keyId, keys.CurrentKeyId, StringComparison.Ordinal))
        {
            return null;
        }

        // Newer than this key: every key that first signed after it, and the current key wherever it first signed.
        var order = keyOrder.TryGetValue(keyId, out var known) ? known : keyFirstRecorded.Count;
        var current = keyOrder.TryGetValue(keys.CurrentKeyId, out var at) ? at : -1;
        long? retiredAt = null;
        for (var i = 0; i < keyFirstRecorded.Count; i++)
        {
            if ((i > order || i == current) && keyFirstRecorded[i] is { } since)
            {
                retiredAt = Math.Min(retiredAt ?? since, since);
            }
        }

        var graceMicros = keys.RotationGrace.Ticks / TimeSpan.TicksPerMicrosecond;
        return retiredAt is { } retired && recorded > retired + graceMicros ? AuditProblems.RetiredKey : null;
    }

    private void Report(long sequence, string problem, bool breaksChain = true)
    {
        chainBroken |= breaksChain;
        brokenCount++;
        if (broken.Count < MaxListed)
        {
            broken.Add(new AuditBreak(sequence, problem));
        }
    }
}
