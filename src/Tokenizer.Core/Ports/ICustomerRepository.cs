namespace Tokenizer.Core.Ports;

/// <summary>
/// Which gateway Customer holds a customer reference's PaymentMethods (ledger table <c>customers</c>), and the last
/// Customer of each data subject the gateway deleted (<c>customer_successions</c>).
/// </summary>
public interface ICustomerRepository
{
    /// <summary>The gateway Customer id for a customer reference, or null.</summary>
    Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken);

    /// <summary>Records the mapping unless one exists; returns the id that is recorded (the first writer wins).</summary>
    Task<string> SaveCustomerAsync(
        string gateway,
        string customerReference,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the mapping of <paramref name="customerReference"/> to <paramref name="deletedCustomerId"/> (a Customer the
    /// gateway deleted) by <paramref name="gatewayCustomerId"/>; records it when no mapping exists; leaves a mapping to any
    /// other Customer as it is (another request replaced it first). Returns the id that is recorded.
    /// </summary>
    Task<string> ReplaceCustomerAsync(
        string gateway,
        string customerReference,
        string deletedCustomerId,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>
    /// The last Customer of a data subject that the gateway confirmed deleted (<c>customer_successions</c>), or null when
    /// none is recorded. <paramref name="subject"/> is the subject's pseudonym (<see cref="Privacy.SubjectPseudonyms.Of"/>),
    /// never a reference in clear: the record outlives an erasure. The next Customer of the subject is created under a key
    /// derived from it, so each deletion starts a fresh creation key instead of replaying the deleted Customer.
    /// </summary>
    Task<string?> FindLastDeletedCustomerAsync(string gateway, string subject, CancellationToken cancellationToken);

    /// <summary>
    /// Records <paramref name="deletedCustomerId"/> as the subject's last deleted Customer, only while the recorded one is
    /// still <paramref name="expected"/> (null: none recorded), so concurrent requests never move it back. Returns
    /// whether it was recorded.
    /// </summary>
    Task<bool> RecordDeletedCustomerAsync(
        string gateway,
        string subject,
        string? expected,
        string deletedCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);
}
