using System.Buffers;
using System.Globalization;
using System.Text;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// Reads text the way <see cref="SensitiveDataDetector"/> matches it: one normalised char per code point, each one of
/// four classes. Every Unicode decimal digit (category Nd, any script, supplementary planes included), every
/// character of category No or Nl whose numeric value is one digit (superscript, subscript, circled, parenthesised,
/// the ideographic zero 〇, Roman numerals), and the CJK numeral ideographs (<see cref="IdeographicDigit"/>) becomes
/// its value '0'-'9'; a number written as one character (<c>㊺</c>, <c>⑮</c>, <c>½</c>: NFKC digits or a whole
/// value 10-99, <see cref="CompatibilityDigits"/>) becomes its digits, several normalised chars; an ASCII or full-width Latin letter becomes the ASCII letter; any other letter becomes
/// <see cref="OtherLetter"/>; everything else (punctuation, symbols, every space, format and bidi characters, marks,
/// controls) becomes <see cref="Separator"/>, except that the scanning preset makes binary noise a
/// <see cref="Breaker"/>. Letters that stand where punctuation would also become <see cref="Separator"/>: modifier
/// letters (Lm), letters Unicode lists as confusable with punctuation (<see cref="LooksLikePunctuation"/>), and lone
/// letters between digits (<see cref="SeparateLoneLetters"/>). An origin span maps each normalised index back to the
/// original text (several normalised digits to one char for a written number).
/// </summary>
internal static class TextNormaliser
{
    /// <summary>The normalised char of anything that is neither a letter nor a digit.</summary>
    public const char Separator = ' ';

    /// <summary>Ends any number: binary noise (scanning) and exempt shapes (timestamps, GUIDs, hex ids).</summary>
    public const char Breaker = '\0';

    /// <summary>
    /// Scanning only: a position that holds no char (U+FFFF, a noncharacter), e.g. the continuation bytes of a UTF-8
    /// sequence in the scanner's one-char-per-byte view.
    /// </summary>
    public const char Filler = '\uFFFF';

    /// <summary>
    /// What <c>raw</c> holds for a supplementary numeral ideograph (<see cref="IdeographicDigit"/>), where it holds
    /// U+FFFF for other supplementary code points: a run of numerals between other digits is then found whatever the plane.
    /// </summary>
    public const char SupplementaryNumeral = '\uFFFE';

    /// <summary>A letter that is not Latin: ends a digit run, never part of an IBAN.</summary>
    public const char OtherLetter = '\uE000';

    /// <summary>True for '0'-'9' (the only digits a normalised text holds).</summary>
    public static bool IsDigit(char c) => c is >= '0' and <= '9';

    /// <summary>True for an ASCII letter or <see cref="OtherLetter"/>.</summary>
    public static bool IsLetter(char c) => char.IsAsciiLetter(c) || c == OtherLetter;

    /// <summary>True for a digit or a letter.</summary>
    public static bool IsAlphanumeric(char c) => IsDigit(c) || IsLetter(c);

    /// <summary>The most normalised chars one UTF-16 char can become (<c>⅒</c> reads as 1, 1, 0).</summary>
    public const int MaxDigitsPerChar = 3;

    /// <summary>
    /// How long the spans given to <see cref="Normalise(ReadOnlySpan{char}, bool, bool, Span{char}, Span{char}, Span{int})"/>
    /// must be for <paramref name="text"/>: its length and one, or <see cref="MaxDigitsPerChar"/> times that when it
    /// holds a char from U+00BC up (a number written as one character reads as up to three digits; an escape or a
    /// reference is at least as long as the digits of the char it encodes).
    /// </summary>
    public static int Capacity(ReadOnlySpan<char> text) =>
        text.IndexOfAnyExceptInRange('\0', '\u00BB') < 0 ? text.Length + 1 : (text.Length * MaxDigitsPerChar) + 1;

