namespace Tokenizer.Core.Domain;

/// <summary>The kind of payment method a token stands for.</summary>
public enum TokenType
{
    /// <summary>A payment card.</summary>
    Card = 1,
    /// <summary>AU BECS Direct Debit.</summary>
    AuBecsDebit = 2,
    /// <summary>SEPA Direct Debit.</summary>
    SepaDebit = 3,
    /// <summary>UK Bacs Direct Debit.</summary>
    BacsDebit = 4,
    /// <summary>US ACH (us_bank_account).</summary>
    UsBankAccount = 5,
}

/// <summary>Lifecycle of a token.</summary>
public enum TokenStatus
{
    /// <summary>Attached at the gateway and usable.</summary>
    Active = 1,
    /// <summary>Detached at the gateway; never usable again.</summary>
    Revoked = 2,
}

/// <summary>Masked card metadata as the gateway reports it. Safe to store and return (no PAN, no CVC).</summary>
/// <param name="Brand">Stripe's brand string (visa, mastercard, amex, ...).</param>
/// <param name="Last4">The last four digits of the PAN, as a string.</param>
/// <param name="ExpMonth">1-12.</param>
/// <param name="ExpYear">Four digits.</param>
/// <param name="Funding">credit, debit, prepaid or unknown.</param>
/// <param name="Country">ISO 3166-1 alpha-2 issuing country.</param>
/// <param name="Fingerprint">The gateway's per-account fingerprint of the number.</param>
public sealed record CardMetadata(
    string Brand,
    string Last4,
    int ExpMonth,
    int ExpYear,
    string? Funding,
    string? Country,
    string? Fingerprint);

/// <summary>Masked bank-account metadata. Safe to store and return (no full account number or IBAN).</summary>
/// <param name="Last4">The last four characters of the account number or IBAN.</param>
/// <param name="BankIdentifier">BSB, sort code, routing number or SEPA bank code.</param>
/// <param name="Country">ISO 3166-1 alpha-2.</param>
/// <param name="Fingerprint">The gateway's per-account fingerprint of the account.</param>
public sealed record BankAccountMetadata(
    string Last4,
    string? BankIdentifier,
    string? Country,
    string? Fingerprint);

/// <summary>
/// One issued token as the ledger keeps it: the gateway id plus masked metadata only.
/// </summary>
public sealed record TokenRecord
{
    /// <summary>The gateway's id, e.g. <c>pm_...</c>.</summary>
    public required string Token { get; init; }

    /// <summary>The gateway name, e.g. <c>stripe</c>.</summary>
    public required string Gateway { get; init; }

    public required TokenType Type { get; init; }

    public required TokenStatus Status { get; init; }

    /// <summary>The authenticated caller that created the token.</summary>
    public required string CallerId { get; init; }

    /// <summary>The billing service's customer identifier.</summary>
    public required string CustomerReference { get; init; }

    /// <summary>The gateway Customer the PaymentMethod is attached to (<c>cus_...</c>).</summary>
    public string? GatewayCustomerId { get; init; }

    public CardMetadata? Card { get; init; }

    public BankAccountMetadata? BankAccount { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; init; }
}
