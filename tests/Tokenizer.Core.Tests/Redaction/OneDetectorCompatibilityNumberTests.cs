using System.Globalization;
using System.Text;
using CsCheck;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// Numbers written as one character: every character whose NFKC form holds digits (<c>㊺</c> is 45, <c>½</c> is 1 and
/// 2) or whose Unicode numeric value is a whole number 10-99 (<c>⓫</c>, <c>❿</c>) is read as those digits by the one
/// detector, so the scrubber and the scanner mask the original characters of a PAN or IBAN written in them, and
/// validation refuses the forms NFKC leaves alone.
/// </summary>
public partial class OneDetectorTests
{
    /// <summary>
    /// Each digit string (a key) and the characters that write it as one character: the one-digit forms (superscript,
    /// subscript, circled, parenthesised, full-stop, negative circled, dingbat, mathematical, digit-comma), and the
    /// forms of two or three digits (two-digit circled, parenthesised, full-stop and negative circled numbers, the
    /// circled numbers on a black square, Hangzhou and Roman tens, fractions, telegraph months, hours and days).
    /// </summary>
    /// <remarks>Built on first use, after the digit sets of the other part of this class.</remarks>
    private static Dictionary<string, string[]> CompatibilityForms => CompatibilityFormTable.Forms;

    /// <summary>
    /// A digit string written with generated compatibility characters, ASCII digits and generated separators between
    /// them; each chunk is one char for as many digits as a form exists for, chosen by <paramref name="choices"/>.
    /// </summary>
    private static string WriteInCompatibilityForms(string digits, int[] choices, string[] gaps)
    {
        var chunks = new List<string>();
        for (var i = 0; i < digits.Length;)
        {
            var choice = choices[chunks.Count % choices.Length];
            var width = Math.Min(choice % 4 == 0 ? 1 : choice % 4 == 3 ? 3 : 2, digits.Length - i);
            while (width > 1 && !CompatibilityForms.ContainsKey(digits.Substring(i, width)))
            {
                width--;
            }

            // An ASCII digit now and then: the forms mix with ordinary digits.
            var key = digits.Substring(i, width);
            var forms = CompatibilityForms[key];
            chunks.Add(width == 1 && choice % 7 == 0 ? key : forms[choice / 7 % forms.Length]);
            i += width;
        }

        var written = new StringBuilder(chunks[0]);
        for (var k = 1; k < chunks.Count; k++)
        {
            written.Append(gaps.Length == 0 ? string.Empty : gaps[k % gaps.Length]).Append(chunks[k]);
        }

        return written.ToString();
    }

    /// <summary>
    /// A PAN written in compatibility characters, possibly with a digit before or after it that shares its first or
    /// last char (where a form for the pair exists); Extra counts those digits.
    /// </summary>
    private static Gen<(string Pan, string Written, int Extra)> CompatibilityPan =>
        Gen.Select(Pan, Gen.Int[0, 9], Gen.Int[0, 9], Gen.Int[0, 2], Gen.Int[0, 10_000].Array[20], DigitlessGap.Array[1, 3])
            .Where((pan, lead, trail, edges, choices, gaps) => !SensitiveDataDetector.LooksLikeTimestamp(pan))
            .Select((pan, lead, trail, edges, choices, gaps) =>
            {
                var digits = (edges >= 1 ? lead.ToString(CultureInfo.InvariantCulture) : string.Empty) + pan
                    + (edges == 2 ? trail.ToString(CultureInfo.InvariantCulture) : string.Empty);
                return (pan, WriteInCompatibilityForms(digits, choices, gaps), edges);
            })
            .Where(p => !ContiguousDigitRuns(p.Item2).Any(run => SensitiveDataDetector.LooksLikeTimestamp(run)));

    /// <summary>
    /// The runs of contiguous digits the detector reads in <paramref name="text"/>: logs exempt a run shaped as a
    /// timestamp (13, 16 or 19 digits from 1...), whatever characters write it.
    /// </summary>
    private static string[] ContiguousDigitRuns(string text)
    {
        var capacity = TextNormaliser.Capacity(text);
        var normalised = new char[capacity];
        var n = TextNormaliser.Normalise(text, decodeJsonEscapes: true, binaryBreaks: false, normalised, new char[capacity], new int[capacity]);
        return System.Text.RegularExpressions.Regex.Split(new string(normalised, 0, n), "[^0-9]+");
    }

    /// <summary>
    /// Separators without a digit of their own (not <c>&amp;#x2D;</c>), so that every digit of the written text is the
    /// number's: none, or 1-3 of them mixed.
    /// </summary>
    private static Gen<string> DigitlessGap => Gen.Frequency(
        (3, Gen.Const(string.Empty)),
        (2, Gen.OneOfConst(DigitlessSeparators).Array[1, 3].Select(string.Concat)));