    /// <summary>
    /// Normalises <paramref name="text"/> into <paramref name="normalised"/> and <paramref name="raw"/> (the decoded
    /// char, or U+FFFF for a supplementary code point) and fills <paramref name="origin"/> (one entry more than the
    /// normalised length: origin[i] is where the char that normalised char i comes from starts in
    /// <paramref name="text"/>, the last entry is its length). A number written as one character (<c>㊺</c>) becomes
    /// several digits with the same origin (<see cref="CompatibilityDigits"/>), so a range of normalised chars maps back
    /// with <see cref="OriginalEnd"/>. All three spans must be at least <see cref="Capacity"/> long.
    /// </summary>
    /// <returns>The normalised length.</returns>
    public static int Normalise(
        ReadOnlySpan<char> text, bool decodeJsonEscapes, bool binaryBreaks, Span<char> normalised, Span<char> raw, Span<int> origin) =>
        Normalise(text, decodeJsonEscapes, binaryBreaks, numeralsAmongDigitsSeparate: true, normalised, raw, origin, out _);

    /// <summary>
    /// As <see cref="Normalise(ReadOnlySpan{char}, bool, bool, Span{char}, Span{char}, Span{int})"/>; with
    /// <paramref name="numeralsAmongDigitsSeparate"/> false, ideographic numerals between digits of another script stay
    /// digits (the other reading of <c>4532一0151</c>). <paramref name="ambiguous"/> tells whether any numeral was read
    /// as a separator, i.e. whether the other reading differs.
    /// </summary>
    public static int Normalise(
        ReadOnlySpan<char> text,
        bool decodeJsonEscapes,
        bool binaryBreaks,
        bool numeralsAmongDigitsSeparate,
        Span<char> normalised,
        Span<char> raw,
        Span<int> origin,
        out bool ambiguous)
    {
        var n = 0;
        var i = 0;
        while (i < text.Length)
        {
            origin[n] = i;
            if (binaryBreaks && text[i] == Filler)
            {
                i++;
                continue;
            }

            int width;
            Rune rune;
            if (decodeJsonEscapes && text[i] == '\\' && TryJsonEscape(text, i, out var escaped))
            {
                // A JSON \uXXXX escape (System.Text.Json writes quotes and non-ASCII this way) is the char it encodes.
                rune = escaped;
                width = 6;
            }
            else if (text[i] == '&' && HtmlEntityLength(text, i, out var entity) is > 0 and var entityLength)
            {
                // An HTML character reference (&#52; &#x34; &nbsp;) is the char it names: what a page shows.
                rune = entity;
                width = entityLength;
            }
            else if (Rune.DecodeFromUtf16(text[i..], out rune, out width) != OperationStatus.Done)
            {
                normalised[n] = binaryBreaks ? Breaker : Separator;
                raw[n++] = '\uFFFD';
                i += Math.Max(1, width);
                continue;
            }

            var classified = Classify(rune, binaryBreaks);
            var rawChar = rune.IsBmp ? (char)rune.Value : IdeographicDigit(rune.Value) >= 0 ? SupplementaryNumeral : '\uFFFF';
            if (((classified == Separator && rune.Value >= 0xBC) || rune.Value == 0x2189)
                && CompatibilityDigits(rune, normalised[n..]) is > 0 and var count)
            {
                // A number written as one character (㊺, ⑮, ½, ㋉) reads as its digits, each from the character's start.
                raw.Slice(n, count).Fill(rawChar);
                origin.Slice(n, count).Fill(i);
                n += count;
                i += width;
                continue;
            }

            normalised[n] = classified;
            raw[n++] = rawChar;
            i += width;
        }

        origin[n] = text.Length;
        ambiguous = SeparateLoneLetters(normalised, raw, n, numeralsAmongDigitsSeparate);
        return n;
    }

    /// <summary>
    /// Where the normalised range ending before <paramref name="end"/> ends in the original text: past the whole char of
    /// its last normalised char, so a range that ends inside the digits of <c>㊺</c> covers <c>㊺</c>.
    /// </summary>
    /// <param name="origin">The origins <see cref="Normalise(ReadOnlySpan{char}, bool, bool, Span{char}, Span{char}, Span{int})"/> filled.</param>
    /// <param name="end">An index of the normalised text after the range's first char, at most its length.</param>
    public static int OriginalEnd(ReadOnlySpan<int> origin, int end)
    {
        while (origin[end] == origin[end - 1])
        {
            end++;
        }

        return origin[end];
    }

