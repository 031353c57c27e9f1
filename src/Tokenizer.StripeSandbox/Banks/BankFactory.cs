using System.Collections.Frozen;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Banks;

/// <summary>
/// Bank debit PaymentMethods (au_becs_debit, sepa_debit, bacs_debit, us_bank_account): a light shape check of the
/// account data (digits, lengths, IBAN mod 97, ABA routing checksum) with HTTP 400 invalid_request_error on failure,
/// and the object Stripe shows: bank identifier, last4 and keyed fingerprint. The full account number and IBAN end here.
/// </summary>
internal static class BankFactory
{
    public static readonly IReadOnlyList<string> AuBecsParams = ["au_becs_debit[bsb_number]", "au_becs_debit[account_number]"];
    public static readonly IReadOnlyList<string> SepaParams = ["sepa_debit[iban]"];
    public static readonly IReadOnlyList<string> BacsParams = ["bacs_debit[sort_code]", "bacs_debit[account_number]"];

    public static readonly IReadOnlyList<string> UsBankParams =
    [
        "us_bank_account[routing_number]", "us_bank_account[account_number]",
        "us_bank_account[account_holder_type]", "us_bank_account[account_type]",
    ];

    // SEPA members outside the EEA: Stripe also wants the billing address for their IBANs.
    private static readonly FrozenSet<string> NonEeaSepaCountries =
        FrozenSet.Create(StringComparer.Ordinal, "AD", "CH", "GB", "GG", "GI", "IM", "JE", "MC", "SM", "VA");

