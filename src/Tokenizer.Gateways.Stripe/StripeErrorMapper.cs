using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Stripe;
using Tokenizer.Core.Errors;

namespace Tokenizer.Gateways.Stripe;

/// <summary>The Stripe call a failure came from; decides a few mappings and names the call in logs.</summary>
internal enum StripeOperation
{
    CreateCustomer,
    CreatePaymentMethod,
    Attach,
    Detach,
    ListPaymentMethods,
    UpdatePaymentMethod,
    DeleteCustomer,
    CreateSetupIntent,
    GetSetupIntent,
    GetMandate,
    CancelSetupIntent,
    GetPaymentMethod,
    GetCustomer,
    ListEvents,
}

/// <summary>
/// Turns what Stripe.net throws into <see cref="TokenizerException"/>. Maps on <see cref="StripeError.Type"/>,
/// <see cref="StripeError.Code"/>, <see cref="StripeError.Param"/> and the HTTP status, never on message text, with one
/// documented exception (the raw-card-data refusal, which Stripe only tells apart by its message). The exceptions
/// it builds carry our own fixed messages, allow-listed field paths and sanitised decline codes, and no inner
/// exception: Stripe's message can echo input (a card number) and must not reach a log or a caller.
/// </summary>
internal static class StripeErrorMapper
{
    /// <summary>The start of Stripe's message when raw card data APIs are not enabled on the account (Stripe docs).</summary>
    internal const string RawCardDataMessagePrefix = "Sending credit card numbers directly to the Stripe API is generally unsafe";

    internal const string DeclineCodeKey = "decline_code";
    internal const string NotAttachedCode = "payment_method_unexpected_state";

    private const string CardError = "card_error";
    private const string InvalidRequestError = "invalid_request_error";
    private const string IdempotencyError = "idempotency_error";
    private const string ApiError = "api_error";
    private const string IdempotencyKeyInUse = "idempotency_key_in_use";
    private const string ResourceMissing = "resource_missing";
    private const string RejectedByGateway = "rejected by the gateway";
    private const string Missing = "-";
    private const string Invalid = "(invalid)";
    private const int MaxTokenLength = 64;

