namespace Tokenizer.Core.Validation;

/// <summary>Shape rules for identifiers and free text shared by every request.</summary>
public static class InputRules
{
    /// <summary>The rule text for idempotency keys.</summary>
    public const string IdempotencyKeyRule = "must be 1-255 printable ASCII characters";

    /// <summary>The rule text for customer references.</summary>
    public const string ReferenceRule = "must be 1-128 printable ASCII characters without spaces and hold no card number";

    /// <summary>The rule text for token ids.</summary>
    public const string TokenIdRule = "must be a token id of 1-255 letters, digits or underscores";

    /// <summary>
    /// 1-255 printable ASCII (0x21-0x7E), Stripe's Idempotency-Key limit. Keys are never stored or logged in clear (the
    /// ledger keeps a keyed HMAC of them), so any value is safe, including random GUIDs that happen to hold a
    /// Luhn-valid digit run.
    /// </summary>
    public static bool IsValidIdempotencyKey(string? key) =>
        key is { Length: >= 1 and <= 255 } && key.All(c => c is >= '!' and <= '~');

    /// <summary>
    /// 1-128 printable ASCII without spaces, holding no card number (see <see cref="ContainsPanLikeRun"/>): references are
    /// stored and listed in clear, and a PAN-shaped one cannot be told from a PAN at rest.
    /// </summary>
    public static bool IsValidReference(string? reference) =>
        reference is { Length: >= 1 and <= 128 } && reference.All(c => c is >= '!' and <= '~') && !ContainsPanLikeRun(reference);

    /// <summary>
    /// True when <paramref name="value"/> holds a card number: a run of 13-19 digits, contiguous or in groups joined by
    /// single spaces, dashes or dots ("4242-4242-4242-4242"), that passes Luhn. Longer runs are not split into windows
    /// (any 30-digit string would then hold a Luhn-valid window); 12-digit runs are not refused, because ordinary
    /// references and phone numbers have that many digits far too often.
    /// </summary>
    public static bool ContainsPanLikeRun(ReadOnlySpan<char> value)
    {
        Span<char> digits = stackalloc char[20];
        var count = 0;
        for (var i = 0; i <= value.Length; i++)
        {
            var c = i < value.Length ? value[i] : '\0';
            if (char.IsAsciiDigit(c))
            {
                if (count < digits.Length)
                {
                    digits[count] = c;
                }

                count++;
                continue;
            }

            var joins = c is ' ' or '-' or '.' && i + 1 < value.Length && char.IsAsciiDigit(value[i + 1]) && count > 0;
            if (joins)
            {
                continue;
            }

            if (count is >= 13 and <= 19 && Luhn.IsValid(digits[..count]))
            {
                return true;
            }

            count = 0;
        }

        return false;
    }

    /// <summary>A gateway id: letters, digits and underscores, 1-255.</summary>
    public static bool IsValidTokenId(string? token) =>
        token is { Length: >= 1 and <= 255 } && token.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>
    /// Removes control characters (including CR/LF), invisible format characters (e.g. U+202E right-to-left override)
    /// and line/paragraph separators, then trims; null or empty stays null. Such characters forge log lines or
    /// disguise text shown to people.
    /// </summary>
    public static string? CleanText(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var cleaned = string.Concat(value.Where(c => !IsInvisible(c))).Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    private static bool IsInvisible(char c) => char.GetUnicodeCategory(c) is
        System.Globalization.UnicodeCategory.Control
        or System.Globalization.UnicodeCategory.Format
        or System.Globalization.UnicodeCategory.LineSeparator
        or System.Globalization.UnicodeCategory.ParagraphSeparator;
}