    private static string[] DigitlessSeparators => Separators.Where(s => !s.Any(char.IsAsciiDigit)).ToArray();

    /// <summary>The text with every mask the scrubber writes removed.</summary>
    private static string WithoutMasks(string scrubbed) =>
        System.Text.RegularExpressions.Regex.Replace(scrubbed, @"\[(PAN|IBAN|CVC|ACCOUNT) \*+[0-9A-Z]*\]", string.Empty);

    /// <summary>The digits of <paramref name="text"/> read through NFKC (each Nd char as 0-9).</summary>
    private static string DigitsThroughNfkc(string text) => DigitsOf(text.Normalize(NormalizationForm.FormKC));

    [Fact]
    public void Normalise_EveryCodePoint_ReadsTheDigitsOfItsNfkcFormOrOfItsWholeValueTenToNinetyNine()
    {
        // Arrange: the runtime's NFKC (ICU) is the reference for the table the normaliser carries.
        Assert.True(FreeTextRule.CompatibilityFormAvailable);
        var wrong = new List<string>();
        Span<char> normalised = stackalloc char[16];
        Span<char> raw = stackalloc char[16];
        Span<int> origin = stackalloc int[16];
        for (var value = 0x80; value <= 0x10FFFF; value++)
        {
            if (value is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }

            var rune = new Rune(value);
            var text = rune.ToString();
            var before = TextNormaliser.Classify(rune, binaryBreaks: false);
            var expected = before.ToString();
            if (before == TextNormaliser.Separator || value == 0x2189)
            {
                var fromForm = NfkcDigits(text);
                var numeric = Rune.GetNumericValue(rune);
                if (fromForm.Length > 0)
                {
                    expected = fromForm;
                }
                else if (numeric is >= 10 and <= 99 && numeric == Math.Floor(numeric))
                {
                    expected = ((int)numeric).ToString(CultureInfo.InvariantCulture);
                }
            }
            else if (TextNormaliser.IsDigit(before) && NfkcDigits(text) is { Length: > 0 } form && form != expected)
            {
                wrong.Add($"U+{value:X4} reads {before}, NFKC {form}");
            }

            // Act
            var n = TextNormaliser.Normalise(text, decodeJsonEscapes: false, binaryBreaks: false, normalised, raw, origin);

            // Assert (collected, so one run lists every difference)
            var actual = new string(normalised[..n]);
            if (actual != expected || origin[..n].IndexOfAnyExcept(0) >= 0 || TextNormaliser.OriginalEnd(origin, 1) != text.Length)
            {
                wrong.Add($"U+{value:X4} reads '{actual}', expected '{expected}'");
            }
        }

        Assert.Empty(wrong);

        static string NfkcDigits(string text)
        {
            string form;
            try
            {
                form = text.Normalize(NormalizationForm.FormKC);
            }
            catch (ArgumentException)
            {
                return string.Empty;
            }

            return form == text ? string.Empty : DigitsOf(form);
        }
    }

