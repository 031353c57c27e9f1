using CsCheck;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>CsCheck properties over generated PANs, IBANs and arbitrary strings.</summary>
public class PropertyTests
{
    private const long Iterations = 2_000;
    private const string Alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private static readonly RequestValidator SharedValidator = Validator();

    /// <summary>
    /// A Luhn-valid number: 11-18 random digits followed by the computed check digit, of a length its brand issues
    /// (any of 12-19 for an unknown brand) and not all zeros (SchemeRulesTests covers those rules).
    /// </summary>
    private static readonly Gen<string> LuhnValidPan =
        Gen.Char['0', '9'].Array[11, 18].Select(payload => new string(payload) + Luhn.ComputeCheckDigit(payload))
            .Where(pan => CardBrandDetector.HasBrandLength(pan) && pan.Any(c => c != '0'));

    /// <summary>A valid IBAN of a SEPA registry country: random BBAN in the country's format, computed check digits.</summary>
    private static readonly Gen<string> ValidIban =
        Gen.OneOfConst(IbanRegistry.Countries.Values.Where(c => BillingRequirements.SepaCountries.Contains(c.Code)).ToArray())
            .SelectMany(country => Gen.Int[0, int.MaxValue].Array[country.Length - 4].Select(random => BuildIban(country, random)));

    [Fact]
    public void ValidateCard_AnyLuhnValidPanOfItsBrandsLength_Valid()
    {
        LuhnValidPan.Sample(
            pan =>
            {
                // Arrange
                var cvc = CardBrandDetector.Detect(pan) == CardBrand.Amex ? "1234" : "123";

                // Act
                var request = SharedValidator.ValidateCard(CardCommand(Card(pan, cvc: cvc)));

                // Assert
                Assert.Equal(pan, request.Card.Pan);
            },
            iter: Iterations);
    }

