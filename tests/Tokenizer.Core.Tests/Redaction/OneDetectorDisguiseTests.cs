using System.Text;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// Disguises, each as a class over generated inputs: an IBAN whose groups are joined by lone
/// letters, and known CVC and account labels written with joiners, combining marks or spaced letters, any run of
/// separators before the number, or right after the number.
/// </summary>
/// <remarks>Static members here are properties, not fields: the initialisation order of fields across the files of a partial class is not defined.</remarks>
public partial class OneDetectorTests
{
    /// <summary>Every CVC label README "What free text may hold" lists, as people write them (words apart).</summary>
    private static string[] CvcLabelWords =>
    [
        "cvc", "cvv", "csc", "cvn", "cvd", "cav", "cvv2", "CVV2", "C.V.V.", "security code", "sec code", "seccode", "card code",
        "card security code", "card verification value", "card verification code", "card verification number",
        "3-digit code", "4-digit code", "3 digit code", "digit code", "CID", "cvc-code", "Prüfnummer", "Kartenprüfnummer",
        "Sicherheitscode", "código de seguridad", "código de segurança", "cryptogramme", "cryptogramme visuel",
        "code de sécurité", "codice di sicurezza", "beveiligingscode",
    ];

    /// <summary>Every account label README "What free text may hold" lists, as people write them (words apart).</summary>
    private static string[] AccountLabelWords =>
    [
        "account", "account number", "account no", "account #", "accountNumber", "acct", "acc", "accnt", "acount", "a/c",
        "ac no", "bank account", "BBAN", "IBAN", "kontonummer", "konto", "Kto.-Nr.", "rekening", "rekeningnummer", "cuenta",
        "número de cuenta", "conta", "compte", "numéro de compte", "N° de compte", "n° de compte", "nº de compte",
        "No de compte", "Nr. de compte", "N° compte", "nº de cuenta", "N° conta", "conto", "numero di conto",
    ];

    /// <summary>Separators that may stand between a label and its number, alone or repeated.</summary>
    private static string[] LabelGapSeparators => [" ", "_", ":", "=", "#", "-", ".", "/", "\u00A0", "\u2009", "\u3000"];

    /// <summary>
    /// A label's letters as a disguise writes them: joined by U+200D (ZWJ), a combining mark on each letter, or a
    /// separator of one or two chars between letters and a wider one between words; in either case.
    /// </summary>
    private static Gen<string> DisguisedLabel(string[] labels) =>
        Gen.Select(Gen.OneOfConst(labels), Gen.Int[0, 3], Gen.OneOfConst(" ", ".", "_", "-", ". ", "\u200D"), Gen.Int[1, 3], Gen.OneOfConst("\u0332", "\u0301", "\u0336", "\u0323"), Gen.Int[0, 2])
            .Select((label, disguise, letterGap, wider, mark, casing) =>
            {
                // CID counts in capitals only (it is also a name).
                label = casing switch { _ when label == "CID" => label, 1 => label.ToUpperInvariant(), 2 => label.ToLowerInvariant(), _ => label };
                var words = label.Split(' ');
                return disguise switch
                {
                    0 => string.Join("\u200D \u200D", words.Select(w => string.Join('\u200D', w.ToCharArray()))),
                    1 => string.Concat(label.Select(c => c + mark)),
                    2 => string.Join(string.Concat(Enumerable.Repeat(letterGap, 1 + wider)), words.Select(w => string.Join(letterGap, w.ToCharArray()))),
                    _ => label,
                };
            });

    /// <summary>A labelled number: the (disguised) label, then any run of separators, then the number; or the number, separators or brackets, then the label.</summary>
    private static Gen<(string Text, string Number)> LabelledNumber(string[] labels, int minDigits, int maxDigits) =>
        Gen.Select(DisguisedLabel(labels), Gen.Char['0', '9'].Array[minDigits, maxDigits], Gen.OneOfConst(LabelGapSeparators).Array[1, 12], Gen.Int[0, 3])
            .Select((label, digits, gap, form) =>
            {
                var number = new string(digits);
                var text = form switch
                {
                    0 => number + " (" + label + ")",
                    1 => number + string.Concat(gap.Take(3)) + label,
                    _ => label + string.Concat(gap) + number,
                };
                return (text, number);
            });

