using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Audit;

/// <summary>How an audited action ended.</summary>
public enum AuditOutcome
{
    /// <summary>Completed.</summary>
    Success = 1,
    /// <summary>Failed (invalid input, gateway error...).</summary>
    Failure = 2,
    /// <summary>Refused by authentication or authorisation.</summary>
    Denied = 3,
}

/// <summary>The texts of the audit enums.</summary>
public static class AuditTexts
{
    /// <summary>The stored outcome (<c>audit_events.outcome</c>): <c>success</c>, <c>failure</c>, <c>denied</c>. Part of the hash chain: never change a text.</summary>
    public static readonly EnumText<AuditOutcome> Outcome = new(
        "audit outcome",
        (AuditOutcome.Success, "success"),
        (AuditOutcome.Failure, "failure"),
        (AuditOutcome.Denied, "denied"));
}

/// <summary>
/// One audit record (PCI DSS 10.2): who, from where, did what to which resource, when, and how it ended.
/// Never carries card, bank or personal data: <see cref="Resource"/> is a token id at most.
/// </summary>
/// <param name="Time">UTC.</param>
/// <param name="CallerId">The authenticated caller id, or <c>anonymous</c>.</param>
/// <param name="SourceAddress">The peer's IP address, or null.</param>
/// <param name="Action">e.g. <c>tokenizer.v1.TokenizerService/TokenizeCard</c>, <c>authentication</c>, <c>configuration</c>.</param>
/// <param name="Resource">The affected resource (a token id), or null.</param>
/// <param name="Outcome">Success, failure or denied.</param>
/// <param name="ReasonCode">A stable reason code (ErrorReasons, or e.g. UNAUTHENTICATED); null on success.</param>
/// <param name="CorrelationId">Ties the record to logs and traces.</param>
public sealed record AuditEvent(
    DateTimeOffset Time,
    string CallerId,
    string? SourceAddress,
    string Action,
    string? Resource,
    AuditOutcome Outcome,
    string? ReasonCode,
    string CorrelationId);

/// <summary>
/// The append-only, hash-chained audit trail. Appends are durable before they return; a failed append throws, and the
/// audited operation must fail with it (fail closed).
/// </summary>
public interface IAuditTrail
{
    /// <summary>Appends one record to the chain.</summary>
    Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken);
}