    [Fact]
    public void IsValid_OneDigitOfLuhnValidNumberChanged_False()
    {
        LuhnValidPan.SelectMany(pan => Gen.Select(Gen.Int[0, pan.Length - 1], Gen.Int[1, 9], (position, delta) => (pan, position, delta)))
            .Sample(
                t =>
                {
                    // Arrange
                    var chars = t.pan.ToCharArray();
                    chars[t.position] = (char)('0' + ((chars[t.position] - '0' + t.delta) % 10));

                    // Act
                    var valid = Luhn.IsValid(chars);

                    // Assert
                    Assert.False(valid);
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateCard_LuhnValidPanWithRandomSpacesAndDashes_NormalisesToSamePan()
    {
        LuhnValidPan.SelectMany(pan => Gen.Char[" -"].Array[0, 2].Array[pan.Length + 1].Select(separators => (pan, separators)))
            .Sample(
                t =>
                {
                    // Arrange
                    var formatted = string.Concat(t.pan.Select((c, i) => new string(t.separators[i]) + c)) + new string(t.separators[^1]);
                    var cvc = CardBrandDetector.Detect(t.pan) == CardBrand.Amex ? "1234" : "123";

                    // Act
                    var request = SharedValidator.ValidateCard(CardCommand(Card(formatted, cvc: cvc)));

                    // Assert
                    Assert.Equal(t.pan, request.Card.Pan);
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_IbanGeneratedFromCountryFormat_Valid()
    {
        ValidIban.Sample(
            iban =>
            {
                // Act
                var request = SharedValidator.ValidateBankAccount(BankCommand(new SepaDebitInput(iban), FullBilling()));

                // Assert
                Assert.Equal(iban, Assert.IsType<SepaDebitDetails>(request.Account).Iban);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_IbanWithOneCharacterSubstituted_Invalid()
    {
        ValidIban.SelectMany(iban => Gen.Select(Gen.Int[0, iban.Length - 1], Gen.Char[Alphanumerics], (position, c) => (iban, position, c)))
            .Sample(
                t =>
                {
                    var original = t.iban[t.position];
                    var kind = KindAt(t.iban, t.position);

                    // A digit<->letter swap inside an alphanumeric ('c') segment can pass mod 97 (a letter is two
                    // digits in the checksum): ISO 13616 does not promise to catch it, so it is not asserted here.
                    if (t.c == original || (kind == 'c' && char.IsAsciiDigit(t.c) != char.IsAsciiDigit(original)))
                    {
                        return;
                    }

                    // Arrange
                    var changed = string.Concat(t.iban.AsSpan(0, t.position), t.c.ToString(), t.iban.AsSpan(t.position + 1));

                    // Act
                    var exception = Assert.Throws<TokenizerException>(
                        () => SharedValidator.ValidateBankAccount(BankCommand(new SepaDebitInput(changed), FullBilling())));

                    // Assert
                    Assert.Equal("sepa_debit.iban", Assert.Single(exception.Violations).Field);
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_IbanWithRandomSpacesAndLowerCase_NormalisesToSameIban()
    {
        ValidIban.SelectMany(iban => Gen.Select(Gen.Bool.Array[iban.Length], Gen.Int[0, 2].Array[iban.Length + 1], (lower, spaces) => (iban, lower, spaces)))
            .Sample(
                t =>
                {
                    // Arrange
                    var formatted = string.Concat(t.iban.Select((c, i) => new string(' ', t.spaces[i]) + (t.lower[i] ? char.ToLowerInvariant(c) : c)))
                        + new string(' ', t.spaces[^1]);

                    // Act
                    var request = SharedValidator.ValidateBankAccount(BankCommand(new SepaDebitInput(formatted), FullBilling()));

                    // Assert
                    Assert.Equal(t.iban, Assert.IsType<SepaDebitDetails>(request.Account).Iban);
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateCard_ArbitraryStrings_ThrowsNothingButTokenizerException()
    {
        var text = Gen.OneOf(Gen.String, Gen.String[Gen.Char["0123456789 -"], 0, 40], Gen.Const((string?)null)!);
        Gen.Select(text, text, text, text, text, text, text, Gen.Int)
            .Select((key, reference, number, cvc, name, email, phone, month) => (key, reference, number, cvc, name, email, phone, month))
            .Sample(
                t =>
                {
                    // Arrange
                    var command = new TokenizeCardCommand(
                        t.key,
                        t.reference,
                        new CardInput(t.number, t.month, t.month / 7, t.cvc),
                        new BillingDetails(t.name, t.email, t.phone, new Address(t.name, t.phone, t.email, t.cvc, t.number, t.key)));

                    // Act and assert
                    AssertOnlyTokenizerException(() => SharedValidator.ValidateCard(command));
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_ArbitraryStrings_ThrowsNothingButTokenizerException()
    {
        var text = Gen.OneOf(Gen.String, Gen.String[Gen.Char["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -"], 0, 40], Gen.Const((string?)null)!);
        var account = Gen.OneOf<BankAccountInput?>(
            text.Select(iban => (BankAccountInput?)new SepaDebitInput(iban)),
            Gen.Select(text, text, (bsb, number) => (BankAccountInput?)new AuBecsDebitInput(bsb, number)),
            Gen.Select(text, text, (sortCode, number) => (BankAccountInput?)new BacsDebitInput(sortCode, number)),
            Gen.Select(text, text, Gen.Int, (routing, number, kind) => (BankAccountInput?)new UsBankAccountInput(routing, number, (AccountHolderType)(kind % 4), (BankAccountKind)(kind % 3))),
            Gen.Const((BankAccountInput?)null));
        Gen.Select(text, text, account, text, text)
            .Sample(
                (key, reference, input, name, email) =>
                {
                    // Arrange
                    var command = new TokenizeBankAccountCommand(key, reference, input, new BillingDetails(name, email, name, new Address(email, name, email, name, email, name)));

                    // Act and assert
                    AssertOnlyTokenizerException(() => SharedValidator.ValidateBankAccount(command));
                },
                iter: Iterations);
    }

    private static void AssertOnlyTokenizerException(Action validate)
    {
        try
        {
            validate();
        }
        catch (TokenizerException exception)
        {
            Assert.NotEmpty(exception.Violations);
        }
    }

    private static string BuildIban(IbanCountry country, int[] random)
    {
        var bban = new char[country.Length - 4];
        var position = 0;
        foreach (var (count, kind) in country.Bban)
        {
            for (var i = 0; i < count; i++, position++)
            {
                var r = random[position];
                bban[position] = kind switch
                {
                    'n' => (char)('0' + (r % 10)),
                    'a' => (char)('A' + (r % 26)),
                    _ => Alphanumerics[r % Alphanumerics.Length],
                };
            }
        }

        // ISO 13616 check digits: 98 - (mod 97 of the IBAN with check digits 00).
        var zeroed = country.Code + "00" + new string(bban);
        var checkDigits = 98 - IbanValidation.Mod97(zeroed);
        return country.Code + checkDigits.ToString("00", System.Globalization.CultureInfo.InvariantCulture) + new string(bban);
    }

    private static char KindAt(string iban, int position)
    {
        if (position < 4)
        {
            return position < 2 ? 'a' : 'n';
        }

        var country = IbanRegistry.Countries[iban[..2]];
        var offset = 4;
        foreach (var (count, kind) in country.Bban)
        {
            if (position < offset + count)
            {
                return kind;
            }

            offset += count;
        }

        throw new InvalidOperationException("position outside the IBAN");
    }
}
