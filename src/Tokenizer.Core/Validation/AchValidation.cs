using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// US ACH rules: ABA routing number (9 digits, 3-7-1 checksum, Federal Reserve prefix, not all zeros), account number
/// of 4-17 digits, not all zeros, holder type and account type required. Numbers stay strings: leading zeros matter.
/// </summary>
internal static class AchValidation
{
    public const string RoutingField = "us_bank_account.routing_number";
    public const string AccountField = "us_bank_account.account_number";
    public const string HolderTypeField = "us_bank_account.account_holder_type";
    public const string AccountTypeField = "us_bank_account.account_type";

    /// <summary>Validates US bank account input; values are returned as given.</summary>
    public static UsBankAccountDetails? Validate(UsBankAccountInput input, List<FieldViolation> violations)
    {
        var before = violations.Count;
        var routingRule = CheckRoutingNumber(input.RoutingNumber);
        if (routingRule is not null)
        {
            violations.Add(new(RoutingField, routingRule));
        }

        if (!Digits.AreAll(input.AccountNumber, 4, 17))
        {
            violations.Add(new(AccountField, string.IsNullOrEmpty(input.AccountNumber) ? ValidationRules.Required : ValidationRules.AchAccountFormat));
        }
        else if (Digits.AreAllZero(input.AccountNumber))
        {
            violations.Add(new(AccountField, ValidationRules.AllZero));
        }

        if (input.AccountHolderType is not { } holderType)
        {
            violations.Add(new(HolderTypeField, ValidationRules.Required));
        }
        else if (!Enum.IsDefined(holderType))
        {
            violations.Add(new(HolderTypeField, ValidationRules.HolderTypeValue));
        }

        if (input.AccountType is not { } accountType)
        {
            violations.Add(new(AccountTypeField, ValidationRules.Required));
        }
        else if (!Enum.IsDefined(accountType))
        {
            violations.Add(new(AccountTypeField, ValidationRules.AccountTypeValue));
        }

        return violations.Count == before
            ? new UsBankAccountDetails(input.RoutingNumber!, input.AccountNumber!, input.AccountHolderType!.Value, input.AccountType!.Value)
            : null;
    }

    /// <summary>The violated rule of a routing number, or null when it is valid.</summary>
    public static string? CheckRoutingNumber(string? routing)
    {
        if (string.IsNullOrEmpty(routing))
        {
            return ValidationRules.Required;
        }

        if (!Digits.AreAll(routing, 9, 9))
        {
            return ValidationRules.RoutingFormat;
        }

        // 000000000 passes both the prefix (00) and the checksum (0), but the ABA assigns it to no institution.
        if (Digits.AreAllZero(routing))
        {
            return ValidationRules.AllZero;
        }

        // 00-12 Federal Reserve banks (00 U.S. Government), 21-32 thrifts, 61-72 electronic, 80 traveller's cheques.
        var prefix = Digits.ValueOf(routing.AsSpan(0, 2));
        if (prefix is not ((>= 0 and <= 12) or (>= 21 and <= 32) or (>= 61 and <= 72) or 80))
        {
            return ValidationRules.RoutingPrefix;
        }

        return IsRoutingChecksumValid(routing) ? null : ValidationRules.FailedChecksum;
    }

    /// <summary>ABA checksum: 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) mod 10 = 0, on 9 ASCII digits.</summary>
    public static bool IsRoutingChecksumValid(ReadOnlySpan<char> routing)
    {
        ReadOnlySpan<int> weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
        var sum = 0;
        for (var i = 0; i < 9; i++)
        {
            sum += weights[i] * (routing[i] - '0');
        }

        return sum % 10 == 0;
    }
}
