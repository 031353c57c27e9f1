using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Cards;
using Tokenizer.StripeSandbox.Hosting;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// Stripe API SetupIntents and Mandates: <c>POST /v1/setup_intents</c> (with <c>confirm=true</c>),
/// <c>POST /v1/setup_intents/{id}/confirm</c>, <c>GET /v1/setup_intents/{id}</c>,
/// <c>POST /v1/setup_intents/{id}/verify_microdeposits</c> and <c>GET /v1/mandates/{id}</c>, plus what the sandbox's hosted
/// pages do (complete or fail 3-D Secure, verify microdeposits). A succeeded SetupIntent attaches its PaymentMethod to
/// its Customer and marks it set up; for debits it carries an active Mandate.
/// </summary>
internal sealed class SetupIntentsApi(SandboxStore store, SandboxAddress address, IOptions<StripeSandboxOptions> options)
{
    public const string MandateType = "mandate_data[customer_acceptance][type]";
    public const string MandateAcceptedAt = "mandate_data[customer_acceptance][accepted_at]";
    public const string MandateIp = "mandate_data[customer_acceptance][online][ip_address]";
    public const string MandateUserAgent = "mandate_data[customer_acceptance][online][user_agent]";
    public const string MandateOffline = "mandate_data[customer_acceptance][offline]";

    /// <summary>Stripe test mode's microdeposit amounts (cents) and descriptor code (docs.stripe.com/payments/ach-direct-debit).</summary>
    public const long FirstAmount = 32;
    public const long SecondAmount = 45;
    public const string DescriptorCode = "SM11AA";

    // Stripe support: three attempts for amount-based microdeposits, ten for descriptor codes.
    private const int AmountAttempts = 3;
    private const int DescriptorAttempts = 10;

    private static readonly FrozenSet<string> DebitTypes =
        FrozenSet.Create(StringComparer.Ordinal, "au_becs_debit", "sepa_debit", "bacs_debit", "us_bank_account");

    private static readonly FrozenSet<string> MandateParams =
        FrozenSet.Create(StringComparer.Ordinal, MandateType, MandateAcceptedAt, MandateIp, MandateUserAgent, MandateOffline);

    private static readonly FrozenSet<string> CreateParams = FrozenSet.Create(
        StringComparer.Ordinal, ["customer", "payment_method", "usage", "confirm", "return_url", "description", .. MandateParams]);

    private static readonly FrozenSet<string> ConfirmParams =
        FrozenSet.Create(StringComparer.Ordinal, ["payment_method", "return_url", .. MandateParams]);

    private static readonly FrozenSet<string> ListParams =
        FrozenSet.Create(StringComparer.Ordinal, "customer", "payment_method", "limit", "starting_after", "ending_before");

    private static readonly FrozenSet<string> CancelParams = FrozenSet.Create(StringComparer.Ordinal, "cancellation_reason");

    private static readonly FrozenSet<string> VerifyParams = FrozenSet.Create(StringComparer.Ordinal, "descriptor_code");

    private readonly StripeSandboxOptions settings = options.Value;

    /// <summary>Stripe API POST /v1/setup_intents.</summary>
    public ApiResult Create(StripeParams parameters)
    {
        parameters.RejectUnknown(CreateParams, "metadata[", "payment_method_types[", "allowed_payment_method_types[");
        var usage = parameters.Get("usage") ?? "off_session";
        if (usage is not ("off_session" or "on_session"))
        {
            throw StripeErrors.ParameterInvalid("usage", "Invalid usage: must be one of off_session or on_session.");
        }

        var confirm = Boolean(parameters, "confirm");
        // Stripe.net 53.1.0 pins API 2026-10-28.endive, where payment_method_types is no longer writable (changelog
        // endive/2026-09-30: 400 payment_method_types_no_longer_supported); allowed_payment_method_types replaces it.
        RejectPaymentMethodTypes(parameters);
        var allowed = parameters.List("allowed_payment_method_types");
        var types = allowed;
        foreach (var type in types)
        {
            if (!PaymentMethodsApi.Types.Contains(type))
            {
                throw StripeErrors.ParameterInvalid(
                    "allowed_payment_method_types", "Invalid allowed_payment_method_types: must be card, au_becs_debit, sepa_debit, bacs_debit or us_bank_account.");
            }
        }

        var request = ConfirmRequest.Read(parameters, confirm);
        var metadata = parameters.Metadata();
        var customerId = parameters.Get("customer");
        var paymentMethodId = parameters.Get("payment_method");
        var now = Now();
        return store.Write(data =>
        {
            if (customerId is not null && !data.Customers.ContainsKey(customerId))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            var paymentMethod = paymentMethodId is null ? null : FindPaymentMethod(data, paymentMethodId);
            var id = IdAlphabet.SetupIntentId();
            var view = new SetupIntentObject
            {
                Id = id,
                ClientSecret = IdAlphabet.ClientSecret(id),
                Created = now,
                AllowedPaymentMethodTypes = allowed.Count > 0 ? allowed : null,
                Customer = customerId,
                Description = parameters.Get("description"),
                Metadata = metadata,
                PaymentMethod = paymentMethodId,
                PaymentMethodTypes = types.Count > 0 ? types : [paymentMethod?.View.Type ?? "card"],
                Status = paymentMethodId is null ? "requires_payment_method" : "requires_confirmation",
                Usage = usage,
            };
            if (paymentMethod is not null && !view.PaymentMethodTypes.Contains(paymentMethod.View.Type))
            {
                throw StripeErrors.ParameterInvalid(
                    "payment_method", "The PaymentMethod's type is not in this SetupIntent's payment_method_types.", "payment_intent_incompatible_payment_method");
            }

            var stored = new StoredSetupIntent(view, Sequence: data.NextSequence());
            if (!confirm)
            {
                data.SetupIntents[id] = stored;
                return Ok(view);
            }

            // setup_intent.created carries the SetupIntent as created; the confirmation's own event follows it.
            data.SetupIntents.Note(id, stored);
            return Confirm(data, stored, request, now);
        });
    }

