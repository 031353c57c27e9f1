using CsCheck;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>The setup fields: a card's return_url and a bank account's mandate_acceptance.</summary>
public sealed class SetupValidationTests
{
    private static readonly SepaDebitInput Sepa = new("AT611904300234573201");

    private static TokenizeBankAccountCommand WithMandate(MandateAcceptanceInput? mandate) =>
        new(Key, Reference, Sepa, FullBilling(), mandate);

    private static MandateAcceptanceInput Online(string? ip = "203.0.113.7", string? agent = "Mozilla/5.0", DateTimeOffset? at = null) =>
        new(at ?? Now.AddMinutes(-1), new OnlineAcceptanceInput(ip, agent), Offline: false);

    [Theory]
    [InlineData("https://billing.example.com/return")]
    [InlineData("https://billing.example.com:8443/return?order=a&b=c")]
    public void ValidateCard_HttpsReturnUrl_Kept(string url)
    {
        var request = Validator().ValidateCard(CardCommand() with { ReturnUrl = url });

        Assert.Equal(url, request.ReturnUrl);
    }

    [Fact]
    public void ValidateCard_NoReturnUrl_Null()
    {
        Assert.Null(Validator().ValidateCard(CardCommand() with { ReturnUrl = "" }).ReturnUrl);
    }

