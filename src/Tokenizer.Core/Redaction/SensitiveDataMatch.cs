namespace Tokenizer.Core.Redaction;

/// <summary>What a <see cref="SensitiveDataMatch"/> found.</summary>
public enum SensitiveDataKind
{
    /// <summary>A Luhn-valid window of 12-19 digits (any script), contiguous or split by any separators.</summary>
    Pan = 1,

    /// <summary>A 3-4 digit run after a PAN or after a <c>cvc</c>/<c>cvv</c>/<c>csc</c> label.</summary>
    Cvc = 2,

    /// <summary>An IBAN-shaped string of a registry country and length (see <see cref="SensitiveDataDetectorOptions"/>).</summary>
    Iban = 3,

    /// <summary>A 4-17 digit run right after an account-number label (<c>account_number</c>, <c>accountNumber</c>...).</summary>
    AccountNumber = 4,
}

/// <summary>
/// One finding of <see cref="SensitiveDataDetector"/>: a range of the scanned text. It holds offsets only, never the
/// value, so a match can be logged or printed safely; read the value from the text with <see cref="Normalised"/>.
/// </summary>
/// <param name="Kind">What was found.</param>
/// <param name="Start">Index of the first char of the match (a digit, or an IBAN's country code).</param>
/// <param name="Length">Chars covered, separators included; the match ends on a digit or letter.</param>
public readonly record struct SensitiveDataMatch(SensitiveDataKind Kind, int Start, int Length)
{
    /// <summary>Index just past the match.</summary>
    public int End => Start + Length;

    /// <summary>
    /// The match's value without separators: digits for a PAN, CVC or account number, upper-case letters and digits
    /// for an IBAN. Handle it as the sensitive value it is.
    /// </summary>
    /// <param name="text">The text this match was found in.</param>
    /// <exception cref="ArgumentOutOfRangeException">The match does not lie inside <paramref name="text"/>.</exception>
    public string Normalised(ReadOnlySpan<char> text)
    {
        // A number written as one character (㊺) is several digits: room for MaxDigitsPerChar per char.
        var room = Length * TextNormaliser.MaxDigitsPerChar;
        Span<char> buffer = room <= 384 ? stackalloc char[room] : new char[room];
        var count = Value(text, buffer);
        return new string(buffer[..count]);
    }

    /// <summary>
    /// The last four letters or digits of the match, which PCI DSS 3.4.1 allows to display; empty when the value has
    /// fewer than <paramref name="minimumLength"/> of them (a short value's last four would be most of it).
    /// </summary>
    /// <param name="text">The text this match was found in.</param>
    /// <param name="minimumLength">The shortest value whose last four may be shown (8 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">The match does not lie inside <paramref name="text"/>.</exception>
    public string LastFour(ReadOnlySpan<char> text, int minimumLength = 8)
    {
        // A number written as one character (㊺) is several digits: room for MaxDigitsPerChar per char.
        var room = Length * TextNormaliser.MaxDigitsPerChar;
        Span<char> buffer = room <= 384 ? stackalloc char[room] : new char[room];
        var count = Value(text, buffer);
        return count >= 4 && count >= minimumLength ? new string(buffer.Slice(count - 4, 4)) : string.Empty;
    }

    /// <summary>Writes the value (digits of any script as 0-9, Latin letters upper-cased) into buffer; its length.</summary>
    private int Value(ReadOnlySpan<char> text, Span<char> buffer)
    {
        var value = text.Slice(Start, Length);
        var size = TextNormaliser.Capacity(value);
        Span<char> chars = size <= 128 ? stackalloc char[size * 2] : new char[size * 2];
        Span<int> origin = size <= 128 ? stackalloc int[size] : new int[size];
        var n = TextNormaliser.Normalise(value, decodeJsonEscapes: true, binaryBreaks: false, chars[..size], chars[size..], origin);
        var count = 0;
        foreach (var c in chars[..n])
        {
            if (TextNormaliser.IsDigit(c) || char.IsAsciiLetter(c))
            {
                buffer[count++] = char.ToUpperInvariant(c);
            }
        }

        return count;
    }
}