    /// <summary>Stripe's nested parameter names of bank details and the request field paths (proto) they stand for.</summary>
    private static readonly FrozenDictionary<string, string> BankFieldPaths = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["au_becs_debit[bsb_number]"] = "au_becs_debit.bsb_number",
        ["au_becs_debit[account_number]"] = "au_becs_debit.account_number",
        ["sepa_debit[iban]"] = "sepa_debit.iban",
        ["bacs_debit[sort_code]"] = "bacs_debit.sort_code",
        ["bacs_debit[account_number]"] = "bacs_debit.account_number",
        ["us_bank_account[routing_number]"] = "us_bank_account.routing_number",
        ["us_bank_account[account_number]"] = "us_bank_account.account_number",
        ["us_bank_account[account_holder_type]"] = "us_bank_account.account_holder_type",
        ["us_bank_account[account_type]"] = "us_bank_account.account_type",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Stripe's billing_details parameter names and the request field paths (proto) they stand for.</summary>
    private static readonly FrozenDictionary<string, string> BillingFieldPaths = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["billing_details[name]"] = "billing_details.name",
        ["billing_details[email]"] = "billing_details.email",
        ["billing_details[phone]"] = "billing_details.phone",
        ["billing_details[address][line1]"] = "billing_details.address.line1",
        ["billing_details[address][line2]"] = "billing_details.address.line2",
        ["billing_details[address][city]"] = "billing_details.address.city",
        ["billing_details[address][state]"] = "billing_details.address.state",
        ["billing_details[address][postal_code]"] = "billing_details.address.postal_code",
        ["billing_details[address][country]"] = "billing_details.address.country",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] BankPrefixes = ["au_becs_debit", "sepa_debit", "bacs_debit", "us_bank_account"];

    /// <summary>Codes that mean the issuer declined the card (Stripe's decline test cards), as opposed to bad input.</summary>
    private static readonly FrozenSet<string> DeclineCodes = new[]
    {
        "card_declined", "expired_card", "incorrect_cvc", "insufficient_funds", "lost_card", "stolen_card",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="exception"/> is a gateway failure to map: any <see cref="StripeException"/>, a network
    /// failure (<see cref="HttpRequestException"/>, <see cref="IOException"/>), a timeout (the resilience pipeline's
    /// <see cref="TimeoutRejectedException"/>, or a cancellation while the caller's token is not cancelled) or an open
    /// circuit (<see cref="BrokenCircuitException"/>; any Polly <see cref="ExecutionRejectedException"/>). The caller's
    /// own cancellation is not: it propagates as it is.
    /// </summary>
    public static bool IsGatewayFailure(Exception exception, CancellationToken callerToken) => exception switch
    {
        OperationCanceledException => !callerToken.IsCancellationRequested,
        StripeException or HttpRequestException or IOException or ExecutionRejectedException => true,
        _ => false,
    };

    /// <summary>Detach answered 400 <c>payment_method_unexpected_state</c>: the PaymentMethod is not attached (any more).</summary>
    public static bool IsNotAttached(StripeException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.HttpStatusCode == System.Net.HttpStatusCode.BadRequest
            && string.Equals(exception.StripeError?.Code, NotAttachedCode, StringComparison.Ordinal);
    }

    /// <summary>Delete answered 404 <c>resource_missing</c>: the Customer is deleted already (or never existed).</summary>
    public static bool IsMissing(StripeException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.HttpStatusCode == System.Net.HttpStatusCode.NotFound
            && string.Equals(exception.StripeError?.Code, ResourceMissing, StringComparison.Ordinal);
    }

    /// <summary>Maps one gateway failure (see <see cref="IsGatewayFailure"/>) and logs it once.</summary>
    public static TokenizerException Map(Exception exception, StripeOperation operation, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(logger);
        switch (exception)
        {
            case StripeException stripe:
                return MapStripe(stripe, operation, logger);
            case BrokenCircuitException:
                Log.CircuitOpenRejected(logger, operation);
                return Unavailable();
            case TimeoutRejectedException or OperationCanceledException:
                Log.TimedOut(logger, operation);
                return Unavailable();
            default:
                Log.TransportFailed(logger, operation, exception.GetType().Name);
                return Unavailable();
        }
    }

    /// <summary>
    /// A Stripe type, code or param name made safe to log: ASCII letters, digits, <c>_ - . [ ]</c>, at most 64
    /// characters and no run of more than three digits (so no card or account number fits); otherwise "(invalid)".
    /// </summary>
    internal static string SafeToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return Missing;
        }

        if (value.Length > MaxTokenLength)
        {
            return Invalid;
        }

        var digitRun = 0;
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.' or '[' or ']'))
            {
                return Invalid;
            }

            digitRun = char.IsAsciiDigit(c) ? digitRun + 1 : 0;
            if (digitRun > 3)
            {
                return Invalid;
            }
        }

        return value;
    }

    /// <summary>A Stripe request id (<c>req_...</c>, from the Request-Id header) made safe to log.</summary>
    internal static string SafeRequestId(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return Missing;
        }

        return value.Length <= MaxTokenLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? value : Invalid;
    }

    /// <summary>A decline code for ErrorInfo metadata: Stripe's decline codes are lower-case words and underscores.</summary>
    internal static string SafeDeclineCode(string? value) =>
        value is { Length: > 0 and <= MaxTokenLength } && value.All(c => c is (>= 'a' and <= 'z') or '_') ? value : "unknown";

    private static TokenizerException MapStripe(StripeException exception, StripeOperation operation, ILogger logger)
    {
        var status = (int)exception.HttpStatusCode;
        var error = exception.StripeError;
        var type = error?.Type;
        var code = error?.Code;
        var requestId = SafeRequestId(exception.StripeResponse?.RequestId ?? error?.StripeResponse?.RequestId);
        var safeType = SafeToken(type);
        var safeCode = SafeToken(code);
        var safeParam = SafeToken(error?.Param);

        if (status is 401 or 403)
        {
            Log.AuthenticationFailed(logger, operation, status, safeType, safeCode, requestId);
            return new(ErrorKind.Internal, ErrorReasons.GatewayAuthenticationFailed, "gateway authentication failed");
        }

        if (error is null || status == 429 || status >= 500 || Is(type, ApiError))
        {
            Log.Unavailable(logger, operation, status, safeType, safeCode, requestId);
            return Unavailable();
        }

        // The one mapping on message text: Stripe gives this refusal no code of its own (REFERENCE.md section 1).
        if (Is(type, InvalidRequestError)
            && status is 400 or 402
            && error.Message is { } message
            && message.StartsWith(RawCardDataMessagePrefix, StringComparison.Ordinal))
        {
            Log.RawCardDataNotEnabled(logger, operation, status, requestId);
            return new(
                ErrorKind.FailedPrecondition,
                ErrorReasons.RawCardDataNotEnabled,
                "the gateway account does not accept raw card numbers");
        }

        if (Is(code, IdempotencyKeyInUse))
        {
            Log.IdempotencyKeyInFlight(logger, operation, requestId);
            return new(
                ErrorKind.Aborted,
                ErrorReasons.IdempotencyKeyInFlight,
                "a gateway request with this idempotency key is still in progress; retry");
        }

        // Our key was used before with other parameters: after a failed attempt released the caller's key, the caller
        // reused it for a different request. That is the caller's reuse, said the same way the ledger says it.
        if (Is(type, IdempotencyError))
        {
            Log.IdempotencyKeyReused(logger, operation, status, safeType, safeCode, requestId);
            return new(
                ErrorKind.AlreadyExists,
                ErrorReasons.IdempotencyKeyReused,
                "idempotency_key: already used with a different request");
        }

        if (status == 409)
        {
            Log.IdempotencyConflict(logger, operation, status, safeType, safeCode, requestId);
            return new(ErrorKind.Internal, ErrorReasons.InternalError, "gateway idempotency conflict");
        }

        if (MapCardInput(code, operation) is { } rejected)
        {
            Log.InputRejected(logger, operation, safeType, safeCode, safeParam, requestId);
            return rejected;
        }

        if (Is(code, "processing_error"))
        {
            Log.Unavailable(logger, operation, status, safeType, safeCode, requestId);
            return Unavailable();
        }

        if (Is(type, CardError) || (code is not null && DeclineCodes.Contains(code)))
        {
            var declineCode = SafeDeclineCode(error.DeclineCode ?? code);
            Log.CardDeclined(logger, operation, safeCode, declineCode, requestId);
            return new(
                ErrorKind.FailedPrecondition,
                ErrorReasons.CardDeclined,
                "card declined",
                metadata: new Dictionary<string, string>(StringComparer.Ordinal) { [DeclineCodeKey] = declineCode });
        }

        // The Customer we named is unknown to Stripe: deleted there (Dashboard, API, an erasure whose customer.deleted is
        // not processed yet). Not a defect in our request, so not an Error; typed so the tokenisation can replace it.
        if (Is(type, InvalidRequestError) && status == 404 && Is(code, ResourceMissing) && Is(error.Param, "customer"))
        {
            Log.CustomerNotFound(logger, operation, requestId);
            return new(ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, "the gateway does not know the customer");
        }

        // Stripe updates attached PaymentMethods only: one detached behind our back (a Customer deleted in the Dashboard,
        // a detach elsewhere) is a state of the gateway's object, not a defect in our request, so not an Error.
        if (operation == StripeOperation.UpdatePaymentMethod && Is(type, InvalidRequestError) && status == 400 && Is(code, NotAttachedCode))
        {
            Log.PaymentMethodNotAttached(logger, operation, requestId);
            return new(ErrorKind.FailedPrecondition, ErrorReasons.PaymentMethodNotAttached, "the payment method is not attached at the gateway");
        }

        if (Is(type, InvalidRequestError))
        {
            if (BillingFieldPath(error.Param) is { } billingField)
            {
                Log.InputRejected(logger, operation, safeType, safeCode, safeParam, requestId);
                return new(
                    ErrorKind.InvalidArgument,
                    ErrorReasons.ValidationFailed,
                    "billing details rejected by the gateway",
                    [new FieldViolation(billingField, RejectedByGateway)]);
            }

            if (BankFieldPath(error.Param) is { } field)
            {
                Log.InputRejected(logger, operation, safeType, safeCode, safeParam, requestId);
                return new(
                    ErrorKind.InvalidArgument,
                    ErrorReasons.BankAccountRejected,
                    "bank account rejected by the gateway",
                    [new FieldViolation(field, RejectedByGateway)]);
            }

            Log.RequestRejected(logger, operation, status, safeType, safeCode, safeParam, requestId);
            return new(ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, "gateway rejected the request");
        }

        Log.UnexpectedError(logger, operation, status, safeType, safeCode, safeParam, requestId);
        return new(ErrorKind.Internal, ErrorReasons.InternalError, "unexpected gateway error");
    }

    /// <summary>Codes that reject a card field we sent; <c>incorrect_cvc</c> is bad input at create, a decline later.</summary>
    private static TokenizerException? MapCardInput(string? code, StripeOperation operation) => code switch
    {
        "incorrect_number" or "invalid_number" =>
            Rejected(ErrorReasons.IncorrectNumber, "card number rejected by the gateway", "card.number"),
        "invalid_expiry_month" =>
            Rejected(ErrorReasons.InvalidExpiry, "card expiry rejected by the gateway", "card.exp_month"),
        "invalid_expiry_year" =>
            Rejected(ErrorReasons.InvalidExpiry, "card expiry rejected by the gateway", "card.exp_year"),
        "invalid_cvc" =>
            Rejected(ErrorReasons.InvalidCvc, "card CVC rejected by the gateway", "card.cvc"),
        "incorrect_cvc" when operation == StripeOperation.CreatePaymentMethod =>
            Rejected(ErrorReasons.InvalidCvc, "card CVC rejected by the gateway", "card.cvc"),
        _ => null,
    };

    /// <summary>The request field path for a Stripe bank parameter, from an allow-list; never built from Stripe's text.</summary>
    private static string? BankFieldPath(string? param)
    {
        if (string.IsNullOrEmpty(param))
        {
            return null;
        }

        if (BankFieldPaths.TryGetValue(param, out var path))
        {
            return path;
        }

        foreach (var prefix in BankPrefixes)
        {
            if (param.StartsWith(prefix, StringComparison.Ordinal)
                && (param.Length == prefix.Length || param[prefix.Length] is '[' or '.'))
            {
                return prefix;
            }
        }

        return null;
    }

    /// <summary>The request field path for a Stripe billing_details parameter, from an allow-list.</summary>
    private static string? BillingFieldPath(string? param) =>
        param is null || !param.StartsWith("billing_details", StringComparison.Ordinal)
            ? null
            : BillingFieldPaths.GetValueOrDefault(param, "billing_details");

    private static TokenizerException Rejected(string reason, string message, string field) =>
        new(ErrorKind.InvalidArgument, reason, message, [new FieldViolation(field, RejectedByGateway)]);

    private static TokenizerException Unavailable() =>
        new(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable");

    private static bool Is(string? value, string expected) => string.Equals(value, expected, StringComparison.Ordinal);
}
