using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Ports;

/// <summary>
/// The payment gateway that swaps card or bank details for a reusable token (Stripe: a PaymentMethod
/// attached to a Customer). Implementations throw <see cref="Errors.TokenizerException"/> only, with
/// messages that never echo input. Every call carries an idempotency key that is the same on every attempt.
/// </summary>
public interface ITokenGateway
{
    /// <summary>The gateway's name as recorded on tokens, e.g. <c>stripe</c>.</summary>
    string Name { get; }

    /// <summary>Creates the gateway Customer for <paramref name="customerReference"/> (Stripe API POST /v1/customers).</summary>
    /// <returns>The Customer id, e.g. <c>cus_...</c>.</returns>
    Task<string> CreateCustomerAsync(string customerReference, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Creates a PaymentMethod from card or bank details (Stripe API POST /v1/payment_methods).</summary>
    Task<GatewayPaymentMethod> CreatePaymentMethodAsync(
        PaymentMethodRequest request,
        string idempotencyKey,
        CancellationToken cancellationToken);

    /// <summary>Attaches a PaymentMethod to a Customer (Stripe API POST /v1/payment_methods/{id}/attach). Declines surface here.</summary>
    Task AttachAsync(string paymentMethodId, string customerId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Creates and confirms a SetupIntent for an existing PaymentMethod under a Customer, for off-session use (Stripe API
    /// POST /v1/setup_intents with <c>customer</c>, <c>payment_method</c>, <c>allowed_payment_method_types[0]</c> (API 2026-10-28.endive; <c>payment_method_types</c> is no longer writable there),
    /// <c>usage=off_session</c>, <c>confirm=true</c>, metadata, and <c>return_url</c> for cards or <c>mandate_data</c> for
    /// debits). A succeeded SetupIntent attaches the PaymentMethod to the Customer.
    /// </summary>
    /// <returns>The SetupIntent's outcome: succeeded, requires_action (with the next action), processing.</returns>
    /// <exception cref="Errors.TokenizerException">
    /// A synchronous refusal: a decline (FAILED_PRECONDITION CARD_DECLINED), rejected fields (INVALID_ARGUMENT), a
    /// SetupIntent answered requires_payment_method or canceled (FAILED_PRECONDITION SETUP_FAILED); other gateway failures
    /// as for every call.
    /// </exception>
    Task<GatewaySetup> CreateSetupIntentAsync(SetupIntentRequest request, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a SetupIntent (Stripe API GET /v1/setup_intents/{id}): a read, so no idempotency key. A requires_payment_method
    /// or canceled SetupIntent is <see cref="SetupStatus.Failed"/> with its <c>last_setup_error</c> code, not an error.
    /// </summary>
    Task<GatewaySetup> GetSetupIntentAsync(string setupIntentId, CancellationToken cancellationToken);

    /// <summary>
    /// The newest SetupIntent of <paramref name="paymentMethodId"/> under <paramref name="customerId"/> (Stripe API GET
    /// /v1/setup_intents?customer=...&amp;payment_method=...&amp;limit=1), or null when there is none: how the recovery
    /// worker learns the setup of a PaymentMethod whose request was cut off after the SetupIntent.
    /// </summary>
    Task<GatewaySetup?> FindSetupIntentAsync(string customerId, string paymentMethodId, CancellationToken cancellationToken);

    /// <summary>
    /// Cancels a SetupIntent that has not succeeded (Stripe API POST /v1/setup_intents/{id}/cancel), so the customer can
    /// no longer complete it and nothing gets attached. One that is no longer cancelable (succeeded, canceled: 400
    /// <c>setup_intent_unexpected_state</c>) counts as done: the caller detaches what a success attached.
    /// </summary>
    Task CancelSetupIntentAsync(string setupIntentId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Reads a Mandate (Stripe API GET /v1/mandates/{id}): id, status, acceptance type and time. No personal data is returned.</summary>
    Task<Mandate> GetMandateAsync(string mandateId, CancellationToken cancellationToken);

    /// <summary>
    /// Detaches a PaymentMethod (Stripe API POST /v1/payment_methods/{id}/detach). Irreversible.
    /// A PaymentMethod that is already detached counts as success.
    /// </summary>
    Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the PaymentMethods attached to a Customer, newest first (Stripe API GET
    /// /v1/customers/{id}/payment_methods, cursor <c>starting_after</c>). Each entry carries its metadata, Customer and
    /// creation time. Entries of a type Tokenizer does not issue are left out of <see cref="GatewayPaymentMethodPage.PaymentMethods"/>
    /// but still move the cursor. A Customer the gateway does not know (Stripe: 404 <c>resource_missing</c>, e.g. deleted)
    /// is not an error: an empty last page with <see cref="GatewayPaymentMethodPage.CustomerMissing"/> set, so a caller
    /// can tell "no such Customer" from "a Customer holding nothing".
    /// </summary>
    /// <param name="customerId">The Customer, <c>cus_...</c>.</param>
    /// <param name="startingAfter">The cursor from the previous page's <see cref="GatewayPaymentMethodPage.NextStartingAfter"/>, or null for the first page.</param>
    /// <param name="limit">Page size, 1-100.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    Task<GatewayPaymentMethodPage> ListCustomerPaymentMethodsAsync(
        string customerId,
        string? startingAfter,
        int limit,
        CancellationToken cancellationToken);

    // Privacy.

    /// <summary>
    /// Updates a PaymentMethod's billing details (Stripe API POST /v1/payment_methods/{id}; the PaymentMethod must be
    /// attached to a Customer). Null fields are left as they are; empty strings unset the field.
    /// </summary>
    Task UpdateBillingDetailsAsync(string paymentMethodId, BillingDetails billing, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a Customer permanently (Stripe API DELETE /v1/customers/{id}; idempotent by definition, so Stripe takes no
    /// Idempotency-Key on it). A Customer that is already deleted or unknown counts as success.
    /// </summary>
    Task DeleteCustomerAsync(string customerId, CancellationToken cancellationToken);

    /// <summary>
    /// True when the Customer is deleted at the gateway (Stripe API GET /v1/customers/{id} answers <c>deleted: true</c>
    /// or 404 <c>resource_missing</c>). A gateway without deletions answers false.
    /// </summary>
    /// <exception cref="Errors.TokenizerException">The gateway failed or refused otherwise.</exception>
    Task<bool> IsCustomerDeletedAsync(string customerId, CancellationToken cancellationToken) => Task.FromResult(false);
}

/// <summary>One page of a Customer's PaymentMethods.</summary>
/// <param name="PaymentMethods">The entries of a type Tokenizer issues, newest first.</param>
/// <param name="NextStartingAfter">The cursor for the next page (the last id the gateway returned), or null on the last page.</param>
public sealed record GatewayPaymentMethodPage(IReadOnlyList<GatewayPaymentMethod> PaymentMethods, string? NextStartingAfter)
{
    /// <summary>
    /// The answer for a Customer the gateway does not know (Stripe API 404 <c>resource_missing</c> on the list: deleted,
    /// in the Dashboard or by an erasure): no entries, no cursor, <see cref="CustomerMissing"/> set.
    /// </summary>
    public static GatewayPaymentMethodPage NoSuchCustomer { get; } = new([], null) { CustomerMissing = true };

    /// <summary>
    /// True when the gateway answered that it has no such Customer, rather than a list (which may be empty): nothing can
    /// be attached to it any more, whatever a SetupIntent for it says.
    /// </summary>
    public bool CustomerMissing { get; init; }
}

/// <summary>What to create at the gateway: exactly one of <see cref="Card"/> or <see cref="BankAccount"/>.</summary>
/// <param name="Card">Validated card, or null.</param>
/// <param name="BankAccount">Validated bank account, or null.</param>
/// <param name="Billing">Cleaned billing details; empty fields are not sent.</param>
/// <param name="Metadata">Non-sensitive metadata to store on the PaymentMethod (our intent id).</param>
public sealed record PaymentMethodRequest(
    CardDetails? Card,
    BankAccountDetails? BankAccount,
    BillingDetails Billing,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>What to set up at the gateway.</summary>
/// <param name="CustomerId">The Customer, <c>cus_...</c>.</param>
/// <param name="PaymentMethodId">The PaymentMethod just created, <c>pm_...</c>.</param>
/// <param name="Type">Its type (sent as <c>allowed_payment_method_types[0]</c> (API 2026-10-28.endive; <c>payment_method_types</c> is no longer writable there)).</param>
/// <param name="Metadata">Non-sensitive metadata (our intent id).</param>
/// <param name="ReturnUrl">Cards: where 3-D Secure returns the cardholder; null when the caller gave none.</param>
/// <param name="MandateAcceptance">Debits: the customer's acceptance, sent as <c>mandate_data</c>; null for cards.</param>
public sealed record SetupIntentRequest(
    string CustomerId,
    string PaymentMethodId,
    TokenType Type,
    IReadOnlyDictionary<string, string> Metadata,
    string? ReturnUrl,
    MandateAcceptance? MandateAcceptance);

/// <summary>A SetupIntent as the gateway reports it.</summary>
/// <param name="Id">The SetupIntent, <c>seti_...</c>.</param>
/// <param name="Status">
/// Ready (succeeded), RequiresAction, Processing, or Failed (requires_payment_method with a last setup error, or canceled).
/// </param>
/// <param name="NextAction">While requires_action with a redirect_to_url or verify_with_microdeposits action; null for
/// other kinds of action (e.g. use_stripe_sdk, which a server cannot complete).</param>
/// <param name="FailureCode">While Failed: the last setup error's decline code or code (sanitised), or <c>canceled</c>.</param>
/// <param name="MandateId">Debits: the Mandate, <c>mandate_...</c>, once Stripe made one.</param>
/// <param name="PaymentMethodId">The PaymentMethod it sets up.</param>
public sealed record GatewaySetup(
    string Id,
    SetupStatus Status,
    NextAction? NextAction,
    string? FailureCode,
    string? MandateId,
    string? PaymentMethodId);

/// <summary>A PaymentMethod as the gateway reports it: id and masked metadata only.</summary>
public sealed record GatewayPaymentMethod(
    string Id,
    TokenType Type,
    CardMetadata? Card,
    BankAccountMetadata? BankAccount)
{
    /// <summary>The Customer it is attached to (<c>cus_...</c>), or null when detached or not reported.</summary>
    public string? CustomerId { get; init; }

    /// <summary>
    /// Its metadata (ours: <c>tokenizer_intent</c>); empty when none or not reported. Compared by reference in the
    /// record's equality; the shared empty default keeps unlisted values equal.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;

    /// <summary>When the gateway created it (UTC), or null when not reported.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}
