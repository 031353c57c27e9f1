using Tokenizer.Core.Audit;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// Processes one inbox event: reads the object's CURRENT state from Stripe (GET), never the event's payload (the inbox
/// does not keep it), so events applied late or out of order cannot bring back an older state; updates the ledger's
/// token(s) with it; appends a token event (<see cref="ITokenEventLog"/>, idempotent on the event id) and writes one
/// audit record per token (caller <c>stripe</c>, correlation id the event id).
/// </summary>
/// <remarks>
/// <para>
/// What each type does: <c>setup_intent.*</c>: the SetupIntent (and its mandate) as Stripe holds them now, on the token
/// whose SetupIntent it is. <c>mandate.updated</c>: the mandate's status on every token under it.
/// <c>payment_method.updated</c>/<c>automatically_updated</c>: a card's brand, last4, expiry and fingerprint.
/// <c>payment_method.detached</c> and <c>customer.deleted</c>: when Stripe confirms the PaymentMethod is no longer
/// attached (or the Customer is deleted), the token becomes <see cref="TokenStatus.Revoked"/>, the ledger's one status
/// for "never chargeable again" (a detached PaymentMethod cannot be attached again), and a deleted Customer's mapping is
/// forgotten so the next tokenisation for that reference creates a new one.
/// </para>
/// <para>
/// Steps are repeatable: the ledger writes change only differing values, the token event is unique per event id, so a
/// crash before the inbox row is marked processed repeats them harmlessly (the audit record may then appear twice,
/// with the same correlation id). Objects that are not our tokens are <see cref="WebhookState.Ignored"/> without a call
/// to Stripe.
/// </para>
/// </remarks>
internal sealed class WebhookProcessor(
    RelationalWebhookStore store,
    ITokenLedger ledger,
    StripeTokenGateway gateway,
    IAuditTrail audit,
    IServiceProvider services,
    TimeProvider timeProvider)
{
    /// <summary>The caller id of every record and token event a webhook causes.</summary>
    public const string CallerId = "stripe";

    private readonly ITokenEventLog? events = services.GetService<ITokenEventLog>();

    /// <summary>Applies <paramref name="webhookEvent"/>; returns processed, or ignored when nothing of ours was concerned.</summary>
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
                => SetupIntentAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.MandateUpdated => MandateAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.PaymentMethodUpdated or WebhookEventTypes.PaymentMethodAutomaticallyUpdated
                => CardAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.PaymentMethodDetached => DetachedAsync(webhookEvent, cancellationToken),
            WebhookEventTypes.CustomerDeleted => CustomerDeletedAsync(webhookEvent, cancellationToken),
            _ => Task.FromResult(WebhookState.Ignored),
        };
    }

    private async Task<WebhookState> SetupIntentAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var tokens = await store.FindBySetupIntentAsync(webhookEvent.ObjectId!, cancellationToken);
        if (tokens.Count == 0)
        {
            return WebhookState.Ignored;
        }

        var setup = await gateway.GetSetupIntentAsync(webhookEvent.ObjectId!, cancellationToken);
        var mandate = setup.MandateId is { } mandateId ? await gateway.GetMandateAsync(mandateId, cancellationToken) : null;
        var kind = setup.Status switch
        {
            SetupStatus.Ready => TokenEventKind.SetupSucceeded,
            SetupStatus.Failed => TokenEventKind.SetupFailed,
            SetupStatus.RequiresAction => TokenEventKind.RequiresAction,
            _ => (TokenEventKind?)null,
        };
        foreach (var token in tokens)
        {
            var current = token with
            {
                Setup = new TokenSetup(setup.Status, webhookEvent.ObjectId, setup.NextAction, setup.FailureCode),
                Mandate = mandate ?? token.Mandate,
            };
            await store.UpdateSetupAsync(current, cancellationToken);
            await RecordAsync(webhookEvent, token, kind, null, cancellationToken);
        }

        return WebhookState.Processed;
    }

    private async Task<WebhookState> MandateAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var tokens = await store.FindByMandateAsync(webhookEvent.ObjectId!, cancellationToken);
        if (tokens.Count == 0)
        {
            return WebhookState.Ignored;
        }

        var mandate = await gateway.GetMandateAsync(webhookEvent.ObjectId!, cancellationToken);
        await store.UpdateMandateStatusAsync(mandate.Id, mandate.Status, cancellationToken);
        foreach (var token in tokens)
        {
            await RecordAsync(webhookEvent, token, mandate.Status == MandateStatus.Inactive ? TokenEventKind.MandateInactive : null, null, cancellationToken);
        }

        return WebhookState.Processed;
    }

    private async Task<WebhookState> CardAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        if (await ledger.GetTokenAsync(webhookEvent.ObjectId!, cancellationToken) is not { } token)
        {
            return WebhookState.Ignored;
        }

        var paymentMethod = await gateway.GetPaymentMethodAsync(token.Token, cancellationToken);
        if (paymentMethod?.Card is not { } card || token.Type != TokenType.Card)
        {
            await RecordAsync(webhookEvent, token, null, null, cancellationToken);
            return WebhookState.Processed;
        }

        await store.UpdateCardAsync(token.Token, card, cancellationToken);
        await RecordAsync(
            webhookEvent,
            token,
            TokenEventKind.CardUpdated,
            new CardUpdate(card.Brand, card.Last4, card.ExpMonth, card.ExpYear, card.Fingerprint),
            cancellationToken);
        return WebhookState.Processed;
    }

    private async Task<WebhookState> DetachedAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        if (await ledger.GetTokenAsync(webhookEvent.ObjectId!, cancellationToken) is not { } token)
        {
            return WebhookState.Ignored;
        }

        var paymentMethod = await gateway.GetPaymentMethodAsync(token.Token, cancellationToken);
        var detached = paymentMethod?.CustomerId is null;
        if (detached)
        {
            await store.RevokeAsync(token.Token, timeProvider.GetUtcNow(), cancellationToken);
        }

        await RecordAsync(webhookEvent, token, detached ? TokenEventKind.DetachedAtGateway : null, null, cancellationToken);
        return WebhookState.Processed;
    }

    private async Task<WebhookState> CustomerDeletedAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
    {
        var customerId = webhookEvent.ObjectId!;
        var tokens = await store.FindByCustomerAsync(customerId, cancellationToken);
        if (tokens.Count == 0)
        {
            return WebhookState.Ignored;
        }

        if (!await gateway.IsCustomerDeletedAsync(customerId, cancellationToken))
        {
            return WebhookState.Processed;
        }

        foreach (var token in tokens)
        {
            await store.RevokeAsync(token.Token, timeProvider.GetUtcNow(), cancellationToken);
            await RecordAsync(webhookEvent, token, TokenEventKind.CustomerDeleted, null, cancellationToken);
        }

        await store.ForgetCustomerAsync(gateway.Name, customerId, cancellationToken);
        return WebhookState.Processed;
    }

    private async Task RecordAsync(WebhookEvent webhookEvent, TokenRecord token, TokenEventKind? kind, CardUpdate? card, CancellationToken cancellationToken)
    {
        if (kind is { } eventKind && events is not null)
        {
            await events.AppendAsync(new TokenEventDraft(token.Token, token.CallerId, eventKind, webhookEvent.EventId, webhookEvent.Created, card), cancellationToken);
        }

        await audit.AppendAsync(
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
}
