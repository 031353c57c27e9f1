using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// AU BECS rules: BSB of 6 digits (no check digit exists), account number of 5-9 digits, not all zeros. An all-zero BSB is
/// accepted: 000-000 is Stripe's documented test BSB.
/// </summary>
internal static class BecsValidation
{
    public const string BsbField = "au_becs_debit.bsb_number";
    public const string AccountField = "au_becs_debit.account_number";

    /// <summary>Validates AU BECS input; the BSB is returned without its hyphen, the account number as given.</summary>
    /// <remarks>
    /// Stripe accepts 4-digit account numbers for a few institutions; we keep to 5-9 digits, the APCA range.
    /// </remarks>
    public static AuBecsDebitDetails? Validate(AuBecsDebitInput input, List<FieldViolation> violations)
    {
        var before = violations.Count;
        var bsb = NormaliseBsb(input.BsbNumber);
        if (bsb is null)
        {
            violations.Add(new(BsbField, string.IsNullOrEmpty(input.BsbNumber) ? ValidationRules.Required : ValidationRules.BsbFormat));
        }

        var account = input.AccountNumber;
        if (!Digits.AreAll(account, 5, 9))
        {
            violations.Add(new(AccountField, string.IsNullOrEmpty(account) ? ValidationRules.Required : ValidationRules.BecsAccountFormat));
        }
        else if (Digits.AreAllZero(account))
        {
            violations.Add(new(AccountField, ValidationRules.AllZero));
        }

        return violations.Count == before ? new AuBecsDebitDetails(bsb!, account!) : null;
    }

    /// <summary>"000000" or "000-000" (one hyphen, in the middle) to six digits; null for anything else.</summary>
    public static string? NormaliseBsb(string? bsb) => bsb switch
    {
        { Length: 6 } when Digits.AreAll(bsb) => bsb,
        { Length: 7 } when bsb[3] == '-' && Digits.AreAll(bsb.AsSpan(0, 3)) && Digits.AreAll(bsb.AsSpan(4)) =>
            string.Concat(bsb.AsSpan(0, 3), bsb.AsSpan(4)),
        _ => null,
    };
}
