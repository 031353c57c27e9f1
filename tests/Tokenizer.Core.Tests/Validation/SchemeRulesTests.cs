using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>
/// The scheme rules beyond shape: PAN lengths per brand, numbers that cannot exist (all zeros), Stripe's documented test
/// values, and how much of a short account number may be shown. Property tests over generated numbers.
/// </summary>
public sealed class SchemeRulesTests
{
    private const long Iterations = 1_000;
    private const string AllZeroRule = "must not be all zeros";
    private const string BrandLengthRule = "length does not match the card brand of its prefix";

    /// <summary>
    /// The networks' ranges and the lengths they issue (Braintree's credit-card-type and REFERENCE.md; the union where they
    /// differ), written out here independently of <see cref="CardBrandDetector"/>'s table. Each prefix is its range's
    /// longest, so the brand of a number starting with it is the row's (Maestro and UnionPay rows leave out the
    /// sub-ranges a longer prefix of another brand takes).
    /// </summary>
    public static TheoryData<string, string, int[]> Brands() => new()
    {
        { "4", "4", [13, 16, 18, 19] },
        { "51", "55", [16] },
        { "222100", "272099", [16] },
        { "34", "34", [15] },
        { "37", "37", [15] },
        { "6011", "6011", [16, 17, 18, 19] },
        { "644", "649", [16, 17, 18, 19] },
        { "65", "65", [16, 17, 18, 19] },
        { "622126", "622925", [16, 17, 18, 19] },
        { "3528", "3589", [16, 17, 18, 19] },
        { "300", "305", [14, 15, 16, 17, 18, 19] },
        { "3095", "3095", [14, 15, 16, 17, 18, 19] },
        { "36", "36", [14, 15, 16, 17, 18, 19] },
        { "38", "39", [14, 15, 16, 17, 18, 19] },
        { "2200", "2204", [16, 17, 18, 19] },
        { "620", "621", [14, 15, 16, 17, 18, 19] },
        { "623", "629", [14, 15, 16, 17, 18, 19] },
        { "50", "50", [12, 13, 14, 15, 16, 17, 18, 19] },
        { "56", "59", [12, 13, 14, 15, 16, 17, 18, 19] },
        { "61", "61", [12, 13, 14, 15, 16, 17, 18, 19] },
        { "63", "63", [12, 13, 14, 15, 16, 17, 18, 19] },
        { "640", "643", [12, 13, 14, 15, 16, 17, 18, 19] },
        { "66", "69", [12, 13, 14, 15, 16, 17, 18, 19] },
    };

    /// <summary>Stripe's documented test bank details (docs.stripe.com/testing, REFERENCE.md section 1).</summary>
    public static TheoryData<BankAccountInput> StripeTestAccounts() => new()
    {
        new AuBecsDebitInput("000-000", "000123456"),
        new AuBecsDebitInput("000000", "000123456"),
        new AuBecsDebitInput("000-000", "900123456"),
        new AuBecsDebitInput("000-000", "111111113"),
        new AuBecsDebitInput("000-000", "111111116"),
        new AuBecsDebitInput("000-000", "222222227"),
        new AuBecsDebitInput("000-000", "922222227"),
        new AuBecsDebitInput("000-000", "333333335"),
        new BacsDebitInput("108800", "00012345"),
        new BacsDebitInput("10-88-00", "00012345"),
        new BacsDebitInput("108800", "90012345"),
        new BacsDebitInput("108800", "33333335"),
        new BacsDebitInput("108800", "93333335"),
        new BacsDebitInput("108800", "22222227"),
        new BacsDebitInput("108800", "92222227"),
        new BacsDebitInput("108800", "55555559"),
        new SepaDebitInput("AT611904300234573201"),
        new SepaDebitInput("AT861904300235473202"),
        new SepaDebitInput("AT591904300235473203"),
        new SepaDebitInput("AT321904300235473204"),
        new SepaDebitInput("DE89370400440532013000"),
        new UsBankAccountInput("110000000", "000123456789", AccountHolderType.Individual, BankAccountKind.Checking),
        new UsBankAccountInput("110000000", "000111111113", AccountHolderType.Individual, BankAccountKind.Checking),
        new UsBankAccountInput("110000000", "000111111116", AccountHolderType.Company, BankAccountKind.Savings),
        new UsBankAccountInput("110000000", "000222222227", AccountHolderType.Individual, BankAccountKind.Checking),
        new UsBankAccountInput("110000000", "000333333335", AccountHolderType.Individual, BankAccountKind.Checking),
        new UsBankAccountInput("110000000", "000444444440", AccountHolderType.Individual, BankAccountKind.Checking),
    };

    /// <summary>Stripe's documented test cards (REFERENCE.md section 1): every one passes the brand length rule.</summary>
    public static TheoryData<string> StripeTestCards() => new()
    {
        "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222", "378282246310005", "371449635398431",
        "6011111111111117", "3056930009020004", "36227206271667", "3566002020360505", "6200000000000005", "4000000000000002",
        "4000000000009995", "4000000000009987", "4000000000009979", "4000000000000069", "4000000000000127", "4000000000000119",
        "4000000000000341", "4000002500003155", "4000002760003184", "4000008260003178", "4000000000003220",
    };

