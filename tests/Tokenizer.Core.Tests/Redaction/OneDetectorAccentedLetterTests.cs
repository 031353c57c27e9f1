using System.Globalization;
using System.Text;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>
/// Accented labels: every Latin letter with diacritics or a stroke (Latin-1 and beyond) reads
/// as its base letter at every position of a CVC or account label, the first included.
/// </summary>
public partial class OneDetectorTests
{
    /// <summary>Built once, on first use (a walk over every code point).</summary>
    private static readonly Lazy<Dictionary<char, string[]>> AccentedVariantsCache = new(BuildAccentedVariants);

    /// <summary>Latin letters that do not decompose but read as one base letter (a stroke, a hook, a bar, no dot), by base letter.</summary>
    private static (string Letters, char Base)[] NonDecomposingLatinLetters =>
    [
        ("łŁƚȽ", 'l'), ("øØ", 'o'), ("đĐ", 'd'), ("ħĦ", 'h'), ("ƈƇȼȻ", 'c'), ("ƀɃ", 'b'), ("ɨƗı", 'i'), ("ȶŧŦ", 't'),
        ("ƙƘ", 'k'), ("ɍɌ", 'r'), ("ƶƵ", 'z'), ("ɇɆ", 'e'), ("ɉɈ", 'j'), ("ƥƤ", 'p'), ("ʋƲ", 'v'),
    ];

    /// <summary>
    /// Each ASCII letter's variants: every code point (all planes) whose canonical decomposition (NFD) is that letter and
    /// combining marks, or that letter alone (the Kelvin sign), and <see cref="NonDecomposingLatinLetters"/>; by case.
    /// </summary>
    private static Dictionary<char, string[]> AccentedVariants => AccentedVariantsCache.Value;

    private static Dictionary<char, string[]> BuildAccentedVariants()
    {
        // The oracle is ICU's NFD, not the code under test: without ICU this would find nothing and prove nothing.
        Assert.Equal("e\u0301", "\u00E9".Normalize(NormalizationForm.FormD));
        var variants = new Dictionary<char, List<string>>();
        for (var value = 0x80; value <= 0x10FFFF; value++)
        {
            if (value is >= 0xD800 and <= 0xDFFF || !Rune.IsLetter(new Rune(value)))
            {
                continue;
            }

            var text = char.ConvertFromUtf32(value);
            var decomposed = text.Normalize(NormalizationForm.FormD);
            if (char.IsAsciiLetter(decomposed[0])
                && decomposed.Skip(1).All(c => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark))
            {
                Add(decomposed[0], text);
            }
        }

        foreach (var (letters, letter) in NonDecomposingLatinLetters)
        {
            foreach (var variant in letters)
            {
                Add(char.IsUpper(variant) ? char.ToUpperInvariant(letter) : letter, variant.ToString());
            }
        }

        return variants.ToDictionary(v => v.Key, v => v.Value.ToArray());

        void Add(char letter, string variant)
        {
            if (!variants.TryGetValue(letter, out var list))
            {
                variants[letter] = list = [];
            }

            list.Add(variant);
        }
    }

    /// <summary>
    /// A label's letters, some replaced by an accented variant of the same case: the first letter at least half the
    /// time, and at least one letter always; variants of Latin-1 and beyond alike.
    /// </summary>
    private static Gen<string> AccentedLabel(string[] labels) =>
        Gen.Select(Gen.OneOfConst(labels), Gen.Int[0, 2], Gen.Int[0, int.MaxValue].Array[40], Gen.Int[0, 3].Array[40], Gen.Bool)
            .Select((label, casing, picks, replace, first) =>
            {
                // CID counts in capitals only (it is also a name).
                label = casing switch { _ when label == "CID" => label, 1 => label.ToUpperInvariant(), 2 => label.ToLowerInvariant(), _ => label };
                var letters = Enumerable.Range(0, label.Length).Where(i => AccentedVariants.ContainsKey(label[i])).ToArray();
                var chosen = first ? letters[0] : letters[picks[0] % letters.Length];
                var written = new StringBuilder();
                for (var i = 0; i < label.Length; i++)
                {
                    var accent = AccentedVariants.TryGetValue(label[i], out var options) && (i == chosen || replace[i % replace.Length] == 0);
                    written.Append(accent ? options![picks[i % picks.Length] % options.Length] : label[i].ToString());
                }

                return written.ToString();
            });

