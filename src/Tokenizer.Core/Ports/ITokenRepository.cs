using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The issued tokens (ledger table <c>tokens</c>): masked metadata, status and setup, never a PAN, CVC, full account
/// number or IBAN. A token is recorded with its claim (<see cref="IClaimStore.CompleteWithTokenAsync"/>).
/// </summary>
public interface ITokenRepository
{
    /// <summary>One token by gateway id, or null.</summary>
    Task<TokenRecord?> GetTokenAsync(string token, CancellationToken cancellationToken);

    /// <summary>
    /// Tokens newest first (created_at desc, token desc), filtered, keyset-paged.
    /// A malformed page token throws <see cref="Errors.TokenizerException"/> (INVALID_ARGUMENT, field page_token).
    /// </summary>
    Task<TokenPage> ListTokensAsync(TokenQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a refreshed setup (<see cref="TokenRecord.Setup"/> and <see cref="TokenRecord.Mandate"/>) of
    /// <paramref name="token"/>, only while the stored setup is still pending (requires_action or processing) under the
    /// same SetupIntent: a late refresh never overwrites a newer outcome. Returns whether it was stored.
    /// </summary>
    Task<bool> UpdateSetupAsync(TokenRecord token, CancellationToken cancellationToken);

    /// <summary>
    /// Records, durably, that a revoke of active <paramref name="token"/> has started here, before the gateway is asked
    /// to detach it: the <c>payment_method.detached</c> event that detach causes is then known as this service's own
    /// (a <see cref="TokenEventKind.Revoked"/>, never a <see cref="TokenEventKind.DetachedAtGateway"/>), even when it is
    /// processed before the revoke's own ledger update commits. A revoked or unknown token, or one already marked:
    /// nothing changes.
    /// </summary>
    Task MarkRevokeRequestedAsync(string token, DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;
}

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
