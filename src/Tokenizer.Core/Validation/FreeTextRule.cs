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
/// (<see cref="CardOrBankNumber"/>), or a labelled CVC (<see cref="Cvc"/>), in the value as sent or in its NFKC form
/// (compatibility characters folded: <c>㊶</c> is <c>41</c>, mathematical and circled capitals are A-Z);</item>
/// <item>a control, format or bidi character: category Cc (CR, LF, NUL, ESC...), Cf (U+200B, U+200E/F, U+202A-202E,
/// U+2066-2069, U+FEFF...) except the joiners U+200C and U+200D that Persian and Indic names need, line and paragraph
/// separators (Zl, Zp), and unpaired surrogates (<see cref="ControlCharacters"/>): they forge log lines and disguise
/// text shown to people;</item>
/// <item>a code point unassigned in the runtime's Unicode tables (Cn) or for private use (Co)
/// (<see cref="UnassignedCharacters"/>): the detector cannot know what a newer Unicode version or a private font shows
/// for them (Unicode 17's Tolong Siki digits are Cn in .NET 10), so they could carry digits it does not see;</item>
/// <item>an escape of another encoding (<see cref="EncodedCharacters"/>): a percent escape (<c>%34</c>), an HTML
/// character reference (<c>&amp;#52;</c>, <c>&amp;amp;</c>), a backslash escape (JSON <c>\u0034</c>, <c>\u{34}</c>, CSS
/// <c>\34</c>) or a run of quoted-printable escapes (<c>=EF=BC=94</c>): free text is plain text, and a number written in
/// an encoding the detector does not read would pass unseen;</item>
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

    /// <summary>The rule text for a value with an escape of another encoding (percent, HTML, backslash, quoted-printable).</summary>
    public const string EncodedCharacters = "must not contain percent, HTML, backslash or quoted-printable escapes";

    /// <summary>Checks a free-text value and adds at most one violation naming <paramref name="field"/>.</summary>
    /// <param name="value">As received; null or empty means absent.</param>
    /// <param name="field">The proto field path for the violation.</param>
    /// <param name="maxLength">Most chars (UTF-16 code units) after trimming.</param>
    /// <param name="violations">Receives the violation, if any.</param>
    /// <returns>The trimmed value, or null when absent or only white space; returned even when refused.</returns>
    /// <param name="escapesAllowed">True for a URL, whose percent escapes are its own syntax (its caller judges each decoding).</param>
    public static string? Check(string? value, string field, int maxLength, List<FieldViolation> violations, bool escapesAllowed = false)
    {
        ArgumentNullException.ThrowIfNull(violations);
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var rule = RuleBroken(value, maxLength, escapesAllowed);
        if (rule is not null)
        {
            violations.Add(new FieldViolation(field, rule));
        }

        var trimmed = value.Trim();
        return trimmed.Length == 0 ? null : trimmed;
    }

    /// <summary>The rule text <paramref name="value"/> breaks, or null.</summary>
    /// <param name="value">The value as received.</param>
    /// <param name="maxLength">Most chars (UTF-16 code units) after trimming.</param>
    /// <param name="escapesAllowed">True for a URL: its escapes are not refused as such.</param>
    public static string? RuleBroken(string value, int maxLength, bool escapesAllowed = false)
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

        switch (FindInCompatibilityForm(value))
        {
            case SensitiveDataKind.Cvc:
                return Cvc;
            case not null:
                return CardOrBankNumber;
        }

        if (!escapesAllowed && HasEncodedCharacter(value))
        {
            return EncodedCharacters;
        }

        return value.AsSpan().Trim().Length > maxLength ? ValidationRules.MaxLength(maxLength) : null;
    }

    /// <summary>
    /// True when <paramref name="value"/> holds a PAN or IBAN (<see cref="SensitiveDataDetectorOptions.Validation"/>),
    /// as sent or in its NFKC form.
    /// </summary>
    public static bool HoldsCardOrBankNumber(ReadOnlySpan<char> value) =>
        SensitiveDataDetector.FindCardOrBankNumber(value) is not null || FindInCompatibilityForm(value.ToString()) is not null;

    /// <summary>
    /// True when this process can compute NFKC (<c>㊷</c> becomes <c>42</c>). .NET normalises through ICU: in
    /// globalization-invariant mode (<c>InvariantGlobalization</c>, <c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT</c>) or
    /// without ICU, <see cref="string.Normalize(NormalizationForm)"/> silently returns non-ASCII text unchanged, and the
    /// compatibility check of this rule would pass everything. The server refuses to start when this is false.
    /// </summary>
    public static bool CompatibilityFormAvailable { get; } = ProbeCompatibilityForm();

    /// <summary>What the detector finds in <paramref name="value"/> as sent, else in its NFKC form; null when neither holds one.</summary>
    public static SensitiveDataKind? FindCardOrBankNumber(string value) =>
        SensitiveDataDetector.FindCardOrBankNumber(value) ?? FindInCompatibilityForm(value);

    private static bool ProbeCompatibilityForm()
    {
        try
        {
            return string.Equals("\u32B7\u2468".Normalize(NormalizationForm.FormKC), "429", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// What the detector finds in the NFKC form of <paramref name="value"/> when that differs from it: two-digit numeral
    /// symbols (<c>⑪ ㊶ ⒒</c>) and mathematical, circled or squared letters are their plain digits and letters there.
    /// </summary>
    private static SensitiveDataKind? FindInCompatibilityForm(string value)
    {
        try
        {
            return value.IsNormalized(NormalizationForm.FormKC)
                ? null
                : SensitiveDataDetector.FindCardOrBankNumber(value.Normalize(NormalizationForm.FormKC));
        }
        catch (ArgumentException)
        {
            // Invalid UTF-16 (an unpaired surrogate) cannot be normalised; the control-character rule refuses it.
            return null;
        }
    }

    /// <summary>
    /// True when <paramref name="value"/> holds an escape of another encoding: <c>%</c> and two hex digits, <c>&amp;#</c>
    /// and a digit or <c>x</c>, <c>&amp;</c> and a name of letters and digits ended by <c>;</c>, a backslash and a hex
    /// digit, <c>u</c>, <c>U</c>, <c>x</c> or <c>{</c>, or two quoted-printable escapes (<c>=</c> and two hex digits) in a row.
    /// </summary>
    public static bool HasEncodedCharacter(ReadOnlySpan<char> value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var rest = value[i..];
            switch (value[i])
            {
                case '%' when rest.Length >= 3 && char.IsAsciiHexDigit(rest[1]) && char.IsAsciiHexDigit(rest[2]):
                case '&' when rest.Length >= 3 && rest[1] == '#' && (char.IsAsciiDigit(rest[2]) || rest[2] is 'x' or 'X'):
                case '&' when NamedReference(rest):
                case '\\' when rest.Length >= 2 && (char.IsAsciiHexDigit(rest[1]) || rest[1] is 'u' or 'U' or 'x' or 'X' or '{'):
                case '=' when rest.Length >= 6 && QuotedPrintable(rest) && QuotedPrintable(rest[3..]):
                    return true;
            }
        }

        return false;

        static bool QuotedPrintable(ReadOnlySpan<char> text) =>
            text.Length >= 3 && text[0] == '=' && char.IsAsciiHexDigit(text[1]) && char.IsAsciiHexDigit(text[2]);

        static bool NamedReference(ReadOnlySpan<char> text)
        {
            var end = 1;
            while (end < text.Length && end <= 40 && char.IsAsciiLetterOrDigit(text[end]))
            {
                end++;
            }

            return end >= 3 && end < text.Length && text[end] == ';' && char.IsAsciiLetter(text[1]);
        }
    }

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