    [Theory]
    [InlineData("http://billing.example.com/return")]
    [InlineData("/relative/return")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://user:secret@billing.example.com/return")]
    [InlineData("ftp://billing.example.com/return")]
    public void ValidateCard_ReturnUrlNotAbsoluteHttps_RefusedWithoutEcho(string url)
    {
        var violations = CardViolations(CardCommand() with { ReturnUrl = url });

        AssertSingle(violations, "return_url", SetupValidation.ReturnUrlRule);
        Assert.DoesNotContain(violations, v => v.Rule.Contains("example", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCard_ReturnUrlLongerThan2048_Refused()
    {
        var url = "https://billing.example.com/" + new string('a', 2048 - 28 + 1);

        var violations = CardViolations(CardCommand() with { ReturnUrl = url });
        var atLimit = Validator().ValidateCard(CardCommand() with { ReturnUrl = url[..2048] });

        Assert.Equal("return_url", Assert.Single(violations).Field);
        Assert.Equal(2048, atLimit.ReturnUrl!.Length);
    }

    [Fact]
    public void ValidateCard_ReturnUrlHoldingACardNumber_Refused()
    {
        var violations = CardViolations(CardCommand() with { ReturnUrl = "https://billing.example.com/r?pan=4242424242424242" });

        AssertSingle(violations, "return_url", FreeTextRule.CardOrBankNumber);
        Assert.DoesNotContain(violations, v => v.ToString().Contains("4242", StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateCard_ReturnUrlHoldingAPercentEncodedCardNumber_RefusedInEveryEncoding()
    {
        // A generated PAN, its digits (and separators) percent-encoded once or twice: what the browser and the gateway
        // read after decoding is the number.
        var pan = Gen.Char['0', '9'].Array[15].Select(d => new string(d) + Luhn.ComputeCheckDigit(new string(d)));
        Gen.Select(pan, Gen.OneOfConst("", "-", " ", "/", "ー"), Gen.Int[1, 2], Gen.Bool).Sample(
            (number, separator, rounds, everyChar) =>
            {
                var written = string.Join(separator, number.Chunk(4).Select(c => new string(c)));
                var encoded = everyChar
                    ? string.Concat(System.Text.Encoding.UTF8.GetBytes(written).Select(b => "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)))
                    : Uri.EscapeDataString(written);
                for (var i = 1; i < rounds; i++)
                {
                    encoded = encoded.Replace("%", "%25", StringComparison.Ordinal);
                }

                var violations = CardViolations(CardCommand() with { ReturnUrl = "https://b.example.com/done?x=" + encoded });

                var violation = Assert.Single(violations);
                Assert.Equal("return_url", violation.Field);
                Assert.Equal(FreeTextRule.CardOrBankNumber, violation.Rule);
            },
            iter: 300);
    }

    [Theory]
    [InlineData("https://a.example/NL31xFQGBx1715x4278x05", FreeTextRule.CardOrBankNumber)]
    [InlineData("https://a.example/NL91xABNAx0417x1643x00", FreeTextRule.CardOrBankNumber)]
    [InlineData("https://a.example/?cvc=______123", FreeTextRule.Cvc)]
    [InlineData("https://a.example/?x=123(cvc)", FreeTextRule.Cvc)]
    [InlineData("https://a.example/?s=c%E2%80%8Dv%E2%80%8Dv%E2%80%8D2%200471", FreeTextRule.Cvc)]
    [InlineData("https://a.example/?s=NL91%D0%B6ABNA%D0%B60417%D0%B61643%D0%B600", FreeTextRule.CardOrBankNumber)]
    [InlineData("https://a.example/%F0%9D%90%8D%F0%9D%90%8B91%F0%9D%90%80%F0%9D%90%81%F0%9D%90%8D%F0%9D%90%800417164300", FreeTextRule.CardOrBankNumber)]
    public void ValidateCard_ReturnUrlWithReviewsDisguisedIbanOrLabelledCvc_RefusedAsWrittenOrDecoded(string url, string rule)
    {
        // return_url probes: the free-text rule judges the URL as written and each decoding.
        var violations = CardViolations(CardCommand() with { ReturnUrl = url });

        AssertSingle(violations, "return_url", rule);
    }

    [Theory]
    [InlineData("https://billing.example.com/done?next=%2Forders%2F42&lang=%C3%A9")]
    [InlineData("https://billing.example.com/a%20b")]
    public void ValidateCard_ReturnUrlPercentEncodedWithoutCardData_Kept(string url)
    {
        Assert.Equal(url, Validator().ValidateCard(CardCommand() with { ReturnUrl = url }).ReturnUrl);
    }

    [Theory]
    [InlineData("https://billing.example.com/do ne")]
    [InlineData("https:\\evil.example.com/")]
    [InlineData("https://billing.example.com/<script>")]
    public void ValidateCard_ReturnUrlWithCharactersAUriCannotHold_Refused(string url)
    {
        AssertSingle(CardViolations(CardCommand() with { ReturnUrl = url }), "return_url", SetupValidation.ReturnUrlRule);
    }

    [Theory]
    [InlineData("https://[0409:0729:0622:0665:2477::]/done")]
    [InlineData("https://0xc89b70e2/done")]
    public void ValidateCard_ReturnUrlWhoseNormalisedHostIsACardNumber_Refused(string url)
    {
        // 409:729:622:665:2477:: and 200.155.112.226 are what a browser and the gateway make of these hosts: PANs.
        AssertSingle(CardViolations(CardCommand() with { ReturnUrl = url }), "return_url", FreeTextRule.CardOrBankNumber);
    }

    [Fact]
    public void ValidateBankAccount_Ipv6WhoseCanonicalFormIsACardNumber_Refused()
    {
        // Leading zeros keep the typed form free of a Luhn-valid window; the canonical form that is stored and sent
        // (409:729:622:665:2477::) is 4097296226652477.
        AssertSingle(BankViolations(WithMandate(Online(ip: "0409:0729:0622:0665:2477::"))), "mandate_acceptance.online.ip_address", FreeTextRule.CardOrBankNumber);

        // Control: an ordinary IPv6 address is kept in its canonical form.
        Assert.Equal("2001:db8::1", Validator().ValidateBankAccount(WithMandate(Online(ip: "2001:0db8::0001"))).MandateAcceptance!.Online!.IpAddress);
    }

    [Fact]
    public void ValidateBankAccount_AcceptedAtAtOrBeforeTheUnixEpoch_Refused()
    {
        foreach (var at in new[] { DateTimeOffset.UnixEpoch, new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero), DateTimeOffset.MinValue })
        {
            AssertSingle(BankViolations(WithMandate(Online(at: at))), "mandate_acceptance.accepted_at", SetupValidation.AcceptedAtPast);
        }

        // Control: a paper mandate signed decades ago is fine.
        Assert.NotNull(Validator().ValidateBankAccount(WithMandate(Online(at: new DateTimeOffset(1999, 6, 1, 0, 0, 0, TimeSpan.Zero)))).MandateAcceptance);
    }

    [Fact]
    public void ValidateBankAccount_DottedQuadIpWhoseDigitsPassLuhn_Accepted_Ipv6HoldingACardNumberRefused()
    {
        // Every dotted quad of three-digit octets is 12 digits starting 1 or 2, one in ten Luhn-valid: an address.
        Gen.Int[100, 255].Array[4].Where(o => Luhn.IsValid(string.Concat(o))).Sample(
            octets => Assert.NotNull(Validator().ValidateBankAccount(WithMandate(Online(ip: string.Join('.', octets)))).MandateAcceptance),
            iter: 200);

        // Control: IPv6 groups that spell a PAN are still refused as one.
        AssertSingle(BankViolations(WithMandate(Online(ip: "2001:4242:4242:4242:4242::1"))), "mandate_acceptance.online.ip_address", FreeTextRule.CardOrBankNumber);
    }

    [Fact]
    public void ValidateBankAccount_NoMandateAcceptance_InvalidArgumentNamingTheField()
    {
        AssertSingle(BankViolations(WithMandate(null)), "mandate_acceptance", ValidationRules.Required);
    }

    [Fact]
    public void ValidateBankAccount_EveryScheme_NeedsTheMandateAcceptance()
    {
        BankAccountInput[] accounts =
        [
            new AuBecsDebitInput("000000", "000123456"),
            Sepa,
            new BacsDebitInput("108800", "00012345"),
            new UsBankAccountInput("110000000", "000123456789", Domain.AccountHolderType.Individual, Domain.BankAccountKind.Checking),
        ];

        foreach (var account in accounts)
        {
            var refused = BankViolations(new TokenizeBankAccountCommand(Key, Reference, account, FullBilling(), null));
            var accepted = Validator().ValidateBankAccount(new TokenizeBankAccountCommand(Key, Reference, account, FullBilling(), Online()));

            AssertSingle(refused, "mandate_acceptance", ValidationRules.Required);
            Assert.Equal(Domain.MandateType.Online, accepted.MandateAcceptance.Type);
        }
    }

    [Fact]
    public void ValidateBankAccount_Online_CanonicalIpAndWholeSeconds()
    {
        var at = Now.AddMinutes(-3).AddMilliseconds(456);

        var request = Validator().ValidateBankAccount(WithMandate(Online(ip: "2001:DB8::1", at: at)));

        Assert.Equal("2001:db8::1", request.MandateAcceptance.Online!.IpAddress);
        Assert.Equal("Mozilla/5.0", request.MandateAcceptance.Online.UserAgent);
        Assert.Equal(at.ToUnixTimeSeconds(), request.MandateAcceptance.AcceptedAt.ToUnixTimeSeconds());
        Assert.Equal(0, request.MandateAcceptance.AcceptedAt.Millisecond);
    }

    [Fact]
    public void ValidateBankAccount_Offline_NoOnlineDetails()
    {
        var request = Validator().ValidateBankAccount(WithMandate(new MandateAcceptanceInput(Now.AddDays(-2), null, Offline: true)));

        Assert.Equal(Domain.MandateType.Offline, request.MandateAcceptance.Type);
        Assert.Null(request.MandateAcceptance.Online);
    }

    [Fact]
    public void ValidateBankAccount_NeitherOrBothTypes_Refused()
    {
        AssertSingle(BankViolations(WithMandate(new MandateAcceptanceInput(Now, null, Offline: false))), "mandate_acceptance.type", "one of online, offline is required");
        AssertSingle(
            BankViolations(WithMandate(new MandateAcceptanceInput(Now, new OnlineAcceptanceInput("203.0.113.7", "UA"), Offline: true))),
            "mandate_acceptance.type",
            "one of online, offline is required");
    }

    [Fact]
    public void ValidateBankAccount_AcceptedAtMissingOrInTheFuture_Refused()
    {
        AssertSingle(BankViolations(WithMandate(new MandateAcceptanceInput(null, null, Offline: true))), "mandate_acceptance.accepted_at", ValidationRules.Required);
        AssertSingle(BankViolations(WithMandate(Online(at: Now.AddMinutes(6)))), "mandate_acceptance.accepted_at", "must not be in the future");

        // Control: within the five-minute skew is accepted.
        Assert.NotNull(Validator().ValidateBankAccount(WithMandate(Online(at: Now.AddMinutes(4)))).MandateAcceptance);
    }

    [Theory]
    [InlineData("not an ip")]
    [InlineData("1")]
    [InlineData("0x7f.1")]
    [InlineData("203.0.113")]
    [InlineData("999.1.1.1")]
    [InlineData("fe80::1%eth0")]
    public void ValidateBankAccount_IpAddressMalformed_RefusedWithoutEcho(string ip)
    {
        var violations = BankViolations(WithMandate(Online(ip: ip)));

        AssertSingle(violations, "mandate_acceptance.online.ip_address", "must be an IPv4 or IPv6 address");
        Assert.DoesNotContain(violations, v => v.ToString().Contains(ip, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidateBankAccount_OnlineWithoutIpOrUserAgent_EachRequired()
    {
        var violations = BankViolations(WithMandate(Online(ip: null, agent: " ")));

        Assert.Contains(violations, v => v.Field == "mandate_acceptance.online.ip_address" && v.Rule == ValidationRules.Required);
        Assert.Contains(violations, v => v.Field == "mandate_acceptance.online.user_agent" && v.Rule == ValidationRules.Required);
    }

    [Fact]
    public void ValidateBankAccount_UserAgentLimits_512CharsNoCardDataNoControls()
    {
        var atLimit = new string('a', 512);

        var accepted = Validator().ValidateBankAccount(WithMandate(Online(agent: atLimit)));
        var tooLong = BankViolations(WithMandate(Online(agent: atLimit + "a")));
        var pan = BankViolations(WithMandate(Online(agent: "Mozilla 4242 4242 4242 4242")));
        var control = BankViolations(WithMandate(Online(agent: "Mozilla\nforged: line")));

        Assert.Equal(512, accepted.MandateAcceptance.Online!.UserAgent.Length);
        Assert.Equal("mandate_acceptance.online.user_agent", Assert.Single(tooLong).Field);
        AssertSingle(pan, "mandate_acceptance.online.user_agent", FreeTextRule.CardOrBankNumber);
        AssertSingle(control, "mandate_acceptance.online.user_agent", FreeTextRule.ControlCharacters);
    }

    [Fact]
    public void OnlineAcceptance_ToString_PrintsNoPersonalData()
    {
        var input = new OnlineAcceptanceInput("203.0.113.7", "Mozilla/5.0");
        var domain = new Domain.OnlineAcceptance("203.0.113.7", "Mozilla/5.0");

        Assert.DoesNotContain("203.0.113.7", input.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.7", domain.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.7", new Domain.MandateAcceptance(Now, domain).ToString(), StringComparison.Ordinal);
    }
}
