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

    /// <summary>
    /// Whether the token is set up for off-session charges. Defaults to <see cref="TokenSetup.NotSetUp"/>: what a token
    /// made before SetupIntents (and a stored response of one) reads as.
    /// </summary>
    public TokenSetup Setup { get; init; } = TokenSetup.NotSetUp;

    /// <summary>Direct debits set up through a SetupIntent: the mandate the charges run under; otherwise null.</summary>
    public Mandate? Mandate { get; init; }
}

/// <summary>Whether a token is set up for off-session charges (its SetupIntent's outcome).</summary>
public enum SetupStatus
{
    /// <summary>The SetupIntent succeeded: chargeable off-session.</summary>
    Ready = 1,

    /// <summary>The customer must act first (3-D Secure, ACH microdeposits): see <see cref="TokenSetup.NextAction"/>.</summary>
    RequiresAction = 2,

    /// <summary>The gateway is still working on it (e.g. a mandate being registered).</summary>
    Processing = 3,

    /// <summary>The setup failed or was canceled after the token was issued; see <see cref="TokenSetup.FailureCode"/>.</summary>
    Failed = 4,

    /// <summary>
    /// Made before SetupIntents (created and attached only): Stripe may refuse off-session charges. Tokenising the
    /// details again sets a new token up.
    /// </summary>
    NotSetUp = 5,
}

/// <summary>What the customer has to do before a setup can finish.</summary>
public enum NextActionKind
{
    /// <summary>Send the customer's browser to the URL (3-D Secure). Stripe next_action.type redirect_to_url.</summary>
    RedirectToUrl = 1,

    /// <summary>The customer confirms microdeposit amounts at the URL (ACH). Stripe next_action.type verify_with_microdeposits.</summary>
    VerifyWithMicrodeposits = 2,
}

/// <summary>The customer's next step.</summary>
/// <param name="Kind">What kind of action.</param>
/// <param name="Url">The gateway's hosted page (redirect_to_url.url or verify_with_microdeposits.hosted_verification_url).</param>
/// <param name="ExpiresAt">When the action can no longer be completed, if the gateway says; UTC.</param>
public sealed record NextAction(NextActionKind Kind, string Url, DateTimeOffset? ExpiresAt);

/// <summary>A token's setup state.</summary>
/// <param name="Status">Where the setup stands.</param>
/// <param name="SetupIntentId">The gateway's SetupIntent, <c>seti_...</c>; null for <see cref="SetupStatus.NotSetUp"/>.</param>
/// <param name="NextAction">Set while <see cref="SetupStatus.RequiresAction"/>.</param>
/// <param name="FailureCode">The gateway's error or decline code while <see cref="SetupStatus.Failed"/>, e.g. <c>card_declined</c>.</param>
public sealed record TokenSetup(SetupStatus Status, string? SetupIntentId, NextAction? NextAction, string? FailureCode)
{
    /// <summary>A token made before SetupIntents.</summary>
    public static TokenSetup NotSetUp { get; } = new(SetupStatus.NotSetUp, null, null, null);

    /// <summary>True while the gateway may still change the outcome (a refresh from the gateway can tell more).</summary>
    public bool IsPending => Status is SetupStatus.RequiresAction or SetupStatus.Processing;
}

/// <summary>A mandate's state at the gateway (Stripe Mandate.status).</summary>
public enum MandateStatus
{
    /// <summary>Charges may run under it.</summary>
    Active = 1,

    /// <summary>Not yet usable (e.g. a Bacs mandate being registered).</summary>
    Pending = 2,

    /// <summary>Refused, canceled or expired: no charges.</summary>
    Inactive = 3,
}

/// <summary>How the customer accepted a mandate (Stripe customer_acceptance.type).</summary>
public enum MandateType
{
    /// <summary>Online, with the customer's IP address and user agent.</summary>
    Online = 1,

    /// <summary>Offline (paper, phone).</summary>
    Offline = 2,
}