    /// <summary>
    /// The digits of a number written as one character that <see cref="Classify"/> reads as a separator, written into
    /// <paramref name="digits"/> (at least <see cref="MaxDigitsPerChar"/> long); their count, 0 for any other code point.
    /// Two sources, so that what validation refuses through the value's NFKC form the detector also reads in any text
    /// (logs, the scanner) without ICU: the characters whose NFKC form holds digits (each listed here, and checked
    /// against the runtime's NFKC by a test): two-digit circled, parenthesised and full-stop numbers (<c>⑮ ⒂ ⒖ ㉜ ㊺</c>),
    /// vulgar fractions (<c>½</c> is 1, 2; <c>⅒</c> is 1, 1, 0; <c>↉</c> is 0, 3, though its value alone is 0), the
    /// ideographic telegraph symbols for months, hours and days (<c>㋉ ㍢ ㏩</c>: 10) and the squared units with an exponent
    /// (<c>㎡</c>: 2); and every character whose Unicode numeric value is a whole number from 10 to 99, with or without an
    /// NFKC form (negative circled <c>⓫-⓴</c>, dingbat <c>❿ ➉ ➓</c>, <c>㉈-㉏</c>, Roman <c>Ⅹ-Ⅻ Ⅼ</c>, Hangzhou <c>〸 〹 〺</c>,
    /// Ethiopic, Aegean and other scripts' tens). Characters standing for 100 or more are not read as digits.
    /// Letters with a numeric value (the compatibility ideographs 拾 and 什) stay letters.
    /// </summary>
    public static int CompatibilityDigits(Rune rune, Span<char> digits)
    {
        var value = rune.Value;
        var written = value switch
        {
            0x00BC => "14",
            0x00BD => "12",
            0x00BE => "34",
            0x2150 => "17",
            0x2151 => "19",
            0x2152 => "110",
            0x2153 => "13",
            0x2154 => "23",
            0x2155 => "15",
            0x2156 => "25",
            0x2157 => "35",
            0x2158 => "45",
            0x2159 => "16",
            0x215A => "56",
            0x215B => "18",
            0x215C => "38",
            0x215D => "58",
            0x215E => "78",
            0x2189 => "03",
            0x3378 or 0x339F or 0x33A0 or 0x33A1 or 0x33A2 or 0x33A8 or 0x33AF => "2", // ㍸ ㎟ ㎠ ㎡ ㎢ ㎨ ㎯
            0x3379 or 0x33A3 or 0x33A4 or 0x33A5 or 0x33A6 => "3", // ㍹ ㎣ ㎤ ㎥ ㎦
            _ => null,
        };
        if (written is not null)
        {
            written.CopyTo(digits);
            return written.Length;
        }

        int number;
        if (value is >= 0x32C0 and <= 0x32CB)
        {
            number = value - 0x32C0 + 1; // ㋀-㋋: months 1-12
        }
        else if (value is >= 0x3358 and <= 0x3370)
        {
            number = value - 0x3358; // ㍘-㍰: hours 0-24
        }
        else if (value is >= 0x33E0 and <= 0x33FE)
        {
            number = value - 0x33E0 + 1; // ㏠-㏾: days 1-31
        }
        else
        {
            var numeric = Rune.GetNumericValue(rune);
            if (numeric is < 10 or > 99 || numeric != Math.Floor(numeric) || Rune.IsLetter(rune))
            {
                return 0;
            }

            number = (int)numeric;
        }

        if (number < 10)
        {
            digits[0] = (char)('0' + number);
            return 1;
        }

        digits[0] = (char)('0' + (number / 10));
        digits[1] = (char)('0' + (number % 10));
        return 2;
    }

