using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// What happened to a token, as the billing service sees it. Names are stable: they are stored in the ledger
/// (<c>token_events.kind</c>) and mapped one to one onto the gRPC <c>TokenEventKind</c> enum.
/// </summary>
public enum TokenEventKind
{
    /// <summary>The SetupIntent succeeded: the token can be charged off-session (Stripe event <c>setup_intent.succeeded</c>).</summary>
    SetupSucceeded,

    /// <summary>The SetupIntent failed: the token cannot be charged (Stripe event <c>setup_intent.setup_failed</c>).</summary>
    SetupFailed,

    /// <summary>The customer must act (3-D Secure, microdeposits) before the token can be charged (Stripe event <c>setup_intent.requires_action</c>).</summary>
    RequiresAction,

    /// <summary>The debit mandate became inactive: the token can no longer be charged (Stripe event <c>mandate.updated</c>).</summary>
    MandateInactive,

    /// <summary>
    /// The card's masked details changed, e.g. by the card account updater (Stripe events
    /// <c>payment_method.automatically_updated</c>, <c>payment_method.updated</c>); the new values are in <see cref="CardUpdate"/>.
    /// </summary>
    CardUpdated,

    /// <summary>The PaymentMethod was detached at Stripe, not through this service (Stripe event <c>payment_method.detached</c>).</summary>
    DetachedAtGateway,

    /// <summary>The Stripe Customer holding the token was deleted (Stripe event <c>customer.deleted</c>).</summary>
    CustomerDeleted,

    /// <summary>The token was revoked through this service's Revoke RPC.</summary>
    Revoked,
}

/// <summary>Which token event a change of ledger state is.</summary>
public static class TokenEventKinds
{
    /// <summary>The stored names (<c>token_events.kind</c>): <c>setup_succeeded</c>, <c>card_updated</c>... Never change a text.</summary>
    public static readonly EnumText<TokenEventKind> Texts = new(
        "token event kind",
        (TokenEventKind.SetupSucceeded, "setup_succeeded"),
        (TokenEventKind.SetupFailed, "setup_failed"),
        (TokenEventKind.RequiresAction, "requires_action"),
        (TokenEventKind.MandateInactive, "mandate_inactive"),
        (TokenEventKind.CardUpdated, "card_updated"),
        (TokenEventKind.DetachedAtGateway, "detached_at_gateway"),
        (TokenEventKind.CustomerDeleted, "customer_deleted"),
        (TokenEventKind.Revoked, "revoked"));

    /// <summary>
    /// The event for a token whose setup status changed to <paramref name="status"/>: ready, failed and requires_action
    /// each have one; processing and not_set_up none (null).
    /// </summary>
    public static TokenEventKind? ForSetup(Domain.SetupStatus status) => status switch
    {
        Domain.SetupStatus.Ready => TokenEventKind.SetupSucceeded,
        Domain.SetupStatus.Failed => TokenEventKind.SetupFailed,
        Domain.SetupStatus.RequiresAction => TokenEventKind.RequiresAction,
        _ => null,
    };
}

/// <summary>
/// Masked card fields only (brand, last4, exp_month, exp_year, fingerprint), as Stripe reports them on the PaymentMethod
/// (<c>card.brand</c>, <c>card.last4</c>, <c>card.exp_month</c> 1-12, <c>card.exp_year</c> four digits,
/// <c>card.fingerprint</c>). Null where Stripe gave none. Never a PAN or CVC.
/// </summary>
/// <param name="Brand">Stripe's card brand, e.g. "visa".</param>
/// <param name="Last4">The last four digits, as a string (leading zeros matter).</param>
/// <param name="ExpMonth">Expiry month, 1-12.</param>
/// <param name="ExpYear">Expiry year, four digits.</param>
/// <param name="Fingerprint">Stripe's card fingerprint (same card, same fingerprint within the account).</param>
public sealed record CardUpdate(string? Brand, string? Last4, int? ExpMonth, int? ExpYear, string? Fingerprint);

/// <summary>
/// An event to append. SourceId: the Stripe event id (<c>evt_...</c>), or "revoke:" + token for revokes;
/// (SourceId, Kind, Token) is unique: a second append is a no-op.
/// </summary>
/// <param name="Token">The token the event is about (our token id, not a Stripe id).</param>
/// <param name="CallerId">The caller that owns the token: billing callers see only events of their own tokens.</param>
/// <param name="Kind">What happened.</param>
/// <param name="SourceId">Where it came from: the Stripe event id, or "revoke:" + token. At most 255 characters.</param>
/// <param name="OccurredAt">When it happened at the source (Stripe event <c>created</c>, or the revoke time), UTC.</param>
/// <param name="Card">The new masked card fields for <see cref="TokenEventKind.CardUpdated"/>; null for other kinds.</param>
public sealed record TokenEventDraft(string Token, string CallerId, TokenEventKind Kind, string SourceId, DateTimeOffset OccurredAt, CardUpdate? Card);

/// <summary>
/// The append side of the token event log (ledger table <c>token_events</c>): webhook handlers and the revoke path
/// record what happened to a token; the billing service reads it through the ListTokenEvents and WatchTokenEvents RPCs.
/// Implementations are thread-safe and durable once the returned task completes.
/// </summary>
public interface ITokenEventLog
{
    /// <summary>Appends once (idempotent on SourceId+Kind+Token); returns false when it was already there.</summary>
    /// <param name="draft">The event; its strings must be non-empty.</param>
    /// <param name="cancellationToken">Cancels the write (nothing is appended then).</param>
    /// <returns>True when this call appended the event; false when an event with the same SourceId, Kind and Token exists.</returns>
    /// <exception cref="ArgumentException">A required field of <paramref name="draft"/> is empty or out of range (the message names the field).</exception>
    Task<bool> AppendAsync(TokenEventDraft draft, CancellationToken cancellationToken);
}
