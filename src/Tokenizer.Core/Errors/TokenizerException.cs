namespace Tokenizer.Core.Errors;

/// <summary>How an error is reported to the caller; maps one-to-one to a gRPC status code.</summary>
public enum ErrorKind
{
    InvalidArgument,
    FailedPrecondition,
    NotFound,
    AlreadyExists,
    Aborted,
    Unavailable,
    Internal,
    PermissionDenied,
    Unauthenticated,
    ResourceExhausted,
    DeadlineExceeded,
}

/// <summary>One violated rule on one input field. Never carries the field's value.</summary>
/// <param name="Field">The request field path, e.g. <c>card.number</c>.</param>
/// <param name="Rule">The rule that failed, e.g. <c>failed checksum</c>.</param>
public sealed record FieldViolation(string Field, string Rule)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Rule}";
}

/// <summary>
/// The one exception type the domain throws. Its <see cref="Exception.Message"/> and metadata are safe to
/// return and log: they name fields, rules and stable reasons, never input values.
/// </summary>
public sealed class TokenizerException : Exception
{
    public TokenizerException(
        ErrorKind kind,
        string reason,
        string message,
        IReadOnlyList<FieldViolation>? violations = null,
        IReadOnlyDictionary<string, string>? metadata = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Reason = reason;
        Violations = violations ?? [];
        ErrorMetadata = metadata ?? new Dictionary<string, string>();
    }

    /// <summary>The status class.</summary>
    public ErrorKind Kind { get; }

    /// <summary>A stable, documented UPPER_SNAKE reason (see <see cref="ErrorReasons"/>), sent as google.rpc.ErrorInfo.reason.</summary>
    public string Reason { get; }

    /// <summary>Field violations, sent as google.rpc.BadRequest.</summary>
    public IReadOnlyList<FieldViolation> Violations { get; }

    /// <summary>Extra safe metadata (e.g. decline_code), sent as google.rpc.ErrorInfo.metadata.</summary>
    public IReadOnlyDictionary<string, string> ErrorMetadata { get; }

    /// <summary>An INVALID_ARGUMENT error listing every violation (<see cref="TokenizerErrors.Invalid"/>).</summary>
    public static TokenizerException Invalid(IReadOnlyList<FieldViolation> violations) => TokenizerErrors.Invalid(violations);
}

