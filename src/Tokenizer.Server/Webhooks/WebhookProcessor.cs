using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// Processes one inbox event: reads the object's CURRENT state from Stripe (GET), never the event's payload (the inbox
/// does not keep it), so events applied late or out of order cannot bring back an older state; updates the ledger's
/// token(s) with it and, in the SAME ledger transaction and only when that changed the token's state, appends its token
/// event (table <c>token_events</c>); and writes one audit record per token (caller <c>stripe</c>, correlation id the
/// event id).
/// </summary>
/// <remarks>
/// <para>
/// What each type does: <c>setup_intent.*</c> (succeeded, setup_failed, requires_action, canceled): the SetupIntent (and
/// its mandate) as Stripe holds them now, on the token whose SetupIntent it is; a canceled SetupIntent is the token's
/// setup FAILED with failure code <c>canceled</c>, as a refresh by GetToken reads it. A token whose revoke (or erasure)
/// has started here gets no setup event: that revoke cancels the SetupIntent itself, and its <c>revoked</c> is the
/// token's last event. <c>mandate.updated</c>: the mandate's status on every token under it.
/// <c>payment_method.updated</c>/<c>automatically_updated</c>: a card's brand, last4, expiry and fingerprint.
/// <c>payment_method.detached</c> and <c>customer.deleted</c>: when Stripe confirms the PaymentMethod is no longer
/// attached (or the Customer is deleted), the token becomes <see cref="TokenStatus.Revoked"/>, the ledger's one status
/// for "never chargeable again" (a detached PaymentMethod cannot be attached again), and a deleted Customer's mapping is
/// forgotten so the next tokenisation for that reference creates a new one.
/// </para>
/// <para>
/// One event per change, never one per delivery: a repeated <c>card_updated</c> with the same masked fields, a
/// <c>setup_intent.succeeded</c> for a token that was ready at issue (its Tokenize answer already said so), an inactive
/// mandate reported again, a detach of a token already revoked: each changes nothing and appends nothing. A
/// <c>payment_method.detached</c> caused by this service's own Revoke (marked before it asked Stripe, see
/// <see cref="ITokenRepository.MarkRevokeRequestedAsync"/>) is that revoke's <c>revoked</c>, never
/// <c>detached_at_gateway</c>. Steps are repeatable: a crash before the inbox row is marked processed repeats them
/// harmlessly (the ledger change and its event committed together, or neither did; the audit record may appear twice,
/// with the same correlation id). An object no token of ours holds is answered <see cref="NotOurs"/> without a call to
/// Stripe: the worker retries it for a while (its Tokenize call may not have committed yet), then ignores it.
/// </para>
/// </remarks>
internal sealed class WebhookProcessor(
    RelationalWebhookStore store,
    ITokenRepository tokenRepository,
    StripeTokenGateway gateway,
    IAuditTrail audit,
    TimeProvider timeProvider)
{
    /// <summary>The caller id of every record and token event a webhook causes.</summary>
    public const string CallerId = "stripe";

    /// <summary>
    /// What <see cref="ProcessAsync"/> answers when no token of ours holds the event's object: possibly not YET (the
    /// Tokenize call that will hold it has not committed), so the worker decides between a retry later and ignored.
    /// </summary>
    public const WebhookState NotOurs = WebhookState.Pending;

    /// <summary>
    /// Applies <paramref name="webhookEvent"/>; returns processed, ignored when it cannot concern a token (no object id,
    /// an unhandled type), or <see cref="NotOurs"/> when no token of ours holds its object (nothing was changed).
    /// </summary>
    /// <exception cref="Core.Errors.TokenizerException">Stripe could not be read (the claim's lease runs out and the event is tried again).</exception>
    public Task<WebhookState> ProcessAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        if (string.IsNullOrEmpty(webhookEvent.ObjectId))
        {
            return Task.FromResult(WebhookState.Ignored);
        }

        return webhookEvent.Type switch
        {
            WebhookEventTypes.SetupIntentSucceeded or WebhookEventTypes.SetupIntentSetupFailed or WebhookEventTypes.SetupIntentRequiresAction
                or WebhookEventTypes.SetupIntentCanceled
                => SetupIntentAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.MandateUpdated => MandateAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.PaymentMethodUpdated or WebhookEventTypes.PaymentMethodAutomaticallyUpdated
                => CardAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.PaymentMethodDetached => DetachedAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.CustomerDeleted => CustomerDeletedAsync(webhookEvent, cancellationToken),
            _ => Task.FromResult(WebhookState.Ignored),
        };
    }

    /// <summary>
    /// The ordering keys of <paramref name="webhookEvent"/>: its object (<c>object:</c> id) and every token it can change
    /// (<c>token:</c> id), found as <see cref="ProcessAsync"/> finds them (ledger reads only, no call to Stripe). Two
    /// events sharing a key must not run at once: each reads the object's current state from Stripe and then writes it,
    /// so an older read written after a newer one would bring an older state back. Empty when the event cannot concern
    /// a token.
    /// </summary>
    public async Task<IReadOnlyList<string>> KeysAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        if (string.IsNullOrEmpty(webhookEvent.ObjectId) || !WebhookEventTypes.IsHandled(webhookEvent.Type))
        {
            return [];
        }

        var objectId = webhookEvent.ObjectId;
        IReadOnlyList<TokenRecord> tokens = webhookEvent.Type switch
        {
            WebhookEventTypes.SetupIntentSucceeded or WebhookEventTypes.SetupIntentSetupFailed or WebhookEventTypes.SetupIntentRequiresAction
                or WebhookEventTypes.SetupIntentCanceled
                => await store.FindBySetupIntentAsync(objectId, cancellationToken),
            WebhookEventTypes.MandateUpdated => await store.FindByMandateAsync(objectId, cancellationToken),
            WebhookEventTypes.CustomerDeleted => await store.FindByCustomerAsync(objectId, cancellationToken),
            _ => await tokenRepository.GetTokenAsync(objectId, cancellationToken) is { } token ? [token] : [],
        };
        return [.. tokens.Select(t => "token:" + t.Token).Prepend("object:" + objectId).Distinct(StringComparer.Ordinal)];
    }

    private async Task<WebhookState> SetupIntentAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var tokens = await store.FindBySetupIntentAsync(webhookEvent.ObjectId!, cancellationToken);
        if (tokens.Count == 0)
        {
            return NotOurs;
        }

        var setup = await gateway.GetSetupIntentAsync(webhookEvent.ObjectId!, cancellationToken);
        var mandate = setup.MandateId is { } mandateId ? await gateway.GetMandateAsync(mandateId, cancellationToken) : null;
        var kind = TokenEventKinds.ForSetup(setup.Status);
        foreach (var token in tokens)
        {
            var current = token with
            {
                Setup = new TokenSetup(setup.Status, webhookEvent.ObjectId, setup.NextAction, setup.FailureCode),
                Mandate = mandate ?? token.Mandate,
            };

            // The event only when the status changed: a token that was ready at issue (its Tokenize answer said so) or
            // that a refresh or an earlier event already moved gets none.
            await store.UpdateSetupAsync(current, Draft(webhookEvent, token, kind), cancellationToken);
            await AuditAsync(webhookEvent, token, cancellationToken);
        }

        return WebhookState.Processed;
    }

    private async Task<WebhookState> MandateAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var tokens = await store.FindByMandateAsync(webhookEvent.ObjectId!, cancellationToken);
        if (tokens.Count == 0)
        {
            return NotOurs;
        }

        var mandate = await gateway.GetMandateAsync(webhookEvent.ObjectId!, cancellationToken);
        await store.UpdateMandateStatusAsync(
            mandate.Id,
            mandate.Status,
            mandate.Status == MandateStatus.Inactive
                ? (token, callerId) => new TokenEventDraft(token, callerId, TokenEventKind.MandateInactive, webhookEvent.EventId, webhookEvent.Created, Card: null)
                : null,
            cancellationToken);
        foreach (var token in tokens)
        {
            await AuditAsync(webhookEvent, token, cancellationToken);
        }

        return WebhookState.Processed;
    }

    private async Task<WebhookState> CardAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        if (await tokenRepository.GetTokenAsync(webhookEvent.ObjectId!, cancellationToken) is not { } token)
        {
            return NotOurs;
        }

        var paymentMethod = await gateway.GetPaymentMethodAsync(token.Token, cancellationToken);
        if (paymentMethod?.Card is { } card && token.Type == TokenType.Card)
        {
            // Stripe sends payment_method.updated for billing-detail edits too: no masked field differs, no event.
            var update = new CardUpdate(card.Brand, card.Last4, card.ExpMonth, card.ExpYear, card.Fingerprint);
            await store.UpdateCardAsync(token.Token, card, Draft(webhookEvent, token, TokenEventKind.CardUpdated)! with { Card = update }, cancellationToken);
        }

        await AuditAsync(webhookEvent, token, cancellationToken);
        return WebhookState.Processed;
    }

    private async Task<WebhookState> DetachedAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        if (await tokenRepository.GetTokenAsync(webhookEvent.ObjectId!, cancellationToken) is not { } token)
        {
            return NotOurs;
        }

        var paymentMethod = await gateway.GetPaymentMethodAsync(token.Token, cancellationToken);
        if (paymentMethod?.CustomerId is null)
        {
            // Whose detach it was is decided inside the ledger's transaction: a revoke started here has marked the
            // token before it asked Stripe, so its own detach reads as that revoke (the one event it appends itself).
            var now = timeProvider.GetUtcNow();
            await store.RevokeDetachedAsync(
                token.Token,
                now,
                Draft(webhookEvent, token, TokenEventKind.DetachedAtGateway)!,
                new TokenEventDraft(token.Token, token.CallerId, TokenEventKind.Revoked, TokenizationService.RevokeSourcePrefix + token.Token, now, Card: null),
                cancellationToken);
        }

        await AuditAsync(webhookEvent, token, cancellationToken);
        return WebhookState.Processed;
    }

    private async Task<WebhookState> CustomerDeletedAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var customerId = webhookEvent.ObjectId!;
        var tokens = await store.FindByCustomerAsync(customerId, cancellationToken);
        if (tokens.Count == 0)
        {
            return NotOurs;
        }

        if (!await gateway.IsCustomerDeletedAsync(customerId, cancellationToken))
        {
            return WebhookState.Processed;
        }

        foreach (var token in tokens)
        {
            await store.RevokeAsync(token.Token, timeProvider.GetUtcNow(), Draft(webhookEvent, token, TokenEventKind.CustomerDeleted), cancellationToken);
            await AuditAsync(webhookEvent, token, cancellationToken);
        }

        await store.ForgetCustomerAsync(gateway.Name, customerId, cancellationToken);
        return WebhookState.Processed;
    }

    /// <summary>The token event <paramref name="webhookEvent"/> causes for <paramref name="token"/> if it changes its state; null without a kind.</summary>
    private static TokenEventDraft? Draft(WebhookEvent webhookEvent, TokenRecord token, TokenEventKind? kind) =>
        kind is { } eventKind
            ? new TokenEventDraft(token.Token, token.CallerId, eventKind, webhookEvent.EventId, webhookEvent.Created, Card: null)
            : null;

    private Task AuditAsync(WebhookEvent webhookEvent, TokenRecord token, CancellationToken cancellationToken) =>
        audit.AppendAsync(
            new AuditEvent(
                timeProvider.GetUtcNow(),
                CallerId,
                null,
                "stripe.webhook/" + webhookEvent.Type,
                token.Token,
                AuditOutcome.Success,
                null,
                webhookEvent.EventId),
            cancellationToken);
}
