using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// A labelled CVC or account number whose digits are split by a run of separators
/// (<c>cvc 7 - 3 - 9</c>, <c>acct no: 987 / 654 / 321</c>, <c>0. 4. 7. 1 (security code)</c>) is one value, as a card
/// number split that way is; and the first 3-4 digits after a CVC label are a CVC whatever digits follow them.
/// </summary>
/// <remarks>Static members here are properties, not fields: the initialisation order of fields across the files of a partial class is not defined.</remarks>
public partial class OneDetectorTests
{
    /// <summary>One char of each separator class: ASCII punctuation, Unicode spaces (Zs), format and bidi characters (Cf).</summary>
    private static string[] RunSeparators =>
    [
        " ", "-", "_", "/", "+", ":", ",", ".", "(", ")", "*", "#", "~", "|", "'", ";", "=",
        "\u00A0", "\u2002", "\u2007", "\u2009", "\u200A", "\u202F", "\u205F", "\u3000", "\u1680",
        "\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u200E", "\u200F", "\u202A", "\u202E", "\u2066", "\u2069", "\u00AD",
    ];

    /// <summary>A run of 1-4 separators, classes mixed.</summary>
    private static Gen<string> SeparatorRun => Gen.OneOfConst(RunSeparators).Array[1, 4].Select(string.Concat);

    /// <summary>
    /// A number of <paramref name="minDigits"/>-<paramref name="maxDigits"/> digits in groups of 1-3, each pair of groups
    /// joined by a generated separator run; the label before it (after separators) or after it (after separators or in
    /// brackets).
    /// </summary>
    private static Gen<(string Text, string Label, string Number)> LabelledSplitNumber(string[] labels, int minDigits, int maxDigits) =>
        Gen.Select(Gen.OneOfConst(labels), Gen.Char['0', '9'].Array[minDigits, maxDigits], Gen.Int[1, 3].Array[maxDigits], SeparatorRun.Array[maxDigits], Gen.OneOfConst(LabelGapSeparators).Array[1, 4], Gen.Int[0, 2])
            .Select((label, digits, sizes, runs, gap, form) =>
            {
                var written = new StringBuilder();
                var at = 0;
                for (var g = 0; at < digits.Length; g++)
                {
                    // At least two groups: a split value.
                    var size = Math.Min(Math.Min(sizes[g], digits.Length - at), g == 0 ? digits.Length - 1 : int.MaxValue);
                    written.Append(g > 0 ? runs[g - 1] : string.Empty).Append(digits, at, size);
                    at += size;
                }

                var number = written.ToString();
                var text = form switch
                {
                    0 => number + " (" + label + ")",
                    1 => number + string.Concat(gap) + label,
                    _ => label + string.Concat(gap) + number,
                };
                return (text, label, new string(digits));
            });

