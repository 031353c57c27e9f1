using Microsoft.Extensions.Logging;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Every log line of the Stripe adapter. Parameters are Stripe's error type, code, param name, HTTP status and
/// request id (all sanitised by <see cref="StripeErrorMapper"/>), our operation name and exception type names:
/// never Stripe's error message (it can echo input), never a request or response body.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(
        EventId = 4100,
        EventName = "StripeRawCardDataNotEnabled",
        Level = LogLevel.Error,
        Message = "Stripe refused a raw card number on {Operation} (status {StatusCode}, request {RequestId}): raw card data APIs must be enabled on the Stripe account (live mode requires PCI DSS SAQ D evidence); every card tokenisation fails until then")]
    public static partial void RawCardDataNotEnabled(ILogger logger, StripeOperation operation, int statusCode, string requestId);

    [LoggerMessage(
        EventId = 4101,
        EventName = "StripeAuthenticationFailed",
        Level = LogLevel.Critical,
        Message = "Stripe refused our credentials on {Operation} (status {StatusCode}, type {ErrorType}, code {ErrorCode}, request {RequestId}): check or rotate the Stripe API key and its permissions")]
    public static partial void AuthenticationFailed(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string requestId);

    [LoggerMessage(
        EventId = 4102,
        EventName = "StripeRequestRejected",
        Level = LogLevel.Error,
        Message = "Stripe rejected a {Operation} request as invalid (status {StatusCode}, type {ErrorType}, code {ErrorCode}, param {Param}, request {RequestId}): a bug in how we build the request")]
    public static partial void RequestRejected(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string param, string requestId);

    [LoggerMessage(
        EventId = 4103,
        EventName = "StripeIdempotencyConflict",
        Level = LogLevel.Error,
        Message = "Stripe reported an idempotency conflict on {Operation} (status {StatusCode}, type {ErrorType}, code {ErrorCode}, request {RequestId}): the same Idempotency-Key was sent with different parameters")]
    public static partial void IdempotencyConflict(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string requestId);

    [LoggerMessage(
        EventId = 4104,
        EventName = "StripeIdempotencyKeyInFlight",
        Level = LogLevel.Warning,
        Message = "Stripe is still processing an earlier {Operation} request with the same Idempotency-Key (request {RequestId})")]
    public static partial void IdempotencyKeyInFlight(ILogger logger, StripeOperation operation, string requestId);

    [LoggerMessage(
        EventId = 4105,
        EventName = "StripeUnavailable",
        Level = LogLevel.Warning,
        Message = "Stripe failed a {Operation} request (status {StatusCode}, type {ErrorType}, code {ErrorCode}, request {RequestId}); retries exhausted")]
    public static partial void Unavailable(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string requestId);

    [LoggerMessage(
        EventId = 4106,
        EventName = "StripeTransportFailed",
        Level = LogLevel.Warning,
        Message = "Stripe {Operation} request failed in transport ({ExceptionType}); retries exhausted")]
    public static partial void TransportFailed(ILogger logger, StripeOperation operation, string exceptionType);

    [LoggerMessage(
        EventId = 4107,
        EventName = "StripeTimedOut",
        Level = LogLevel.Warning,
        Message = "Stripe {Operation} request timed out; retries exhausted")]
    public static partial void TimedOut(ILogger logger, StripeOperation operation);

    [LoggerMessage(
        EventId = 4108,
        EventName = "StripeCardDeclined",
        Level = LogLevel.Information,
        Message = "Stripe declined the card on {Operation} (code {ErrorCode}, decline code {DeclineCode}, request {RequestId})")]
    public static partial void CardDeclined(ILogger logger, StripeOperation operation, string errorCode, string declineCode, string requestId);

    [LoggerMessage(
        EventId = 4109,
        EventName = "StripeInputRejected",
        Level = LogLevel.Information,
        Message = "Stripe rejected the payment details on {Operation} (type {ErrorType}, code {ErrorCode}, param {Param}, request {RequestId})")]
    public static partial void InputRejected(ILogger logger, StripeOperation operation, string errorType, string errorCode, string param, string requestId);

    [LoggerMessage(
        EventId = 4110,
        EventName = "StripeUnexpectedError",
        Level = LogLevel.Error,
        Message = "Stripe answered {Operation} with an unexpected error (status {StatusCode}, type {ErrorType}, code {ErrorCode}, param {Param}, request {RequestId})")]
    public static partial void UnexpectedError(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string param, string requestId);

    [LoggerMessage(
        EventId = 4111,
        EventName = "StripeInvalidResponse",
        Level = LogLevel.Error,
        Message = "Stripe answered {Operation} with a response we cannot use ({Problem}, request {RequestId})")]
    public static partial void InvalidResponse(ILogger logger, StripeOperation operation, string problem, string requestId);

    [LoggerMessage(
        EventId = 4112,
        EventName = "StripeAlreadyDetached",
        Level = LogLevel.Information,
        Message = "Stripe reports the PaymentMethod is not attached (code {ErrorCode}, request {RequestId}); detach counts as done")]
    public static partial void AlreadyDetached(ILogger logger, string errorCode, string requestId);

    [LoggerMessage(
        EventId = 4113,
        EventName = "StripeRetrying",
        Level = LogLevel.Warning,
        Message = "Stripe {Method} request failed ({Outcome}); retry {Attempt} in {DelayMilliseconds} ms, sent again unchanged ({IdempotencyKey})")]
    public static partial void Retrying(ILogger logger, string method, string outcome, int attempt, long delayMilliseconds, string idempotencyKey);

    [LoggerMessage(
        EventId = 4114,
        EventName = "StripeCircuitOpened",
        Level = LogLevel.Error,
        Message = "Stripe circuit opened after {Outcome}: calls fail fast with UNAVAILABLE for {BreakMilliseconds} ms")]
    public static partial void CircuitOpened(ILogger logger, string outcome, long breakMilliseconds);

    [LoggerMessage(
        EventId = 4115,
        EventName = "StripeCircuitHalfOpened",
        Level = LogLevel.Information,
        Message = "Stripe circuit half-open: the next request is a trial")]
    public static partial void CircuitHalfOpened(ILogger logger);

    [LoggerMessage(
        EventId = 4116,
        EventName = "StripeCircuitClosed",
        Level = LogLevel.Information,
        Message = "Stripe circuit closed: requests flow again")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(
        EventId = 4117,
        EventName = "StripeCircuitOpenRejected",
        Level = LogLevel.Warning,
        Message = "Stripe {Operation} request not sent: the circuit is open (UNAVAILABLE without calling Stripe)")]
    public static partial void CircuitOpenRejected(ILogger logger, StripeOperation operation);

    [LoggerMessage(
        EventId = 4118,
        EventName = "StripeCustomerMissing",
        Level = LogLevel.Warning,
        Message = "Stripe has no such Customer (deleted?); its PaymentMethod list is answered as a missing Customer (request {RequestId})")]
    public static partial void CustomerMissing(ILogger logger, string requestId);

    // Warning, not Error: the caller reused its key for another request (the ledger normally refuses that first); an
    // operator has nothing to fix. Error stays for what only we can fix (4103: a conflict of our own making).
    [LoggerMessage(
        EventId = 4119,
        EventName = "StripeIdempotencyKeyReused",
        Level = LogLevel.Warning,
        Message = "Stripe refused a {Operation} request: its Idempotency-Key was used before with other parameters (status {StatusCode}, type {ErrorType}, code {ErrorCode}, request {RequestId}); answered IDEMPOTENCY_KEY_REUSED")]
    public static partial void IdempotencyKeyReused(ILogger logger, StripeOperation operation, int statusCode, string errorType, string errorCode, string requestId);

    [LoggerMessage(
        EventId = 4120,
        EventName = "StripeSetupRefused",
        Level = LogLevel.Information,
        Message = "Stripe refused to set up a payment method: SetupIntent requires_payment_method or canceled (code {DeclineCode}, request {RequestId})")]
    public static partial void SetupRefused(ILogger logger, string declineCode, string requestId);

    // Warning, not Error: nothing in our request is wrong; the Customer was deleted at Stripe (the tokenisation replaces
    // it and retries; the customer.deleted event revokes its tokens).
    [LoggerMessage(
        EventId = 4121,
        EventName = "StripeCustomerNotFound",
        Level = LogLevel.Warning,
        Message = "Stripe does not know the Customer a {Operation} request named (404 resource_missing on customer, request {RequestId}): deleted at Stripe")]
    public static partial void CustomerNotFound(ILogger logger, StripeOperation operation, string requestId);

    // Warning, not Error: the request was sound; the PaymentMethod was detached (its Customer deleted, or detached
    // elsewhere) before we asked, and Stripe updates attached PaymentMethods only.
    [LoggerMessage(
        EventId = 4122,
        EventName = "StripePaymentMethodNotAttached",
        Level = LogLevel.Warning,
        Message = "Stripe refused a {Operation} request: the PaymentMethod is not attached to a Customer (400 payment_method_unexpected_state, request {RequestId})")]
    public static partial void PaymentMethodNotAttached(ILogger logger, StripeOperation operation, string requestId);
}
