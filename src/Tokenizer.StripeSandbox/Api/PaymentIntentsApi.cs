using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Cards;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// Stripe API PaymentIntents, the billing service's charge: <c>POST /v1/payment_intents</c> (<c>amount</c>, <c>currency</c>,
/// <c>customer</c>, <c>payment_method</c>, <c>off_session</c>, <c>confirm</c>) and <c>GET /v1/payment_intents/{id}</c>.
/// It refuses what Stripe refuses: a bank debit without an active mandate for that PaymentMethod (ACH: not yet verified),
/// a card that needs authentication it was not set up with (402 <c>authentication_required</c>), a detached PaymentMethod
/// or one under another Customer. Cards settle at once (<c>succeeded</c>); debits are <c>processing</c> until
/// <see cref="StripeSandboxOptions.DebitProcessingDelay"/> has passed, then <c>succeeded</c> (or
/// <c>requires_payment_method</c> for the failing test accounts) at the next retrieve.
/// </summary>
internal sealed class PaymentIntentsApi(SandboxStore store, IOptions<StripeSandboxOptions> options)
{
    // The currency each debit scheme takes (Stripe: SEPA eur, BECS aud, Bacs gbp, ACH usd).
    private static readonly FrozenDictionary<string, string> DebitCurrencies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sepa_debit"] = "eur",
        ["au_becs_debit"] = "aud",
        ["bacs_debit"] = "gbp",
        ["us_bank_account"] = "usd",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenSet<string> CreateParams = FrozenSet.Create(
        StringComparer.Ordinal, "amount", "currency", "customer", "payment_method", "off_session", "confirm", "description", "mandate", "return_url");

    private readonly StripeSandboxOptions settings = options.Value;

    /// <summary>Stripe API POST /v1/payment_intents.</summary>
    public ApiResult Create(StripeParams parameters)
    {
        parameters.RejectUnknown(CreateParams, "metadata[", "payment_method_types[", "allowed_payment_method_types[");
        var amountText = parameters.Required("amount");
        if (amountText.Length > 8 || !long.TryParse(amountText, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount < 1)
        {
            throw StripeErrors.ParameterInvalid("amount", "Invalid amount: must be a positive integer in the currency's smallest unit, at most 99999999.", "parameter_invalid_integer");
        }

        var currency = parameters.Required("currency");
        if (currency.Length != 3 || !currency.All(char.IsAsciiLetterLower))
        {
            throw StripeErrors.ParameterInvalid("currency", "Invalid currency: must be a three-letter ISO code in lower case.");
        }

        var confirm = Boolean(parameters, "confirm");
        var offSession = Boolean(parameters, "off_session");
        if (offSession && !confirm)
        {
            throw StripeErrors.ParameterInvalid("off_session", "off_session can only be used when confirm is true.");
        }

        SetupIntentsApi.RejectPaymentMethodTypes(parameters);
        var types = parameters.List("allowed_payment_method_types");
        var customerId = parameters.Get("customer");
        var paymentMethodId = parameters.Get("payment_method");
        var mandateId = parameters.Get("mandate");
        var metadata = parameters.Metadata();
        var now = settings.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        return store.Write(data =>
        {
            if (customerId is not null && !data.Customers.ContainsKey(customerId))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            var paymentMethod = paymentMethodId is null ? null : FindPaymentMethod(data, paymentMethodId);
            var id = IdAlphabet.PaymentIntentId();
            var view = new PaymentIntentObject
            {
                Id = id,
                Amount = amount,
                ClientSecret = IdAlphabet.ClientSecret(id),
                Created = now,
                Currency = currency,
                Customer = customerId,
                Description = parameters.Get("description"),
                Metadata = metadata,
                PaymentMethod = paymentMethodId,
                PaymentMethodTypes = types.Count > 0 ? types : [paymentMethod?.View.Type ?? "card"],
                Status = paymentMethodId is null ? "requires_payment_method" : "requires_confirmation",
            };
            if (paymentMethod is not null && !view.PaymentMethodTypes.Contains(paymentMethod.View.Type))
            {
                throw StripeErrors.ParameterInvalid(
                    "payment_method", "The PaymentMethod's type is not in this PaymentIntent's payment_method_types.", "payment_intent_incompatible_payment_method");
            }

            if (!confirm || paymentMethod is null)
            {
                if (confirm)
                {
                    throw StripeErrors.ParameterMissing("payment_method");
                }

                data.PaymentIntents[id] = new StoredPaymentIntent(view);
                return Ok(view);
            }

            return Confirm(data, view, paymentMethod, mandateId, offSession, now);
        });
    }

    /// <summary>Stripe API GET /v1/payment_intents/{id}. A processing debit whose delay has passed settles first.</summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        var now = settings.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
        bool Due(SandboxData data) =>
            data.PaymentIntents.TryGetValue(id, out var intent) && intent.View.Status == "processing" && intent.SettlesAt is { } at && at <= now;
        return store.ReadOrWrite(Due, data =>
        {
            if (!data.PaymentIntents.TryGetValue(id, out var stored))
            {
                throw StripeErrors.ResourceMissing("intent", "payment_intent");
            }

            if (stored.View.Status == "processing" && stored.SettlesAt is { } due && due <= now)
            {
                var settled = stored.FailureCode is { } failure
                    ? stored.View with
                    {
                        Status = "requires_payment_method",
                        PaymentMethod = null,
                        LastPaymentError = new IntentErrorObject
                        {
                            Code = failure,
                            DeclineCode = failure,
                            DocUrl = "https://stripe.com/docs/error-codes/" + failure.Replace('_', '-'),
                            Message = "The payment failed: the bank returned the debit.",
                            PaymentMethod = data.PaymentMethods.TryGetValue(stored.View.PaymentMethod!, out var debited) ? debited.View : null,
                            Type = ErrorTypes.Card,
                        },
                    }
                    : stored.View with { Status = "succeeded", AmountReceived = stored.View.Amount };
                stored = stored with { View = settled, SettlesAt = null };
                data.PaymentIntents[id] = stored;
            }

            return Ok(stored.View);
        });
    }

