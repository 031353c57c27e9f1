using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// Validates and normalises tokenisation requests before any gateway call. Every rule is checked and every
/// violation reported together in one <see cref="TokenizerException"/> (INVALID_ARGUMENT, reason
/// VALIDATION_FAILED), each naming the proto field path (e.g. <c>card.number</c>) and a fixed rule text
/// that never contains any part of the input.
/// </summary>
/// <param name="timeProvider">The clock for card expiry (UTC).</param>
public sealed class RequestValidator(TimeProvider timeProvider)
{
    /// <summary>Field path of the idempotency key.</summary>
    public const string IdempotencyKeyField = "idempotency_key";

    /// <summary>Field path of the customer reference.</summary>
    public const string CustomerReferenceField = "customer_reference";

    /// <summary>Field path of the card message.</summary>
    public const string CardField = "card";

    /// <summary>Field path of the bank account oneof.</summary>
    public const string AccountField = "account";

    private readonly TimeProvider time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));

    /// <summary>Validates and normalises a TokenizeCard request.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>card.number</c>: spaces and dashes removed; then 12-19 ASCII digits (ISO/IEC 7812), a length the brand
    /// of the longest matching IIN prefix issues (<see cref="CardBrandDetector"/>; any of 12-19 for an unknown brand),
    /// passing Luhn and not all zeros. Luhn is required for every brand, UnionPay included: the gateway requires it and
    /// would refuse a non-Luhn UnionPay PAN downstream anyway (Stripe's UnionPay test card 6200000000000005 passes
    /// Luhn). Beyond its length, the brand never gates acceptance.</item>
    /// <item><c>card.exp_month</c> 1-12, <c>card.exp_year</c> four digits; the card is valid through the last
    /// instant of its expiry month in UTC and at most 20 years ahead.</item>
    /// <item><c>card.cvc</c>: 4 digits for American Express, 3 otherwise, kept as given (leading zeros).</item>
    /// <item><c>return_url</c>: optional; an absolute https URL with a host and no user info, at most 2048 chars, and the
    /// <see cref="FreeTextRule"/>.</item>
    /// <item><c>customer_reference</c> and <c>billing_details.*</c>: <see cref="FreeTextRule"/> (no card or bank number, no control or bidi character, limited); none required for cards. A reference in the erased namespace (<see cref="InputRules.ReservedReferencePrefix"/>) is refused.</item>
    /// </list>
    /// </remarks>
    /// <returns>The request with the PAN as digits only and the billing details cleaned.</returns>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT listing every violation.</exception>
    public ValidatedCardRequest ValidateCard(TokenizeCardCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        ValidateCommon(command.IdempotencyKey, command.CustomerReference, violations);

        CardDetails? card = null;
        if (command.Card is null)
        {
            violations.Add(new(CardField, ValidationRules.Required));
        }
        else
        {
            card = CardValidation.Validate(command.Card, time.GetUtcNow(), violations);
        }

        var billing = BillingDetailsValidation.Validate(command.BillingDetails, BillingRequirements.Card, violations);
        var returnUrl = SetupValidation.ReturnUrl(command.ReturnUrl, violations);
        ThrowIfAny(violations);
        return new ValidatedCardRequest(command.IdempotencyKey!, command.CustomerReference!, card!, billing, returnUrl);
    }

    /// <summary>Validates and normalises a TokenizeBankAccount request.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>au_becs_debit</c>: BSB 6 digits ("000-000" accepted, returned without the hyphen; all zeros too, Stripe's
    /// test BSB), account 5-9 digits as given, not all zeros; billing name and email required.</item>
    /// <item><c>sepa_debit</c>: IBAN per ISO 13616 (spaces removed, upper-cased, country length and BBAN
    /// structure from the SWIFT registry, an all-zero BBAN and check digits 00/01/99 refused, mod 97 = 1); billing name and email,
    /// plus address line1, city, postal code and country for non-EEA IBANs.</item>
    /// <item><c>bacs_debit</c>: sort code 6 digits ("10-88-00" accepted), account 6-8 digits zero-padded to 8, neither all zeros;
    /// billing name, email and address required.</item>
    /// <item><c>us_bank_account</c>: ABA routing number (9 digits, 3-7-1 checksum, prefix 00-12, 21-32,
    /// 61-72 or 80, not all zeros), account 4-17 digits, not all zeros, holder type and account type; billing name
    /// required.</item>
    /// <item><c>mandate_acceptance</c>: required for every scheme; <c>accepted_at</c> required and at most five minutes
    /// ahead of the clock; one of <c>online</c> (an IPv4 or IPv6 <c>ip_address</c> and a <c>user_agent</c> of at most 512
    /// chars under the <see cref="FreeTextRule"/>, both required) or <c>offline</c>.</item>
    /// </list>
    /// The returned account's <see cref="BankAccountDetails.Last4"/> shows at most four trailing characters and never
    /// more than half of the number (<see cref="VisibleDigits"/>): a 4-digit ACH account shows <c>**34</c>.
    /// </remarks>
    /// <returns>The request with normalised account details and cleaned billing details.</returns>
    /// <exception cref="TokenizerException">INVALID_ARGUMENT listing every violation.</exception>
    public ValidatedBankAccountRequest ValidateBankAccount(TokenizeBankAccountCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        ValidateCommon(command.IdempotencyKey, command.CustomerReference, violations);

        BankAccountDetails? account;
        RequiredBillingFields required;
        switch (command.Account)
        {
            case AuBecsDebitInput becs:
                account = BecsValidation.Validate(becs, violations);
                required = BillingRequirements.AuBecsDebit;
                break;
            case SepaDebitInput sepa:
                account = IbanValidation.Validate(sepa.Iban, violations);
                required = BillingRequirements.SepaDebit(IbanValidation.CountryOf(sepa.Iban));
                if (account is SepaDebitDetails valid && !BillingRequirements.SepaCountries.Contains(valid.Country))
                {
                    // A valid IBAN from outside SEPA (e.g. BR, SA): the gateway would refuse it, so refuse it first.
                    violations.Add(new(SepaIbanField, ValidationRules.IbanOutsideSepa));
                    account = null;
                }

                break;
            case BacsDebitInput bacs:
                account = BacsValidation.Validate(bacs, violations);
                required = BillingRequirements.BacsDebit;
                break;
            case UsBankAccountInput ach:
                account = AchValidation.Validate(ach, violations);
                required = BillingRequirements.UsBankAccount;
                break;
            default:
                // Null (no oneof case set) or a kind this version does not know.
                account = null;
                required = RequiredBillingFields.None;
                violations.Add(new(AccountField, ValidationRules.AccountRequired));
                break;
        }

        var billing = BillingDetailsValidation.Validate(command.BillingDetails, required, violations);
        var mandate = SetupValidation.Mandate(command.MandateAcceptance, time.GetUtcNow(), violations);
        ThrowIfAny(violations);
        return new ValidatedBankAccountRequest(command.IdempotencyKey!, command.CustomerReference!, account!, billing, mandate!);
    }

    private const string SepaIbanField = "sepa_debit.iban";

    private static void ValidateCommon(string? idempotencyKey, string? customerReference, List<FieldViolation> violations)
    {
        InputRules.CheckIdempotencyKey(idempotencyKey, IdempotencyKeyField, violations);

        InputRules.CheckSubjectReference(customerReference, CustomerReferenceField, violations);
    }

    private static void ThrowIfAny(List<FieldViolation> violations)
    {
        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }
    }
}