    [Fact]
    public void ValidateAndScrub_GeneratedCvcUnderDisguisedLabelBeforeOrAfterIt_RefusedInEveryFieldAndMasked()
    {
        Gen.Select(LabelledNumber(CvcLabelWords, 3, 4), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (labelled, field) =>
            {
                // Arrange: words around it that hold no label.
                var text = "note " + labelled.Text + " ok";

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert: the CVC rule (the detector runs before any other rule of every field), and masked.
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.Cvc);
                Assert.Contains("[CVC ***]", scrubbed, StringComparison.Ordinal);
                Assert.DoesNotContain(labelled.Number, scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedAccountNumberUnderDisguisedLabelBeforeOrAfterIt_RefusedInEveryFieldAndMasked()
    {
        Gen.Select(LabelledNumber(AccountLabelWords, 4, 17), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (labelled, field) =>
            {
                var text = "note " + labelled.Text + " ok";

                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // A Luhn-valid run of 12 or more digits is a PAN first: the same rule text. The scrubber reads a
                // contiguous timestamp (13 digits starting with 1: Unix milliseconds) as the service's own.
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                if (!SensitiveDataDetector.LooksLikeTimestamp(labelled.Number))
                {
                    Assert.Matches(@"\[(ACCOUNT|PAN) \*\*\*\*", scrubbed);
                    Assert.DoesNotContain(labelled.Number, scrubbed, StringComparison.Ordinal);
                }
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("s\u200De\u200Dc\u200Du\u200Dr\u200Di\u200Dt\u200Dy\u200D \u200Dc\u200Do\u200Dd\u200De 123", true)]
    [InlineData("c\u200Da\u200Dr\u200Dd\u200D \u200Dc\u200Do\u200Dd\u200De 0471", true)]
    [InlineData("C\u200D.\u200DV\u200D.\u200DV\u200D. 123", true)]
    [InlineData("c\u200Dv\u200Dv\u200D2 0471", true)]
    [InlineData("s\u0332e\u0332c\u0332u\u0332r\u0332i\u0332t\u0332y\u0332 \u0332c\u0332o\u0332d\u0332e\u0332 123", true)]
    [InlineData("C\u0332.\u0332V\u0332.\u0332V\u0332.\u0332 123", true)]
    [InlineData("c\u0332v\u0332v\u03322\u0332 123", true)]
    [InlineData("s e c u r i t y   c o d e 123", true)]
    [InlineData("c a r d   v e r i f i c a t i o n   v a l u e 0471", true)]
    [InlineData("c v v 2 0471", true)]
    [InlineData("C. V. V 123", true)]
    [InlineData("c. v. c 123", true)]
    [InlineData("cvc:      123", true)]
    [InlineData("cvc:______7391", true)]
    [InlineData("CVV2_______0471", true)]
    [InlineData("c.v.v.2_0471", true)]
    [InlineData("s_e_c_u_r_i_t_y__c_o_d_e_123", true)]
    [InlineData("123 (cvc)", true)]
    [InlineData("123(cvc)", true)]
    [InlineData("0471_cvv2", true)]
    [InlineData("123 cvc", true)]
    [InlineData("0471 (card security code)", true)]
    [InlineData("a\u200D/\u200Dc 00012345", false)]
    [InlineData("K\u200Dt\u200Do\u200D.\u200D-\u200DN\u200Dr\u200D. 000123456789", false)]
    [InlineData("account:       000123456789", false)]
    [InlineData("account:_______000123456789", false)]
    [InlineData("00012345 (acct)", false)]
    [InlineData("00012345(acct)", false)]
    [InlineData("8826(acct)", false)]
    [InlineData("000123456789 (kontonummer)", false)]
    [InlineData("00012345 sort code 108800", false)]
    [InlineData("000123456 (BSB 062-000)", false)]
    public void ValidateCard_ReviewsDisguisedLabelInAnyFreeTextField_RefusedNamingTheRule(string value, bool cvc)
    {
        AssertRefusedInEveryField(value, cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);
    }

    [Theory]
    [InlineData("123 (3-digit code)", true)]
    [InlineData("123 (3 digit code)", true)]
    [InlineData("123-(3-digit-code)", true)]
    [InlineData("987.(3.digit.code)", true)]
    [InlineData("1234 (4-digit code)", true)]
    [InlineData("1234(4-digit-code)", true)]
    [InlineData("1234(3-digit-code)", true)]
    [InlineData("123: 3-digit code", true)]
    [InlineData("123 / 3-digit code", true)]
    [InlineData("000123456789 (N° de compte)", false)]
    [InlineData("000123456789 (n° de compte)", false)]
    [InlineData("000123456789 (No de compte)", false)]
    [InlineData("000123456789 (nº de compte)", false)]
    [InlineData("000123456789 (N° compte)", false)]
    [InlineData("000123456789 (Nr. de compte)", false)]
    public void ValidateAndScrub_ReviewsLabelWithDigitOrNumberWordAfterItsNumber_RefusedInEveryFieldAndMasked(string value, bool cvc)
    {
        AssertRefusedInEveryField(value, cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);

        var scrubbed = SensitiveDataScrubber.Scrub("note " + value + " ok");
        Assert.Contains(cvc ? "[CVC ***]" : "[ACCOUNT ****", scrubbed, StringComparison.Ordinal);
        Assert.DoesNotContain(cvc ? value[..3] : "000123456789", scrubbed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0471 is the CVV")]
    [InlineData("123 is the security code")]
    [InlineData("12 cvc")]
    [InlineData("12345 cvc")]
    [InlineData("123 cvcsx")]
    [InlineData("123 Cavalier Street")]
    [InlineData("12 Account Street")]
    [InlineData("3acc0414")]
    [InlineData("order 12345acc")]
    public void ValidateCard_WordsBetweenOrDigitsThatAreNoCvcOrAccount_AcceptedByDecision(string value)
    {
        // Controls and the documented boundary: a label counts right before or right after its number, the label a
        // whole word; a word between them (the gap README names), a number of the wrong length, a label glued to more
        // letters, and a hex-letter label glued to digits are not a labelled number.
        Validator().ValidateCard(FieldSetters["billing_details.address.line1"](value));
    }

    /// <summary>
    /// What joins two groups of an IBAN: one letter (lower or upper, of several scripts, none hex) with separators on
    /// either side or none (<c>x</c>, <c> x </c>, <c>-k-</c>, <c>ж</c>), or separators alone (an empty letter).
    /// </summary>
    private static Gen<(string Letter, string Before, string After)> IbanJoint =>
        Gen.Select(
            Gen.Frequency((3, Gen.OneOfConst(NonHexLetters)), (1, Gen.Const(string.Empty))),
            Gen.OneOfConst(JointSeparators).Array[0, 2].Select(string.Concat),
            Gen.OneOfConst(JointSeparators).Array[0, 2].Select(string.Concat));

    /// <summary>A valid IBAN of a registry country in groups of 1-6 chars (the country code whole), joined by lone letters and separators, at least one a letter.</summary>
    private static Gen<(string Iban, string Written)> IbanJoinedByLoneLetters =>
        Gen.Select(Gen.OneOfConst(IbanRegistry.Countries.Values.ToArray()), Gen.Int[0, int.MaxValue].Array[34], Gen.Int[1, 6].Array[34], IbanJoint.Array[34], Gen.Bool)
            .Select((country, random, sizes, joints, lower) =>
            {
                var iban = SensitiveDataScrubberPropertyTests.BuildIban(country, random);
                var text = lower ? iban.ToLowerInvariant() : iban;
                var written = new StringBuilder(text[..2]);
                var at = 2;
                for (var g = 0; at < text.Length; g++)
                {
                    var size = Math.Min(sizes[g], text.Length - at);
                    var (letter, before, after) = joints[g];
                    if (g == 0 && letter.Length == 0)
                    {
                        // Every written IBAN has a joining letter.
                        letter = "x";
                    }

                    if (letter.Length > 0)
                    {
                        // The class README names: a joining letter glued to a letter of the IBAN has a digit on its
                        // other side (1xA, Ax0), else it is one of the BBAN's letters; a separator keeps it apart.
                        var letterBefore = before.Length == 0 && char.IsLetter(written[^1]);
                        var letterAfter = after.Length == 0 && char.IsLetter(text[at]);
                        var digitBefore = before.Length == 0 && char.IsAsciiDigit(written[^1]);
                        var digitAfter = after.Length == 0 && char.IsAsciiDigit(text[at]);
                        if ((letterBefore && !digitAfter) || (letterAfter && !digitBefore))
                        {
                            before = letterBefore ? " " : before;
                            after = letterAfter ? " " : after;
                        }
                    }

                    written.Append(before).Append(letter).Append(after).Append(text, at, size);
                    at += size;
                }

                return (iban, written.ToString());
            });

    [Fact]
    public void ValidateAndScrub_GeneratedIbanWithGroupsJoinedByLoneLetters_RefusedInEveryFieldAndMasked()
    {
        Gen.Select(IbanJoinedByLoneLetters, Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (iban, field) =>
            {
                // Arrange
                var text = "Jane " + iban.Written + " Doe";

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                Assert.Matches(@"\[(PAN|IBAN) \*\*\*\*", scrubbed);
                Assert.DoesNotContain(iban.Written, scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateCard_GeneratedDisguisedIbanOrLabelledNumberInReturnUrl_RefusedAsWrittenAndPercentEncoded()
    {
        // return_url is judged as written and after each percent-decoding (SetupValidation.ReturnUrl): the same
        // classes as free text, in a query value, as written or with every char percent-encoded.
        var cvc = LabelledNumber(CvcLabelWords, 3, 4).Select(l => (l.Text, Rule: FreeTextRule.Cvc));
        var account = LabelledNumber(AccountLabelWords, 4, 17).Select(l => (l.Text, Rule: FreeTextRule.CardOrBankNumber));
        var iban = IbanJoinedByLoneLetters.Select(i => (Text: i.Written, Rule: FreeTextRule.CardOrBankNumber));
        Gen.Select(Gen.OneOf(cvc, account, iban), Gen.Bool).Sample(
            (value, encoded) =>
            {
                var url = "https://billing.example.com/done?ref=" + (encoded ? Uri.EscapeDataString(value.Text) : value.Text);

                var violations = CardViolations(CardCommand() with { ReturnUrl = url });

                // Percent escapes are digits too: as written, an encoded URL may chain them into a card number first,
                // or put them after a label-shaped run of the generated letters (`CVD%27`, seed 0lSQLY5rasf6): a CVC.
                var violation = Assert.Single(violations);
                Assert.Equal("return_url", violation.Field);
                Assert.True(
                    violation.Rule == value.Rule
                        || (encoded && (violation.Rule == FreeTextRule.CardOrBankNumber || violation.Rule == FreeTextRule.Cvc)),
                    violation.Rule);
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("NL91xABNAx0417x1643x00")]
    [InlineData("NL91gABNAg0417g1643g00")]
    [InlineData("NL91kABNAk0417k1643k00")]
    [InlineData("NL91жABNAж0417ж1643ж00")]
    [InlineData("NL31xFQGBx1715x4278x05")]
    [InlineData("GB02xIKLZx8019x9809x7136x63")]
    [InlineData("IE83xVEMEx8110x2164x1160x98")]
    [InlineData("nl91 x abna x 0417 x 1643 x 00")]
    [InlineData("GB29-k-NWBK-k-6016-k-1331-k-9268-k-19")]
    public void ValidateCard_ReviewsIbanJoinedByLoneLettersInAnyFreeTextField_Refused(string value)
    {
        AssertRefusedInEveryField(value, FreeTextRule.CardOrBankNumber);
    }

    [Theory]
    [InlineData("NL91aABNAa0417a1643a00")]
    [InlineData("NL91xyABNAxy0417xy1643xy00")]
    [InlineData("NL92xABNAx0417x1643x00")]
    public void ValidateCard_IbanJoinedByHexLettersOrLetterRunsOrWrongChecksum_AcceptedByDecision(string value)
    {
        // Controls and the documented boundary: as for PANs, hex letters and runs of letters keep groups apart, and a
        // joined reading is an IBAN only with its registry shape and mod 97 (the third has wrong check digits).
        Validator().ValidateCard(FieldSetters["billing_details.name"](value));
    }

    [Fact]
    public void Scrub_GeneratedUpperCaseAccountLabelShapedLikeAKestrelConnectionIdBeforeItsNumber_Masked()
    {
        // An account label in capitals whose last 13 letters are base32 (A-V), glued to a colon and 8 or more digits,
        // has the shape of a Kestrel trace id (0HNQK8MK20581:00000371) but for the leading 0 of a real connection id.
        var labels = AccountLabelWords.Where(l => l.All(c => char.IsAsciiLetter(c) || c == ' '))
            .Select(l => l.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant())
            .Where(l => l.Length >= 13 && l[^13..].All(c => c is >= 'A' and <= 'V'))
            .Distinct()
            .ToArray();
        Assert.NotEmpty(labels);
        // A contiguous timestamp (13 digits from 1: Unix milliseconds) is the service's own in logs, as anywhere.
        Gen.Select(Gen.OneOfConst(labels), Gen.Char['0', '9'].Array[8, 17]).Where((label, digits) => !SensitiveDataDetector.LooksLikeTimestamp(digits)).Sample(
            (label, digits) =>
            {
                // Arrange
                var number = new string(digits);
                var text = "note " + label + ":" + number + " ok";

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Matches(@"\[(ACCOUNT|PAN) \*\*\*\*", scrubbed);
                Assert.DoesNotContain(number, scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }
}
