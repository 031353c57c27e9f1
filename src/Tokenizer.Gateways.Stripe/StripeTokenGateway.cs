using Microsoft.Extensions.Logging;
using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// <see cref="ITokenGateway"/> over Stripe (Stripe.net 53.1.0, through <see cref="IStripeClient"/>). Every call sends
/// the given idempotency key unchanged as Stripe's <c>Idempotency-Key</c> (Stripe.net's own retries reuse it) and
/// passes the caller's <see cref="CancellationToken"/>. Every call also sends the key that
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
    /// <exception cref="TokenizerException">The gateway failed or refused. A Customer Stripe does not know (404 <c>resource_missing</c>, e.g. deleted) is an empty last page, not an error.</exception>
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
                    // A Customer deleted at Stripe (an erasure, or someone in the Dashboard) holds no PaymentMethods:
                    // an empty last page, so a walk goes on and its tokens show as missing at the gateway.
                    Log.CustomerMissing(logger, StripeErrorMapper.SafeRequestId(e.StripeResponse?.RequestId));
                    return null;
                }
            },
            cancellationToken).ConfigureAwait(false);

        var data = list?.Data ?? [];
        var mapped = new List<GatewayPaymentMethod>(data.Count);
        foreach (var paymentMethod in data)
        {
            if (StripePaymentMethodMapper.ToListedPaymentMethod(paymentMethod) is { } listed)
            {
                mapped.Add(listed);
            }
        }

        var next = list?.HasMore == true && data.Count > 0 ? data[^1].Id : null;
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
