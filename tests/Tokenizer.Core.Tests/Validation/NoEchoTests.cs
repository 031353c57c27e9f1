using System.Text.RegularExpressions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>Violations and messages name fields and rules; they never carry any part of the input.</summary>
public partial class NoEchoTests
{
    public static TheoryData<TokenizeCardCommand> BadCards() => new()
    {
        CardCommand(Card("4242424242424241", cvc: "9876")),
        CardCommand(Card("4242 4242 4242 4241", 13, 2025, "98765")),
        CardCommand(Card("4242.4242.4242.4242", cvc: "4321x")),
        CardCommand(Card("55555555555544445555555555554444", cvc: "1")),
        CardCommand(Card("378282246310006", cvc: "5678")),
        CardCommand(Card("1234567", 6789, 12345, "1234")),
        CardCommand(Card("6200000000000006")) with { IdempotencyKey = "key 7777 with spaces", CustomerReference = "ref 8888" },
        CardCommand(billing: new BillingDetails("Name 31415926", "31415926@example", "+44 2079 ext 4600", new Address("1234 Main", null, null, null, new string('9', 25), "1234"))),
    };

    public static TheoryData<BankAccountInput> BadAccounts() => new()
    {
        new SepaDebitInput("GB82WEST12345698765433"),
        new SepaDebitInput("GB00HLFX11016111455365"),
        new SepaDebitInput("XX8212345698765432"),
        new SepaDebitInput("DE8937040044053201300"),
        new SepaDebitInput("DE89-3704-0044-0532-0130-00"),
        new AuBecsDebitInput("1234-56", "987"),
        new AuBecsDebitInput("123456", "98765432109"),
        new BacsDebitInput("10-8800", "123456789"),
        new BacsDebitInput("1088001", "1234"),
        new UsBankAccountInput("130000000", "123", AccountHolderType.Company, BankAccountKind.Savings),
        new UsBankAccountInput("021000022", "123456789012345678", AccountHolderType.Company, BankAccountKind.Savings),
        new UsBankAccountInput("0210000210", "1234x5678", AccountHolderType.Company, BankAccountKind.Savings),
    };

    [Theory]
    [MemberData(nameof(BadCards))]
    public void ValidateCard_InvalidInput_NoDigitRunOfTheInputInViolationsOrMessage(TokenizeCardCommand command)
    {
        // Act
        var exception = Assert.Throws<TokenizerException>(() => Validator().ValidateCard(command));

        // Assert
        AssertNoEcho(exception, Inputs(command));
    }

    [Theory]
    [MemberData(nameof(BadAccounts))]
    public void ValidateBankAccount_InvalidInput_NoDigitRunOfTheInputInViolationsOrMessage(BankAccountInput account)
    {
        // Arrange
        var command = BankCommand(account, new BillingDetails(null, "2468@1357", "1111 2222 3333 4444 5555 6666 7777", null));

        // Act
        var exception = Assert.Throws<TokenizerException>(() => Validator().ValidateBankAccount(command));

        // Assert
        AssertNoEcho(exception, Inputs(command));
    }

    private static string?[] Inputs(TokenizeCardCommand command) =>
    [
        command.IdempotencyKey, command.CustomerReference, command.Card?.Number, command.Card?.Cvc,
        command.Card?.ExpMonth.ToString(System.Globalization.CultureInfo.InvariantCulture),
        command.Card?.ExpYear.ToString(System.Globalization.CultureInfo.InvariantCulture),
        .. BillingInputs(command.BillingDetails),
    ];

    private static string?[] Inputs(TokenizeBankAccountCommand command) =>
    [
        command.IdempotencyKey, command.CustomerReference,
        .. command.Account switch
        {
            SepaDebitInput s => new[] { s.Iban },
            AuBecsDebitInput b => [b.BsbNumber, b.AccountNumber],
            BacsDebitInput b => [b.SortCode, b.AccountNumber],
            UsBankAccountInput u => [u.RoutingNumber, u.AccountNumber],
            _ => [],
        },
        .. BillingInputs(command.BillingDetails),
    ];

    private static string?[] BillingInputs(BillingDetails? b) =>
    [
        b?.Name, b?.Email, b?.Phone, b?.Address?.Line1, b?.Address?.Line2, b?.Address?.City, b?.Address?.State,
        b?.Address?.PostalCode, b?.Address?.Country,
    ];

    /// <summary>No 4-character window that holds a digit, taken from any input, appears in the output.</summary>
    private static void AssertNoEcho(TokenizerException exception, IEnumerable<string?> inputs)
    {
        Assert.NotEmpty(exception.Violations);
        var outputs = exception.Violations.SelectMany(v => new[] { v.Field, v.Rule }).Append(exception.Message).ToList();
        foreach (var input in inputs.OfType<string>())
        {
            foreach (Match run in DigitRun().Matches(input))
            {
                for (var i = 0; i + 4 <= run.Value.Length; i++)
                {
                    var window = run.Value.Substring(i, 4);
                    Assert.All(outputs, output => Assert.DoesNotContain(window, output, StringComparison.Ordinal));
                }
            }

            var compact = input.Replace(" ", string.Empty, StringComparison.Ordinal);
            for (var i = 0; i + 4 <= compact.Length; i++)
            {
                var window = compact.Substring(i, 4);
                if (window.Any(char.IsAsciiDigit))
                {
                    Assert.All(outputs, output => Assert.DoesNotContain(window, output, StringComparison.OrdinalIgnoreCase));
                }
            }
        }
    }

    [GeneratedRegex("[0-9]{4,}")]
    private static partial Regex DigitRun();
}