/// <summary>A direct-debit mandate as the gateway reports it (Stripe API GET /v1/mandates/{id}). No personal data.</summary>
/// <param name="Id">The gateway's id, <c>mandate_...</c>.</param>
/// <param name="Status">Its state.</param>
/// <param name="Type">How it was accepted.</param>
/// <param name="AcceptedAt">When the customer accepted it (UTC), if reported.</param>
public sealed record Mandate(string Id, MandateStatus Status, MandateType Type, DateTimeOffset? AcceptedAt);

/// <summary>
/// The customer's acceptance of a direct-debit mandate, as the caller reports it. The IP address and user agent are
/// personal data: sent to the gateway once, kept only encrypted under the subject's key.
/// </summary>
/// <param name="AcceptedAt">When the customer accepted (UTC, whole seconds on the wire).</param>
/// <param name="Online">The online details; null for an offline acceptance.</param>
public sealed record MandateAcceptance(DateTimeOffset AcceptedAt, OnlineAcceptance? Online)
{
    /// <summary>The acceptance type.</summary>
    public MandateType Type => Online is null ? MandateType.Offline : MandateType.Online;
}

/// <summary>Online mandate acceptance details (personal data).</summary>
/// <param name="IpAddress">The customer's IP address, validated, in canonical text form.</param>
/// <param name="UserAgent">The customer's user agent, at most 512 characters.</param>
public sealed record OnlineAcceptance(string IpAddress, string UserAgent)
{
    /// <summary>Masked: personal data never reaches a log through a record's generated text.</summary>
    public override string ToString() => "OnlineAcceptance { *** }";
}

/// <summary>
/// The texts of the token enums: Stripe's lower_snake names, which the ledger stores (<c>tokens.type</c>,
/// <c>tokens.status</c>, <c>tokens.setup_status</c>, <c>tokens.next_action_kind</c>, <c>tokens.mandate_status</c>,
/// <c>tokens.mandate_type</c>) and the Stripe adapter sends and reads. Stored rows depend on them: never change a text.
/// </summary>
public static class TokenTexts
{
    /// <summary>Stripe's PaymentMethod type names (<c>card</c>, <c>sepa_debit</c>...).</summary>
    public static readonly EnumText<TokenType> Type = new(
        "token type",
        (TokenType.Card, "card"),
        (TokenType.AuBecsDebit, "au_becs_debit"),
        (TokenType.SepaDebit, "sepa_debit"),
        (TokenType.BacsDebit, "bacs_debit"),
        (TokenType.UsBankAccount, "us_bank_account"));

    /// <summary><c>active</c>, <c>revoked</c>.</summary>
    public static readonly EnumText<TokenStatus> Status = new(
        "token status",
        (TokenStatus.Active, "active"),
        (TokenStatus.Revoked, "revoked"));

    /// <summary>Stripe's SetupIntent status spelling where it agrees; <c>not_set_up</c> for tokens made before SetupIntents.</summary>
    public static readonly EnumText<SetupStatus> SetupStatus = new(
        "setup status",
        (Domain.SetupStatus.Ready, "ready"),
        (Domain.SetupStatus.RequiresAction, "requires_action"),
        (Domain.SetupStatus.Processing, "processing"),
        (Domain.SetupStatus.Failed, "failed"),
        (Domain.SetupStatus.NotSetUp, "not_set_up"));

    /// <summary>Stripe's <c>next_action.type</c>.</summary>
    public static readonly EnumText<NextActionKind> NextActionKind = new(
        "next action kind",
        (Domain.NextActionKind.RedirectToUrl, "redirect_to_url"),
        (Domain.NextActionKind.VerifyWithMicrodeposits, "verify_with_microdeposits"));

    /// <summary>Stripe's Mandate <c>status</c>.</summary>
    public static readonly EnumText<MandateStatus> MandateStatus = new(
        "mandate status",
        (Domain.MandateStatus.Active, "active"),
        (Domain.MandateStatus.Pending, "pending"),
        (Domain.MandateStatus.Inactive, "inactive"));

    /// <summary>Stripe's Mandate <c>customer_acceptance.type</c>.</summary>
    public static readonly EnumText<MandateType> MandateType = new(
        "mandate type",
        (Domain.MandateType.Online, "online"),
        (Domain.MandateType.Offline, "offline"));
}
