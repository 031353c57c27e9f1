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
/// <param name="IdempotencyKey">The caller's key.</param>
/// <param name="CustomerReference">The billing service's customer identifier.</param>
/// <param name="Card">The card, or null when absent.</param>
/// <param name="BillingDetails">Billing details, or null.</param>
/// <param name="ReturnUrl">Where 3-D Secure sends the cardholder back; null or empty when the caller gave none.</param>
public sealed record TokenizeCardCommand(
    string? IdempotencyKey,
    string? CustomerReference,
    CardInput? Card,
    BillingDetails? BillingDetails,
    string? ReturnUrl = null);

/// <summary>TokenizeBankAccount as the domain sees it; <see cref="Account"/> is null when no oneof case was set.</summary>
/// <param name="IdempotencyKey">The caller's key.</param>
/// <param name="CustomerReference">The billing service's customer identifier.</param>
/// <param name="Account">The account, or null when no oneof case was set.</param>
/// <param name="BillingDetails">Billing details, or null.</param>
/// <param name="MandateAcceptance">The mandate acceptance, or null when absent (refused: it is required).</param>
public sealed record TokenizeBankAccountCommand(
    string? IdempotencyKey,
    string? CustomerReference,
    BankAccountInput? Account,
    BillingDetails? BillingDetails,
    MandateAcceptanceInput? MandateAcceptance = null);

/// <summary>A mandate acceptance as received: exactly one of <see cref="Online"/> or <see cref="Offline"/> should be set.</summary>
/// <param name="AcceptedAt">When the customer accepted, or null when absent.</param>
/// <param name="Online">The online details, or null.</param>
/// <param name="Offline">True when the offline case was set.</param>
public sealed record MandateAcceptanceInput(DateTimeOffset? AcceptedAt, OnlineAcceptanceInput? Online, bool Offline);

/// <summary>Online acceptance details as received (personal data: <see cref="ToString"/> prints nothing of them).</summary>
public sealed record OnlineAcceptanceInput(string? IpAddress, string? UserAgent)
{
    /// <inheritdoc />
    public override string ToString() => "OnlineAcceptanceInput { *** }";
}

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

/// <summary>A validated TokenizeCard request; <see cref="ReturnUrl"/> is an absolute https URL or null.</summary>
public sealed record ValidatedCardRequest(
    string IdempotencyKey,
    string CustomerReference,
    CardDetails Card,
    BillingDetails BillingDetails,
    string? ReturnUrl = null);

/// <summary>A validated TokenizeBankAccount request.</summary>
public sealed record ValidatedBankAccountRequest(
    string IdempotencyKey,
    string CustomerReference,
    BankAccountDetails Account,
    BillingDetails BillingDetails,
    MandateAcceptance MandateAcceptance);

/// <summary>The result of a tokenisation: the token and whether this is a replay.</summary>
public sealed record TokenizeResult(TokenRecord Token, bool Replayed);

/// <summary>The authenticated caller of a request.</summary>
/// <param name="CallerId">Stable caller id (from the client certificate mapping); scopes idempotency keys and tokens.</param>
/// <param name="Roles">The caller's roles (see <see cref="CallerRoles"/>).</param>
public sealed record CallerContext(string CallerId, IReadOnlySet<string> Roles)
{
    /// <summary>A caller with the given roles.</summary>
    public CallerContext(string callerId, params string[] roles)
        : this(callerId, new HashSet<string>(roles, StringComparer.Ordinal))
    {
    }

    /// <summary>True when the caller has <paramref name="role"/>.</summary>
    public bool HasRole(string role) => Roles.Contains(role);

    /// <summary>True when the caller may read tokens other callers created (the finance role).</summary>
    public bool CanReadAllTokens => HasRole(CallerRoles.Finance);
}

/// <summary>The roles callers are mapped to by configuration.</summary>
public static class CallerRoles
{
    /// <summary>The billing service: TokenizeCard, TokenizeBankAccount, GetToken on its own tokens.</summary>
    public const string Tokenize = "tokenize";

    /// <summary>Finance staff: GetToken and ListTokens on every token, reconciliation.</summary>
    public const string Finance = "finance";

    /// <summary>Administrators: RevokeToken, the audit trail, privacy operations.</summary>
    public const string Admin = "admin";
}
