namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// A Stripe API error answer (<c>{"error":{...}}</c> with its HTTP status). The message is always a fixed text:
/// it never holds a request value. <see cref="Replayable"/> says whether an idempotency record keeps the answer:
/// Stripe keeps the results of requests that started executing (card errors, 404s, state errors), not those of
/// requests that failed parameter validation.
/// </summary>
internal sealed class StripeApiException : Exception
{
    public StripeApiException()
        : this(500, ErrorTypes.Api, "An unknown error occurred.")
    {
    }

    public StripeApiException(string message)
        : this(500, ErrorTypes.Api, message)
    {
    }

    public StripeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 500;
        Type = ErrorTypes.Api;
        Replayable = true;
    }

    public StripeApiException(
        int status, string type, string message, string? code = null, string? param = null, string? declineCode = null, bool replayable = true)
        : base(message)
    {
        Status = status;
        Type = type;
        Code = code;
        Param = param;
        DeclineCode = declineCode;
        Replayable = replayable;
    }

    public int Status { get; }

    public string Type { get; }

    public string? Code { get; }

    public string? Param { get; }

    public string? DeclineCode { get; }

    public bool Replayable { get; }

    public ErrorBody ToBody() => new(new ErrorObject
    {
        Type = Type,
        Code = Code,
        DeclineCode = DeclineCode,
        Param = Param,
        Message = Message,
        DocUrl = Code is null ? null : "https://stripe.com/docs/error-codes/" + Code.Replace('_', '-'),
    });
}

/// <summary>Stripe's error <c>type</c> values.</summary>
internal static class ErrorTypes
{
    public const string Api = "api_error";
    public const string Card = "card_error";
    public const string Idempotency = "idempotency_error";
    public const string InvalidRequest = "invalid_request_error";
}

/// <summary>The errors the sandbox answers, with Stripe's codes and (value-free) messages.</summary>
internal static class StripeErrors
{
    public const string RawCardDataMessage =
        "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing raw card data APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.";

    /// <summary>400 parameter_missing; not kept for idempotent replay.</summary>
    public static StripeApiException ParameterMissing(string param) =>
        new(400, ErrorTypes.InvalidRequest, $"Missing required param: {param}.", "parameter_missing", param, replayable: false);

    /// <summary>400 for a parameter whose value is not accepted (message names the parameter, never the value); not kept for replay.</summary>
    public static StripeApiException ParameterInvalid(string? param, string message, string? code = null) =>
        new(400, ErrorTypes.InvalidRequest, message, code, param, replayable: false);

    /// <summary>400 parameter_unknown; the name is echoed only when it is a plain parameter name.</summary>
    public static StripeApiException ParameterUnknown(string param) => PlainName(param) is { } plain
        ? new(400, ErrorTypes.InvalidRequest, $"Received unknown parameter: {plain}", "parameter_unknown", plain, replayable: false)
        : new(400, ErrorTypes.InvalidRequest, "Received unknown parameter.", "parameter_unknown", replayable: false);

    /// <summary>
    /// A caller-chosen parameter name as it may be echoed: letters, '_' and brackets only (so no digits of a card number
    /// sent in the wrong place can come back), at most 64 characters; otherwise null.
    /// </summary>
    public static string? PlainName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => c is (>= 'a' and <= 'z') or '_' or '[' or ']') ? name : null;

    /// <summary>402 card_error raised while validating a card at create (kept for replay, like Stripe).</summary>
    public static StripeApiException Card(string code, string param, string message) =>
        new(402, ErrorTypes.Card, message, code, param);

    /// <summary>404 resource_missing. Stripe names the id in the message; the sandbox does not echo request values.</summary>
    public static StripeApiException ResourceMissing(string param, string objectName) =>
        new(404, ErrorTypes.InvalidRequest, $"No such {objectName}.", "resource_missing", param);

    /// <summary>400 invalid_request_error for an object whose state forbids the operation.</summary>
    public static StripeApiException UnexpectedState(string message, string? code = null) =>
        new(400, ErrorTypes.InvalidRequest, message, code);

    /// <summary>402 invalid_request_error of an account without raw card data APIs (Stripe's own text).</summary>
    public static StripeApiException RawCardDataDisabled() =>
        new(402, ErrorTypes.InvalidRequest, RawCardDataMessage);

    /// <summary>401 without a usable key; never kept for replay.</summary>
    public static StripeApiException NoApiKey() =>
        new(401, ErrorTypes.InvalidRequest,
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            replayable: false);

    /// <summary>401 for a key that is not accepted (Stripe shows a masked key; the sandbox shows none).</summary>
    public static StripeApiException InvalidApiKey() =>
        new(401, ErrorTypes.InvalidRequest, "Invalid API Key provided.", replayable: false);

    /// <summary>404 for a URL the sandbox does not serve.</summary>
    public static StripeApiException UnrecognizedUrl() =>
        new(404, ErrorTypes.InvalidRequest, "Unrecognized request URL. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", replayable: false);

    /// <summary>400 idempotency_error: the key was first used with other parameters or another endpoint.</summary>
    public static StripeApiException IdempotencyMismatch() =>
        new(400, ErrorTypes.Idempotency,
            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than this one if you meant to execute a different request.",
            replayable: false);

    /// <summary>409 idempotency_key_in_use: another request with the key is still executing.</summary>
    public static StripeApiException IdempotencyKeyInUse() =>
        new(409, ErrorTypes.InvalidRequest,
            "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.",
            "idempotency_key_in_use", replayable: false);

    /// <summary>400 for an Idempotency-Key longer than 255 characters.</summary>
    public static StripeApiException IdempotencyKeyTooLong() =>
        new(400, ErrorTypes.InvalidRequest, "Idempotency keys can be at most 255 characters long.", replayable: false);

    /// <summary>500 api_error for a sandbox fault; the exception text never reaches the caller.</summary>
    public static StripeApiException Internal() => new(500, ErrorTypes.Api, "An unknown error occurred.");

    /// <summary>An injected 5xx api_error (fault injection); never kept for replay.</summary>
    public static StripeApiException ServerError(int status) => new(status, ErrorTypes.Api, "An unknown error occurred.", replayable: false);

    /// <summary>An injected 429 invalid_request_error with code <c>rate_limit</c> or <c>lock_timeout</c>; never kept for replay.</summary>
    public static StripeApiException RateLimited(string code) => code == "lock_timeout"
        ? new(429, ErrorTypes.InvalidRequest,
            "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate. See https://stripe.com/docs/rate-limits for more details.",
            code, replayable: false)
        : new(429, ErrorTypes.InvalidRequest, "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", code, replayable: false);

    /// <summary>400 invalid_request_error for a malformed <c>Sandbox-Fault</c> header (the message names the rule, never the value).</summary>
    public static StripeApiException FaultHeaderInvalid(string message) =>
        new(400, ErrorTypes.InvalidRequest, message, param: "Sandbox-Fault", replayable: false);
}