    /// <summary>The normalised char of one code point.</summary>
    public static char Classify(Rune rune, bool binaryBreaks)
    {
        var value = rune.Value;
        if (value < 0x80)
        {
            if (value is >= '0' and <= '9' || char.IsAsciiLetter((char)value))
            {
                return (char)value;
            }

            return binaryBreaks && value < 0x20 && value is not ('\t' or '\n' or '\r' or '\f' or '\v') ? Breaker : Separator;
        }

        if (value is >= 0xFF21 and <= 0xFF3A or >= 0xFF41 and <= 0xFF5A)
        {
            // Full-width Latin letters read as their ASCII letters (an IBAN can be typed in them).
            return (char)(value - 0xFF21 + 'A');
        }

        if (BrailleDigit(value) is >= 0 and var braille)
        {
            return (char)('0' + braille);
        }

        var category = Rune.GetUnicodeCategory(rune);
        switch (category)
        {
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.OtherNumber:
            case UnicodeCategory.LetterNumber:
                // Nd digits, and No/Nl characters whose value is one digit (superscripts, subscripts, circled and
                // parenthesised digits, the ideographic zero, Roman numerals one to nine); fractions and numbers above
                // 9 separate here, and Normalise reads them as their digits (CompatibilityDigits).
                var digit = Rune.GetNumericValue(rune);
                return digit is >= 0 and <= 9 && digit == Math.Floor(digit) ? (char)('0' + (int)digit) : Separator;
            case UnicodeCategory.OtherLetter when IdeographicDigit(value) is var ideographic and >= 0:
                return (char)('0' + ideographic);
            case UnicodeCategory.ModifierLetter:
                // Modifier letters (tatweel, prolonged sound mark, iteration marks, modifier apostrophe, Lisu tones...)
                // stand where punctuation would and read as it: they join digits like any separator.
            case UnicodeCategory.OtherLetter when LooksLikePunctuation(value):
                return Separator;
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.OtherLetter:
                return OtherLetter;
            case UnicodeCategory.Control:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
            case UnicodeCategory.Surrogate:
                return binaryBreaks && value != 0x85 ? Breaker : Separator;
            default:
                return binaryBreaks && value == 0xFFFD ? Breaker : Separator;
        }
    }

    /// <summary>
    /// The ASCII letter a decorative Latin letter that NFKC leaves alone stands for, else '\0': the small capitals
    /// ᴀ ʙ ᴄ ᴅ ᴇ ꜰ ɢ ʜ ɪ ᴊ ᴋ ʟ ᴍ ɴ ᴏ ᴘ ꞯ ǫ ʀ ꜱ ᴛ ᴜ ᴠ ᴡ ʏ ᴢ (ǫ stands for a small capital Q), the negative circled (U+1F150-1F169) and negative squared (U+1F170-1F189) letters and the regional indicator
    /// symbols (U+1F1E6-1F1FF, the letters of flag emoji), all as capitals (<c>ᴄɪᴅ</c> is <c>CID</c>). Labels and IBAN letters are read through it
    /// (<see cref="SensitiveDataDetector"/>); digits are not, so these stay what <see cref="Classify"/> makes them for
    /// the card number search.
    /// </summary>
    internal static char DecorativeLatinLetter(int value) => value switch
    {
        0x1D00 => 'A',
        0x0299 => 'B',
        0x1D04 => 'C',
        0x1D05 => 'D',
        0x1D07 => 'E',
        0xA730 => 'F',
        0x0262 => 'G',
        0x029C => 'H',
        0x026A => 'I',
        0x1D0A => 'J',
        0x1D0B => 'K',
        0x029F => 'L',
        0x1D0D => 'M',
        0x0274 => 'N',
        0x1D0F => 'O',
        0x1D18 => 'P',
        0xA7AF or 0x01EB => 'Q',
        0x0280 => 'R',
        0xA731 => 'S',
        0x1D1B => 'T',
        0x1D1C => 'U',
        0x1D20 => 'V',
        0x1D21 => 'W',
        0x028F => 'Y',
        0x1D22 => 'Z',
        >= 0x1F150 and <= 0x1F169 => (char)('A' + (value - 0x1F150)),
        >= 0x1F170 and <= 0x1F189 => (char)('A' + (value - 0x1F170)),
        >= 0x1F1E6 and <= 0x1F1FF => (char)('A' + (value - 0x1F1E6)),
        _ => '\0',
    };

