namespace Tokenizer.Core.Validation;

/// <summary>Shape rules for identifiers and free text shared by every request.</summary>
public static class InputRules
{
    /// <summary>The rule text for idempotency keys.</summary>
    public const string IdempotencyKeyRule = "must be 1-255 printable ASCII characters";

    /// <summary>The rule text for customer references.</summary>
    public const string ReferenceRule = "must be 1-128 printable ASCII characters without spaces";

    /// <summary>The rule text for token ids.</summary>
    public const string TokenIdRule = "must be a token id of 1-255 letters, digits or underscores";

    /// <summary>1-255 printable ASCII (0x21-0x7E), Stripe's Idempotency-Key limit.</summary>
    public static bool IsValidIdempotencyKey(string? key) =>
        key is { Length: >= 1 and <= 255 } && key.All(c => c is >= '!' and <= '~');

    /// <summary>1-128 printable ASCII without spaces.</summary>
    public static bool IsValidReference(string? reference) =>
        reference is { Length: >= 1 and <= 128 } && reference.All(c => c is >= '!' and <= '~');

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
