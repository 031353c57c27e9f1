using Tokenizer.Core.Domain;
using Tokenizer.Core.Tokenization;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

public class BankAccountValidationTests
{
    private static T Valid<T>(BankAccountInput input)
        where T : BankAccountDetails =>
        Assert.IsType<T>(Validator().ValidateBankAccount(BankCommand(input)).Account);

    [Fact]
    public void ValidateBankAccount_AccountMissing_ViolationOnAccount()
    {
        // Act
        var violations = BankViolations(BankCommand(null));

        // Assert
        AssertSingle(violations, "account", "one of au_becs_debit, sepa_debit, bacs_debit, us_bank_account is required");
    }

    [Theory]
    [InlineData("000-000", "000123456", "000000")]
    [InlineData("062000", "12345", "062000")]
    [InlineData("062-000", "123456789", "062000")]
    public void ValidateBankAccount_BecsValid_BsbWithoutHyphenAccountAsGiven(string bsb, string account, string expectedBsb)
    {
        // Act
        var becs = Valid<AuBecsDebitDetails>(new AuBecsDebitInput(bsb, account));

        // Assert
        Assert.Equal(expectedBsb, becs.BsbNumber);
        Assert.Equal(account, becs.AccountNumber);
    }

    [Theory]
    [InlineData("062000", "123", "au_becs_debit.account_number", "must be 5-9 digits")]
    [InlineData("062000", "1234567890", "au_becs_debit.account_number", "must be 5-9 digits")]
    [InlineData("062000", "12345a", "au_becs_debit.account_number", "must be 5-9 digits")]
    [InlineData("062000", null, "au_becs_debit.account_number", "is required")]
    [InlineData("06-2000", "12345", "au_becs_debit.bsb_number", "must be 6 digits, optionally written 000-000")]
    [InlineData("062--000", "12345", "au_becs_debit.bsb_number", "must be 6 digits, optionally written 000-000")]
    [InlineData("06200", "12345", "au_becs_debit.bsb_number", "must be 6 digits, optionally written 000-000")]
    [InlineData("062 000", "12345", "au_becs_debit.bsb_number", "must be 6 digits, optionally written 000-000")]
    [InlineData("", "12345", "au_becs_debit.bsb_number", "is required")]
    public void ValidateBankAccount_BecsInvalid_ViolationNamesFieldAndRule(string? bsb, string? account, string field, string rule)
    {
        // Act
        var violations = BankViolations(new AuBecsDebitInput(bsb, account));

        // Assert
        AssertSingle(violations, field, rule);
    }

    [Theory]
    [InlineData("108800", "00012345", "108800", "00012345")]
    [InlineData("10-88-00", "00012345", "108800", "00012345")]
    [InlineData("108800", "123456", "108800", "00123456")]
    [InlineData("108800", "1234567", "108800", "01234567")]
    public void ValidateBankAccount_BacsValid_SortCodeDigitsAccountPaddedToEight(string sortCode, string account, string expectedSortCode, string expectedAccount)
    {
        // Act
        var bacs = Valid<BacsDebitDetails>(new BacsDebitInput(sortCode, account));

        // Assert
        Assert.Equal(expectedSortCode, bacs.SortCode);
        Assert.Equal(expectedAccount, bacs.AccountNumber);
    }

    [Theory]
    [InlineData("108800", "12345", "bacs_debit.account_number", "must be 6-8 digits")]
    [InlineData("108800", "123456789", "bacs_debit.account_number", "must be 6-8 digits")]
    [InlineData("108800", "1234567890", "bacs_debit.account_number", "must be 6-8 digits")]
    [InlineData("108800", "", "bacs_debit.account_number", "is required")]
    [InlineData("1088000", "00012345", "bacs_debit.sort_code", "must be 6 digits, optionally written 00-00-00")]
    [InlineData("108-800", "00012345", "bacs_debit.sort_code", "must be 6 digits, optionally written 00-00-00")]
    [InlineData("10 88 00", "00012345", "bacs_debit.sort_code", "must be 6 digits, optionally written 00-00-00")]
    [InlineData(null, "00012345", "bacs_debit.sort_code", "is required")]
    public void ValidateBankAccount_BacsInvalid_ViolationNamesFieldAndRule(string? sortCode, string? account, string field, string rule)
    {
        // Act
        var violations = BankViolations(new BacsDebitInput(sortCode, account));

        // Assert
        AssertSingle(violations, field, rule);
    }

    [Theory]
    [InlineData("110000000", "000123456789")]
    [InlineData("021000021", "1234")]
    [InlineData("011000015", "12345678901234567")]
    [InlineData("110000000", "000111111113")]
    public void ValidateBankAccount_AchValid_NumbersKeptWithLeadingZeros(string routing, string account)
    {
        // Act
        var ach = Valid<UsBankAccountDetails>(new UsBankAccountInput(routing, account, AccountHolderType.Individual, BankAccountKind.Checking));

        // Assert
        Assert.Equal(routing, ach.RoutingNumber);
        Assert.Equal(account, ach.AccountNumber);
        Assert.Equal(AccountHolderType.Individual, ach.AccountHolderType);
        Assert.Equal(BankAccountKind.Checking, ach.AccountType);
    }

    [Theory]
    [InlineData("130000000", "must start with 00-12, 21-32, 61-72 or 80")]
    [InlineData("210000000", "failed checksum")]
    [InlineData("021000022", "failed checksum")]
    [InlineData("21000021", "must be 9 digits")]
    [InlineData("0210000210", "must be 9 digits")]
    [InlineData("02100002a", "must be 9 digits")]
    [InlineData("", "is required")]
    public void ValidateBankAccount_AchBadRoutingNumber_ViolationNamesRule(string routing, string rule)
    {
        // Act
        var violations = BankViolations(new UsBankAccountInput(routing, "000123456789", AccountHolderType.Company, BankAccountKind.Savings));

        // Assert
        AssertSingle(violations, "us_bank_account.routing_number", rule);
    }

    [Theory]
    [InlineData("123")]
    [InlineData("123456789012345678")]
    [InlineData("1234-5678")]
    public void ValidateBankAccount_AchBadAccountNumber_Violation(string account)
    {
        // Act
        var violations = BankViolations(new UsBankAccountInput("110000000", account, AccountHolderType.Company, BankAccountKind.Savings));

        // Assert
        AssertSingle(violations, "us_bank_account.account_number", "must be 4-17 digits");
    }

    [Fact]
    public void ValidateBankAccount_AchHolderAndAccountTypeMissing_BothRequired()
    {
        // Act
        var violations = BankViolations(new UsBankAccountInput("110000000", "000123456789", null, null));

        // Assert
        Assert.Equal(
            new[] { "us_bank_account.account_holder_type: is required", "us_bank_account.account_type: is required" },
            violations.Select(v => v.ToString()));
    }

    [Fact]
    public void ValidateBankAccount_AchUndefinedEnumValues_Violations()
    {
        // Act
        var violations = BankViolations(new UsBankAccountInput("110000000", "000123456789", (AccountHolderType)7, (BankAccountKind)0));

        // Assert
        Assert.Equal(
            new[] { "us_bank_account.account_holder_type: must be individual or company", "us_bank_account.account_type: must be checking or savings" },
            violations.Select(v => v.ToString()));
    }
}
