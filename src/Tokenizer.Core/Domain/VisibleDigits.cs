namespace Tokenizer.Core.Domain;

/// <summary>
/// How much of a card or account number may be stored, returned, logged or shown (the "last4" fields): the trailing
/// characters, at most four and never more than half of the number, so the hidden part is always at least as long as
/// the shown part and a whole number is never revealed. Hidden positions of the four are written <c>*</c>:
/// a 12-digit ACH account shows <c>6789</c>, a 6-digit BECS account <c>*456</c>, a 4-digit ACH account <c>**34</c>.
/// </summary>
/// <remarks>
/// Cards (12-19 digits), IBANs (15-34 characters) and Bacs accounts (8 digits after padding) always show four; only the
/// short ACH (4-17 digits) and BECS (5-9 digits; Stripe accepts 4) account numbers show fewer. Where the number's length
/// is unknown (a PaymentMethod listed by the gateway, whose last4 of a 4-digit account is the whole account), the
/// scheme's shortest number decides (<see cref="ShortestNumber"/>): ACH and BECS last4 from a listing show two.
/// </remarks>
public static class VisibleDigits
{
    /// <summary>The length of every last4 value, hidden positions included.</summary>
    public const int Width = 4;

    /// <summary>What a hidden position of a last4 value shows.</summary>
    public const char Hidden = '*';

    /// <summary>How many trailing characters of a number of <paramref name="length"/> characters may be shown: min(4, length / 2).</summary>
    /// <param name="length">The number's length in characters (digits, or IBAN characters), after the scheme's normalisation.</param>
    public static int Count(int length) => Math.Clamp(length / 2, 0, Width);

    /// <summary>The last4 value of a whole number: its <see cref="Count"/> trailing characters, left-padded with <c>*</c> to four.</summary>
    /// <param name="number">The normalised number (digits, or an IBAN without spaces).</param>
    public static string Last4(ReadOnlySpan<char> number) => Pad(number[^Count(number.Length)..]);

    /// <summary>
    /// A last4 value someone else derived (the gateway's), masked for a number of <paramref name="numberLength"/>
    /// characters: only its trailing <see cref="Count"/> characters stay; already hidden positions stay hidden.
    /// </summary>
    /// <param name="last4">Up to four trailing characters of the number, as reported.</param>
    /// <param name="numberLength">The number's length, or the scheme's shortest (<see cref="ShortestNumber"/>) when unknown.</param>
    public static string Mask(string last4, int numberLength)
    {
        ArgumentNullException.ThrowIfNull(last4);
        var visible = Math.Min(Count(numberLength), last4.Length);
        return Pad(last4.AsSpan(last4.Length - visible));
    }

    /// <summary>
    /// The shortest number a token type can have, for masking a gateway's last4 when the length is unknown: cards 12
    /// (ISO/IEC 7812), AU BECS 4 (Stripe accepts 4-digit accounts for a few institutions), SEPA 15 (the shortest IBAN,
    /// Norway), Bacs 8 (account numbers are padded to 8), ACH 4 (Nacha: 4-17 digits).
    /// </summary>
    public static int ShortestNumber(TokenType type) => type switch
    {
        TokenType.Card => 12,
        TokenType.SepaDebit => 15,
        TokenType.BacsDebit => 8,
        _ => 4,
    };

    /// <summary>
    /// Whether two last4 values can belong to the same number: equal length, and equal on every position both show
    /// (one masked for an unknown length, the other for the known one). Two nulls agree.
    /// </summary>
    public static bool Agree(string? ours, string? theirs)
    {
        if (ours is null || theirs is null)
        {
            return ours is null && theirs is null;
        }

        if (ours.Length != theirs.Length)
        {
            return false;
        }

        for (var i = 0; i < ours.Length; i++)
        {
            if (ours[i] != theirs[i] && ours[i] != Hidden && theirs[i] != Hidden)
            {
                return false;
            }
        }

        return true;
    }

    private static string Pad(ReadOnlySpan<char> shown) =>
        string.Concat(new string(Hidden, Math.Max(0, Width - shown.Length)), shown);
}