    /// <summary>
    /// The Unicode blocks of Latin letters (first and last code point): Latin-1 Supplement from ª, Latin Extended-A and
    /// -B, IPA Extensions, Phonetic Extensions and their Supplement, Latin Extended Additional, Letterlike Symbols (Å, K,
    /// ℂ), Latin Extended-C, -D and -E. Latin letters elsewhere in the BMP are ASCII or full-width (read by
    /// <see cref="Classify"/>) or modifier letters (separators).
    /// </summary>
    private static readonly (int First, int Last)[] LatinBlocks =
        [(0x00AA, 0x02AF), (0x1D00, 0x1EFF), (0x2100, 0x214F), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F)];

    /// <summary>
    /// The ASCII letter a Latin letter with diacritics or a stroke stands for, in its case, else '\0': every letter whose
    /// canonical decomposition is an ASCII letter and combining marks (<c>ü</c> <c>č</c> <c>ǖ</c> <c>Ç</c> <c>ȩ</c>
    /// <c>ḑ</c>), and the Latin letters that do not decompose but read as one letter (<c>ł</c> <c>ø</c> <c>đ</c>
    /// <c>ħ</c> <c>ƈ</c> <c>ȼ</c> <c>ı</c> <c>ɔ</c> <c>ª</c> <c>º</c>). The letters are AnyAscii's transliteration, taken
    /// only where it is one ASCII letter and only in the Latin blocks, so nothing becomes a digit (AnyAscii writes
    /// <c>Ƽ</c> as 5), letters of other scripts stay letters of their own (it writes Cyrillic <c>с</c> as <c>s</c>) and
    /// one char stays one char (<c>ß</c>, <c>æ</c>, <c>þ</c> are two letters there, and stay as written here).
    /// Supplementary code points (Latin Extended-F and -G, mathematical letters) are not read (<c>raw</c> holds U+FFFF for
    /// them); validation reads the mathematical ones through NFKC.
    /// </summary>
    internal static char LatinBaseLetter(char c) =>
        c < 0x00AA ? '\0'
        : c <= 0x2C7F ? LatinBaseLetterTable.Low[c - 0x00AA]
        : c is >= '\uA720' and <= '\uAB6F' ? LatinBaseLetterTable.High[c - 0xA720]
        : '\0';

    /// <summary>
    /// The base letter of each code point of <see cref="LatinBlocks"/>, or '\0', in two flat tables (U+00AA-2C7F and
    /// U+A720-AB6F; 24 KB) read with one subtraction. Built on first use (about 8 ms once, cold), so a process that never
    /// meets a letter beyond ASCII never builds them.
    /// </summary>
    private static class LatinBaseLetterTable
    {
        public static readonly char[] Low = new char[0x2C7F - 0x00AA + 1];

        public static readonly char[] High = new char[0xAB6F - 0xA720 + 1];

        static LatinBaseLetterTable()
        {
            foreach (var (first, last) in LatinBlocks)
            {
                for (var value = first; value <= last; value++)
                {
                    var rune = new Rune(value);
                    if (!Rune.IsLetter(rune) || (Rune.GetUnicodeCategory(rune) == UnicodeCategory.OtherLetter && value is >= 0x2100 and <= 0x214F))
                    {
                        // Letters only (not the symbols of these blocks); the Hebrew-named letterlike signs ℵ ℶ ℷ ℸ are no Latin letters.
                        continue;
                    }

                    var ascii = AnyAscii.Transliteration.Transliterate(rune);
                    if (ascii.Length == 1 && char.IsAsciiLetter((char)ascii[0]))
                    {
                        if (value <= 0x2C7F)
                        {
                            Low[value - 0x00AA] = (char)ascii[0];
                        }
                        else
                        {
                            High[value - 0xA720] = (char)ascii[0];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The digit a braille cell writes after the number sign ⠼: the cells of the letters a-j (⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚) are 1-9 and
    /// 0. Read as digits wherever they stand (free text holds no braille, and the number sign is a separator); -1 for
    /// any other code point.
    /// </summary>
    internal static int BrailleDigit(int value) => value switch
    {
        0x2801 => 1,
        0x2803 => 2,
        0x2809 => 3,
        0x2819 => 4,
        0x2811 => 5,
        0x280B => 6,
        0x281B => 7,
        0x2813 => 8,
        0x280A => 9,
        0x281A => 0,
        _ => -1,
    };

    /// <summary>
    /// The digit a numeral ideograph writes, else -1. These are letters (category Lo), so .NET gives them no numeric
    /// value; Unicode does, from Unihan (kPrimaryNumeric, kAccountingNumeric, kOtherNumeric): every Lo code point whose
    /// Numeric_Value is an integer 0-9 is here (checked against ICU's u_getNumericValue for every code point):
    /// 零一二三四五六七八九, the accounting forms 壹貳贰參叁肆伍陸陆柒捌玖 used on cheques and bank forms, the rarer
    /// 㐅㒃㠪㭍亖仨叄廾 and the compatibility and Extension B ideographs with a digit value. Besides them: the
    /// ideographic zero 〇 (Nl), 两 (the simplified 兩, "two"; no Unihan value) and the Sino-Korean digit syllables
    /// 영 공 일 이 삼 사 오 육 륙 칠 팔 구. A chain of twelve of them is a number, not a name.
    /// </summary>
    internal static int IdeographicDigit(int value) => value switch
    {
        0x3007 or 0x96F6 or 0xF9B2 or 0xC601 or 0xACF5 => 0, // 〇 零 零(compat) 영 공
        0x4E00 or 0x58F9 or 0x58F1 or 0x5F0C or 0x5E7A or 0x2092A or 0xC77C => 1, // 一 壹 壱 弌 幺 𠤪 일
        0x4E8C or 0x8CB3 or 0x8D30 or 0x5F10 or 0x5F0D or 0x8CAE or 0x4E24 or 0x5169 or 0x3483 or 0xF978 or 0x22390
            or 0xC774 => 2, // 二 貳 贰 弐 弍 貮 两 兩 㒃 兩(compat) 𢎐 이
        0x4E09 or 0x53C3 or 0x53C1 or 0x53C2 or 0x5F0E or 0x53C4 or 0x4EE8 or 0xF96B or 0x20AFD or 0x20B19 or 0x22998
            or 0x23B1B or 0xC0BC => 3, // 三 參 叁 参 弎 叄 仨 參(compat) 𠫽 𠬙 𢦘 𣬛 삼
        0x56DB or 0x8086 or 0x4E96 or 0x20064 or 0x200E2 or 0x2626D or 0xC0AC => 4, // 四 肆 亖 𠁤 𠃢 𦉭 사
        0x4E94 or 0x4F0D or 0x3405 or 0x382A or 0x20121 or 0xC624 => 5, // 五 伍 㐅 㠪 𠄡 오
        0x516D or 0x9678 or 0x9646 or 0xF9D1 or 0xF9D3 or 0x20AEA or 0xC721 or 0xB959 => 6, // 六 陸 陆 六(compat) 陸(compat) 𠫪 육 륙
        0x4E03 or 0x67D2 or 0x6F06 or 0x3B4D or 0x20001 or 0xCE60 => 7, // 七 柒 漆 㭍 𠀁 칠
        0x516B or 0x634C or 0xD314 => 8, // 八 捌 팔
        0x4E5D or 0x7396 or 0x5EFE or 0x2F890 or 0xAD6C => 9, // 九 玖 廾 廾(compat) 구
        _ => -1,
    };

    /// <summary>
    /// Whether a <c>raw</c> char stands for a numeral ideograph: a BMP one as itself, a supplementary one (Extension B,
    /// U+2F890) as <see cref="SupplementaryNumeral"/>.
    /// </summary>
    internal static bool IsIdeographicDigit(char raw) => raw == SupplementaryNumeral || IdeographicDigit(raw) >= 0;

    /// <summary>
    /// Letters (category Lo) that Unicode's confusables data (UTS #39) maps to punctuation: the Latin clicks
    /// ǀ ǁ ǂ ǃ, the sinological dot ꞏ, Hangul ㅡ ㅣ ᅳ ᅵ ㆍ ᆞ, Tifinagh ⵏ, the runic isaz ᛁ, N'Ko ߺ, the Lisu
    /// punctuation-like letters, Canadian syllabics ᐧ ᐨ, Bopomofo ㄧ, Thai ฯ; and the Hangul fillers (U+3164, U+FFA0, U+115F, U+1160), letters that render as space. A reader sees <c>4532ᅳ0151</c> as a separated number, and so does the detector.
    /// </summary>
    internal static bool LooksLikePunctuation(int value) => value is
        >= 0x01C0 and <= 0x01C3 or 0xA78F or 0x3161 or 0x3163 or 0x1173 or 0x1175 or 0x318D or 0x119E or 0x2D4F
        or 0x16C1 or 0x07FA or >= 0xA4F8 and <= 0xA4FD
        or 0x1427 or 0x1428 or 0x3127 or 0x0E2F // Canadian syllabics final middle dot and final ring (· -), Bopomofo I (a bar), Thai paiyannoi (an abbreviation dot)
        or 0x3164 or 0xFFA0 or 0x115F or 0x1160; // the Hangul fillers: letters that show as blank space

    /// <summary>
    /// Letters standing alone where a separator would: a run of ideographic digits (<see cref="IdeographicDigit"/>)
    /// with a digit of another script on each side (一 between ASCII digits reads as a dash as much as a one, so the
    /// detector tries both readings), and a single letter other than A-Z with a digit on each side, separators apart
    /// (<c>4532ж0151</c>), become <see cref="Separator"/>. A lone A-Z letter is separated later, for the PAN search only
    /// (<see cref="SeparateLoneLetterStretches"/>).
    /// </summary>
    /// <returns>True when a run of ideographic numerals stood between digits of another script.</returns>
    private static bool SeparateLoneLetters(Span<char> normalised, ReadOnlySpan<char> raw, int n, bool numeralsSeparate)
    {
        var ambiguous = false;
        var i = 0;
        while (i < n)
        {
            var c = normalised[i];
            var ideographic = IsDigit(c) && IsIdeographicDigit(raw[i]);
            if (!ideographic && c != OtherLetter)
            {
                i++;
                continue;
            }

            // The run: ideographic digits (or one other letter), with separators inside.
            var end = i + 1;
            if (ideographic)
            {
                while (end < n && (normalised[end] == Separator || (IsDigit(normalised[end]) && IsIdeographicDigit(raw[end]))))
                {
                    end++;
                }

                while (end > i + 1 && normalised[end - 1] == Separator)
                {
                    end--;
                }
            }

            var before = i - 1;
            while (before >= 0 && normalised[before] == Separator)
            {
                before--;
            }

            var after = end;
            while (after < n && normalised[after] == Separator)
            {
                after++;
            }

            if (before >= 0 && after < n && IsDigit(normalised[before]) && IsDigit(normalised[after])
                && !IsIdeographicDigit(raw[before]) && !IsIdeographicDigit(raw[after]))
            {
                ambiguous |= ideographic;
                if (numeralsSeparate || !ideographic)
                {
                    normalised[i..end].Fill(Separator);
                }
            }

            i = end;
        }

        return ambiguous;
    }

    /// <summary>
    /// For the PAN search, after IBANs (whose BBANs hold letters between digits) were found: between two digits, a
    /// stretch of separators and lone letters (no letter next to another letter) becomes separators when none of its
    /// letters is a hex letter a-f or A-F (UUIDs and hex ids hold those between digits): <c>4532x0151</c>,
    /// <c>4532x-y0151</c>, <c>4532 k;m 0151</c>, <c>4532ж-ж0151</c>. A run of two or more letters, a hex letter or a
    /// <see cref="Breaker"/> (an exempt shape) in the stretch keeps the digits apart.
    /// </summary>
    public static void SeparateLoneLetterStretches(Span<char> normalised)
    {
        var lastDigit = -1;
        for (var i = 0; i < normalised.Length; i++)
        {
            var c = normalised[i];
            if (IsDigit(c))
            {
                if (lastDigit >= 0 && i - lastDigit > 1)
                {
                    // Only separators and lone non-hex letters stand between the two digits.
                    normalised[(lastDigit + 1)..i].Fill(Separator);
                }

                lastDigit = i;
            }
            else if (c != Separator && (!IsLetter(c) || char.IsAsciiHexDigit(c) || (i > 0 && IsLetter(normalised[i - 1]))))
            {
                // A breaker, a hex letter or a second letter in a row: no stretch through here joins digits.
                lastDigit = -1;
            }
        }
    }

    private const int MaxReferenceLength = 40;

    /// <summary>
    /// The length of the HTML character reference at <paramref name="at"/> (<c>&amp;#DDD;</c>, <c>&amp;#xHH;</c> with at
    /// most 7 digits, or a named one, <c>&amp;name;</c> of 2 to 39 ASCII letters and digits, read as a separator), also
    /// behind any number of <c>&amp;amp;</c>; 0 when there is none; <paramref name="rune"/> the char it stands for.
    /// </summary>
    private static int HtmlEntityLength(ReadOnlySpan<char> text, int at, out Rune rune)
    {
        rune = default;
        var rest = text[at..];

        // &amp; before a reference (&amp;#52;, &amp;amp;period;) is what a page shows after one decoding too many:
        // the reference it spells counts, so double encoding hides nothing.
        var skipped = 0;
        while (AmpersandReferenceTail(rest[(skipped + 1)..]) is > 0 and var ampersand
            && rest.Length > skipped + 1 + ampersand && (rest[skipped + 1 + ampersand] == '#' || char.IsAsciiLetter(rest[skipped + 1 + ampersand])))
        {
            // The text from here on reads as "&" followed by what comes after the encoded ampersand.
            skipped += ampersand;
        }

        if (skipped > 0)
        {
            Span<char> inner = stackalloc char[Math.Min(rest.Length - skipped, MaxReferenceLength)];
            inner[0] = '&';
            rest.Slice(skipped + 1, inner.Length - 1).CopyTo(inner[1..]);
            var length = HtmlEntityLength(inner, 0, out rune);
            return length > 0 ? skipped + length : 0;
        }

        if (rest.Length < 4)
        {
            return 0;
        }

        if (rest[1] != '#')
        {
            // A named reference (&nbsp; &period; &hyphen; &ThinSpace; &eacute;): none of the HTML names stands for an
            // ASCII digit, so each reads as a separator, whatever it names; a letter it names would separate anyway.
            var name = 1;
            while (name < rest.Length && name <= MaxReferenceLength && char.IsAsciiLetterOrDigit(rest[name]))
            {
                name++;
            }

            if (name >= 3 && name < rest.Length && rest[name] == ';' && char.IsAsciiLetter(rest[1]))
            {
                rune = new Rune(0xA0);
                return name + 1;
            }

            // Browsers also read a few legacy names without their ';' (&nbsp &shy &amp).
            foreach (var legacy in (ReadOnlySpan<string>)["&nbsp", "&shy", "&amp"])
            {
                if (rest.StartsWith(legacy, StringComparison.OrdinalIgnoreCase))
                {
                    rune = new Rune(0xA0);
                    return legacy.Length;
                }
            }

            return 0;
        }

        var hex = rest[2] is 'x' or 'X';
        var i = hex ? 3 : 2;
        var start = i;
        while (i < rest.Length && rest[i] == '0')
        {
            // Leading zeros change nothing (&#x0000FF14; is &#xFF14;), however many there are.
            i++;
        }

        var value = 0;
        var significant = i;
        while (i < rest.Length && i - significant < 7 && (hex ? char.IsAsciiHexDigit(rest[i]) : char.IsAsciiDigit(rest[i])))
        {
            value = (value * (hex ? 16 : 10)) + (char.IsAsciiDigit(rest[i]) ? rest[i] - '0' : (rest[i] | 0x20) - 'a' + 10);
            i++;
        }

        if (i == start || !Rune.IsValid(value) || (i < rest.Length && (hex ? char.IsAsciiHexDigit(rest[i]) : char.IsAsciiDigit(rest[i]))))
        {
            return 0;
        }

        // Browsers read a numeric reference without its ';' too (&#52&#54...).
        rune = new Rune(value);
        return i < rest.Length && rest[i] == ';' ? i + 1 : i;
    }

    /// <summary>
    /// After an '&amp;': the length of the rest of an ampersand written as a reference (<c>amp;</c>, <c>#38;</c>,
    /// <c>#x26;</c>), or 0.
    /// </summary>
    private static int AmpersandReferenceTail(ReadOnlySpan<char> text)
    {
        foreach (var tail in (ReadOnlySpan<string>)["amp;", "#38;", "#x26;"])
        {
            if (text.StartsWith(tail, StringComparison.OrdinalIgnoreCase))
            {
                return tail.Length;
            }
        }

        return 0;
    }

    private static bool TryJsonEscape(ReadOnlySpan<char> text, int at, out Rune rune)
    {
        rune = default;
        if (at + 5 >= text.Length || text[at + 1] != 'u')
        {
            return false;
        }

        var value = 0;
        for (var k = 2; k < 6; k++)
        {
            var c = text[at + k];
            int nibble = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => -1,
            };
            if (nibble < 0)
            {
                return false;
            }

            value = (value << 4) | nibble;
        }

        // An escaped surrogate half stands alone here; it is neither a letter nor a digit.
        rune = Rune.IsValid(value) ? new Rune(value) : new Rune(0xFFFD);
        return true;
    }
}