    [Fact]
    public void Scrub_GeneratedPanInCompatibilityNumbersAndDigitsWithGeneratedSeparators_MaskedWholeCharacters()
    {
        Gen.Select(Words, CompatibilityPan, Words).Sample(
            (before, pan, after) =>
            {
                // Arrange
                var text = before + " " + pan.Written + " " + after;

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert: the mask, and outside it no digit read back through NFKC but the extra ones around the PAN
                // (masked too when they share a char with the PAN's digits).
                Assert.Contains("[PAN ****", scrubbed, StringComparison.Ordinal);
                Assert.True(DigitsThroughNfkc(WithoutMasks(scrubbed)).Length <= pan.Extra, "digits survived the mask");
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("㊺㉜⓪⑮⑪㉘㉚㊱⑥", "4532015112830366", 9, "'[PAN ****0366]'.")] // 45 32 0 15 11 28 30 36 6
    [InlineData("㊺㉜⓪⑮⑪㉘㉚㊱", "4532015112830", 7, "'[PAN ****2830]㊱'.")] // the review's string: 15 digits, a 13-digit window passes Luhn
    public void ScrubAndScan_PanInTwoDigitCircledNumbers_MaskedAndReported(string written, string pan, int chars, string expectedTail)
    {
        // Arrange: the outside review's N1 printed this through a CLI parse error.
        var text = "Unrecognized command or argument '" + written + "'.";

        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(text);
        var scanned = new List<SensitiveDataMatch>();
        SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning, scanned);

        // Assert
        Assert.Equal("Unrecognized command or argument " + expectedTail, scrubbed);
        var start = text.IndexOf(written, StringComparison.Ordinal);
        Assert.Contains(scanned, m => m.Kind == SensitiveDataKind.Pan && m.Start == start && m.Length == chars && m.Normalised(text) == pan);
    }

    [Theory]
    [InlineData("㊹⑤㉜⓪⑮⑪㉘㉚㊱⑥", "at [PAN ****0366] end")] // 4|4532015112830366: the PAN starts at ㊹'s second digit
    [InlineData("411111111111111⑮", "at [PAN ****1115] end")] // 4111111111111111|5: it ends at ⑮'s first digit
    [InlineData("41111111111111⑪⑤", "at [PAN ****1111]⑤ end")] // control: the same digits, the PAN ending on a whole char
    public void Scrub_PanStartingOrEndingInsideAWrittenNumber_WholeCharacterMasked(string written, string expected)
    {
        // Act
        var scrubbed = SensitiveDataScrubber.Scrub("at " + written + " end");

        // Assert: the char that holds the PAN's first or last digit is masked whole (the mask shows the span's last four).
        Assert.Equal(expected, scrubbed);
    }

    [Fact]
    public void Scrub_GeneratedIbanWithDigitsInCompatibilityNumbers_Masked()
    {
        var iban = Gen.Select(Gen.OneOfConst(IbanRegistry.Countries.Values.ToArray()), Gen.Int[0, int.MaxValue].Array[34], Gen.Int[0, 10_000].Array[20], Gen.OneOfConst(DigitlessSeparators.Append(string.Empty).ToArray()))
            .Select((country, random, choices, separator) =>
            {
                var plain = SensitiveDataScrubberPropertyTests.BuildIban(country, random);

                // Letters stay ASCII; each run of digits is written in generated compatibility forms.
                var written = new StringBuilder(plain[..2]);
                var i = 2;
                var run = 0;
                while (i < plain.Length)
                {
                    var end = i;
                    while (end < plain.Length && char.IsAsciiDigit(plain[end]))
                    {
                        end++;
                    }

                    if (end > i)
                    {
                        written.Append(separator).Append(WriteInCompatibilityForms(plain[i..end], choices.Skip(run++ % 5).ToArray(), [separator]));
                        i = end;
                    }
                    else
                    {
                        written.Append(separator).Append(plain[i++]);
                    }
                }

                return (Iban: plain, Written: written.ToString());
            });
        Gen.Select(Words, iban, Words).Sample(
            (before, value, after) =>
            {
                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(before + " " + value.Written + " " + after);

                // Assert
                Assert.Contains("[IBAN ****", scrubbed, StringComparison.Ordinal);
                Assert.True(DigitsThroughNfkc(scrubbed).Length <= 4, "IBAN digits survived the mask");
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedPanInNumbersThatNfkcLeavesAlone_RefusedInEveryFieldAndMasked()
    {
        // Negative circled ⓫-⓴ and ⓾, dingbat ❿ ➉ ➓, circled on a black square ㉈-㉏, Aegean tens: NFKC leaves them as
        // they are, so only their numeric value reads them.
        var forms = new Dictionary<string, string[]>
        {
            ["10"] = ["⓾", "❿", "➉", "➓", "㉈", "\U00010110"],
            ["20"] = ["⓴", "㉉", "\U00010111"],
            ["30"] = ["㉊", "\U00010112"],
            ["40"] = ["㉋"],
            ["50"] = ["㉌"],
            ["60"] = ["㉍"],
            ["70"] = ["㉎"],
            ["80"] = ["㉏"],
        };
        for (var number = 11; number <= 19; number++)
        {
            forms[number.ToString(CultureInfo.InvariantCulture)] = [char.ConvertFromUtf32(0x24EB + number - 11)];
        }

        var written = Gen.Select(Pan, Gen.Int[0, 10_000].Array[20])
            .Where((pan, choices) => !SensitiveDataDetector.LooksLikeTimestamp(pan))
            .Select((pan, choices) =>
            {
                var text = new StringBuilder();
                var usedOne = false;
                for (var i = 0; i < pan.Length;)
                {
                    var pair = i + 1 < pan.Length ? pan.Substring(i, 2) : null;
                    if (pair is not null && forms.TryGetValue(pair, out var chars) && (choices[i] % 2 == 0 || !usedOne))
                    {
                        text.Append(chars[choices[i] % chars.Length]);
                        usedOne = true;
                        i += 2;
                    }
                    else
                    {
                        text.Append(pan[i++]);
                    }
                }

                return (Pan: pan, Written: text.ToString(), UsedOne: usedOne);
            })
            .Where(p => p.UsedOne);
        var fields = FieldSetters.Keys.Where(f => f != "customer_reference").ToArray();
        Gen.Select(Words, written, Words, Gen.OneOfConst(fields)).Sample(
            (before, pan, after, field) =>
            {
                // Act
                var violations = Violations(FieldSetters[field](before + " " + pan.Written + " " + after));
                var scrubbed = SensitiveDataScrubber.Scrub(before + " " + pan.Written + " " + after);

                // Assert
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                Assert.DoesNotContain(pan.Written, scrubbed, StringComparison.Ordinal);
                Assert.Contains("[PAN ****", scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_GeneratedTextWithFewerThanTwelveDigitsInCompatibilityNumbers_Unchanged()
    {
        // Control: superscripts, fractions and written numbers in ordinary text, no chain of twelve digits (words of two
        // or more non-hex letters keep numbers apart), are left as written.
        var word = Gen.OneOfConst("size", "room", "floor", "chapter", "price", "ring", "stop", "pool", "tour", "wing");
        var number = Gen.Select(Gen.Char['0', '9'].Array[1, 5], Gen.Int[0, 10_000].Array[8])
            .Select((digits, choices) => WriteInCompatibilityForms(new string(digits), choices, []));
        var text = Gen.Select(word, number, Gen.OneOfConst(" ", "", " m² ", "½ "), word, number)
            .Select((a, x, s, b, y) => a + " " + x + s + b + " " + y + " ok");
        text.Where(t => DigitsThroughNfkc(t).Length <= 11).Sample(
            value => Assert.Equal(value, SensitiveDataScrubber.Scrub(value)),
            iter: Iterations);
    }

    [Fact]
    public void Scrub_OrdinaryTextWithSuperscriptsFractionsAndRomanNumerals_Unchanged()
    {
        // Control for the reading above: units, fractions, list numbers and chapters stay as written.
        const string text = "Flat of 85 m² on floor ⑮, ½ price until 2026-12-31, chapter Ⅻ, 3 ㎡ store, ㋉ rent 1200 €";

        Assert.Equal(text, SensitiveDataScrubber.Scrub(text));
    }

    private static Dictionary<string, string[]> BuildCompatibilityForms()
    {
        var forms = new Dictionary<string, List<string>>();
        void Add(string digits, string form)
        {
            if (!forms.TryGetValue(digits, out var list))
            {
                forms[digits] = list = [];
            }

            list.Add(form);
        }

        foreach (var set in OtherNumberDigits.Take(6).Append("𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗").Append("🄁🄂🄃🄄🄅🄆🄇🄈🄉🄊"))
        {
            var runes = set.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (var d = 0; d < runes.Length; d++)
            {
                Add(d.ToString(CultureInfo.InvariantCulture), runes[d]);
            }
        }

        for (var number = 10; number <= 20; number++)
        {
            var key = number.ToString(CultureInfo.InvariantCulture);
            Add(key, char.ConvertFromUtf32(0x2469 + number - 10)); // ⑩-⑳
            Add(key, char.ConvertFromUtf32(0x247D + number - 10)); // ⑽-⒇
            Add(key, char.ConvertFromUtf32(0x2491 + number - 10)); // ⒑-⒛
        }

        for (var number = 21; number <= 50; number++)
        {
            Add(number.ToString(CultureInfo.InvariantCulture), char.ConvertFromUtf32(number <= 35 ? 0x3251 + number - 21 : 0x32B1 + number - 36)); // ㉑-㊿
        }

        for (var number = 1; number <= 12; number++)
        {
            Add(number.ToString(CultureInfo.InvariantCulture), char.ConvertFromUtf32(0x32C0 + number - 1)); // ㋀-㋋
        }

        for (var number = 0; number <= 24; number++)
        {
            Add(number.ToString(CultureInfo.InvariantCulture), char.ConvertFromUtf32(0x3358 + number)); // ㍘-㍰
        }

        for (var number = 1; number <= 31; number++)
        {
            Add(number.ToString(CultureInfo.InvariantCulture), char.ConvertFromUtf32(0x33E0 + number - 1)); // ㏠-㏾
        }

        foreach (var (digits, fraction) in new[] { ("12", "½"), ("14", "¼"), ("34", "¾"), ("13", "⅓"), ("23", "⅔"), ("15", "⅕"), ("25", "⅖"), ("35", "⅗"), ("45", "⅘"), ("16", "⅙"), ("56", "⅚"), ("17", "⅐"), ("18", "⅛"), ("38", "⅜"), ("58", "⅝"), ("78", "⅞"), ("19", "⅑"), ("110", "⅒"), ("03", "↉") })
        {
            Add(digits, fraction);
        }

        Add("10", "〸");
        Add("20", "〹");
        Add("30", "〺");
        Add("12", "Ⅻ");
        Add("11", "ⅺ");
        Add("2", "㎡");
        Add("3", "㎥");
        return forms.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    private static class CompatibilityFormTable
    {
        public static readonly Dictionary<string, string[]> Forms = BuildCompatibilityForms();
    }
}