    /// <summary>Stripe API POST /v1/setup_intents/{id}/confirm (<c>payment_method</c>, <c>mandate_data</c>, <c>return_url</c>).</summary>
    public ApiResult ConfirmExisting(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(ConfirmParams);
        var request = ConfirmRequest.Read(parameters, confirm: true);
        var paymentMethodId = parameters.Get("payment_method");
        var now = Now();
        return store.Write(data =>
        {
            var stored = Advance(data, FindSetupIntent(data, id), now);
            if (paymentMethodId is not null)
            {
                var paymentMethod = FindPaymentMethod(data, paymentMethodId);
                if (!stored.View.PaymentMethodTypes.Contains(paymentMethod.View.Type))
                {
                    throw StripeErrors.ParameterInvalid(
                        "payment_method", "The PaymentMethod's type is not in this SetupIntent's payment_method_types.", "payment_intent_incompatible_payment_method");
                }

                stored = stored with { View = stored.View with { PaymentMethod = paymentMethodId } };
            }

            return Confirm(data, stored, request, now);
        });
    }

    /// <summary>Stripe API GET /v1/setup_intents/{id}. A processing Bacs setup whose delay has passed is completed first.</summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        var now = Now();
        return store.ReadOrWrite(data => IsDue(data, id, now), data => Ok(Advance(data, FindSetupIntent(data, id), now).View));
    }

    /// <summary>
    /// Stripe API GET /v1/setup_intents: newest first, filtered by <c>customer</c> and/or <c>payment_method</c> (the
    /// SetupIntent's current <c>payment_method</c>), <c>limit</c> 1-100 (default 10), cursors <c>starting_after</c> /
    /// <c>ending_before</c> (a SetupIntent id); Stripe's list object with <c>has_more</c>.
    /// </summary>
    public ApiResult List(StripeParams parameters)
    {
        parameters.RejectUnknown(ListParams);
        var customer = parameters.Get("customer");
        var paymentMethod = parameters.Get("payment_method");
        var limit = 10;
        if (parameters.Get("limit") is { } limitText
            && (limitText.Length > 3 || !int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            throw StripeErrors.ParameterInvalid("limit", "Invalid limit: must be an integer between 1 and 100.", "parameter_invalid_integer");
        }

        var startingAfter = parameters.Get("starting_after");
        var endingBefore = parameters.Get("ending_before");
        if (startingAfter is not null && endingBefore is not null)
        {
            throw StripeErrors.ParameterInvalid("ending_before", "You may only specify one of these parameters: starting_after, ending_before.", "parameters_exclusive");
        }

        var now = Now();
        var list = store.ReadOrWrite(data => data.SetupIntents.Values.Any(s => IsDue(s, now)), data =>
        {
            long Cursor(string id, string param) =>
                data.SetupIntents.TryGetValue(id, out var found) ? found.Sequence : throw StripeErrors.ResourceMissing(param, "setup_intent");

            var items = data.SetupIntents.Values.Where(s =>
                (customer is null || s.View.Customer == customer) && (paymentMethod is null || s.View.PaymentMethod == paymentMethod));
            List<StoredSetupIntent> page;
            var reverse = false;
            if (startingAfter is not null)
            {
                var cursor = Cursor(startingAfter, "starting_after");
                page = [.. items.Where(s => s.Sequence < cursor).OrderByDescending(s => s.Sequence).Take(limit + 1)];
            }
            else if (endingBefore is not null)
            {
                var cursor = Cursor(endingBefore, "ending_before");
                page = [.. items.Where(s => s.Sequence > cursor).OrderBy(s => s.Sequence).Take(limit + 1)];
                reverse = true;
            }
            else
            {
                page = [.. items.OrderByDescending(s => s.Sequence).Take(limit + 1)];
            }

            var views = page.Take(limit).Select(s => Advance(data, s, now).View);
            return new ListObject<SetupIntentObject>([.. reverse ? views.Reverse() : views], page.Count > limit, "/v1/setup_intents");
        });
        return ApiResult.Ok(JsonSerializer.Serialize(list, SandboxJson.Default.ListObjectSetupIntentObject));
    }

    /// <summary>
    /// Stripe API POST /v1/setup_intents/{id}/cancel (<c>cancellation_reason</c> abandoned, duplicate or
    /// requested_by_customer): only from requires_payment_method, requires_confirmation or requires_action (else 400
    /// <c>setup_intent_unexpected_state</c>); the SetupIntent becomes <c>canceled</c> and a pending mandate <c>inactive</c>.
    /// Nothing is attached.
    /// </summary>
    public ApiResult Cancel(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(CancelParams);
        var reason = parameters.Get("cancellation_reason");
        if (reason is not (null or "abandoned" or "duplicate" or "requested_by_customer"))
        {
            throw StripeErrors.ParameterInvalid(
                "cancellation_reason", "Invalid cancellation_reason: must be one of abandoned, duplicate or requested_by_customer.");
        }

        var now = Now();
        return store.Write(data =>
        {
            var stored = Advance(data, FindSetupIntent(data, id), now);
            if (stored.View.Status is not ("requires_payment_method" or "requires_confirmation" or "requires_action"))
            {
                throw StripeErrors.UnexpectedState(
                    $"You cannot cancel this SetupIntent because it has a status of {stored.View.Status}.", "setup_intent_unexpected_state");
            }

            if (stored.View.Mandate is { } mandateId && data.Mandates.TryGetValue(mandateId, out var mandate))
            {
                data.Mandates[mandateId] = mandate with { View = mandate.View with { Status = "inactive" } };
            }

            var canceled = stored with
            {
                View = stored.View with { Status = "canceled", CancellationReason = reason, NextAction = null },
                CompletesAt = null,
            };
            data.SetupIntents[id] = canceled;
            return Ok(canceled.View);
        });
    }

    /// <summary>Stripe API GET /v1/mandates/{id}.</summary>
    public ApiResult GetMandate(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        var now = Now();
        var view = store.ReadOrWrite(data => data.Mandates.TryGetValue(id, out var due) && IsDue(data, due.SetupIntentId, now), data =>
        {
            if (!data.Mandates.TryGetValue(id, out var mandate))
            {
                throw StripeErrors.ResourceMissing("mandate", "mandate");
            }

            if (data.SetupIntents.TryGetValue(mandate.SetupIntentId, out var setupIntent))
            {
                Advance(data, setupIntent, now);
            }

            return data.Mandates[id].View;
        });
        return ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.MandateObject));
    }

    /// <summary>
    /// Stripe API POST /v1/setup_intents/{id}/verify_microdeposits: <c>amounts[]</c> (two integers, cents) or
    /// <c>descriptor_code</c>. Test mode accepts 32 and 45, or SM11AA: the SetupIntent succeeds, the PaymentMethod is
    /// attached and the mandate becomes active. Other values answer 400 <c>payment_method_microdeposit_verification_amounts_mismatch</c>
    /// or <c>..._descriptor_code_mismatch</c>; after three wrong amounts (ten wrong codes) 400
    /// <c>payment_method_microdeposit_verification_attempts_exceeded</c> and the SetupIntent returns to requires_payment_method.
    /// </summary>
    public ApiResult VerifyMicrodeposits(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(VerifyParams, "amounts[");
        var amountTexts = parameters.List("amounts");
        var code = parameters.Get("descriptor_code");
        if (amountTexts.Count == 0 && code is null)
        {
            throw StripeErrors.ParameterMissing("amounts");
        }

        if (amountTexts.Count > 0 && code is not null)
        {
            throw StripeErrors.ParameterInvalid("descriptor_code", "You may only specify one of these parameters: amounts, descriptor_code.", "parameters_exclusive");
        }

        var amounts = new List<long>();
        foreach (var text in amountTexts)
        {
            amounts.Add(text.Length <= 9 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var amount)
                ? amount
                : throw StripeErrors.ParameterInvalid("amounts", "Invalid integer.", "parameter_invalid_integer"));
        }

        if (code is null && amounts.Count != 2)
        {
            throw StripeErrors.ParameterInvalid(
                "amounts", "You must provide exactly two microdeposit amounts.", "payment_method_microdeposit_verification_amounts_invalid");
        }

        var now = Now();
        return store.Write(data => Verify(data, FindSetupIntent(data, id), amounts, code, now));
    }

    /// <summary>
    /// The hosted 3-D Secure page's outcome: complete (the SetupIntent succeeds, the PaymentMethod is attached and set up)
    /// or fail (requires_payment_method with <c>last_setup_error.code</c> <c>setup_intent_authentication_failure</c>).
    /// Answers the SetupIntent and the <c>return_url</c> it was confirmed with (null: none given); a null SetupIntent when
    /// it does not exist or is not waiting for authentication.
    /// </summary>
    public (SetupIntentObject? Intent, string? ReturnUrl) Authenticate(string id, bool complete)
    {
        return store.Write<(SetupIntentObject?, string?)>(data =>
        {
            if (!data.SetupIntents.TryGetValue(id, out var stored) || stored.View.Status != "requires_action"
                || stored.View.NextAction?.Type is not ("redirect_to_url" or "use_stripe_sdk"))
            {
                return (null, null);
            }

            var returnUrl = stored.View.NextAction.RedirectToUrl?.ReturnUrl;
            if (complete)
            {
                return (Succeed(data, stored).View, returnUrl);
            }

            var paymentMethod = data.PaymentMethods[stored.View.PaymentMethod!];
            var failed = stored.View with
            {
                Status = "requires_payment_method",
                NextAction = null,
                PaymentMethod = null,
                LastSetupError = new IntentErrorObject
                {
                    Code = "setup_intent_authentication_failure",
                    DocUrl = "https://stripe.com/docs/error-codes/setup-intent-authentication-failure",
                    Message = "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
                    PaymentMethod = paymentMethod.View,
                    Type = ErrorTypes.InvalidRequest,
                },
            };
            data.SetupIntents[id] = stored with { View = failed };
            return (failed, returnUrl);
        });
    }

    /// <summary>The SetupIntent as it stands (for the hosted pages), or null.</summary>
    public SetupIntentObject? Find(string id)
    {
        var now = Now();
        return store.ReadOrWrite(
            data => IsDue(data, id, now), data => data.SetupIntents.TryGetValue(id, out var stored) ? Advance(data, stored, now).View : null);
    }

    /// <summary>The Mandate as it stands (for its hosted page), or null.</summary>
    public MandateObject? FindMandate(string id)
    {
        var now = Now();
        return store.ReadOrWrite(data => data.Mandates.TryGetValue(id, out var due) && IsDue(data, due.SetupIntentId, now), data =>
        {
            if (!data.Mandates.TryGetValue(id, out var mandate))
            {
                return null;
            }

            if (data.SetupIntents.TryGetValue(mandate.SetupIntentId, out var setupIntent))
            {
                Advance(data, setupIntent, now);
            }

            return data.Mandates[id].View;
        });
    }

    /// <summary>The hosted verification page's submission: as <see cref="VerifyMicrodeposits"/>, answered as an API result.</summary>
    public ApiResult VerifyFromPage(string id, IReadOnlyList<long> amounts, string? code)
    {
        var now = Now();
        return store.Write(data => data.SetupIntents.TryGetValue(id, out var stored)
            ? Verify(data, stored, amounts, code, now)
            : ApiResult.From(StripeErrors.ResourceMissing("intent", "setup_intent")));
    }

    /// <summary>
    /// The completion a processing Bacs setup is due (called under the store's lock by every read of the SetupIntent, its
    /// mandate, or a charge that needs the mandate): once <see cref="StoredSetupIntent.CompletesAt"/> has passed, the
    /// SetupIntent succeeds and its mandate becomes active.
    /// </summary>
    public static StoredSetupIntent Advance(SandboxData data, StoredSetupIntent stored, long now) =>
        IsDue(stored, now) ? Succeed(data, stored) : stored;

    private static bool IsDue(StoredSetupIntent stored, long now) =>
        stored.View.Status == "processing" && stored.CompletesAt is { } due && due <= now;

    private static bool IsDue(SandboxData data, string id, long now) =>
        data.SetupIntents.TryGetValue(id, out var stored) && IsDue(stored, now);

    /// <summary>
    /// The SetupIntent succeeds: its PaymentMethod is attached to its Customer and set up, its mandate active. Unless the
    /// PaymentMethod was detached meanwhile or the Customer deleted: Stripe documents that a detached PaymentMethod can
    /// never be attached again and that a deleted Customer takes no further operations, so nothing is attached and the
    /// setup fails instead (<see cref="RefuseSuccess"/>).
    /// </summary>
    private static StoredSetupIntent Succeed(SandboxData data, StoredSetupIntent stored)
    {
        var view = stored.View;
        var paymentMethod = data.PaymentMethods[view.PaymentMethod!];
        if (paymentMethod.Detached || (view.Customer is not null && !data.Customers.ContainsKey(view.Customer)))
        {
            return RefuseSuccess(data, stored, paymentMethod);
        }

        var attached = paymentMethod.View.Customer is null && view.Customer is not null
            ? paymentMethod.View with { Customer = view.Customer }
            : paymentMethod.View;
        data.PaymentMethods[paymentMethod.View.Id] = paymentMethod with { View = attached, SetUp = true, MandateId = view.Mandate ?? paymentMethod.MandateId };
        if (view.Mandate is not null && data.Mandates.TryGetValue(view.Mandate, out var mandate))
        {
            var details = mandate.View.PaymentMethodDetails;
            data.Mandates[view.Mandate] = mandate with
            {
                View = mandate.View with
                {
                    Status = "active",
                    PaymentMethodDetails = details.BacsDebit is { } bacs ? details with { BacsDebit = bacs with { NetworkStatus = "accepted" } } : details,
                },
            };
        }

        var succeeded = stored with
        {
            View = view with { Status = "succeeded", NextAction = null, LastSetupError = null },
            CompletesAt = null,
        };
        data.SetupIntents[view.Id] = succeeded;
        return succeeded;
    }

    /// <summary>
    /// What the sandbox does where Stripe documents no outcome: a setup completed (3-D Secure, microdeposits, a Bacs
    /// mandate registered) after its PaymentMethod was detached or its Customer deleted fails as a setup does,
    /// <c>requires_payment_method</c> with <c>last_setup_error</c> (<c>payment_method_unexpected_state</c>, the code
    /// Stripe gives for confirming a detached PaymentMethod, or <c>resource_missing</c> on <c>customer</c>); its mandate
    /// becomes inactive and nothing is attached.
    /// </summary>
    private static StoredSetupIntent RefuseSuccess(SandboxData data, StoredSetupIntent stored, StoredPaymentMethod paymentMethod)
    {
        var view = stored.View;
        var error = paymentMethod.Detached
            ? new IntentErrorObject
            {
                Code = "payment_method_unexpected_state",
                DocUrl = "https://stripe.com/docs/error-codes/payment-method-unexpected-state",
                Message = "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
                PaymentMethod = paymentMethod.View,
                Type = ErrorTypes.InvalidRequest,
            }
            : new IntentErrorObject
            {
                Code = "resource_missing",
                DocUrl = "https://stripe.com/docs/error-codes/resource-missing",
                Message = "No such customer: '" + view.Customer + "'",
                Param = "customer",
                PaymentMethod = paymentMethod.View,
                Type = ErrorTypes.InvalidRequest,
            };
        if (view.Mandate is not null && data.Mandates.TryGetValue(view.Mandate, out var mandate))
        {
            data.Mandates[view.Mandate] = mandate with { View = mandate.View with { Status = "inactive" } };
        }

        var failed = stored with
        {
            View = view with { Status = "requires_payment_method", NextAction = null, PaymentMethod = null, LastSetupError = error },
            CompletesAt = null,
        };
        data.SetupIntents[view.Id] = failed;
        return failed;
    }

    private ApiResult Confirm(SandboxData data, StoredSetupIntent stored, ConfirmRequest request, long now)
    {
        var view = stored.View;
        if (view.Status is not ("requires_payment_method" or "requires_confirmation"))
        {
            throw StripeErrors.UnexpectedState(
                $"You cannot confirm this SetupIntent because it has a status of {view.Status}.", "setup_intent_unexpected_state");
        }

        if (view.PaymentMethod is null)
        {
            throw StripeErrors.UnexpectedState(
                "You cannot confirm this SetupIntent because it's missing a payment method. You can either update the SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
                "setup_intent_unexpected_state");
        }

        var paymentMethod = FindPaymentMethod(data, view.PaymentMethod);
        if (paymentMethod.Detached)
        {
            throw StripeErrors.UnexpectedState(
                "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
                "payment_method_unexpected_state");
        }

        if (paymentMethod.View.Customer is { } owner && owner != view.Customer)
        {
            throw new StripeApiException(
                400, ErrorTypes.InvalidRequest, "The provided PaymentMethod is attached to another Customer.", "payment_method_unexpected_state", "payment_method");
        }

        var type = paymentMethod.View.Type;
        if (DebitTypes.Contains(type) && request.Acceptance is null)
        {
            throw new StripeApiException(
                400, ErrorTypes.InvalidRequest,
                "A mandate is required to confirm a SetupIntent with this payment method type from your server: provide mandate_data[customer_acceptance].",
                "parameter_missing", "mandate_data", replayable: false);
        }

        view = view with { LastSetupError = null, NextAction = null };
        if (type == "card")
        {
            if (paymentMethod.DeclineCode is not null && CardCatalog.DeclineFor(paymentMethod.DeclineCode) is { } decline)
            {
                var error = new IntentErrorObject
                {
                    Code = decline.Code,
                    DeclineCode = decline.DeclineCode,
                    DocUrl = "https://stripe.com/docs/error-codes/" + decline.Code.Replace('_', '-'),
                    Message = decline.Message,
                    PaymentMethod = paymentMethod.View,
                    Type = ErrorTypes.Card,
                };
                var declined = view with { Status = "requires_payment_method", PaymentMethod = null, LastSetupError = error };
                data.SetupIntents[view.Id] = stored with { View = declined };
                return CardError(error, declined);
            }

            if (paymentMethod.Authentication != CardAuthentication.None)
            {
                var page = address.Page("_sandbox/authenticate/" + view.Id);
                var next = request.ReturnUrl is null
                    ? new NextActionObject { Type = "use_stripe_sdk", UseStripeSdk = new UseStripeSdkObject("three_d_secure_redirect", page) }
                    : new NextActionObject { Type = "redirect_to_url", RedirectToUrl = new RedirectToUrlObject(request.ReturnUrl, page) };
                var pending = stored with { View = view with { Status = "requires_action", NextAction = next } };
                data.SetupIntents[view.Id] = pending;
                return Ok(pending.View);
            }

            return Ok(Succeed(data, stored with { View = view }).View);
        }

        var mandateId = IdAlphabet.MandateId();
        data.Mandates[mandateId] = new StoredMandate(NewMandate(mandateId, paymentMethod.View, request.Acceptance!, now), view.Id);
        data.PaymentMethods[paymentMethod.View.Id] = paymentMethod with { MandateId = mandateId };
        view = view with { Mandate = mandateId };
        switch (type)
        {
            case "bacs_debit":
                var processing = stored with
                {
                    View = view with { Status = "processing" },
                    CompletesAt = now + (long)settings.BacsMandateActivationDelay.TotalSeconds,
                };
                data.SetupIntents[view.Id] = processing;
                return Ok(processing.View);
            case "us_bank_account":
                var verify = stored with
                {
                    View = view with
                    {
                        Status = "requires_action",
                        NextAction = new NextActionObject
                        {
                            Type = "verify_with_microdeposits",
                            VerifyWithMicrodeposits = new VerifyWithMicrodepositsObject(
                                now + (long)TimeSpan.FromDays(2).TotalSeconds, address.Page("_sandbox/verify/" + view.Id), "amounts"),
                        },
                    },
                    AmountAttemptsLeft = AmountAttempts,
                    CodeAttemptsLeft = DescriptorAttempts,
                };
                data.SetupIntents[view.Id] = verify;
                return Ok(verify.View);
            default:
                // SEPA and BECS: test mode sets up at once (a failing test account fails later, at the charge).
                return Ok(Succeed(data, stored with { View = view }).View);
        }
    }

    private static ApiResult Verify(SandboxData data, StoredSetupIntent stored, IReadOnlyList<long> amounts, string? code, long now)
    {
        var view = stored.View;
        if (view.Status != "requires_action" || view.NextAction?.Type != "verify_with_microdeposits")
        {
            return ApiResult.From(StripeErrors.UnexpectedState(
                "This SetupIntent is not awaiting microdeposit verification.", "setup_intent_unexpected_state"));
        }

        var matches = code is null
            ? amounts.Count == 2 && amounts.Order().SequenceEqual([FirstAmount, SecondAmount])
            : string.Equals(code, DescriptorCode, StringComparison.Ordinal);
        if (matches)
        {
            var done = Succeed(data, stored).View;
            return done.LastSetupError is { } refused
                ? new ApiResult(400, ErrorJson(refused with { PaymentMethod = null }, done), Replayable: true)
                : Ok(done);
        }

        var amountsLeft = stored.AmountAttemptsLeft - (code is null ? 1 : 0);
        var codesLeft = stored.CodeAttemptsLeft - (code is null ? 0 : 1);
        var remaining = code is null ? amountsLeft : codesLeft;
        if (remaining <= 0)
        {
            var error = new IntentErrorObject
            {
                Code = "payment_method_microdeposit_verification_attempts_exceeded",
                DocUrl = "https://stripe.com/docs/error-codes/payment-method-microdeposit-verification-attempts-exceeded",
                Message = "You have exceeded the number of allowed verification attempts.",
                PaymentMethod = data.PaymentMethods[view.PaymentMethod!].View,
                Type = ErrorTypes.InvalidRequest,
            };
            var failed = view with { Status = "requires_payment_method", NextAction = null, PaymentMethod = null, LastSetupError = error };
            data.SetupIntents[view.Id] = stored with { View = failed, AmountAttemptsLeft = 0, CodeAttemptsLeft = 0 };
            if (view.Mandate is not null && data.Mandates.TryGetValue(view.Mandate, out var mandate))
            {
                data.Mandates[view.Mandate] = mandate with { View = mandate.View with { Status = "inactive" } };
            }

            return new ApiResult(400, ErrorJson(error with { PaymentMethod = null }, failed), Replayable: true);
        }

        data.SetupIntents[view.Id] = stored with { AmountAttemptsLeft = amountsLeft, CodeAttemptsLeft = codesLeft };
        var mismatch = code is null
            ? new IntentErrorObject
            {
                Code = "payment_method_microdeposit_verification_amounts_mismatch",
                Message = string.Create(CultureInfo.InvariantCulture, $"The amounts provided do not match the amounts that were sent to the bank account. You have {remaining} verification attempts remaining."),
                Type = ErrorTypes.InvalidRequest,
            }
            : new IntentErrorObject
            {
                Code = "payment_method_microdeposit_verification_descriptor_code_mismatch",
                Message = string.Create(CultureInfo.InvariantCulture, $"The verification code provided does not match the code that was sent to the bank account. You have {remaining} verification attempts remaining."),
                Type = ErrorTypes.InvalidRequest,
            };
        return new ApiResult(400, ErrorJson(mismatch with { DocUrl = "https://stripe.com/docs/error-codes/" + mismatch.Code!.Replace('_', '-') }, null), Replayable: true);
    }

    private MandateObject NewMandate(string id, PaymentMethodObject paymentMethod, CustomerAcceptanceObject acceptance, long now)
    {
        var url = address.Page("_sandbox/mandates/" + id);
        var reference = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16);
        var details = paymentMethod.Type switch
        {
            "sepa_debit" => new MandatePaymentMethodDetailsObject { Type = "sepa_debit", SepaDebit = new MandateDebitDetailsObject { Reference = reference, Url = url } },
            "au_becs_debit" => new MandatePaymentMethodDetailsObject { Type = "au_becs_debit", AuBecsDebit = new MandateDebitDetailsObject { Url = url } },
            "bacs_debit" => new MandatePaymentMethodDetailsObject
            {
                Type = "bacs_debit",
                BacsDebit = new MandateDebitDetailsObject { NetworkStatus = "pending", Reference = reference, Url = url },
            },
            _ => new MandatePaymentMethodDetailsObject { Type = "us_bank_account", UsBankAccount = new MandateUsBankAccountObject() },
        };
        return new MandateObject
        {
            Id = id,
            CustomerAcceptance = acceptance with { AcceptedAt = acceptance.AcceptedAt ?? now },
            PaymentMethod = paymentMethod.Id,
            PaymentMethodDetails = details,
            Status = "pending",
        };
    }

    private static ApiResult CardError(IntentErrorObject error, SetupIntentObject setupIntent) =>
        new(402, ErrorJson(error, setupIntent), Replayable: true);

    private static string ErrorJson(IntentErrorObject error, SetupIntentObject? setupIntent) => JsonSerializer.Serialize(
        new ErrorBody(new ErrorObject
        {
            Code = error.Code,
            DeclineCode = error.DeclineCode,
            DocUrl = error.DocUrl,
            Message = error.Message,
            Param = error.Param,
            PaymentMethod = error.PaymentMethod,
            SetupIntent = setupIntent,
            Type = error.Type,
        }),
        SandboxJson.Default.ErrorBody);

    private static ApiResult Ok(SetupIntentObject view) => ApiResult.Ok(JsonSerializer.Serialize(view, SandboxJson.Default.SetupIntentObject));

    private long Now() => settings.TimeProvider.GetUtcNow().ToUnixTimeSeconds();

    private static StoredSetupIntent FindSetupIntent(SandboxData data, string id) =>
        data.SetupIntents.TryGetValue(id, out var stored) ? stored : throw StripeErrors.ResourceMissing("intent", "setup_intent");

    private static StoredPaymentMethod FindPaymentMethod(SandboxData data, string id) =>
        data.PaymentMethods.TryGetValue(id, out var stored) ? stored : throw StripeErrors.ResourceMissing("payment_method", "PaymentMethod");

    /// <summary>
    /// 400 <c>payment_method_types_no_longer_supported</c> when <c>payment_method_types</c> is sent (POST /v1/setup_intents and
    /// /v1/payment_intents on API 2026-09-30.endive and later, the version Stripe.net 53.1.0 pins).
    /// </summary>
    public static void RejectPaymentMethodTypes(StripeParams parameters)
    {
        if (parameters.All.Keys.Any(k => k.StartsWith("payment_method_types[", StringComparison.Ordinal) || k == "payment_method_types"))
        {
            throw StripeErrors.ParameterInvalid(
                "payment_method_types",
                "payment_method_types is no longer supported on this API version: use allowed_payment_method_types, or leave it out.",
                "payment_method_types_no_longer_supported");
        }
    }

    private static bool Boolean(StripeParams parameters, string name) => parameters.Get(name) switch
    {
        null or "false" => false,
        "true" => true,
        _ => throw StripeErrors.ParameterInvalid(name, "Invalid boolean.", "parameter_invalid_boolean"),
    };

    /// <summary>The confirmation parameters: <c>return_url</c> and <c>mandate_data[customer_acceptance]</c>, checked before anything changes.</summary>
    private sealed record ConfirmRequest(string? ReturnUrl, CustomerAcceptanceObject? Acceptance)
    {
        public static ConfirmRequest Read(StripeParams parameters, bool confirm)
        {
            var returnUrl = parameters.Get("return_url");
            var hasMandate = parameters.All.Keys.Any(k => k.StartsWith("mandate_data[", StringComparison.Ordinal));
            if (!confirm && (returnUrl is not null || hasMandate))
            {
                throw StripeErrors.ParameterInvalid(
                    returnUrl is not null ? "return_url" : "mandate_data", "This parameter can only be used when confirm is true.");
            }

            if (returnUrl is not null
                && (returnUrl.Length > 2048 || !Uri.TryCreate(returnUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http")))
            {
                throw StripeErrors.ParameterInvalid("return_url", "Not a valid URL.", "url_invalid");
            }

            return new ConfirmRequest(returnUrl, hasMandate ? ReadAcceptance(parameters) : null);
        }

        private static CustomerAcceptanceObject ReadAcceptance(StripeParams parameters)
        {
            var type = parameters.Required(MandateType);
            long? acceptedAt = null;
            if (parameters.Get(MandateAcceptedAt) is { } acceptedText)
            {
                acceptedAt = acceptedText.Length <= 12 && long.TryParse(acceptedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    ? seconds
                    : throw StripeErrors.ParameterInvalid(MandateAcceptedAt, "Invalid integer.", "parameter_invalid_integer");
            }

            var hasOnline = parameters.Get(MandateIp) is not null || parameters.Get(MandateUserAgent) is not null;
            switch (type)
            {
                case "offline":
                    if (hasOnline)
                    {
                        throw StripeErrors.ParameterInvalid(
                            "mandate_data[customer_acceptance][online]", "online can only be given when mandate_data[customer_acceptance][type] is online.");
                    }

                    return new CustomerAcceptanceObject { AcceptedAt = acceptedAt, Offline = new OfflineAcceptanceObject(), Type = "offline" };
                case "online":
                    var ip = parameters.Required(MandateIp);
                    var userAgent = parameters.Required(MandateUserAgent);
                    if (ip.Length > 64 || !IPAddress.TryParse(ip, out _))
                    {
                        throw StripeErrors.ParameterInvalid(MandateIp, "Invalid IP address.", "parameter_invalid_string");
                    }

                    if (userAgent.Length > 5000)
                    {
                        throw StripeErrors.ParameterInvalid(MandateUserAgent, "The user agent can have up to 5000 characters.", "parameter_invalid_string");
                    }

                    return new CustomerAcceptanceObject { AcceptedAt = acceptedAt, Online = new OnlineAcceptanceObject(ip, userAgent), Type = "online" };
                default:
                    throw StripeErrors.ParameterInvalid(MandateType, "Invalid mandate_data[customer_acceptance][type]: must be one of online or offline.");
            }
        }
    }
}
