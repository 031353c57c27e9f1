using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Mandate = Tokenizer.Core.Domain.Mandate;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Our setup request to Stripe's SetupIntent create parameters, and Stripe's SetupIntent and Mandate back to the domain.
/// Only non-empty values are assigned (Stripe.net sends an assigned null as an empty form value).
/// </summary>
internal static class StripeSetupMapper
{
    /// <summary>Most chars of a next-action URL kept (the contract's bound on URLs).</summary>
    internal const int MaxUrlLength = 2048;

    /// <summary>Parameters of Stripe API POST /v1/setup_intents (see <see cref="StripeTokenGateway.CreateSetupIntentAsync"/>).</summary>
    /// <exception cref="ArgumentException">A debit without a mandate acceptance, or a card with one.</exception>
    public static SetupIntentCreateOptions ToCreateOptions(SetupIntentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = new SetupIntentCreateOptions
        {
            Customer = request.CustomerId,
            PaymentMethod = request.PaymentMethodId,
            // Stripe.net 53.1.0 pins API 2026-10-28.endive, where payment_method_types is no longer writable on SetupIntents
            // (400 payment_method_types_no_longer_supported since 2026-09-30.endive): allowed_payment_method_types[0].
            AllowedPaymentMethodTypes = [TokenTexts.Type.Text(request.Type)],
            Usage = "off_session",
            Confirm = true,
        };

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Metadata)
        {
            if (!string.IsNullOrEmpty(key) && !string.IsNullOrEmpty(value))
            {
                metadata[key] = value;
            }
        }

        if (metadata.Count > 0)
        {
            options.Metadata = metadata;
        }

        if (request.Type == TokenType.Card)
        {
            if (request.MandateAcceptance is not null)
            {
                throw new ArgumentException("a card is set up without mandate data", nameof(request));
            }

            if (!string.IsNullOrEmpty(request.ReturnUrl))
            {
                options.ReturnUrl = request.ReturnUrl;
            }

            return options;
        }

        var acceptance = request.MandateAcceptance
            ?? throw new ArgumentException("a direct debit needs the customer's mandate acceptance", nameof(request));
        var customerAcceptance = new SetupIntentMandateDataCustomerAcceptanceOptions
        {
            // Stripe.net sends a DateTime as unix seconds; a UTC DateTime keeps it from being read as local time.
            AcceptedAt = acceptance.AcceptedAt.UtcDateTime,
        };
        if (acceptance.Online is { } online)
        {
            customerAcceptance.Type = "online";
            customerAcceptance.Online = new SetupIntentMandateDataCustomerAcceptanceOnlineOptions
            {
                IpAddress = online.IpAddress,
                UserAgent = online.UserAgent,
            };
        }
        else
        {
            // An empty hash: Stripe.net encodes no field for it, and Stripe documents its contents as optional.
            customerAcceptance.Type = "offline";
            customerAcceptance.Offline = new SetupIntentMandateDataCustomerAcceptanceOfflineOptions();
        }

        options.MandateData = new SetupIntentMandateDataOptions { CustomerAcceptance = customerAcceptance };
        return options;
    }

    /// <summary>A SetupIntent as the domain sees it, or null when it has no id or an unknown status.</summary>
    public static GatewaySetup? ToGatewaySetup(SetupIntent? setupIntent)
    {
        if (setupIntent is null || string.IsNullOrEmpty(setupIntent.Id))
        {
            return null;
        }

        var mandateId = string.IsNullOrEmpty(setupIntent.MandateId) ? null : setupIntent.MandateId;
        var paymentMethodId = string.IsNullOrEmpty(setupIntent.PaymentMethodId) ? null : setupIntent.PaymentMethodId;
        return setupIntent.Status switch
        {
            "succeeded" => new GatewaySetup(setupIntent.Id, SetupStatus.Ready, null, null, mandateId, paymentMethodId),
            "requires_action" => new GatewaySetup(setupIntent.Id, SetupStatus.RequiresAction, ToNextAction(setupIntent.NextAction), null, mandateId, paymentMethodId),
            "processing" => new GatewaySetup(setupIntent.Id, SetupStatus.Processing, null, null, mandateId, paymentMethodId),
            "requires_payment_method" => new GatewaySetup(
                setupIntent.Id,
                SetupStatus.Failed,
                null,
                StripeErrorMapper.SafeDeclineCode(setupIntent.LastSetupError?.DeclineCode ?? setupIntent.LastSetupError?.Code ?? "setup_failed"),
                mandateId,
                paymentMethodId),
            "canceled" => new GatewaySetup(setupIntent.Id, SetupStatus.Failed, null, "canceled", mandateId, paymentMethodId),
            _ => null,
        };
    }

    /// <summary>A Mandate as the domain sees it (no IP address or user agent), or null when unusable.</summary>
    public static Mandate? ToMandate(global::Stripe.Mandate? mandate)
    {
        if (mandate is null || string.IsNullOrEmpty(mandate.Id))
        {
            return null;
        }

        var status = TokenTexts.MandateStatus.Find(mandate.Status);
        var type = TokenTexts.MandateType.Find(mandate.CustomerAcceptance?.Type);
        if (status is null || type is null)
        {
            return null;
        }

        DateTimeOffset? acceptedAt = mandate.CustomerAcceptance?.AcceptedAt is { } at
            ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
            : null;
        return new Mandate(mandate.Id, status.Value, type.Value, acceptedAt);
    }

    /// <summary>
    /// The customer's next step: redirect_to_url (url) or verify_with_microdeposits (hosted_verification_url). Other
    /// kinds (use_stripe_sdk...) need a client SDK this service does not drive: null. A URL that is not absolute http(s)
    /// or is longer than 2048 chars is not passed on.
    /// </summary>
    private static NextAction? ToNextAction(SetupIntentNextAction? next)
    {
        var kind = TokenTexts.NextActionKind.Find(next?.Type);
        var url = kind switch
        {
            NextActionKind.RedirectToUrl => next?.RedirectToUrl?.Url,
            NextActionKind.VerifyWithMicrodeposits => next?.VerifyWithMicrodeposits?.HostedVerificationUrl,
            _ => null,
        };
        if (kind is null || url is null || url.Length > MaxUrlLength
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return null;
        }

        return new NextAction(kind.Value, url, null);
    }
}
