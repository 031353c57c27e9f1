using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// UK Bacs rules: sort code of 6 digits, account number of 6-8 digits padded to 8; neither all zeros (no bank has sort
/// code 00-00-00, and no account is numbered 00000000).
/// </summary>
/// <remarks>
/// No Pay.UK modulus check: it needs the VocaLink tables, and a sort code missing from them means
/// "cannot check", not "valid". The gateway does its own checks.
/// </remarks>
internal static class BacsValidation
{
    public const string SortCodeField = "bacs_debit.sort_code";
    public const string AccountField = "bacs_debit.account_number";

    /// <summary>Validates Bacs input; the sort code is returned as 6 digits, the account number as 8.</summary>
    public static BacsDebitDetails? Validate(BacsDebitInput input, List<FieldViolation> violations)
    {
        var before = violations.Count;
        var sortCode = NormaliseSortCode(input.SortCode);
        if (sortCode is null)
        {
            violations.Add(new(SortCodeField, string.IsNullOrEmpty(input.SortCode) ? ValidationRules.Required : ValidationRules.SortCodeFormat));
        }
        else if (Digits.AreAllZero(sortCode))
        {
            violations.Add(new(SortCodeField, ValidationRules.AllZero));
        }

        var account = NormaliseAccountNumber(input.AccountNumber);
        if (account is null)
        {
            violations.Add(new(AccountField, string.IsNullOrEmpty(input.AccountNumber) ? ValidationRules.Required : ValidationRules.BacsAccountFormat));
        }
        else if (Digits.AreAllZero(account))
        {
            violations.Add(new(AccountField, ValidationRules.AllZero));
        }

        return violations.Count == before ? new BacsDebitDetails(sortCode!, account!) : null;
    }

    /// <summary>"108800" or "10-88-00" to six digits; null for anything else.</summary>
    public static string? NormaliseSortCode(string? sortCode) => sortCode switch
    {
        { Length: 6 } when Digits.AreAll(sortCode) => sortCode,
        { Length: 8 } when sortCode[2] == '-' && sortCode[5] == '-'
            && Digits.AreAll(sortCode.AsSpan(0, 2)) && Digits.AreAll(sortCode.AsSpan(3, 2)) && Digits.AreAll(sortCode.AsSpan(6)) =>
            string.Concat(sortCode.AsSpan(0, 2), sortCode.AsSpan(3, 2), sortCode.AsSpan(6)),
        _ => null,
    };

    /// <summary>
    /// 6-8 digits, left-padded with zeros to 8 (Bacs' rule for short numbers); null for anything else.
    /// Bacs also normalises some 9- and 10-digit numbers by institution-specific rules (which digits to drop
    /// depends on the bank), which we cannot apply reliably, so we refuse them rather than guess.
    /// </summary>
    public static string? NormaliseAccountNumber(string? account) =>
        Digits.AreAll(account, 6, 8) ? account!.PadLeft(8, '0') : null;
}
