using Microsoft.Extensions.Logging;
using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;
using Mandate = Tokenizer.Core.Domain.Mandate;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// <see cref="ITokenGateway"/> over Stripe (Stripe.net 53.1.0, through <see cref="IStripeClient"/>). Every call sends
/// the given idempotency key unchanged as Stripe's <c>Idempotency-Key</c> (the HTTP resilience handler below Stripe.net
/// retries by resending the same request, key included) and passes the caller's <see cref="CancellationToken"/>.
/// Every call also sends the key that
/// <see cref="IStripeApiKeyProvider.CurrentApiKey"/> returns at that moment (Stripe.net's per-request
/// <c>RequestOptions.ApiKey</c>), so a rotated Stripe key is used from the next call on.
/// </summary>
/// <remarks>
/// Errors: <see cref="TokenizerException"/> for every gateway outcome (see <see cref="StripeErrorMapper"/>): declines
/// FAILED_PRECONDITION CARD_DECLINED with <c>decline_code</c>; rejected card fields INVALID_ARGUMENT
/// INCORRECT_NUMBER / INVALID_EXPIRY / INVALID_CVC; rejected bank fields INVALID_ARGUMENT BANK_ACCOUNT_REJECTED; raw card
/// data not enabled FAILED_PRECONDITION RAW_CARD_DATA_NOT_ENABLED; a key still in flight ABORTED
/// IDEMPOTENCY_KEY_IN_FLIGHT; 429, 5xx, network failures and timeouts UNAVAILABLE GATEWAY_UNAVAILABLE; bad credentials
/// INTERNAL GATEWAY_AUTHENTICATION_FAILED; other rejected requests INTERNAL GATEWAY_REJECTED_REQUEST. The caller's
/// cancellation surfaces as <see cref="OperationCanceledException"/>. A missing argument or idempotency key is a
/// programming error: <see cref="ArgumentException"/> (Stripe.net would otherwise invent a random key); so is a provider
/// that returns no API key: <see cref="InvalidOperationException"/>, nothing sent.
/// </remarks>
public sealed partial class StripeTokenGateway(IStripeClient client, IStripeApiKeyProvider apiKeys, ILogger<StripeTokenGateway> logger)
    : ITokenGateway
{
    /// <summary>The Customer metadata key that holds our customer reference.</summary>
    public const string CustomerReferenceMetadataKey = "tokenizer_customer_reference";

    /// <summary>Stripe's documented maximum length of an Idempotency-Key.</summary>
    public const int MaxIdempotencyKeyLength = 255;

    private readonly CustomerService customers = new(client ?? throw new ArgumentNullException(nameof(client)));
    private readonly PaymentMethodService paymentMethods = new(client);
    private readonly CustomerPaymentMethodService customerPaymentMethods = new(client);
    private readonly SetupIntentService setupIntents = new(client);
    private readonly MandateService mandates = new(client);
    private readonly IStripeApiKeyProvider apiKeys = apiKeys ?? throw new ArgumentNullException(nameof(apiKeys));
    private readonly ILogger logger = logger ?? throw new ArgumentNullException(nameof(logger));

    /// <inheritdoc />
    /// <value><c>stripe</c>.</value>
    public string Name => "stripe";

    /// <summary>
    /// Creates a Customer (Stripe API POST /v1/customers) with metadata
    /// <c>tokenizer_customer_reference</c> = <paramref name="customerReference"/>.
    /// </summary>
    /// <returns>The Customer id, <c>cus_...</c>.</returns>
    /// <exception cref="TokenizerException">The gateway failed or refused; see the class remarks.</exception>
    public async Task<string> CreateCustomerAsync(string customerReference, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = new CustomerCreateOptions
        {
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [CustomerReferenceMetadataKey] = customerReference },
        };

        var customer = await SendAsync(
            StripeOperation.CreateCustomer,
            ct => customers.CreateAsync(options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);

        if (string.IsNullOrEmpty(customer?.Id))
        {
            throw InvalidResponse(StripeOperation.CreateCustomer, "no customer id", customer?.StripeResponse);
        }

        return customer.Id;
    }

    /// <summary>
    /// Creates a PaymentMethod (Stripe API POST /v1/payment_methods) of type <c>card</c>, <c>au_becs_debit</c>,
    /// <c>sepa_debit</c>, <c>bacs_debit</c> or <c>us_bank_account</c> with the non-empty billing details and metadata.
    /// </summary>
    /// <returns>The <c>pm_...</c> id and masked metadata only (brand/last4/expiry/funding/country/fingerprint, or
    /// last4/bank identifier/country/fingerprint).</returns>
    /// <exception cref="TokenizerException">The gateway failed or refused, or answered with an unusable PaymentMethod.</exception>
    public async Task<GatewayPaymentMethod> CreatePaymentMethodAsync(
        PaymentMethodRequest request,
        string idempotencyKey,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = StripePaymentMethodMapper.ToCreateOptions(request);
        var expected = StripePaymentMethodMapper.TypeOf(request);

        var paymentMethod = await SendAsync(
            StripeOperation.CreatePaymentMethod,
            ct => paymentMethods.CreateAsync(options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);

        var numberLength = request.Card?.Pan.Length ?? request.BankAccount?.NumberLength;
        return StripePaymentMethodMapper.ToGatewayPaymentMethod(paymentMethod, expected, numberLength)
            ?? throw InvalidResponse(StripeOperation.CreatePaymentMethod, "unusable payment method", paymentMethod?.StripeResponse);
    }

    /// <summary>Attaches a PaymentMethod to a Customer (Stripe API POST /v1/payment_methods/{id}/attach, <c>customer=cus_...</c>).</summary>
    /// <exception cref="TokenizerException">Declines surface here (CARD_DECLINED), as do the other gateway failures.</exception>
    public async Task AttachAsync(string paymentMethodId, string customerId, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(paymentMethodId);
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = new PaymentMethodAttachOptions { Customer = customerId };

        await SendAsync(
            StripeOperation.Attach,
            ct => paymentMethods.AttachAsync(paymentMethodId, options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates and confirms a SetupIntent (Stripe API POST /v1/setup_intents): <c>customer</c>, <c>payment_method</c>,
    /// <c>allowed_payment_method_types[0]</c> (API 2026-10-28.endive; <c>payment_method_types</c> is no longer writable there), <c>usage=off_session</c>, <c>confirm=true</c>, <c>metadata</c>; cards add
    /// <c>return_url</c> when given; debits add <c>mandate_data[customer_acceptance]</c> with <c>type</c>,
    /// <c>accepted_at</c> (unix seconds) and, online, <c>ip_address</c> and <c>user_agent</c> (offline: Stripe.net sends
    /// nothing for the empty <c>offline</c> hash, which Stripe documents as optional details).
    /// </summary>
    /// <returns>The outcome; see <see cref="ITokenGateway.CreateSetupIntentAsync"/>.</returns>
    /// <exception cref="TokenizerException">
    /// Declines and rejected fields as for every call (mandate fields map to <c>mandate_acceptance.*</c>); a SetupIntent
    /// answered requires_payment_method or canceled: FAILED_PRECONDITION SETUP_FAILED with the sanitised
    /// <c>decline_code</c>.
    /// </exception>
    public async Task<GatewaySetup> CreateSetupIntentAsync(SetupIntentRequest request, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.CustomerId);
        ArgumentException.ThrowIfNullOrEmpty(request.PaymentMethodId);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = StripeSetupMapper.ToCreateOptions(request);

        var setupIntent = await SendAsync(
            StripeOperation.CreateSetupIntent,
            ct => setupIntents.CreateAsync(options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);

        var setup = StripeSetupMapper.ToGatewaySetup(setupIntent)
            ?? throw InvalidResponse(StripeOperation.CreateSetupIntent, "unusable setup intent", setupIntent?.StripeResponse);
        if (setup.Status == SetupStatus.Failed)
        {
            // Refused in the same call (Stripe usually answers a 402 card_error instead): a synchronous refusal, as a
            // decline at attach was before SetupIntents.
            var code = setup.FailureCode ?? "unknown";
            var requestId = StripeErrorMapper.SafeRequestId(setupIntent!.StripeResponse?.RequestId);
            Log.SetupRefused(logger, code, requestId);
            throw new TokenizerException(
                ErrorKind.FailedPrecondition,
                ErrorReasons.SetupFailed,
                "payment method could not be set up",
                metadata: new Dictionary<string, string>(StringComparer.Ordinal) { [StripeErrorMapper.DeclineCodeKey] = code });
        }

        return setup;
    }

    /// <summary>Reads a SetupIntent (Stripe API GET /v1/setup_intents/{id}); no Idempotency-Key (a read).</summary>
    /// <exception cref="TokenizerException">The gateway failed or refused (an unknown id: INTERNAL GATEWAY_REJECTED_REQUEST).</exception>
    public async Task<GatewaySetup> GetSetupIntentAsync(string setupIntentId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(setupIntentId);
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        var setupIntent = await SendAsync(
            StripeOperation.GetSetupIntent,
            ct => setupIntents.GetAsync(setupIntentId, null, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);
        return StripeSetupMapper.ToGatewaySetup(setupIntent)
            ?? throw InvalidResponse(StripeOperation.GetSetupIntent, "unusable setup intent", setupIntent?.StripeResponse);
    }

    /// <summary>
    /// Cancels a SetupIntent (Stripe API POST /v1/setup_intents/{id}/cancel, <c>cancellation_reason=abandoned</c>). One
    /// that is no longer cancelable (400 <c>setup_intent_unexpected_state</c>: succeeded or canceled) counts as done.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused otherwise.</exception>
    public async Task CancelSetupIntentAsync(string setupIntentId, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(setupIntentId);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = new SetupIntentCancelOptions { CancellationReason = "abandoned" };
        await SendAsync<SetupIntent?>(
            StripeOperation.CancelSetupIntent,
            async ct =>
            {
                try
                {
                    return await setupIntents.CancelAsync(setupIntentId, options, requestOptions, ct).ConfigureAwait(false);
                }
                catch (StripeException e) when (e.StripeError?.Code == "setup_intent_unexpected_state")
                {
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The newest SetupIntent of a PaymentMethod under a Customer (Stripe API GET /v1/setup_intents with
    /// <c>customer</c>, <c>payment_method</c> and <c>limit=1</c>; Stripe lists newest first), or null when none.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused.</exception>
    public async Task<GatewaySetup?> FindSetupIntentAsync(string customerId, string paymentMethodId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        ArgumentException.ThrowIfNullOrEmpty(paymentMethodId);
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        var options = new SetupIntentListOptions { Customer = customerId, PaymentMethod = paymentMethodId, Limit = 1 };
        var list = await SendAsync(
            StripeOperation.GetSetupIntent,
            ct => setupIntents.ListAsync(options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);
        var newest = list?.Data is { Count: > 0 } data ? data[0] : null;
        return newest is null
            ? null
            : StripeSetupMapper.ToGatewaySetup(newest)
                ?? throw InvalidResponse(StripeOperation.GetSetupIntent, "unusable setup intent", list!.StripeResponse);
    }

    /// <summary>
    /// Reads a Mandate (Stripe API GET /v1/mandates/{id}): id, status (active, pending, inactive), customer_acceptance type
    /// and accepted_at. The acceptance's IP address and user agent are not read.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused, or answered with an unusable Mandate.</exception>
    public async Task<Mandate> GetMandateAsync(string mandateId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(mandateId);
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        var mandate = await SendAsync(
            StripeOperation.GetMandate,
            ct => mandates.GetAsync(mandateId, null, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);
        return StripeSetupMapper.ToMandate(mandate)
            ?? throw InvalidResponse(StripeOperation.GetMandate, "unusable mandate", mandate?.StripeResponse);
    }

    /// <summary>
    /// Detaches a PaymentMethod (Stripe API POST /v1/payment_methods/{id}/detach). Irreversible. A PaymentMethod that is
    /// not attached (400 <c>payment_method_unexpected_state</c>) counts as success.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused.</exception>
    public async Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(paymentMethodId);
        var requestOptions = RequestOptionsFor(idempotencyKey);

        await SendAsync<PaymentMethod?>(
            StripeOperation.Detach,
            async ct =>
            {
                try
                {
                    return await paymentMethods.DetachAsync(paymentMethodId, null, requestOptions, ct).ConfigureAwait(false);
                }
                catch (StripeException e) when (StripeErrorMapper.IsNotAttached(e))
                {
                    var code = StripeErrorMapper.SafeToken(e.StripeError?.Code);
                    var requestId = StripeErrorMapper.SafeRequestId(e.StripeResponse?.RequestId);
                    Log.AlreadyDetached(logger, code, requestId);
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One page of a Customer's PaymentMethods (Stripe API GET /v1/customers/{id}/payment_methods with <c>limit</c> and
    /// <c>starting_after</c>), newest first, mapped to masked metadata plus metadata, Customer and created time. A page
    /// request is sent once per call (no auto-paging), so a long walk can pace itself and resume from any cursor.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not 1-100.</exception>
    /// <exception cref="TokenizerException">The gateway failed or refused. A Customer Stripe does not know (404 <c>resource_missing</c>, e.g. deleted) is not an error: <see cref="GatewayPaymentMethodPage.NoSuchCustomer"/>.</exception>
    public async Task<GatewayPaymentMethodPage> ListCustomerPaymentMethodsAsync(
        string customerId,
        string? startingAfter,
        int limit,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 100);
        var options = new CustomerPaymentMethodListOptions { Limit = limit };
        if (!string.IsNullOrEmpty(startingAfter))
        {
            options.StartingAfter = startingAfter;
        }

        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };
        var list = await SendAsync<StripeList<PaymentMethod>?>(
            StripeOperation.ListPaymentMethods,
            async ct =>
            {
                try
                {
                    return await customerPaymentMethods.ListAsync(customerId, options, requestOptions, ct).ConfigureAwait(false);
                }
                catch (StripeException e) when (StripeErrorMapper.IsMissing(e))
                {
                    // A Customer deleted at Stripe (an erasure, or someone in the Dashboard) holds no PaymentMethods and
                    // takes none: said as such, not as an empty list, so a walk goes on and reconciliation can report
                    // its tokens as never chargeable rather than guess.
                    Log.CustomerMissing(logger, StripeErrorMapper.SafeRequestId(e.StripeResponse?.RequestId));
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);

        if (list is null)
        {
            return GatewayPaymentMethodPage.NoSuchCustomer;
        }

        var data = list.Data ?? [];
        var mapped = new List<GatewayPaymentMethod>(data.Count);
        foreach (var paymentMethod in data)
        {
            if (StripePaymentMethodMapper.ToListedPaymentMethod(paymentMethod) is { } listed)
            {
                mapped.Add(listed);
            }
        }

        var next = list.HasMore && data.Count > 0 ? data[^1].Id : null;
        return new GatewayPaymentMethodPage(mapped, next);
    }

    /// <summary>
    /// Updates a PaymentMethod's billing details (Stripe API POST /v1/payment_methods/{id}): null fields unchanged, empty
    /// ones unset. Stripe only updates a PaymentMethod attached to a Customer.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused (a detached PaymentMethod: INTERNAL GATEWAY_REJECTED_REQUEST).</exception>
    public async Task UpdateBillingDetailsAsync(string paymentMethodId, BillingDetails billing, string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(paymentMethodId);
        ArgumentNullException.ThrowIfNull(billing);
        var requestOptions = RequestOptionsFor(idempotencyKey);
        var options = StripePaymentMethodMapper.ToUpdateOptions(billing);

        await SendAsync(
            StripeOperation.UpdatePaymentMethod,
            ct => paymentMethods.UpdateAsync(paymentMethodId, options, requestOptions, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes a Customer (Stripe API DELETE /v1/customers/{id}), without an Idempotency-Key (Stripe: DELETE is idempotent
    /// by definition). One that is already deleted or unknown (404 <c>resource_missing</c>) counts as success.
    /// </summary>
    /// <exception cref="TokenizerException">The gateway failed or refused.</exception>
    public async Task DeleteCustomerAsync(string customerId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        // No Idempotency-Key: Stripe documents DELETE as idempotent by definition and asks not to send one.
        var requestOptions = new RequestOptions { ApiKey = CurrentApiKey() };

        await SendAsync<Customer?>(
            StripeOperation.DeleteCustomer,
            async ct =>
            {
                try
                {
                    return await customers.DeleteAsync(customerId, null, requestOptions, ct).ConfigureAwait(false);
                }
                catch (StripeException e) when (StripeErrorMapper.IsMissing(e))
                {
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    private RequestOptions RequestOptionsFor(string idempotencyKey)
    {
        // Never generated here: an empty key would make Stripe.net send a random one, and retries of our caller would
        // then create duplicates at Stripe.
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        if (idempotencyKey.Length > MaxIdempotencyKeyLength)
        {
            throw new ArgumentException("the idempotency key is longer than Stripe's 255 characters", nameof(idempotencyKey));
        }

        return new RequestOptions { IdempotencyKey = idempotencyKey, ApiKey = CurrentApiKey() };
    }

    private string CurrentApiKey()
    {
        // Read per call: a rotated key applies from the next request. Never empty: Stripe.net would fall back to the
        // client's key, which may be the one just revoked.
        var apiKey = apiKeys.CurrentApiKey;
        return string.IsNullOrWhiteSpace(apiKey)
            ? throw new InvalidOperationException("the Stripe API key provider returned no key")
            : apiKey;
    }

    private async Task<T> SendAsync<T>(StripeOperation operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StripeErrorMapper.IsGatewayFailure(e, cancellationToken))
        {
            throw StripeErrorMapper.Map(e, operation, logger);
        }
    }

    private TokenizerException InvalidResponse(StripeOperation operation, string problem, StripeResponse? response)
    {
        var requestId = StripeErrorMapper.SafeRequestId(response?.RequestId);
        Log.InvalidResponse(logger, operation, problem, requestId);
        return new(ErrorKind.Internal, ErrorReasons.InternalError, "unexpected gateway response");
    }
}
