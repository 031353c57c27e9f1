using System.Globalization;
using System.Text;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Core.Validation;

/// <summary>
/// The one rule every free-text field of every request goes through (customer references, billing name, email,
/// phone, address lines, city, state, postal code and country, revoke and erasure reasons, privacy corrections):
/// a value is refused, never silently changed, when it holds
/// <list type="number">
/// <item>a card or bank account number: any PAN, IBAN or labelled account number <see cref="SensitiveDataDetector"/>
/// finds under <see cref="SensitiveDataDetectorOptions.Validation"/>, which has no exemptions
/// (<see cref="CardOrBankNumber"/>), or a labelled CVC (<see cref="Cvc"/>);</item>
/// <item>a control, format or bidi character: category Cc (CR, LF, NUL, ESC...), Cf (U+200B, U+200E/F, U+202A-202E,
/// U+2066-2069, U+FEFF...) except the joiners U+200C and U+200D that Persian and Indic names need, line and paragraph
/// separators (Zl, Zp), and unpaired surrogates (<see cref="ControlCharacters"/>): they forge log lines and disguise
/// text shown to people;</item>
/// <item>a code point unassigned in the runtime's Unicode tables (Cn) or for private use (Co)
/// (<see cref="UnassignedCharacters"/>): the detector cannot know what a newer Unicode version or a private font shows
/// for them (Unicode 17's Tolong Siki digits are Cn in .NET 10), so they could carry digits it does not see;</item>
/// <item>more than the field's maximum of chars.</item>
/// </list>
/// One violation per field, the first of these that applies; the rule text never quotes the value.
/// Surrounding white space is trimmed and an empty value is null (absent).
/// </summary>
public static class FreeTextRule
{
    /// <summary>The rule text for a value that holds a PAN or an IBAN.</summary>
    public const string CardOrBankNumber = "must not contain a card or bank account number";

    /// <summary>The rule text for a value that holds a labelled card security code (<c>cvc 123</c>).</summary>
    public const string Cvc = "must not contain a card security code (CVC)";

    /// <summary>The rule text for a value with a control, format or bidi character.</summary>
    public const string ControlCharacters = "must not contain control, format or bidi characters";

    /// <summary>The rule text for a value with an unassigned (Cn) or private-use (Co) code point.</summary>
    public const string UnassignedCharacters = "must not contain unassigned or private-use characters";

    /// <summary>Checks a free-text value and adds at most one violation naming <paramref name="field"/>.</summary>
    /// <param name="value">As received; null or empty means absent.</param>
    /// <param name="field">The proto field path for the violation.</param>
    /// <param name="maxLength">Most chars (UTF-16 code units) after trimming.</param>
    /// <param name="violations">Receives the violation, if any.</param>
    /// <returns>The trimmed value, or null when absent or only white space; returned even when refused.</returns>
    public static string? Check(string? value, string field, int maxLength, List<FieldViolation> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var rule = RuleBroken(value, maxLength);
        if (rule is not null)
        {
            violations.Add(new FieldViolation(field, rule));
        }

        var trimmed = value.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }

    /// <summary>The rule text <paramref name="value"/> breaks, or null.</summary>
    public static string? RuleBroken(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (SensitiveDataDetector.FindCardOrBankNumber(value))
        {
            case SensitiveDataKind.Cvc:
                return Cvc;
            case not null:
                return CardOrBankNumber;
        }

        if (HasControlCharacter(value))
        {
            return ControlCharacters;
        }

        if (HasUnassignedCharacter(value))
        {
            return UnassignedCharacters;
        }

        return value.AsSpan().Trim().Length > maxLength ? ValidationRules.MaxLength(maxLength) : null;
    }

    /// <summary>True when <paramref name="value"/> holds a PAN or IBAN (<see cref="SensitiveDataDetectorOptions.Validation"/>).</summary>
    public static bool HoldsCardOrBankNumber(ReadOnlySpan<char> value) => SensitiveDataDetector.FindCardOrBankNumber(value) is not null;

    /// <summary>True when <paramref name="value"/> holds an unassigned (Cn) or private-use (Co) code point.</summary>
    public static bool HasUnassignedCharacter(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] < '\u0080')
            {
                continue;
            }

            if (Rune.DecodeFromUtf16(value[i..], out var rune, out var width) != System.Buffers.OperationStatus.Done)
            {
                continue;
            }

            i += width - 1;
            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when <paramref name="value"/> holds a char refused in free text (see the class remarks).</summary>
    public static bool HasControlCharacter(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is >= ' ' and < '\u007F')
            {
                continue;
            }

            if (Rune.DecodeFromUtf16(value[i..], out var rune, out var width) != System.Buffers.OperationStatus.Done)
            {
                return true;
            }

            i += width - 1;
            if (rune.Value is 0x200C or 0x200D)
            {
                continue;
            }

            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return true;
            }
        }

        return false;
    }
}
