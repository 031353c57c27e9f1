namespace Tokenizer.Core.Errors;

/// <summary>
/// The domain's errors, each written once: the <see cref="TokenizerException"/> a use case throws for a stable
/// <see cref="ErrorReasons"/> value. Messages name fields and rules, never input values.
/// </summary>
public static class TokenizerErrors
{
    /// <summary>INVALID_ARGUMENT <see cref="ErrorReasons.ValidationFailed"/> listing every violation.</summary>
    public static TokenizerException Invalid(IReadOnlyList<FieldViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        return new(
            ErrorKind.InvalidArgument,
            ErrorReasons.ValidationFailed,
            "request is invalid: " + string.Join("; ", violations),
            violations);
    }

    /// <summary>ALREADY_EXISTS <see cref="ErrorReasons.IdempotencyKeyReused"/>: the key was used with another request.</summary>
    public static TokenizerException IdempotencyKeyReused() => new(
        ErrorKind.AlreadyExists,
        ErrorReasons.IdempotencyKeyReused,
        "idempotency_key: already used with a different request");

    /// <summary>ABORTED <see cref="ErrorReasons.IdempotencyKeyInFlight"/>: a request with the key is still running.</summary>
    public static TokenizerException IdempotencyKeyInFlight() => new(
        ErrorKind.Aborted,
        ErrorReasons.IdempotencyKeyInFlight,
        "idempotency_key: a request with this key is still in progress; retry");

    /// <summary>FAILED_PRECONDITION <see cref="ErrorReasons.ErasureInProgress"/> naming <c>customer_reference</c> (tokenisations and corrections).</summary>
    public static TokenizerException ErasureInProgress() => new(
        ErrorKind.FailedPrecondition,
        ErrorReasons.ErasureInProgress,
        "customer_reference: an erasure of this customer is in progress",
        [new FieldViolation("customer_reference", "an erasure of this customer is in progress")]);

    /// <summary>ABORTED <see cref="ErrorReasons.CorrectionInProgress"/>: another correction of the person holds them.</summary>
    public static TokenizerException CorrectionInProgress() => new(
        ErrorKind.Aborted,
        ErrorReasons.CorrectionInProgress,
        "customer_reference: another correction of this customer is in progress, or was cut off (a crash, a lost call) and holds the customer until its lease ends 2 minutes after it began; retry when it has finished");

    /// <summary>ABORTED <see cref="ErrorReasons.ErasureRunning"/>: another EraseSubject call for the person is running.</summary>
    public static TokenizerException ErasureRunning() => new(
        ErrorKind.Aborted,
        ErrorReasons.ErasureRunning,
        "customer_reference: another erasure call for this customer is running, or was cut off and holds the customer until its lease ends; retry when it has finished");

    /// <summary>NOT_FOUND <see cref="ErrorReasons.TokenNotFound"/>: unknown, or not visible to the caller (no oracle).</summary>
    public static TokenizerException TokenNotFound() =>
        new(ErrorKind.NotFound, ErrorReasons.TokenNotFound, "token: not found");

    /// <summary>NOT_FOUND <see cref="ErrorReasons.ReconciliationNotFound"/>.</summary>
    public static TokenizerException ReconciliationNotFound() =>
        new(ErrorKind.NotFound, ErrorReasons.ReconciliationNotFound, "reconciliation run not found");

    /// <summary>PERMISSION_DENIED: listing tokens needs the finance role (the authorisation policy says so first).</summary>
    public static TokenizerException ListingNeedsFinance() =>
        new(ErrorKind.PermissionDenied, "PERMISSION_DENIED", "listing tokens needs the finance role");

    /// <summary>FAILED_PRECONDITION <see cref="ErrorReasons.AuthenticationRequired"/> naming <c>return_url</c>.</summary>
    public static TokenizerException AuthenticationRequired() => new(
        ErrorKind.FailedPrecondition,
        ErrorReasons.AuthenticationRequired,
        "return_url: required for a card that needs authentication",
        [new FieldViolation("return_url", "required for a card that needs authentication")]);

    /// <summary>UNAVAILABLE <see cref="ErrorReasons.CustomerReplacementIncomplete"/>: the reference's Customers kept being deleted.</summary>
    public static TokenizerException CustomerReplacementIncomplete() => new(
        ErrorKind.Unavailable,
        ErrorReasons.CustomerReplacementIncomplete,
        "customer_reference: its gateway Customer was deleted again while it was being replaced; retry");

    /// <summary>INTERNAL <see cref="ErrorReasons.GatewayCustomerMissing"/>: the gateway answered a Customer already passed as deleted.</summary>
    public static TokenizerException GatewayCustomerMissing() =>
        new(ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, "the gateway does not know the customer");
}