/// <summary>Stable error reasons, the <c>google.rpc.ErrorInfo.reason</c> values clients may switch on.</summary>
public static class ErrorReasons
{
    /// <summary>Input failed validation; see the BadRequest field violations.</summary>
    public const string ValidationFailed = "VALIDATION_FAILED";
    /// <summary>The idempotency key was used before with a different request.</summary>
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
    /// <summary>A request with the same idempotency key is still in flight; retry later.</summary>
    public const string IdempotencyKeyInFlight = "IDEMPOTENCY_KEY_IN_FLIGHT";
    /// <summary>The token does not exist (or is not visible to the caller).</summary>
    public const string TokenNotFound = "TOKEN_NOT_FOUND";
    /// <summary>The issuer declined the card; ErrorInfo.metadata.decline_code says why.</summary>
    public const string CardDeclined = "CARD_DECLINED";
    /// <summary>
    /// The card needs the cardholder's authentication (3-D Secure) before it can be set up, and the request gave no
    /// <c>return_url</c> to send them back to: FAILED_PRECONDITION naming <c>return_url</c>; nothing chargeable was left at
    /// the gateway. Send the request again with a <c>return_url</c> (a new idempotency key).
    /// </summary>
    public const string AuthenticationRequired = "AUTHENTICATION_REQUIRED";
    /// <summary>The gateway refused to set up the payment method (SetupIntent requires_payment_method or canceled); ErrorInfo.metadata.decline_code says why.</summary>
    public const string SetupFailed = "SETUP_FAILED";
    /// <summary>The gateway rejected the card number.</summary>
    public const string IncorrectNumber = "INCORRECT_NUMBER";
    /// <summary>The gateway rejected the expiry month or year.</summary>
    public const string InvalidExpiry = "INVALID_EXPIRY";
    /// <summary>The gateway rejected the CVC.</summary>
    public const string InvalidCvc = "INVALID_CVC";
    /// <summary>The gateway rejected the bank account.</summary>
    public const string BankAccountRejected = "BANK_ACCOUNT_REJECTED";
    /// <summary>The gateway rejected a parameter for another reason.</summary>
    public const string GatewayRejectedRequest = "GATEWAY_REJECTED_REQUEST";
    /// <summary>
    /// The gateway does not know the Customer a request named (Stripe: 404 <c>resource_missing</c> on <c>customer</c>),
    /// typically one deleted at the gateway. Tokenisation replaces a deleted Customer and sets up again; a caller sees
    /// this only when that was not possible: the gateway said the Customer is not deleted, or answered a replacement the
    /// request had already passed as deleted (INTERNAL: an operator reads the log).
    /// </summary>
    public const string GatewayCustomerMissing = "GATEWAY_CUSTOMER_MISSING";
    /// <summary>
    /// The reference's gateway Customer was deleted, and so were the Customers made to replace it, while this request ran
    /// (more deletions than one request follows): UNAVAILABLE, refused before any PaymentMethod was created, so nothing
    /// with the caller's details is left at the gateway. The replacements made are recorded: retry with the same
    /// idempotency key and the request goes on from there.
    /// </summary>
    public const string CustomerReplacementIncomplete = "CUSTOMER_REPLACEMENT_INCOMPLETE";
    /// <summary>
    /// FAILED_PRECONDITION: the gateway refused to update a PaymentMethod that is not attached to a Customer (Stripe: 400
    /// <c>payment_method_unexpected_state</c>; it updates attached PaymentMethods only), e.g. one detached behind our back.
    /// </summary>
    public const string PaymentMethodNotAttached = "PAYMENT_METHOD_NOT_ATTACHED";
    /// <summary>
    /// FAILED_PRECONDITION on a tokenisation: an erasure of the customer_reference is in progress, so nothing new is set up
    /// for the person until it completes (EraseSubject again finishes it). Nothing was sent to the gateway.
    /// </summary>
    public const string ErasureInProgress = "ERASURE_IN_PROGRESS";
    /// <summary>
    /// ABORTED on CorrectSubjectData: another correction of the same customer_reference (under another key) is still
    /// running; retry once it has finished. Corrections of one person run one at a time, so the gateway and the ledger
    /// end with the same details.
    /// </summary>
    public const string CorrectionInProgress = "CORRECTION_IN_PROGRESS";
    /// <summary>
    /// ABORTED on EraseSubject: another EraseSubject call for the same customer_reference (under another key) is running,
    /// or was cut off and holds the person until its claim's lease ends (Tokenizer:PendingLeaseSeconds); retry once it
    /// has finished. One erasure call per person runs at a time, so concurrent calls never answer different counts.
    /// </summary>
    public const string ErasureRunning = "ERASURE_RUNNING";
    /// <summary>The gateway account may not receive raw card numbers (Stripe: raw card data APIs not enabled).</summary>
    public const string RawCardDataNotEnabled = "RAW_CARD_DATA_NOT_ENABLED";
    /// <summary>The gateway refused our credentials (401/403): an operator must act.</summary>
    public const string GatewayAuthenticationFailed = "GATEWAY_AUTHENTICATION_FAILED";
    /// <summary>The gateway is unreachable, rate-limiting or failing; retry with the same idempotency key.</summary>
    public const string GatewayUnavailable = "GATEWAY_UNAVAILABLE";
    /// <summary>
    /// The ledger (the token database) cannot be read or written: locked past its busy timeout, read-only, full or not
    /// openable. Nothing was sent to the gateway before it; retry with the same idempotency key.
    /// </summary>
    public const string LedgerUnavailable = "LEDGER_UNAVAILABLE";
    /// <summary>The call ran past the server's per-call cap (Tokenizer:Limits:CallTimeoutSeconds).</summary>
    public const string CallTimedOut = "CALL_TIMED_OUT";
    /// <summary>The call was refused by the per-caller rate limit.</summary>
    public const string RateLimited = "RATE_LIMITED";
    /// <summary>
    /// INVALID_ARGUMENT: the request message is not valid protobuf for the method (malformed bytes, or a string field
    /// that is not valid UTF-8). Nothing ran; fix the client, do not retry.
    /// </summary>
    public const string MalformedRequest = "MALFORMED_REQUEST";
    /// <summary>An unexpected failure; details are in the server log, not the response.</summary>
    public const string InternalError = "INTERNAL_ERROR";
    /// <summary>The audit trail could not record the call, so the call failed (fail closed); an operator must act.</summary>
    public const string AuditUnavailable = "AUDIT_UNAVAILABLE";

    /// <summary>NOT_FOUND: no reconciliation run with that id.</summary>
    public const string ReconciliationNotFound = "RECONCILIATION_NOT_FOUND";

    /// <summary>RESOURCE_EXHAUSTED: the caller already holds as many WatchTokenEvents streams as it may; close one first.</summary>
    public const string TooManyWatches = "TOO_MANY_WATCHES";

    /// <summary>UNAVAILABLE: the server is shutting down and ended the stream; reconnect (to any replica) with the last cursor.</summary>
    public const string ShuttingDown = "SHUTTING_DOWN";
}
