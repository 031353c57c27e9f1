using System.Text;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// Decorative letters: Latin letters that NFKC leaves alone (small capitals, negative circled
/// and squared letters, regional indicator symbols) read as their letters in labels and IBANs.
/// </summary>
public partial class OneDetectorTests
{
    /// <summary>The small capital of each letter a-z (x has none: it stays as written).</summary>
    private static string SmallCapitals => "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ";

    /// <summary>
    /// <paramref name="letter"/> in decorative form <paramref name="form"/>: 0 small capital, 1 negative circled,
    /// 2 negative squared, 3 regional indicator; any other char or form as written.
    /// </summary>
    private static string Decorate(char letter, int form)
    {
        if (!char.IsAsciiLetter(letter))
        {
            return letter.ToString();
        }

        var index = char.ToLowerInvariant(letter) - 'a';
        return form switch
        {
            0 => SmallCapitals[index].ToString(),
            1 => char.ConvertFromUtf32(0x1F150 + index),
            2 => char.ConvertFromUtf32(0x1F170 + index),
            3 => char.ConvertFromUtf32(0x1F1E6 + index),
            _ => letter.ToString(),
        };
    }

    /// <summary>A text's letters each in a generated decorative form (or as written), at least one decorated.</summary>
    private static Gen<string> Decorated(Gen<string> text) =>
        Gen.Select(text, Gen.Int[0, 4].Array[40], Gen.Int[0, 3]).Select((value, forms, first) =>
        {
            var written = new StringBuilder();
            var decorated = false;
            for (var i = 0; i < value.Length; i++)
            {
                var form = !decorated && char.IsAsciiLetter(value[i]) ? first : forms[i % forms.Length];
                decorated |= char.IsAsciiLetter(value[i]) && form < 4;
                written.Append(Decorate(value[i], form));
            }

            return written.ToString();
        });

    [Fact]
    public void ValidateAndScrub_GeneratedLabelInDecorativeLetters_RefusedInEveryFieldAndMasked()
    {
        var cvc = Gen.Select(Decorated(Gen.OneOfConst(CvcLabelWords)), Gen.Char['0', '9'].Array[3, 4], Gen.Bool)
            .Select((label, digits, after) => (Text: after ? new string(digits) + " (" + label + ")" : label + ": " + new string(digits), Number: new string(digits), Cvc: true));
        var account = Gen.Select(Decorated(Gen.OneOfConst(AccountLabelWords)), Gen.Char['0', '9'].Array[4, 11], Gen.Bool)
            .Select((label, digits, after) => (Text: after ? new string(digits) + " (" + label + ")" : label + " " + new string(digits), Number: new string(digits), Cvc: false));
        Gen.Select(Gen.OneOf(cvc, account), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (labelled, field) =>
            {
                // Arrange
                var text = "note " + labelled.Text + " ok";

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Contains(violations, v => v.Field == field && v.Rule == (labelled.Cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber));
                Assert.DoesNotContain(labelled.Number, scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedIbanInDecorativeLetters_RefusedInEveryFieldAndMasked()
    {
        var iban = Gen.Select(Gen.OneOfConst(IbanRegistry.Countries.Values.ToArray()), Gen.Int[0, int.MaxValue].Array[34])
            .Select((country, random) => SensitiveDataScrubberPropertyTests.BuildIban(country, random))
            .Select(i => string.Join(' ', i.Chunk(4).Select(c => new string(c))));
        Gen.Select(Decorated(iban), Gen.OneOfConst(FieldSetters.Keys.ToArray())).Sample(
            (written, field) =>
            {
                // Arrange
                var text = "pay " + written + " ok";

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                Assert.Contains("[IBAN ****", scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("ᴄᴠᴄ 481", true)]
    [InlineData("6217 (ᴄ🇻v2)", true)]
    [InlineData("123 ᴄᴠᴄ", true)]
    [InlineData("ᴄᴠᴠ: 123", true)]
    [InlineData("ᴄɪᴅ 1234", true)]
    [InlineData("🅲🆅🅲 592", true)]
    [InlineData("🅒🅥🅒 123", true)]
    [InlineData("🇨🇻🇨 123", true)]
    [InlineData("ᴀᴄᴄᴏᴜɴᴛ 000123456789", false)]
    [InlineData("🇳🇱91 ABNA 0417 1643 00", false)]
    [InlineData("🇬🇧29 NWBK 6016 1331 9268 19", false)]
    [InlineData("ɴʟ91 ABNA 0417 1643 00", false)]
    [InlineData("🅽🅻91 ABNA 0417 1643 00", false)]
    public void ValidateAndScrub_ReviewsDecorativeLetters_RefusedInEveryFieldAndMasked(string value, bool cvc)
    {
        AssertRefusedInEveryField(value, cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);

        Assert.Matches(@"\[(CVC|ACCOUNT|IBAN) \*", SensitiveDataScrubber.Scrub("note " + value + " ok"));
    }

    [Theory]
    [InlineData("ᴄᴠ 123")]
    [InlineData("🇫🇷 +33 1 23 45 67")]
    [InlineData("🅰🅱🅲 123")]
    [InlineData("ɪᴘᴀ ʀ 1234")]
    public void ValidateCard_DecorativeLettersSpellingNoLabel_Accepted(string value)
    {
        // Controls: decorative letters that spell no label, and a flag beside a phone number, are no card data.
        Validator().ValidateCard(FieldSetters["billing_details.address.line1"](value));
    }
}