    [Fact]
    public void ValidateAndScrub_GeneratedCvcSplitBySeparatorRunsBeforeOrAfterLabel_RefusedInEveryFieldAndMasked()
    {
        // Not the bare "digit code": before it, a lone digit is the label's own ("08#4 (digit code)" is 08# 4-digit code).
        Gen.Select(LabelledSplitNumber([.. CvcLabelWords.Where(l => l != "digit code")], 3, 4), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (labelled, field) =>
            {
                // Arrange: words around it that hold no label.
                var text = "note " + labelled.Text + " ok";

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert: the CVC rule in the field (the detector runs before any other rule), and every digit of the
                // value under the mask.
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.Cvc);
                Assert.Contains("[CVC ***]", scrubbed, StringComparison.Ordinal);
                Assert.Equal(DigitsOf(labelled.Label), DigitsOf(Unmasked(scrubbed)));
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedAccountNumberSplitBySeparatorRunsBeforeOrAfterLabel_RefusedInEveryFieldAndMasked()
    {
        Gen.Select(LabelledSplitNumber(AccountLabelWords, 4, 17), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (labelled, field) =>
            {
                var text = "note " + labelled.Text + " ok";

                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // A Luhn-valid number of 12 or more digits is a PAN first: the same rule text, and the scrubber masks
                // that window (digits of the value beside it may stay). A label ending in a country code before digits
                // that pass mod 97 is an IBAN (no# 83 8065 5181 841 is NO83 8065 5181 841), masked whole.
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                Assert.Matches(@"\[(ACCOUNT|PAN|IBAN) \*\*\*\*", scrubbed);
                if (!scrubbed.Contains("[PAN", StringComparison.Ordinal))
                {
                    Assert.Equal(string.Empty, DigitsOf(Unmasked(scrubbed)));
                }
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("cvc 7  3  9", true)]
    [InlineData("cvc 7 - 3 - 9", true)]
    [InlineData("cvc 7--3--9", true)]
    [InlineData("cvc 7. 3. 9", true)]
    [InlineData("cvc 7_ _3_ _9", true)]
    [InlineData("cvc: 7 , 3 , 9", true)]
    [InlineData("cvc: 7//3//9", true)]
    [InlineData("cvc: 7 3  9", true)]
    [InlineData("CVV 1 . 2 . 3", true)]
    [InlineData("security code: 0 - 4 - 7 - 1", true)]
    [InlineData("security code: 0. 4. 7. 1", true)]
    [InlineData("7 - 3 - 9 (cvc)", true)]
    [InlineData("0 . 4 . 7 . 1 (security code)", true)]
    [InlineData("cvc 739 12", true)]
    [InlineData("security code 0471 88", true)]
    [InlineData("cvc 7 3 9 1 2", true)]
    [InlineData("cvc\u200B\u200B7\u2009\u20093\u00AD\u00AD9", true)]
    [InlineData("cvc's 739", true)]
    [InlineData("cvcs: 739", true)]
    [InlineData("CVV’s 0471", true)]
    [InlineData("739 (cvcs)", true)]
    [InlineData("cvv 2 0 4 7 1", true)]
    [InlineData("cvv 2 0471", true)]
    [InlineData("CID 2 4 22", true)]
    [InlineData("accounts 12345678", false)]
    [InlineData("account's 12345678", false)]
    [InlineData("bank accounts: 12345678", false)]
    [InlineData("Kontonummern 12345678", false)]
    [InlineData("cuentas 12345678", false)]
    [InlineData("account 000 - 123 - 456 - 789", false)]
    [InlineData("acct no: 987 - 654 - 321", false)]
    [InlineData("acct no: 123 · 456 · 78", false)]
    [InlineData("account 987 / 654 / 321", false)]
    [InlineData("987 - 654 - 321 (acct)", false)]
    [InlineData("987 - 654 - 321 konto", false)]
    [InlineData("987 / 654 / 321 konto", false)]
    [InlineData("sort code 10-88-00 account 987  654  321", false)]
    [InlineData("sort code 10-88-00 account 987 - 654 - 321", false)]
    public void ValidateCard_LabelledValueSplitBySeparatorRuns_RefusedInEveryFreeTextField(string value, bool cvc)
    {
        AssertRefusedInEveryField(value, cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);
    }

    [Theory]
    [InlineData("Kontoš 8327")]
    [InlineData("Kontos 8327")]
    [InlineData("cvc 12345")]
    [InlineData("12345 cvc")]
    [InlineData("sort code 10 - 88 - 00")]
    [InlineData("routing 110000000, bsb 000-000")]
    [InlineData("account manager 12 - 34 - 56")]
    public void ValidateCard_NamesAndNumbersThatAreNoLabelledValue_Accepted(string value)
    {
        // Controls: a name that is a label and an s (not a plural the detector reads), a word between a label and its
        // number, a number longer than a CVC glued together, bank codes alone.
        Validator().ValidateCard(FieldSetters["billing_details.address.line1"](value));
    }

    [Theory]
    [InlineData("cvc 2026-12-07")]
    [InlineData("cvc 123 456")]
    public void ValidateCard_CvcLabelBeforeADateOrLongerSplitNumber_RefusedByDecision(string value)
    {
        // The documented price of reading the first 3-4 digits after a CVC label as a CVC whatever follows: caller input
        // has no exemptions. The scrubber reads an ISO date as the service's own (an exempt shape), not as a CVC.
        AssertRefusedInEveryField(value, FreeTextRule.Cvc);
        Assert.Equal("cvc 2026-12-07", SensitiveDataScrubber.Scrub("cvc 2026-12-07"));
        Assert.Equal("cvc [CVC ***] 456", SensitiveDataScrubber.Scrub("cvc 123 456"));
    }

    /// <summary>The text with the scrubber's masks taken out.</summary>
    private static string Unmasked(string scrubbed) =>
        Regex.Replace(scrubbed, @"\[(CVC|ACCOUNT|PAN|IBAN) \*+[0-9]*\]", string.Empty, RegexOptions.None, TimeSpan.FromSeconds(1));
}
