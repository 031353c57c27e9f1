using System.Runtime.InteropServices;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// Numeral ideographs: every letter (Lo) whose Unicode numeric value (Unihan kPrimaryNumeric, kAccountingNumeric,
/// kOtherNumeric) is an integer 0-9 reads as that digit, in the BMP and in the supplementary planes. The table in
/// <see cref="TextNormaliser.IdeographicDigit"/> is checked against ICU (the system libicuuc) for every code point.
/// </summary>
public partial class OneDetectorTests
{
    /// <summary>Code points read as digits that Unicode gives no Lo numeric value: 〇 (Nl), 两, Sino-Korean syllables.</summary>
    private static readonly Dictionary<int, int> DocumentedNonUnihanNumerals = new()
    {
        [0x3007] = 0, [0x4E24] = 2, [0xC601] = 0, [0xACF5] = 0, [0xC77C] = 1, [0xC774] = 2, [0xC0BC] = 3, [0xC0AC] = 4,
        [0xC624] = 5, [0xC721] = 6, [0xB959] = 6, [0xCE60] = 7, [0xD314] = 8, [0xAD6C] = 9,
    };

    private delegate double IcuNumericValue(int c);

    private delegate sbyte IcuCharType(int c);

    /// <summary>Every Lo code point with an integer numeric value 0-9 in ICU, by digit.</summary>
    private static readonly Lazy<string[][]> IcuNumeralIdeographs = new(() =>
    {
        var (numeric, type) = LoadIcu();
        const sbyte otherLetter = 5; // U_OTHER_LETTER
        var byDigit = Enumerable.Range(0, 10).Select(_ => new List<string>()).ToArray();
        for (var c = 0; c <= 0x10FFFF; c++)
        {
            if (type(c) == otherLetter && numeric(c) is >= 0 and <= 9 and var value && value == Math.Floor(value))
            {
                byDigit[(int)value].Add(char.ConvertFromUtf32(c));
            }
        }

        return byDigit.Select(list => list.ToArray()).ToArray();
    });

    [Fact]
    public void IdeographicDigit_EveryCodePoint_MatchesIcuNumericValueOfLetters()
    {
        // Arrange
        var (numeric, type) = LoadIcu();
        var mismatches = new List<string>();

        // Act
        for (var c = 0; c <= 0x10FFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            var value = numeric(c);
            var icu = type(c) == 5 && value is >= 0 and <= 9 && value == Math.Floor(value) ? (int)value : -1;
            var expected = DocumentedNonUnihanNumerals.TryGetValue(c, out var extra) ? extra : icu;
            if (TextNormaliser.IdeographicDigit(c) != expected)
            {
                mismatches.Add($"U+{c:X4} ICU {icu} table {TextNormaliser.IdeographicDigit(c)}");
            }
        }

        // Assert: the control is that the table is not empty and ICU knows the Extension B numerals.
        Assert.Empty(mismatches);
        Assert.Equal(7, TextNormaliser.IdeographicDigit(0x20001));
        Assert.Contains(char.ConvertFromUtf32(0x20001), IcuNumeralIdeographs.Value[7]);
    }

    [Theory]
    [InlineData("Li 480334018㭍801㭍㐅9", FreeTextRule.CardOrBankNumber)]
    [InlineData("566619叄亖51亖50610", FreeTextRule.CardOrBankNumber)]
    [InlineData("Bob 叄亖 cvc 叄亖⑤", FreeTextRule.Cvc)]
    [InlineData("Li 480334018\U00020001801\U00020001㐅9", FreeTextRule.CardOrBankNumber)]
    [InlineData("Li 48033401\U0002000187801759", FreeTextRule.CardOrBankNumber)]
    public void ValidateCard_PanOrCvcWithRareNumeralIdeographs_Refused(string name, string rule)
    {
        // Act
        var violations = Violations(FieldSetters["billing_details.address.line1"](name));

        // Assert
        Assert.Contains(violations, v => v.Field == "billing_details.address.line1" && v.Rule == rule);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedPanWithDigitsAsGeneratedNumeralIdeographs_RefusedInEveryFieldAndMasked()
    {
        var ideographs = IcuNumeralIdeographs.Value;
        Assert.All(ideographs, set => Assert.NotEmpty(set));
        var fields = FieldSetters.Keys.Where(f => f != "customer_reference").ToArray();
        Gen.Select(Words, Pan, Gen.Bool.Array[19], Gen.Int[0, int.MaxValue].Array[19], Words, Gen.OneOfConst(fields)).Sample(
            (before, pan, asIdeograph, pick, after, field) =>
            {
                // Arrange: generated digits written as a generated ideograph of that value, the others in ASCII.
                var written = string.Concat(pan.Select((d, i) =>
                    asIdeograph[i] ? ideographs[d - '0'][pick[i] % ideographs[d - '0'].Length] : d.ToString()));

                // Act
                var violations = Violations(FieldSetters[field](before + written + after));
                var scrubbed = SensitiveDataScrubber.Scrub(before + " " + written + " " + after);

                // Assert
                Assert.Contains(violations, v => v.Field == field);
                if (!SensitiveDataDetector.LooksLikeTimestamp(pan))
                {
                    Assert.DoesNotContain(written, scrubbed, StringComparison.Ordinal);
                }
            },
            iter: Iterations);
    }

    /// <summary>u_getNumericValue and u_charType of the system ICU (libicuuc.so.NN, symbols suffixed _NN).</summary>
    private static (IcuNumericValue Numeric, IcuCharType Type) LoadIcu()
    {
        for (var version = 90; version >= 50; version--)
        {
            if (NativeLibrary.TryLoad($"libicuuc.so.{version}", out var handle))
            {
                return (
                    Marshal.GetDelegateForFunctionPointer<IcuNumericValue>(NativeLibrary.GetExport(handle, $"u_getNumericValue_{version}")),
                    Marshal.GetDelegateForFunctionPointer<IcuCharType>(NativeLibrary.GetExport(handle, $"u_charType_{version}")));
            }
        }

        throw new InvalidOperationException("the system ICU (libicuuc.so.NN) is needed to check the numeral table");
    }
}
