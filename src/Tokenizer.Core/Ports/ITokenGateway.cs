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
    /// Detaches a PaymentMethod (Stripe API POST /v1/payment_methods/{id}/detach). Irreversible.
    /// A PaymentMethod that is already detached counts as success.
    /// </summary>
    Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the PaymentMethods attached to a Customer, newest first (Stripe API GET
    /// /v1/customers/{id}/payment_methods, cursor <c>starting_after</c>). Each entry carries its metadata, Customer and
    /// creation time. Entries of a type Tokenizer does not issue are left out of <see cref="GatewayPaymentMethodPage.PaymentMethods"/>
    /// but still move the cursor.
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

    // Privacy (issue #6).

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
}

/// <summary>One page of a Customer's PaymentMethods.</summary>
/// <param name="PaymentMethods">The entries of a type Tokenizer issues, newest first.</param>
/// <param name="NextStartingAfter">The cursor for the next page (the last id the gateway returned), or null on the last page.</param>
public sealed record GatewayPaymentMethodPage(IReadOnlyList<GatewayPaymentMethod> PaymentMethods, string? NextStartingAfter);

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
