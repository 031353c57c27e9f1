using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Tokenization;

/// <summary>
/// Ends a setup that has not succeeded, so nobody (the customer, or anyone holding its next-action URL) can complete it
/// afterwards and so attach the PaymentMethod: the one path that RevokeToken and the privacy erasure share.
/// </summary>
internal static class PendingSetup
{
    /// <summary>
    /// Cancels the SetupIntent of <paramref name="setup"/> (Stripe API POST /v1/setup_intents/{id}/cancel: Stripe cancels
    /// one in requires_payment_method, requires_confirmation or requires_action, never one processing, succeeded or
    /// canceled), then reads it back (GET /v1/setup_intents/{id}) and answers the setup as the gateway now holds it:
    /// <see cref="SetupStatus.Failed"/> with <c>canceled</c> once canceled (nothing can attach it any more);
    /// <see cref="SetupStatus.Processing"/> when it could not be cancelled (it settles later, attached or failed);
    /// <see cref="SetupStatus.Ready"/> when it had succeeded first (its PaymentMethod is attached: detach it).
    /// </summary>
    /// <param name="gateway">The gateway.</param>
    /// <param name="setup">The token's setup; it must name its SetupIntent.</param>
    /// <param name="idempotencyKey">The cancel's key: the same on every attempt of one revoke or erasure.</param>
    /// <param name="cancellationToken">Cancels the calls.</param>
    /// <exception cref="Errors.TokenizerException">The gateway failed or refused either call.</exception>
    public static async Task<TokenSetup> CancelAsync(ITokenGateway gateway, TokenSetup setup, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(setup);
        var setupIntent = setup.SetupIntentId ?? throw new ArgumentException("the setup names no SetupIntent", nameof(setup));
        await gateway.CancelSetupIntentAsync(setupIntent, idempotencyKey, cancellationToken).ConfigureAwait(false);

        // The cancel answers the same whether it cancelled or found the SetupIntent past cancelling (processing,
        // succeeded): only a read tells which, and so whether a PaymentMethod is, or may yet be, attached.
        var after = await gateway.GetSetupIntentAsync(setupIntent, cancellationToken).ConfigureAwait(false);
        return TokenizationService.ToSetup(after);
    }
}