    [Theory]
    [MemberData(nameof(Brands))]
    public void ValidateCard_GeneratedNumberOfABrand_AcceptedExactlyAtTheBrandsLengths(string low, string high, int[] lengths)
    {
        var prefixes = Gen.Int[ValueOf(low), ValueOf(high)].Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(low.Length, '0'));
        Gen.Select(prefixes, Gen.Int[12, 19], Gen.Char['0', '9'].Array[19])
            .Sample(
                t =>
                {
                    // Arrange: prefix, random middle, Luhn check digit; never all zeros (another rule).
                    var (prefix, length, random) = t;
                    var payload = prefix + new string(random, 0, length - prefix.Length - 1);
                    var pan = payload + Luhn.ComputeCheckDigit(payload);
                    var cvc = prefix.StartsWith("34", StringComparison.Ordinal) || prefix.StartsWith("37", StringComparison.Ordinal) ? "1234" : "123";

                    // Act
                    var outcome = Record.Exception(() => Validator().ValidateCard(CardCommand(Card(pan, cvc: cvc))));

                    // Assert
                    if (lengths.Contains(length))
                    {
                        Assert.Null(outcome);
                    }
                    else
                    {
                        AssertSingle(Assert.IsType<TokenizerException>(outcome).Violations, "card.number", BrandLengthRule);
                    }
                },
                iter: Iterations);
    }

    [Fact]
    public void ValidateCard_ThirteenDigitsWithAnAmexPrefix_RefusedNamingTheRuleNotTheValue()
    {
        // Arrange: 13 digits starting 37, Luhn-valid.
        const string payload = "370000000000";
        var pan = payload + Luhn.ComputeCheckDigit(payload);

        // Act
        var error = Assert.Throws<TokenizerException>(() => Validator().ValidateCard(CardCommand(Card(pan, cvc: "1234"))));

        // Assert
        AssertSingle(error.Violations, "card.number", BrandLengthRule);
        Assert.DoesNotContain("37000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateCard_GeneratedNumberOfNoKnownBrand_AcceptedAt12To19Digits()
    {
        // Prefixes 1, 7, 8, 9 belong to no brand in the table (ISO/IEC 7812 airlines, healthcare, telecoms, national).
        Gen.Select(Gen.OneOfConst('1', '7', '8', '9'), Gen.Int[12, 19], Gen.Char['0', '9'].Array[19])
            .Sample(
                t =>
                {
                    // Arrange
                    var (first, length, random) = t;
                    var payload = first + new string(random, 0, length - 2);
                    var pan = payload + Luhn.ComputeCheckDigit(payload);

                    // Act
                    var request = Validator().ValidateCard(CardCommand(Card(pan)));

                    // Assert
                    Assert.Equal(pan, request.Card.Pan);
                },
                iter: Iterations);
    }

    [Theory]
    [MemberData(nameof(StripeTestCards))]
    public void ValidateCard_StripeTestCard_Accepted(string pan)
    {
        var cvc = pan.StartsWith('3') && pan[1] is '4' or '7' ? "1234" : "123";

        var request = Validator().ValidateCard(CardCommand(Card(pan, cvc: cvc)));

        Assert.Equal(pan, request.Card.Pan);
    }

    [Fact]
    public void ValidateCard_AllZeroPanOfAnyLength_RefusedAsAllZeros()
    {
        Gen.Int[12, 19].Sample(
            length => AssertSingle(CardViolations(Card(new string('0', length))), "card.number", AllZeroRule),
            iter: 8);
    }

    [Theory]
    [MemberData(nameof(StripeTestAccounts))]
    public void ValidateBankAccount_StripeDocumentedTestValue_Accepted(BankAccountInput account)
    {
        var request = Validator().ValidateBankAccount(BankCommand(account, FullBilling("AT")));

        Assert.NotNull(request.Account);
    }

    [Fact]
    public void ValidateBankAccount_AllZeroNumberInAnyBankField_RefusedNamingFieldAndRule()
    {
        var cases = Gen.OneOf(
            Gen.Int[5, 9].Select(n => (Input: (BankAccountInput)new AuBecsDebitInput("000000", new string('0', n)), Field: "au_becs_debit.account_number")),
            Gen.Int[6, 8].Select(n => (Input: (BankAccountInput)new BacsDebitInput("108800", new string('0', n)), Field: "bacs_debit.account_number")),
            Gen.OneOfConst("000000", "00-00-00").Select(s => (Input: (BankAccountInput)new BacsDebitInput(s, "00012345"), Field: "bacs_debit.sort_code")),
            Gen.Int[4, 17].Select(n => (Input: (BankAccountInput)Ach("110000000", new string('0', n)), Field: "us_bank_account.account_number")),
            Gen.Const((Input: (BankAccountInput)Ach("000000000", "000123456789"), Field: "us_bank_account.routing_number")),
            Gen.OneOfConst("DE", "AT", "FR", "ES", "BE").Select(c => (Input: (BankAccountInput)new SepaDebitInput(AllZeroIban(c)), Field: "sepa_debit.iban")));
        cases.Sample(
            t =>
            {
                // Act
                var violations = BankViolations(t.Input, FullBilling("AT"));

                // Assert
                var violation = Assert.Single(violations);
                Assert.Equal(t.Field, violation.Field);
                Assert.Contains("all zeros", violation.Rule, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_AchAccountOfAnyLength_Last4ShowsAtMostHalfAndNeverTheWholeNumber()
    {
        Gen.Char['1', '9'].Array[4, 17].Sample(
            digits =>
            {
                // Arrange
                var account = new string(digits);

                // Act
                var last4 = Validator().ValidateBankAccount(BankCommand(Ach("110000000", account))).Account.Last4;

                // Assert
                AssertShowsAtMostHalf(account, last4);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateBankAccount_BecsAccountOfAnyLength_Last4ShowsAtMostHalfAndNeverTheWholeNumber()
    {
        Gen.Char['1', '9'].Array[5, 9].Sample(
            digits =>
            {
                var account = new string(digits);

                var last4 = Validator().ValidateBankAccount(BankCommand(new AuBecsDebitInput("000000", account))).Account.Last4;

                AssertShowsAtMostHalf(account, last4);
            },
            iter: Iterations);
    }

    [Fact]
    public async Task TokenizeBankAccount_GatewayReportsAShortAccountWhole_StoresAndReturnsAtMostHalf()
    {
        var accounts = Gen.Char['1', '9'].Array[4, 17].Select(d => new string(d));
        await accounts.SampleAsync(
            async account =>
            {
                // Arrange: the gateway reports its last4 as Stripe does (the whole of a 4-digit account).
                var gateway = Substitute.For<ITokenGateway>();
                var claimStore = Substitute.For<IClaimStore>();
                var customerRepository = Substitute.For<ICustomerRepository>();
                gateway.Name.Returns("stripe");
                claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
                customerRepository.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
                gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(new GatewayPaymentMethod(
                    "pm_1", TokenType.UsBankAccount, null, new BankAccountMetadata(account[^4..], "110000000", "US", "fp")));
                gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(
                    new GatewaySetup("seti_1", SetupStatus.Processing, null, null, null, "pm_1"));
                var time = new FakeTimeProvider(Now);
                var service = new TokenizationService(
                    new RequestValidator(time), gateway, claimStore, customerRepository, Substitute.For<ITokenRepository>(), new RequestHasher(new byte[32]), time, new TokenizationSettings(), NullLogger<TokenizationService>.Instance);

                // Act
                var result = await service.TokenizeBankAccountAsync(
                    new CallerContext("default", CallerRoles.Tokenize), BankCommand(Ach("110000000", account)), CancellationToken.None);

                // Assert: what is returned and what the ledger is given.
                var shown = result.Token.BankAccount!.Last4;
                AssertShowsAtMostHalf(account, shown);
                await claimStore.Received(1).CompleteWithTokenAsync(
                    Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>(), Arg.Is<TokenRecord>(t => t.BankAccount!.Last4 == shown), Arg.Any<CancellationToken>());
            },
            iter: 200);
    }

    [Fact]
    public void VisibleDigits_AnyNumberLength_ShowsMinOfFourAndHalfPaddedToFour()
    {
        Gen.Char['0', '9'].Array[1, 34].Sample(
            digits =>
            {
                var number = new string(digits);

                var last4 = VisibleDigits.Last4(number);

                Assert.Equal(4, last4.Length);
                AssertShowsAtMostHalf(number, last4);
                Assert.Equal(Math.Min(4, number.Length / 2), last4.Count(c => c != '*'));
                Assert.True(VisibleDigits.Agree(last4, VisibleDigits.Mask(number[^Math.Min(4, number.Length)..], 4)));
            },
            iter: Iterations);
    }

    private static void AssertShowsAtMostHalf(string number, string last4)
    {
        var shown = last4.TrimStart('*');
        Assert.True(shown.Length <= Math.Min(4, number.Length / 2), $"{shown.Length} of {number.Length} digits shown");
        Assert.EndsWith(shown, number, StringComparison.Ordinal);
        Assert.NotEqual(number, shown);
    }

    private static UsBankAccountInput Ach(string routing, string account) =>
        new(routing, account, AccountHolderType.Individual, BankAccountKind.Checking);

    /// <summary>An IBAN of the country with an all-zero BBAN of the registry's length and valid check digits.</summary>
    private static string AllZeroIban(string country)
    {
        var length = IbanRegistry.Find(country)!.Length;
        var bban = new string('0', length - 4);
        var remainder = IbanValidation.Mod97(country + "00" + bban);
        return country + (98 - remainder).ToString("00", System.Globalization.CultureInfo.InvariantCulture) + bban;
    }

    private static int ValueOf(string digits) => digits.Aggregate(0, (value, c) => (value * 10) + (c - '0'));
}