    [Fact]
    public void ValidateAndScrub_GeneratedLabelWithAccentedLetters_RefusedInEveryFieldAndMasked()
    {
        var cvc = Gen.Select(AccentedLabel(CvcLabelWords), Gen.Char['0', '9'].Array[3, 4], Gen.OneOfConst(LabelGapSeparators).Array[1, 6], Gen.Int[0, 2])
            .Select((label, digits, gap, form) => (Text: Labelled(label, new string(digits), string.Concat(gap), form), Number: new string(digits), Cvc: true));
        var account = Gen.Select(AccentedLabel(AccountLabelWords), Gen.Char['0', '9'].Array[4, 17], Gen.OneOfConst(LabelGapSeparators).Array[1, 6], Gen.Int[0, 2])
            .Select((label, digits, gap, form) => (Text: Labelled(label, new string(digits), string.Concat(gap), form), Number: new string(digits), Cvc: false));
        Gen.OneOf(cvc, account).Sample(
            labelled =>
            {
                // Arrange: words around it that hold no label.
                var text = "note " + labelled.Text + " ok";

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert: refused in every free-text field under the rule of its kind (a Luhn-valid run of 12 or more
                // digits is a PAN first, under the same rule text), and masked.
                AssertRefusedInEveryField(text, labelled.Cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);
                if (!SensitiveDataDetector.LooksLikeTimestamp(labelled.Number))
                {
                    // The scrubber reads a contiguous timestamp (13 digits starting with 1) as the service's own. A
                    // label ending in a country code reads with the digits as an IBAN when they pass mod-97 by chance
                    // (1 in 97): `ṋo.: 8820824857743` folds to NO88 2082 4857 743, a valid Norwegian IBAN.
                    Assert.Matches(@"\[(CVC|ACCOUNT|PAN|IBAN) \*", scrubbed);
                    Assert.DoesNotContain(labelled.Number, scrubbed, StringComparison.Ordinal);
                }
            },
            iter: Iterations);

        static string Labelled(string label, string number, string gap, int form) => form switch
        {
            0 => label + gap + number,
            1 => number + " (" + label + ")",
            _ => number + gap[..Math.Min(gap.Length, 3)] + label,
        };
    }

    [Fact]
    public void Find_EveryAccentedVariantOfEveryLabelLetter_ReadAsItsBaseLetter()
    {
        // The class, exhaustively: each variant of each letter (by NFD, all planes, both cases) in place of that letter
        // of a label that holds it, at its first position where it has one.
        var labels = new[] { "cvc", "account", "konto", "security code", "Prüfnummer", "BBAN", "beveiligingscode", "codice di sicurezza", "Sicherheitscode", "cuenta" };
        var tried = 0;
        foreach (var (letter, variants) in AccentedVariants)
        {
            var label = labels.FirstOrDefault(l => l.Contains(char.ToLowerInvariant(letter), StringComparison.Ordinal));
            if (label is null)
            {
                // j, q, w, x: in no label (LatinBaseLetter_EveryDecomposingLatinLetter_ItsBaseLetterInItsCase reads them).
                continue;
            }

            var cased = char.IsUpper(letter) ? label.ToUpperInvariant() : label.ToLowerInvariant();
            var at = cased.IndexOf(letter, StringComparison.Ordinal);
            foreach (var variant in variants.Where(v => v.Length == 1))
            {
                var written = cased[..at] + variant + cased[(at + 1)..];
                var cvc = CvcLabelWords.Contains(label, StringComparer.OrdinalIgnoreCase);

                var found = SensitiveDataDetector.FindCardOrBankNumber(written + ": " + (cvc ? "123" : "00012345"));

                Assert.True(found == (cvc ? SensitiveDataKind.Cvc : SensitiveDataKind.AccountNumber), $"{written} (U+{(int)variant[0]:X4}) not read as a label");
                tried++;
            }
        }

        Assert.True(tried > 400, $"only {tried} variants tried");
    }

    [Fact]
    public void LatinBaseLetter_EveryDecomposingLatinLetter_ItsBaseLetterInItsCase()
    {
        var count = 0;
        foreach (var (letter, variants) in AccentedVariants)
        {
            foreach (var variant in variants.Where(v => v.Length == 1))
            {
                Assert.True(letter == TextNormaliser.LatinBaseLetter(variant[0]), $"U+{(int)variant[0]:X4} {variant}");
                count++;
            }
        }

        // Controls: letters of other scripts (look-alikes included) and letters that are two (ß, æ) have no base letter;
        // no Latin letter reads as a digit (AnyAscii writes the tone letter Ƽ as 5).
        Assert.True(count > 500, $"only {count} letters");
        foreach (var other in "сСνΝаАжßæœþƼƽƧƨƄ字ア")
        {
            Assert.Equal('\0', TextNormaliser.LatinBaseLetter(other));
        }

        for (var c = '\u0080'; c < '\uFFFF'; c++)
        {
            var letter = TextNormaliser.LatinBaseLetter(c);
            Assert.True(letter == '\0' || char.IsAsciiLetter(letter), $"U+{(int)c:X4}");
        }
    }

    [Theory]
    [InlineData("ÇVV 0471", true)]
    [InlineData("çvc 123", true)]
    [InlineData("ÇVC: 123", true)]
    [InlineData("Éxpiry 12/30 Çvc 123", true)]
    [InlineData("ĉvĉ 123", true)]
    [InlineData("čvč 123", true)]
    [InlineData("ćvć 123", true)]
    [InlineData("ƈvƈ 123", true)]
    [InlineData("ȼvȼ 123", true)]
    [InlineData("123 čvč", true)]
    [InlineData("ČVV 0471", true)]
    [InlineData("cvč 123", true)]
    [InlineData("security čode 123", true)]
    [InlineData("Prǖfnummer 123", true)]
    [InlineData("Ç.V.V. 123", true)]
    [InlineData("ÇÍĎ 1234", true)]
    [InlineData("3-ďigit code 123", true)]
    [InlineData("123 (3-ďigit code)", true)]
    [InlineData("Àccount 000123456789", false)]
    [InlineData("Àcct: 00012345", false)]
    [InlineData("ąccount 000123456789", false)]
    [InlineData("ācct 000123456789", false)]
    [InlineData("kōntonummer 000123456789", false)]
    [InlineData("acčount 000123456789", false)]
    [InlineData("à/ç 12345678", false)]
    [InlineData("ṡort code 20-00-00 12345678", false)]
    [InlineData("卡čvč 123", true)]
    [InlineData("жÀcct 00012345", false)]
    public void ValidateAndScrub_ReviewsAccentedLabels_RefusedInEveryFieldAndMasked(string value, bool cvc)
    {
        AssertRefusedInEveryField(value, cvc ? FreeTextRule.Cvc : FreeTextRule.CardOrBankNumber);

        Assert.Matches(@"\[(CVC|ACCOUNT) \*", SensitiveDataScrubber.Scrub("note " + value + " ok"));
    }

    /// <summary>Names and words with accented letters (Latin-1 and beyond) that spell no label.</summary>
    private static string[] AccentedNames =>
    [
        "Çelik", "Ánh", "Černý", "Łukasz", "Nguyễn Đặng", "Øyvind", "Dvořák", "Đorđe", "Ćosić", "Kōno", "Ştefan", "Şahin",
        "Ħaġar", "Żółć", "Ærøskøbing", "Björk", "Đoàn", "Čakovec", "Ĉu", "Cà Mau", "Çay", "Açai", "Acçaí", "Sörting", "Kontoš",
    ];

    [Theory]
    [InlineData("Çelik 1234")]
    [InlineData("Ánh 123")]
    [InlineData("Černý 123")]
    [InlineData("Nguyễn Đặng 0471")]
    [InlineData("Ćosić, Ul. 12 345")]
    [InlineData("сvс 123")]
    [InlineData("ß 123")]
    [InlineData("Acvc 123")]
    [InlineData("Josécvc 123")]
    [InlineData("Đặcct 00012345")]
    public void ValidateCard_AccentedNamesAndLookAlikesOfOtherScripts_Accepted(string value)
    {
        // Controls: accented names that spell no label, the look-alike letters of other scripts (Known gaps), and label
        // letters glued after Latin letters, accented or not (a label is a word, as Acvc 123 is no label), pass.
        Validator().ValidateCard(FieldSetters["billing_details.address.line1"](value));
    }

    [Fact]
    public void ValidateCard_GeneratedAccentedNamesAndWordsThenANumber_Accepted()
    {
        // Words that are no label, their letters accented as a label's are above, then a short number: no card data.
        var words = Gen.OneOfConst([.. AccentedNames, .. OrdinaryWords]);
        var accented = Gen.Select(words, Gen.Int[0, int.MaxValue].Array[40], Gen.Int[0, 2].Array[40])
            .Select((word, picks, replace) => string.Concat(word.Select((c, i) =>
                AccentedVariants.TryGetValue(c, out var options) && replace[i % replace.Length] == 0 ? options[picks[i % picks.Length] % options.Length] : c.ToString())));
        var separator = Gen.OneOfConst(" ", ": ", " - ", " #", ". ", ", ");
        var number = Gen.Char['0', '9'].Array[1, 11].Select(d => new string(d));
        var fields = new[] { "billing_details.name", "billing_details.address.line1", "billing_details.address.line2", "billing_details.address.city" };
        Gen.Select(accented, separator, number, Gen.OneOfConst(fields)).Sample(
            (word, s, digits, field) =>
            {
                var value = word + s + digits;

                Validator().ValidateCard(FieldSetters[field](value));
                Assert.DoesNotContain("***", SensitiveDataScrubber.Scrub(value), StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void ValidateAndScrub_GeneratedIbanWithAccentedLetters_RefusedInEveryFieldAndMasked()
    {
        // An IBAN's letters (country code and BBAN) with some replaced by an accented variant of the same case: ÑL91…,
        // NL91 ÀBNA…; grouped by four with a generated separator, or contiguous.
        var iban = Gen.Select(Gen.OneOfConst(IbanRegistry.Countries.Values.ToArray()), Gen.Int[0, int.MaxValue].Array[34], Gen.Int[0, int.MaxValue].Array[40], Gen.Int[0, 2].Array[40], Gen.Bool, Gen.OneOfConst(" ", "-", ".", string.Empty))
            .Select((country, random, picks, replace, lower, separator) =>
            {
                var plain = SensitiveDataScrubberPropertyTests.BuildIban(country, random);
                var cased = lower ? plain.ToLowerInvariant() : plain;
                var letters = Enumerable.Range(0, cased.Length).Where(i => AccentedVariants.ContainsKey(cased[i])).ToArray();
                var chosen = letters[picks[0] % letters.Length];
                var units = new List<string>();
                for (var i = 0; i < cased.Length; i++)
                {
                    var accent = AccentedVariants.TryGetValue(cased[i], out var variants) && (i == chosen || replace[i % replace.Length] == 0);
                    units.Add(accent ? variants![picks[(i + 1) % picks.Length] % variants.Length] : cased[i].ToString());
                }

                return (Iban: plain, Written: string.Join(separator, units.Chunk(4).Select(chunk => string.Concat(chunk))));
            });
        var fields = FieldSetters.Keys.Where(f => f != "customer_reference").ToArray();
        Gen.Select(Words, iban, Words, Gen.OneOfConst(fields)).Sample(
            (before, value, after, field) =>
            {
                // Arrange
                var text = before + " " + value.Written + " " + after;

                // Act
                var violations = Violations(FieldSetters[field](text));
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Contains(violations, v => v.Field == field && v.Rule == FreeTextRule.CardOrBankNumber);
                Assert.Contains("[IBAN ****", scrubbed, StringComparison.Ordinal);
                Assert.DoesNotContain(value.Written, scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Theory]
    [InlineData("ÑL91 ABNA 0417 1643 00")]
    [InlineData("NL91 ÀBNA 0417 1643 00")]
    [InlineData("ñl91àbna0417164300")]
    [InlineData("NL91éABNAé0417é1643é00")] // the lone-letter join still holds
    public void ValidateAndScrub_IbanWithAccentedLetters_RefusedAndMasked(string written)
    {
        // Act
        var violations = Violations(FieldSetters["billing_details.name"](written));
        var scrubbed = SensitiveDataScrubber.Scrub("iban " + written + " ok");

        // Assert
        Assert.Contains(violations, v => v.Field == "billing_details.name" && v.Rule == FreeTextRule.CardOrBankNumber);
        Assert.Equal("iban [IBAN ****4300] ok", scrubbed);
    }

    [Theory]
    [InlineData("Señor Ñúñez, piso 12, 28013 Madrid")]
    [InlineData("Zoë Çelik-Nguyễn, ul. Żółkiewskiego 12, 31-042 Kraków")]
    [InlineData("ÉS12 rue de l'Église")]
    public void ValidateCard_AccentedNamesAndAddressesWithNumbers_Accepted(string value)
    {
        // Control: accented words beside short numbers are no IBAN when read with their base letters.
        Validator().ValidateCard(FieldSetters["billing_details.address.line1"](value));
    }
}
