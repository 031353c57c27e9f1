namespace Tokenizer.Core.Validation;

/// <summary>
/// Digit helpers that iterate characters. Numeric parsers (<c>int.Parse</c>, <c>long.Parse</c>...) put the input
/// into their exception messages, so validation never calls them on caller data.
/// </summary>
internal static class Digits
{
    /// <summary>True when <paramref name="value"/> is non-empty and every char is an ASCII digit 0-9.</summary>
    public static bool AreAll(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="value"/> is <paramref name="min"/>-<paramref name="max"/> ASCII digits.</summary>
    public static bool AreAll(string? value, int min, int max) =>
        value is not null && value.Length >= min && value.Length <= max && AreAll(value.AsSpan());

    /// <summary>True when <paramref name="value"/> is non-empty and every char is '0': a number no scheme issues.</summary>
    public static bool AreAllZero(ReadOnlySpan<char> value) =>
        !value.IsEmpty && !value.ContainsAnyExcept('0');

    /// <summary>The value of a short run of ASCII digits; the caller has checked the shape and the length (at most 9).</summary>
    public static int ValueOf(ReadOnlySpan<char> digits)
    {
        var value = 0;
        foreach (var c in digits)
        {
            value = (value * 10) + (c - '0');
        }

        return value;
    }

    /// <summary>
    /// Removes every char of <paramref name="separators"/> and returns the digits, or null when anything
    /// else than digits and the separators is present.
    /// </summary>
    public static string? StripSeparators(string value, string separators)
    {
        var count = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                count++;
            }
            else if (!separators.Contains(c, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return string.Create(count, value, static (span, source) =>
        {
            var i = 0;
            foreach (var c in source)
            {
                if (char.IsAsciiDigit(c))
                {
                    span[i++] = c;
                }
            }
        });
    }
}