    // Where the bank and branch codes sit in the BBAN (start, length); other countries: the first four characters.
    private static readonly FrozenDictionary<string, (int BankStart, int BankLength, int BranchStart, int BranchLength)> BbanLayout =
        new Dictionary<string, (int, int, int, int)>(StringComparer.Ordinal)
        {
            ["AT"] = (0, 5, 0, 0),
            ["BE"] = (0, 3, 0, 0),
            ["CH"] = (0, 5, 0, 0),
            ["DE"] = (0, 8, 0, 0),
            ["ES"] = (0, 4, 4, 4),
            ["FR"] = (0, 5, 5, 5),
            ["GB"] = (0, 4, 4, 6),
            ["IE"] = (0, 4, 4, 6),
            ["IT"] = (1, 5, 6, 5),
            ["LU"] = (0, 3, 0, 0),
            ["NL"] = (0, 4, 0, 0),
            ["PT"] = (0, 4, 4, 4),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    public static AuBecsDebitObject AuBecsDebit(StripeParams parameters, SandboxSecret secret)
    {
        var bsb = Digits(parameters.Required(AuBecsParams[0]), AuBecsParams[0], 6, 6, "routing_number_invalid", "The BSB number is invalid.", separators: true);
        var account = Digits(parameters.Required(AuBecsParams[1]), AuBecsParams[1], 4, 9, "account_number_invalid", "The bank account number is invalid.");
        return new AuBecsDebitObject { BsbNumber = bsb, Fingerprint = secret.Fingerprint("au_becs_debit", bsb, account), Last4 = VisibleLast4(account) };
    }

    public static SepaDebitObject SepaDebit(StripeParams parameters, SandboxSecret secret)
    {
        var iban = parameters.Required(SepaParams[0]).Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant();
        if (!IsValidIban(iban))
        {
            throw StripeErrors.ParameterInvalid(SepaParams[0], "The IBAN you provided is invalid.", "invalid_bank_account_iban");
        }

        var country = iban[..2];
        var bban = iban[4..];
        var (bankStart, bankLength, branchStart, branchLength) = BbanLayout.TryGetValue(country, out var layout) ? layout : (0, 4, 0, 0);
        return new SepaDebitObject
        {
            BankCode = bban.Substring(bankStart, Math.Min(bankLength, bban.Length - bankStart)),
            BranchCode = branchLength == 0 ? string.Empty : bban.Substring(branchStart, Math.Min(branchLength, bban.Length - branchStart)),
            Country = country,
            Fingerprint = secret.Fingerprint("sepa_debit", iban),
            Last4 = VisibleLast4(iban),
        };
    }

    /// <summary>True when the IBAN's country needs the billing address (SEPA members outside the EEA).</summary>
    public static bool SepaNeedsAddress(StripeParams parameters) =>
        parameters.Get(SepaParams[0]) is { Length: >= 2 } iban && NonEeaSepaCountries.Contains(iban[..2].ToUpperInvariant());

    public static BacsDebitObject BacsDebit(StripeParams parameters, SandboxSecret secret)
    {
        var sortCode = Digits(parameters.Required(BacsParams[0]), BacsParams[0], 6, 6, "routing_number_invalid", "The sort code is invalid.", separators: true);
        var account = Digits(parameters.Required(BacsParams[1]), BacsParams[1], 8, 8, "account_number_invalid", "The bank account number is invalid.");
        return new BacsDebitObject { Fingerprint = secret.Fingerprint("bacs_debit", sortCode, account), Last4 = VisibleLast4(account), SortCode = sortCode };
    }

    public static UsBankAccountObject UsBankAccount(StripeParams parameters, SandboxSecret secret)
    {
        var routing = Digits(parameters.Required(UsBankParams[0]), UsBankParams[0], 9, 9, "routing_number_invalid", "The routing number is invalid.");
        if (!PassesAbaChecksum(routing))
        {
            throw StripeErrors.ParameterInvalid(UsBankParams[0], "The routing number is invalid.", "routing_number_invalid");
        }

        var account = Digits(parameters.Required(UsBankParams[1]), UsBankParams[1], 4, 17, "account_number_invalid", "The bank account number is invalid.");
        var holderType = parameters.Get(UsBankParams[2]);
        if (holderType is not (null or "individual" or "company"))
        {
            throw StripeErrors.ParameterInvalid(UsBankParams[2], "Invalid account_holder_type: must be one of individual or company.");
        }

        var accountType = parameters.Get(UsBankParams[3]) ?? "checking";
        if (accountType is not ("checking" or "savings"))
        {
            throw StripeErrors.ParameterInvalid(UsBankParams[3], "Invalid account_type: must be one of checking or savings.");
        }

        return new UsBankAccountObject
        {
            AccountHolderType = holderType,
            AccountType = accountType,
            Fingerprint = secret.Fingerprint("us_bank_account", routing, account),
            Last4 = VisibleLast4(account),
            RoutingNumber = routing,
        };
    }

    /// <summary>
    /// The failure a debit from a SEPA test account ends with (docs.stripe.com/payments/sepa-debit, test account numbers):
    /// AT861904300235473202 "transitions from processing to requires_payment_method" (setup succeeds); others none.
    /// Only the outcome is kept, never the IBAN.
    /// </summary>
    public static string? SepaChargeFailure(StripeParams parameters) =>
        parameters.Get(SepaParams[0])?.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant() switch
        {
            "AT861904300235473202" => "generic_decline",
            _ => null,
        };

    /// <summary>
    /// The failure an ACH debit from a test account ends with (docs.stripe.com/payments/ach-direct-debit, test account
    /// numbers): 000111111116 no_account, 000111111113 account_closed, 000222222227 insufficient_funds, 000333333335
    /// debit_not_authorized; others none. Setup and verification succeed; the charge fails while processing.
    /// </summary>
    public static string? UsBankChargeFailure(StripeParams parameters) => parameters.Get(UsBankParams[1]) switch
    {
        "000111111116" => "no_account",
        "000111111113" => "account_closed",
        "000222222227" => "insufficient_funds",
        "000333333335" => "debit_not_authorized",
        _ => null,
    };

    /// <summary>ISO 13616: country letters, two check digits, alphanumeric BBAN, 15 to 34 characters, mod 97 = 1.</summary>
    public static bool IsValidIban(string iban)
    {
        if (iban.Length is < 15 or > 34
            || !char.IsAsciiLetterUpper(iban[0]) || !char.IsAsciiLetterUpper(iban[1])
            || !char.IsAsciiDigit(iban[2]) || !char.IsAsciiDigit(iban[3])
            || !iban.All(char.IsAsciiLetterOrDigit))
        {
            return false;
        }

        var remainder = 0;
        foreach (var c in iban[4..] + iban[..4])
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = ((remainder * (value < 10 ? 10 : 100)) + value) % 97;
        }

        return remainder == 1;
    }

    /// <summary>ABA: 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) mod 10 = 0.</summary>
    public static bool PassesAbaChecksum(string routing)
    {
        ReadOnlySpan<int> weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += (routing[i] - '0') * weights[i];
        }

        return sum % 10 == 0;
    }

    /// <summary>
    /// The trailing characters of an account number that the sandbox keeps and shows: four, or half of a shorter number,
    /// the hidden positions as <c>*</c> (a 4-digit account: <c>**34</c>). Stripe returns a 4-digit account whole as its
    /// last4; the sandbox keeps its objects on disk, where a whole account number must never rest, so it follows the
    /// service's rule (Core's VisibleDigits) instead.
    /// </summary>
    internal static string VisibleLast4(string number)
    {
        var shown = Math.Min(4, number.Length / 2);
        return new string('*', 4 - shown) + number[^shown..];
    }

    private static string Digits(string value, string param, int minLength, int maxLength, string code, string message, bool separators = false)
    {
        var digits = separators ? value.Replace("-", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal) : value;
        return digits.Length >= minLength && digits.Length <= maxLength && digits.All(char.IsAsciiDigit)
            ? digits
            : throw StripeErrors.ParameterInvalid(param, message, code);
    }
}
