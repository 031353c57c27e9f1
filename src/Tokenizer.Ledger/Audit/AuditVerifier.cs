using System.Security.Cryptography;
using Tokenizer.Core.Audit;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// Walks an audit chain one row at a time, in sequence order, and stops at the first broken record. Independent of
/// storage: feed it rows with <see cref="Accept"/> and read the result with <see cref="Result"/>.
/// </summary>
/// <remarks>
/// Each row is checked in this order, and the first failure names it:
/// <list type="number">
/// <item>its sequence is the next one expected, else <see cref="AuditProblems.SequenceGap"/> naming the first missing
/// number (a deleted record k is reported as k);</item>
/// <item>its key id names a configured key, else <see cref="AuditProblems.UnknownKey"/>;</item>
/// <item>its MAC is the HMAC of its content, sequence and prev_mac under that key, else <see cref="AuditProblems.MacMismatch"/>
/// (altered content; swapped or renumbered rows, since the sequence is signed);</item>
/// <item>its prev_mac is the previous record's MAC, else <see cref="AuditProblems.LinkMismatch"/> (a validly signed
/// record from another chain under the same key).</item>
/// </list>
/// The chain alone cannot show that its newest records were deleted: only an <see cref="AuditAnchor"/> kept elsewhere
/// can (<see cref="AuditProblems.Truncated"/>, <see cref="AuditProblems.AnchorMismatch"/>).
/// </remarks>
internal sealed class AuditVerifier
{
    private readonly AuditKeyRing keys;
    private readonly AuditAnchor? anchor;
    private long recordsChecked;
    private long headSequence;
    private byte[] headMac = AuditChain.Genesis();
    private byte[]? anchoredMac;
    private long brokenSequence;
    private string? problem;

    /// <param name="key">The audit key, at least 32 bytes.</param>
    /// <param name="anchor">An anchored head to check at the end, or null.</param>
    /// <exception cref="ArgumentException">The anchor's sequence is below 1 or its MAC is not 32 bytes, or the key is too short.</exception>
    public AuditVerifier(byte[] key, AuditAnchor? anchor)
        : this(new AuditKeyRing(key), anchor)
    {
    }

    /// <param name="keys">The configured audit keys: each record verifies under the key its key id names.</param>
    /// <param name="anchor">An anchored head to check at the end, or null.</param>
    /// <exception cref="ArgumentException">The anchor's sequence is below 1 or its MAC is not 32 bytes.</exception>
    public AuditVerifier(AuditKeyRing keys, AuditAnchor? anchor)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (anchor is not null && (anchor.Sequence < 1 || anchor.Mac is not { Length: AuditChain.MacLength }))
        {
            throw new ArgumentException("an audit anchor needs a sequence of at least 1 and a 32-byte MAC", nameof(anchor));
        }

        this.keys = keys;
        this.anchor = anchor;
    }

    /// <summary>False once a broken record was found; feed no more rows then.</summary>
    public bool IsIntactSoFar => problem is null;

    /// <summary>The sequence after which the next row is expected (the verified head).</summary>
    public long HeadSequence => headSequence;

    /// <summary>Checks the next row; returns false (and records the problem) when it breaks the chain.</summary>
    public bool Accept(AuditRow row)
    {
        if (problem is not null)
        {
            return false;
        }

        recordsChecked++;
        var expected = headSequence + 1;
        if (row.Sequence != expected)
        {
            return Break(expected, AuditProblems.SequenceGap);
        }

        if (row.KeyId is { } keyId && !keys.Knows(keyId))
        {
            return Break(row.Sequence, AuditProblems.UnknownKey);
        }

        if (!keys.Verifies(row))
        {
            return Break(row.Sequence, AuditProblems.MacMismatch);
        }

        if (!CryptographicOperations.FixedTimeEquals(row.PrevMac, headMac))
        {
            return Break(row.Sequence, AuditProblems.LinkMismatch);
        }

        headSequence = row.Sequence;
        headMac = row.Mac;
        if (anchor is not null && row.Sequence == anchor.Sequence)
        {
            anchoredMac = row.Mac;
        }

        return true;
    }

    /// <summary>The verdict over the rows accepted so far, including the anchor check when the walk was intact.</summary>
    public AuditVerification Result()
    {
        if (problem is null && anchor is not null)
        {
            if (anchoredMac is null)
            {
                return Verdict(headSequence + 1, AuditProblems.Truncated);
            }

            if (!CryptographicOperations.FixedTimeEquals(anchoredMac, anchor.Mac))
            {
                return Verdict(anchor.Sequence, AuditProblems.AnchorMismatch);
            }
        }

        return Verdict(brokenSequence, problem);
    }

    private bool Break(long sequence, string what)
    {
        brokenSequence = sequence;
        problem = what;
        return false;
    }

    private AuditVerification Verdict(long firstBroken, string? what) =>
        new(what is null, recordsChecked, what is null ? 0 : firstBroken, what, headSequence, headMac.ToArray());
}
