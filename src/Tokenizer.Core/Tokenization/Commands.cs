using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Tokenization;

/// <summary>Raw card input as received. Sensitive: <see cref="ToString"/> prints nothing of the number or CVC.</summary>
public sealed record CardInput(string? Number, int ExpMonth, int ExpYear, string? Cvc)
{
    /// <inheritdoc />
    public override string ToString() => "CardInput { *** }";
}

/// <summary>Raw bank-account input as received: one of the four direct-debit kinds. Sensitive.</summary>
public abstract record BankAccountInput
{
    /// <inheritdoc />
    public sealed override string ToString() => GetType().Name + " { *** }";
}

/// <summary>AU BECS input.</summary>
public sealed record AuBecsDebitInput(string? BsbNumber, string? AccountNumber) : BankAccountInput;

/// <summary>SEPA input.</summary>
public sealed record SepaDebitInput(string? Iban) : BankAccountInput;

/// <summary>UK Bacs input.</summary>
public sealed record BacsDebitInput(string? SortCode, string? AccountNumber) : BankAccountInput;

/// <summary>US ACH input; null enums mean the caller left them unspecified.</summary>
public sealed record UsBankAccountInput(
    string? RoutingNumber,
    string? AccountNumber,
    AccountHolderType? AccountHolderType,
    BankAccountKind? AccountType) : BankAccountInput;

/// <summary>TokenizeCard as the domain sees it.</summary>
public sealed record TokenizeCardCommand(
    string? IdempotencyKey,
    string? CustomerReference,
    CardInput? Card,
    BillingDetails? BillingDetails);

/// <summary>TokenizeBankAccount as the domain sees it; <see cref="Account"/> is null when no oneof case was set.</summary>
public sealed record TokenizeBankAccountCommand(
    string? IdempotencyKey,
    string? CustomerReference,
    BankAccountInput? Account,
    BillingDetails? BillingDetails);

/// <summary>RevokeToken as the domain sees it.</summary>
public sealed record RevokeTokenCommand(string? Token, string? IdempotencyKey, string? Reason);

/// <summary>ListTokens as the domain sees it; <see cref="PageSize"/> 0 means the default.</summary>
public sealed record ListTokensCommand(
    string? CustomerReference,
    TokenStatus? Status,
    DateTimeOffset? CreatedAfter,
    DateTimeOffset? CreatedBefore,
    int PageSize,
    string? PageToken);

/// <summary>A validated TokenizeCard request.</summary>
public sealed record ValidatedCardRequest(
    string IdempotencyKey,
    string CustomerReference,
    CardDetails Card,
    BillingDetails BillingDetails);

/// <summary>A validated TokenizeBankAccount request.</summary>
public sealed record ValidatedBankAccountRequest(
    string IdempotencyKey,
    string CustomerReference,
    BankAccountDetails Account,
    BillingDetails BillingDetails);

/// <summary>The result of a tokenisation: the token and whether this is a replay.</summary>
public sealed record TokenizeResult(TokenRecord Token, bool Replayed);

/// <summary>The authenticated caller of a request.</summary>
/// <param name="CallerId">Stable caller id; scopes idempotency keys.</param>
public sealed record CallerContext(string CallerId)
{
    /// <summary>The caller used until authentication exists: every request is this caller.</summary>
    public static CallerContext Default { get; } = new("default");
}
