namespace Tokenizer.Ledger.Claims;

/// <summary>
/// The statements on <c>idempotency_records</c>: the only SQL that writes that table. SQL that SQLite and PostgreSQL both run unchanged;
/// every value is a parameter (<c>@name</c>), no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class ClaimSql
{
    /// <summary>Claims a key if nobody has; 1 row affected means the claim is new.</summary>
    public const string InsertPendingClaim = """
        INSERT INTO idempotency_records
            (caller_id, idempotency_key, operation, request_hmac, state, response, created_at, updated_at, resource, interrupted_audited_at)
        VALUES (@caller_id, @idempotency_key, @operation, @request_hmac, 'pending', NULL, @now, @now, @resource, @mark)
        ON CONFLICT (caller_id, idempotency_key) DO NOTHING
        """;

    /// <summary>Another key's live pending claim of the same operation on the same resource (one correction per person at a time).</summary>
    public const string CountOtherLiveClaimsOnResource = """
        SELECT COUNT(*) FROM idempotency_records
        WHERE state = 'pending' AND operation = @operation AND resource = @resource AND updated_at > @live_since
          AND NOT (caller_id = @caller_id AND idempotency_key = @idempotency_key)
        """;

    /// <summary>The existing record of a key.</summary>
    public const string SelectClaim = """
        SELECT operation, request_hmac, state, response, updated_at, resource, interrupted_audited_at
        FROM idempotency_records
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
        """;

    /// <summary>
    /// Takes over a pending claim whose lease expired. Compare-and-set on the updated_at and audit mark that were read,
    /// so two takers cannot both win, nor a taker and the audit of abandoned claims both audit it, even without a write
    /// lock (PostgreSQL, READ COMMITTED). Sets the taker's resource and audit mark (NULL for a caller's call, which is
    /// audited when it ends or is cut off in turn; the claim time for the recovery worker's, which is no caller's call).
    /// </summary>
    public const string TakeOverClaim = """
        UPDATE idempotency_records SET updated_at = @now, resource = @resource, interrupted_audited_at = @mark
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
          AND state = 'pending' AND updated_at = @seen_updated_at
          AND COALESCE(interrupted_audited_at, -1) = @seen_mark
        """;

    /// <summary>Pending claims whose lease ran out and whose cut-off call has no audit record yet, oldest first.</summary>
    public const string SelectUnauditedAbandonedClaims = """
        SELECT r.caller_id, r.idempotency_key, r.operation, r.resource, r.updated_at, i.intent_id
        FROM idempotency_records r
        LEFT JOIN intents i ON i.caller_id = r.caller_id AND i.idempotency_key = r.idempotency_key
        WHERE r.state = 'pending' AND r.interrupted_audited_at IS NULL AND r.updated_at < @before
        ORDER BY r.updated_at
        LIMIT @limit
        """;

    /// <summary>
    /// Marks an abandoned claim audited, only while it is still pending, unaudited and at the claim time that was read
    /// (compare-and-set: of two replicas exactly one marks it, and only that one appends its record).
    /// </summary>
    public const string MarkClaimAudited = """
        UPDATE idempotency_records SET interrupted_audited_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key
          AND state = 'pending' AND updated_at = @seen_updated_at AND interrupted_audited_at IS NULL
        """;

    /// <summary>Marks a pending claim completed with its response; a completed one keeps its first response.</summary>
    public const string CompleteClaim = """
        UPDATE idempotency_records SET state = 'completed', response = @response, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
        """;

    /// <summary>Deletes a pending claim only while its owner's claim time still fences it.</summary>
    public const string ReleaseOwnedClaim = """
        DELETE FROM idempotency_records
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
          AND updated_at = @claimed_at
        """;

    /// <summary>
    /// Completes a claim only while the caller still owns it: pending, and last claimed at the time the owner claimed it
    /// (a fencing token). 0 rows: someone took it over or finished it.
    /// </summary>
    public const string CompleteOwnedClaim = """
        UPDATE idempotency_records SET state = 'completed', response = @response, updated_at = @now
        WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key AND state = 'pending'
          AND updated_at = @claimed_at
        """;

    /// <summary>
    /// Completed idempotency records whose stored answer may quote the reference (a token's JSON carries it): the
    /// candidates are checked and rewritten in code. A scan of the table, bounded by its retention; erasures are rare.
    /// </summary>
    public const string SelectResponsesQuoting = """
        SELECT caller_id, idempotency_key, response FROM idempotency_records
        WHERE state = 'completed' AND (response LIKE @quoted ESCAPE '\' OR response LIKE @encoded ESCAPE '\')
        """;

    public const string UpdateResponse =
        "UPDATE idempotency_records SET response = @response WHERE caller_id = @caller_id AND idempotency_key = @idempotency_key";

    /// <summary>The completed claims whose resource is <c>@resource</c> (a subject pseudonym: corrections), answers and all.</summary>
    public const string DeleteFinishedOfResource = "DELETE FROM idempotency_records WHERE resource = @resource AND state = 'completed'";

    public const string PurgeFinishedIdempotencyRecords =
        "DELETE FROM idempotency_records WHERE state = 'completed' AND updated_at < @before";
}
