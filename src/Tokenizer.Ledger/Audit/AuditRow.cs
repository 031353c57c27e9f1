using System.Data.Common;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// One <c>audit_events</c> row exactly as stored: the values the MAC covers. Verification works on these raw values
/// (never on parsed ones), so a row an attacker wrote with unexpected values still verifies or fails on its bytes.
/// </summary>
/// <remarks>
/// <see cref="TimeMicros"/> is when the audited event happened (a call's start; an aggregated refusal's first one), so
/// it may run behind its predecessor's. <see cref="RecordedAtMicros"/> is when the record was appended (unix
/// microseconds UTC), never earlier than its predecessor's; NULL only on records written before it existed.
/// </remarks>
internal sealed record AuditRow(
    long Sequence,
    long TimeMicros,
    string CallerId,
    string? SourceAddress,
    string Action,
    string? Resource,
    string Outcome,
    string? Reason,
    string CorrelationId,
    byte[] PrevMac,
    byte[] Mac,
    string? KeyId = null,
    long? RecordedAtMicros = null)
{
    /// <summary>
    /// False when a value was stored with another type than its column's (read as a 14th column where the query has
    /// one, see <see cref="AuditSql.SelectChainPage"/>): the values above are then conversions, not what is stored.
    /// </summary>
    public bool StoredTypesMatch { get; init; } = true;

    /// <summary>
    /// Reads the columns of <see cref="AuditSql.Columns"/>, and <see cref="StoredTypesMatch"/> from a 14th when there is
    /// one; a NULL where the schema forbids one reads as empty.
    /// </summary>
    public static AuditRow Read(DbDataReader reader) => ReadColumns(reader) with
    {
        StoredTypesMatch = reader.FieldCount <= 13 || Convert.ToInt64(reader.GetValue(13), System.Globalization.CultureInfo.InvariantCulture) == 1,
    };

    /// <summary>Binds every column as a parameter of <see cref="AuditSql.Insert"/>.</summary>
    public void Bind(DbCommand command) => command
        .Bind("@sequence", Sequence)
        .Bind("@time", TimeMicros)
        .Bind("@caller_id", CallerId)
        .Bind("@source_address", SourceAddress)
        .Bind("@action", Action)
        .Bind("@resource", Resource)
        .Bind("@outcome", Outcome)
        .Bind("@reason", Reason)
        .Bind("@correlation_id", CorrelationId)
        .Bind("@prev_mac", PrevMac)
        .Bind("@mac", Mac)
        .Bind("@key_id", KeyId)
        .Bind("@recorded_at", RecordedAtMicros);

    /// <summary>The row as the port's record.</summary>
    /// <exception cref="InvalidOperationException">The stored outcome is not one this build knows.</exception>
    public AuditRecord ToRecord() => new(
        Sequence,
        new AuditEvent(
            UnixMicros.ToDateTimeOffset(TimeMicros),
            CallerId,
            SourceAddress,
            Action,
            Resource,
            AuditTexts.Outcome.Parse(Outcome, "audit_events.outcome"),
            Reason,
            CorrelationId));

    private static AuditRow ReadColumns(DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetInt64(1),
        reader.GetNullableString(2) ?? string.Empty,
        reader.GetNullableString(3),
        reader.GetNullableString(4) ?? string.Empty,
        reader.GetNullableString(5),
        reader.GetNullableString(6) ?? string.Empty,
        reader.GetNullableString(7),
        reader.GetNullableString(8) ?? string.Empty,
        Bytes(reader, 9),
        Bytes(reader, 10),
        reader.GetNullableString(11),
        reader.IsDBNull(12) ? null : reader.GetInt64(12));

    private static byte[] Bytes(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? [] : reader.GetValue(ordinal) as byte[] ?? [];
}

/// <summary>What <see cref="RelationalAuditTrail.CheckAsync"/> found at start-up.</summary>
/// <param name="HeadSequence">The newest record's sequence; 0 for an empty trail.</param>
/// <param name="HeadVerifies">True when the newest record verifies under a configured key (or the trail is empty).</param>
/// <param name="HeadKeyId">The key id the newest record names; null for an empty trail or a record older than key ids.</param>
/// <param name="AnchorProblem">
/// Null when no anchor was given or it matches; <see cref="AuditProblems.Truncated"/> when the anchored record no longer
/// exists; <see cref="AuditProblems.AnchorMismatch"/> when it exists with another MAC.
/// </param>
public sealed record AuditStartCheck(long HeadSequence, bool HeadVerifies, string? HeadKeyId, string? AnchorProblem)
{
    /// <summary>True when the ledger was started before (it holds key check values): an empty trail then was emptied.</summary>
    public bool UsedBefore { get; init; }
}

/// <summary>What <see cref="RelationalAuditTrail.CheckKeyAsync"/> found.</summary>
public enum KeyCheckOutcome
{
    /// <summary>
    /// No check value was stored and the ledger holds nothing the secret keys: the current one is now (a first start,
    /// or a ledger older than key checks that was never used).
    /// </summary>
    Stored = 1,

    /// <summary>The stored check value is the current secret's.</summary>
    Matched = 2,

    /// <summary>The stored check value was a previous secret's and is now the current one's: a rotation.</summary>
    Rotated = 3,

    /// <summary>The stored check value matches no configured secret: nothing was changed.</summary>
    Mismatch = 4,

    /// <summary>
    /// No check value is stored, yet the ledger holds data the secret keys (the value was deleted): nothing was changed,
    /// since the configured secret cannot be checked.
    /// </summary>
    Missing = 5,

    /// <summary>As <see cref="Missing"/>, but the caller asked to adopt the current secret: its check value is now stored.</summary>
    Adopted = 6,
}
