namespace Tokenizer.Core.Domain;

/// <summary>
/// A validated, normalised card. Sensitive authentication data: lives only in memory for one request,
/// travels only to the gateway, is never stored. <see cref="ToString"/> prints brand and last4 only.
/// </summary>
/// <param name="Pan">12-19 digits, spaces and dashes removed.</param>
/// <param name="ExpMonth">1-12.</param>
/// <param name="ExpYear">Four digits.</param>
/// <param name="Cvc">3 or 4 digits as given (leading zeros kept).</param>
/// <param name="Brand">Brand by the longest IIN prefix; informational, never gates acceptance.</param>
public sealed record CardDetails(string Pan, int ExpMonth, int ExpYear, string Cvc, CardBrand Brand)
{
    /// <summary>The last four digits of the PAN (a PAN has at least 12, so four never exceed half; <see cref="VisibleDigits"/>).</summary>
    public string Last4 => VisibleDigits.Last4(Pan);

    /// <inheritdoc />
    public override string ToString() => $"Card {{ Brand = {Brand}, Last4 = {Last4} }}";
}

/// <summary>
/// A validated bank account. Sensitive: <see cref="ToString"/> prints the type and last4 only.
/// </summary>
public abstract record BankAccountDetails
{
    /// <summary>The token type this account yields.</summary>
    public abstract TokenType Type { get; }

    /// <summary>
    /// The trailing characters of the account number or IBAN that may be shown (<see cref="VisibleDigits"/>): four, or
    /// fewer, padded with <c>*</c>, when four would be more than half of a short account number.
    /// </summary>
    public string Last4 => VisibleDigits.Last4(Number);

    /// <summary>The length of the account number or IBAN, for masking the gateway's last4 (<see cref="VisibleDigits.Mask"/>).</summary>
    public int NumberLength => Number.Length;

    /// <inheritdoc />
    public sealed override string ToString() => $"{Type} {{ Last4 = {Last4} }}";

    /// <summary>The account number or IBAN as sent to the gateway (normalised): what <see cref="Last4"/> masks.</summary>
    protected abstract string Number { get; }
}

/// <summary>AU BECS: BSB (6 digits, no hyphen) and account number (5-9 digits).</summary>
public sealed record AuBecsDebitDetails(string BsbNumber, string AccountNumber) : BankAccountDetails
{
    public override TokenType Type => TokenType.AuBecsDebit;

    protected override string Number => AccountNumber;
}

/// <summary>SEPA: IBAN normalised (no spaces, upper case), ISO 13616 mod-97 valid.</summary>
public sealed record SepaDebitDetails(string Iban) : BankAccountDetails
{
    public override TokenType Type => TokenType.SepaDebit;

    /// <summary>ISO 3166-1 alpha-2 country of the IBAN.</summary>
    public string Country => Iban[..2];

    protected override string Number => Iban;
}

/// <summary>UK Bacs: sort code (6 digits, no hyphens) and account number (8 digits after Bacs padding).</summary>
public sealed record BacsDebitDetails(string SortCode, string AccountNumber) : BankAccountDetails
{
    public override TokenType Type => TokenType.BacsDebit;

    protected override string Number => AccountNumber;
}

/// <summary>Who holds a US bank account.</summary>
public enum AccountHolderType
{
    Individual = 1,
    Company = 2,
}

/// <summary>The kind of US bank account.</summary>
public enum BankAccountKind
{
    Checking = 1,
    Savings = 2,
}

/// <summary>The texts of the US bank account enums: Stripe's <c>us_bank_account[account_holder_type]</c> and <c>[account_type]</c>.</summary>
public static class BankAccountTexts
{
    /// <summary><c>individual</c>, <c>company</c>.</summary>
    public static readonly EnumText<AccountHolderType> HolderType = new(
        "account holder type",
        (AccountHolderType.Individual, "individual"),
        (AccountHolderType.Company, "company"));

    /// <summary><c>checking</c>, <c>savings</c>.</summary>
    public static readonly EnumText<BankAccountKind> AccountType = new(
        "account type",
        (BankAccountKind.Checking, "checking"),
        (BankAccountKind.Savings, "savings"));
}

/// <summary>US ACH: ABA routing number (9 digits) and account number (4-17 digits).</summary>
public sealed record UsBankAccountDetails(
    string RoutingNumber,
    string AccountNumber,
    AccountHolderType AccountHolderType,
    BankAccountKind AccountType) : BankAccountDetails
{
    public override TokenType Type => TokenType.UsBankAccount;

    protected override string Number => AccountNumber;
}

/// <summary>Postal address (personal data).</summary>
public sealed record Address(
    string? Line1,
    string? Line2,
    string? City,
    string? State,
    string? PostalCode,
    string? Country);

/// <summary>Billing details (personal data): validated, control characters stripped, lengths limited.</summary>
public sealed record BillingDetails(string? Name, string? Email, string? Phone, Address? Address)
{
    /// <summary>An empty set of billing details.</summary>
    public static BillingDetails Empty { get; } = new(null, null, null, null);

    /// <inheritdoc />
    public override string ToString() => "BillingDetails { *** }";
}

/// <summary>Card brands recognised by IIN prefix (ISO/IEC 7812; the networks' published ranges).</summary>
public enum CardBrand
{
    Unknown = 0,
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Diners,
    UnionPay,
    Maestro,
    Mir,
}