    private ApiResult Confirm(
        SandboxData data, PaymentIntentObject view, StoredPaymentMethod paymentMethod, string? mandateId, bool offSession, long now)
    {
        if (paymentMethod.Detached)
        {
            throw StripeErrors.ParameterInvalid(
                "payment_method",
                "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.");
        }

        if (paymentMethod.View.Customer is { } owner && owner != view.Customer)
        {
            throw view.Customer is null
                ? StripeErrors.ParameterInvalid("customer", "The provided PaymentMethod is attached to a Customer: include that Customer in the customer parameter.")
                : StripeErrors.ParameterInvalid("payment_method", "The provided PaymentMethod does not belong to the provided Customer.");
        }

        var type = paymentMethod.View.Type;
        if (DebitCurrencies.TryGetValue(type, out var debitCurrency))
        {
            if (view.Currency != debitCurrency)
            {
                throw StripeErrors.ParameterInvalid("currency", "The currency is not supported by this PaymentMethod's type.", "payment_intent_invalid_parameter");
            }

            var mandate = mandateId ?? paymentMethod.MandateId;
            if (mandate is null)
            {
                throw new StripeApiException(
                    400, ErrorTypes.InvalidRequest,
                    "A mandate is required to debit this PaymentMethod: set it up with a SetupIntent confirmed with mandate_data, or pass mandate or mandate_data.",
                    "parameter_missing", "mandate_data", replayable: false);
            }

            if (!data.Mandates.TryGetValue(mandate, out var stored) || stored.View.PaymentMethod != paymentMethod.View.Id)
            {
                throw StripeErrors.ResourceMissing("mandate", "mandate");
            }

            if (data.SetupIntents.TryGetValue(stored.SetupIntentId, out var setup))
            {
                SetupIntentsApi.Advance(data, setup, now);
                stored = data.Mandates[mandate];
            }

            if (stored.View.Status != "active")
            {
                throw new StripeApiException(
                    400, ErrorTypes.InvalidRequest, "The provided mandate is not active and cannot be used for this payment.", "payment_intent_mandate_invalid", "mandate");
            }

            var processing = view with { Status = "processing", LatestCharge = IdAlphabet.ChargeId("py_") };
            data.PaymentIntents[view.Id] = new StoredPaymentIntent(
                processing, now + (long)settings.DebitProcessingDelay.TotalSeconds, paymentMethod.ChargeFailure);
            return Ok(processing);
        }

        IntentErrorObject? error = null;
        if (paymentMethod.DeclineCode is not null && CardCatalog.DeclineFor(paymentMethod.DeclineCode) is { } decline)
        {
            error = CardError(decline.Code, decline.DeclineCode, decline.Message, paymentMethod);
        }
        else if (paymentMethod.Authentication == CardAuthentication.Always
            || (paymentMethod.Authentication == CardAuthentication.UnlessSetUp && !paymentMethod.SetUp))
        {
            if (!offSession)
            {
                // On session a customer could authenticate; the sandbox hosts that page for SetupIntents only.
                var pending = view with { Status = "requires_action", NextAction = new NextActionObject { Type = "use_stripe_sdk" } };
                data.PaymentIntents[view.Id] = new StoredPaymentIntent(pending);
                return Ok(pending);
            }

            error = CardError("authentication_required", "authentication_required", "Your card was declined. This transaction requires authentication.", paymentMethod);
        }
        else if (paymentMethod.ChargeFailure is { } chargeDecline)
        {
            error = CardError(
                "card_declined", chargeDecline, chargeDecline == "insufficient_funds" ? "Your card has insufficient funds." : "Your card was declined.", paymentMethod);
        }

        if (error is not null)
        {
            var failed = view with { Status = "requires_payment_method", PaymentMethod = null, LastPaymentError = error };
            data.PaymentIntents[view.Id] = new StoredPaymentIntent(failed);
            var body = new ErrorBody(new ErrorObject
            {
                Code = error.Code,
                DeclineCode = error.DeclineCode,
                DocUrl = error.DocUrl,
                Message = error.Message,
                PaymentIntent = failed,
                PaymentMethod = error.PaymentMethod,
                Type = error.Type,
            });
            return new ApiResult(402, JsonSerializer.Serialize(body, SandboxJson.Default.ErrorBody), Replayable: true);
        }

        // A PaymentMethod that belongs to no Customer is used up by a payment that succeeds (Stripe: "may not be used
        // again"); a refused attempt leaves it as it was, so one still being set up can finish its SetupIntent.
        if (paymentMethod.View.Customer is null)
        {
            data.PaymentMethods[paymentMethod.View.Id] = paymentMethod with { Detached = true };
        }

        var succeeded = view with { Status = "succeeded", AmountReceived = view.Amount, LatestCharge = IdAlphabet.ChargeId("ch_") };
        data.PaymentIntents[view.Id] = new StoredPaymentIntent(succeeded);
        return Ok(succeeded);
    }

    private static IntentErrorObject CardError(string code, string declineCode, string message, StoredPaymentMethod paymentMethod) => new()
    {
        Code = code,
        DeclineCode = declineCode,
        DocUrl = "https://stripe.com/docs/error-codes/" + code.Replace('_', '-'),
        Message = message,
        PaymentMethod = paymentMethod.View,
        Type = ErrorTypes.Card,
    };

    private static ApiResult Ok(PaymentIntentObject view) => ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.PaymentIntentObject));

    private static StoredPaymentMethod FindPaymentMethod(SandboxData data, string id) =>
        data.PaymentMethods.TryGetValue(id, out var stored) ? stored : throw StripeErrors.ResourceMissing("payment_method", "PaymentMethod");

    private static bool Boolean(StripeParams parameters, string name) => parameters.Get(name) switch
    {
        null or "false" => false,
        "true" => true,
        _ => throw StripeErrors.ParameterInvalid(name, "Invalid boolean.", "parameter_invalid_boolean"),
    };
}
