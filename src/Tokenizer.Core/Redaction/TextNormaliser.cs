using System.Buffers;
using System.Globalization;
using System.Text;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// Reads text the way <see cref="SensitiveDataDetector"/> matches it: one normalised char per code point, each one of
/// four classes. Every Unicode decimal digit (category Nd, any script, supplementary planes included), every
/// character of category No or Nl whose numeric value is one digit (superscript, subscript, circled, parenthesised,
/// the ideographic zero 〇, Roman numerals), and the CJK numeral ideographs (<see cref="IdeographicDigit"/>) becomes
/// its value '0'-'9'; an ASCII or full-width Latin letter becomes the ASCII letter; any other letter becomes
/// <see cref="OtherLetter"/>; everything else (punctuation, symbols, every space, format and bidi characters, marks,
/// controls) becomes <see cref="Separator"/>, except that the scanning preset makes binary noise a
/// <see cref="Breaker"/>. An origin span maps each normalised index back to the original text.
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

    /// <summary>A letter that is not Latin: ends a digit run, never part of an IBAN.</summary>
    public const char OtherLetter = '\uE000';

    /// <summary>True for '0'-'9' (the only digits a normalised text holds).</summary>
    public static bool IsDigit(char c) => c is >= '0' and <= '9';

    /// <summary>True for an ASCII letter or <see cref="OtherLetter"/>.</summary>
    public static bool IsLetter(char c) => char.IsAsciiLetter(c) || c == OtherLetter;

    /// <summary>True for a digit or a letter.</summary>
    public static bool IsAlphanumeric(char c) => IsDigit(c) || IsLetter(c);

    /// <summary>
    /// Normalises <paramref name="text"/> into <paramref name="normalised"/> and <paramref name="raw"/> (the decoded
    /// char, or U+FFFF for a supplementary code point) and fills <paramref name="origin"/> (one entry more than the
    /// normalised length: origin[i] is where normalised char i starts in <paramref name="text"/>, the last entry is
    /// its length). All three spans must be at least <c>text.Length + 1</c> long.
    /// </summary>
    /// <returns>The normalised length.</returns>
    public static int Normalise(
        ReadOnlySpan<char> text, bool decodeJsonEscapes, bool binaryBreaks, Span<char> normalised, Span<char> raw, Span<int> origin)
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
            else if (Rune.DecodeFromUtf16(text[i..], out rune, out width) != OperationStatus.Done)
            {
                normalised[n] = binaryBreaks ? Breaker : Separator;
                raw[n++] = '\uFFFD';
                i += Math.Max(1, width);
                continue;
            }

            normalised[n] = Classify(rune, binaryBreaks);
            raw[n++] = rune.IsBmp ? (char)rune.Value : '\uFFFF';
            i += width;
        }

        origin[n] = text.Length;
        return n;
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

        var category = Rune.GetUnicodeCategory(rune);
        switch (category)
        {
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.OtherNumber:
            case UnicodeCategory.LetterNumber:
                // Nd digits, and No/Nl characters whose value is one digit (superscripts, subscripts, circled and
                // parenthesised digits, the ideographic zero, Roman numerals one to nine); fractions and numbers above
                // 9 separate.
                var digit = Rune.GetNumericValue(rune);
                return digit is >= 0 and <= 9 && digit == Math.Floor(digit) ? (char)('0' + (int)digit) : Separator;
            case UnicodeCategory.OtherLetter when IdeographicDigit(value) is var ideographic and >= 0:
                return (char)('0' + ideographic);
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
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
    /// The digit a CJK numeral ideograph writes (category Lo, so Unicode gives it no numeric value; Unihan's
    /// kPrimaryNumeric and kAccountingNumeric do): 零一二三四五六七八九 and the accounting forms 壹貳贰參叁肆伍陸陆柒捌玖
    /// used on cheques and bank forms; -1 for any other code point. A chain of twelve of them is a number, not a name.
    /// </summary>
    internal static int IdeographicDigit(int value) => value switch
    {
        0x96F6 => 0, // 零
        0x4E00 or 0x58F9 => 1, // 一 壹
        0x4E8C or 0x8CB3 or 0x8D30 => 2, // 二 貳 贰
        0x4E09 or 0x53C3 or 0x53C1 => 3, // 三 參 叁
        0x56DB or 0x8086 => 4, // 四 肆
        0x4E94 or 0x4F0D => 5, // 五 伍
        0x516D or 0x9678 or 0x9646 => 6, // 六 陸 陆
        0x4E03 or 0x67D2 => 7, // 七 柒
        0x516B or 0x634C => 8, // 八 捌
        0x4E5D or 0x7396 => 9, // 九 玖
        _ => -1,
    };

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
