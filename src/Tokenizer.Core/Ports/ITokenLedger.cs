using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The durable record of issued tokens, the customer mapping and idempotency records.
/// Stores no PAN, CVC, full account number or IBAN, and no unkeyed hash of one.
/// </summary>
public interface ITokenLedger
{
    /// <summary>Creates or upgrades the schema (versioned migrations). Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Claims (caller, key) for a new request, or reports what an earlier request with that key did.
    /// A pending claim older than <see cref="IdempotencyClaim.Lease"/> may be taken over (its owner died).
    /// </summary>
    Task<IdempotencyOutcome> BeginAsync(IdempotencyClaim claim, CancellationToken cancellationToken);

    /// <summary>
    /// In one transaction: inserts or updates <paramref name="token"/> (by token id) and marks the claim completed
    /// with <paramref name="responseJson"/> for replays.
    /// </summary>
    Task CompleteAsync(string callerId, string key, string responseJson, TokenRecord token, CancellationToken cancellationToken);

    /// <summary>Deletes a pending claim so a retry with the same key runs again. Completed records are kept.</summary>
    Task ReleaseAsync(string callerId, string key, CancellationToken cancellationToken);

    /// <summary>The gateway Customer id for a customer reference, or null.</summary>
    Task<string?> FindCustomerAsync(string gateway, string customerReference, CancellationToken cancellationToken);

    /// <summary>Records the mapping unless one exists; returns the id that is recorded (the first writer wins).</summary>
    Task<string> SaveCustomerAsync(
        string gateway,
        string customerReference,
        string gatewayCustomerId,
        DateTimeOffset now,
        CancellationToken cancellationToken);

    /// <summary>One token by gateway id, or null.</summary>
    Task<TokenRecord?> GetTokenAsync(string token, CancellationToken cancellationToken);

    /// <summary>
    /// Tokens newest first (created_at desc, token desc), filtered, keyset-paged.
    /// A malformed page token throws <see cref="Errors.TokenizerException"/> (INVALID_ARGUMENT, field page_token).
    /// </summary>
    Task<TokenPage> ListTokensAsync(TokenQuery query, CancellationToken cancellationToken);
}

/// <summary>A claim on an idempotency key.</summary>
/// <param name="CallerId">The authenticated caller; keys are scoped per caller.</param>
/// <param name="Key">The caller's idempotency key (1-255 printable ASCII).</param>
/// <param name="Operation">The RPC, e.g. <c>tokenize_card</c>.</param>
/// <param name="RequestHmac">Keyed HMAC-SHA256 of the canonical request, 32 bytes.</param>
/// <param name="Now">The current time.</param>
/// <param name="Lease">How long a pending claim blocks others before it may be taken over.</param>
public sealed record IdempotencyClaim(
    string CallerId,
    string Key,
    string Operation,
    byte[] RequestHmac,
    DateTimeOffset Now,
    TimeSpan Lease);

/// <summary>What <see cref="ITokenLedger.BeginAsync"/> found.</summary>
public enum IdempotencyState
{
    /// <summary>The claim is ours: do the work, then Complete or Release.</summary>
    Started,
    /// <summary>Completed before with the same request: replay <see cref="IdempotencyOutcome.ResponseJson"/>.</summary>
    Replay,
    /// <summary>Used before with a different request (HMAC or operation differs).</summary>
    Conflict,
    /// <summary>The same request is pending under a live lease.</summary>
    InFlight,
}

/// <summary>The outcome of claiming an idempotency key.</summary>
public sealed record IdempotencyOutcome(IdempotencyState State, string? ResponseJson = null);

/// <summary>A token listing query. <see cref="PageSize"/> is 1-100, already validated.</summary>
public sealed record TokenQuery(
    string? CustomerReference,
    TokenStatus? Status,
    DateTimeOffset? CreatedAfter,
    DateTimeOffset? CreatedBefore,
    int PageSize,
    string? PageToken);

/// <summary>One page of tokens; <see cref="NextPageToken"/> is null on the last page.</summary>
public sealed record TokenPage(IReadOnlyList<TokenRecord> Tokens, string? NextPageToken);
