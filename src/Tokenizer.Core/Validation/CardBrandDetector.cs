using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Validation;

/// <summary>
/// Detects the card brand from the IIN (issuer identification number, ISO/IEC 7812) prefix of a PAN, and the PAN
/// lengths that brand issues, using the networks' published ranges as collected by Braintree's credit-card-type
/// (src/lib/card-types.ts) and REFERENCE.md. Where the two sources list different lengths for a brand, the union is
/// allowed, so no length either source lists is refused: Visa 13, 16, 18, 19; Mastercard 16; American Express 15;
/// Discover, JCB and Mir 16-19; Diners Club 14-19; UnionPay 14-19; Maestro 12-19. A PAN of an unknown brand may have
/// any ISO/IEC 7812 length, 12-19. Beyond its length, the brand never decides whether a card is accepted; the gateway does.
/// </summary>
/// <remarks>
/// The longest matching prefix wins (622126-622925 is Discover, not UnionPay 62; 2200-2204 is Mir), and its lengths
/// apply. Two matches of the same prefix length resolve to the narrower range (62 UnionPay and 65 Discover win over
/// Maestro's 56-69).
/// </remarks>
public static class CardBrandDetector
{
    /// <summary>The ISO/IEC 7812 PAN lengths, 12-19: what a PAN of an unknown brand may have.</summary>
    public const int MinLength = 12;

    /// <summary>The longest PAN ISO/IEC 7812 allows.</summary>
    public const int MaxLength = 19;

    private static readonly int[] Visa = [13, 16, 18, 19];
    private static readonly int[] Mastercard = [16];
    private static readonly int[] Amex = [15];
    private static readonly int[] SixteenTo19 = [16, 17, 18, 19];
    private static readonly int[] FourteenTo19 = [14, 15, 16, 17, 18, 19];
    private static readonly int[] AnyLength = [12, 13, 14, 15, 16, 17, 18, 19];

    private static readonly IinRange[] Ranges =
    [
        new("4", "4", CardBrand.Visa, Visa),
        new("51", "55", CardBrand.Mastercard, Mastercard),
        new("222100", "272099", CardBrand.Mastercard, Mastercard),
        new("34", "34", CardBrand.Amex, Amex),
        new("37", "37", CardBrand.Amex, Amex),
        new("6011", "6011", CardBrand.Discover, SixteenTo19),
        new("644", "649", CardBrand.Discover, SixteenTo19),
        new("65", "65", CardBrand.Discover, SixteenTo19),
        new("622126", "622925", CardBrand.Discover, SixteenTo19),
        new("3528", "3589", CardBrand.Jcb, SixteenTo19),
        new("300", "305", CardBrand.Diners, FourteenTo19),
        new("3095", "3095", CardBrand.Diners, FourteenTo19),
        new("36", "36", CardBrand.Diners, FourteenTo19),
        new("38", "39", CardBrand.Diners, FourteenTo19),
        new("62", "62", CardBrand.UnionPay, FourteenTo19),
        new("50", "50", CardBrand.Maestro, AnyLength),
        new("56", "69", CardBrand.Maestro, AnyLength),
        new("2200", "2204", CardBrand.Mir, SixteenTo19),
    ];

    /// <summary>The brand of a PAN by its longest matching IIN prefix.</summary>
    /// <param name="pan">The PAN's digits (spaces and dashes already removed); any length.</param>
    /// <returns><see cref="CardBrand.Unknown"/> when no range matches or the prefix holds a non-digit.</returns>
    public static CardBrand Detect(ReadOnlySpan<char> pan) => Match(pan)?.Brand ?? CardBrand.Unknown;

    /// <summary>
    /// The PAN lengths the brand of <paramref name="pan"/>'s longest matching IIN prefix issues; 12-19 for an unknown
    /// brand. Ascending.
    /// </summary>
    /// <param name="pan">The PAN's digits (spaces and dashes already removed); any length.</param>
    public static IReadOnlyList<int> LengthsFor(ReadOnlySpan<char> pan) => Match(pan)?.Lengths ?? AnyLength;

    /// <summary>Whether <paramref name="pan"/>'s length is one its brand issues (12-19 for an unknown brand).</summary>
    /// <param name="pan">The PAN's digits (spaces and dashes already removed).</param>
    public static bool HasBrandLength(ReadOnlySpan<char> pan) =>
        Array.IndexOf(Match(pan)?.Lengths ?? AnyLength, pan.Length) >= 0;

    /// <summary>The CVC length the brand prints: 4 for American Express, 3 for every other brand.</summary>
    public static int CvcLength(CardBrand brand) => brand == CardBrand.Amex ? 4 : 3;

    private static IinRange? Match(ReadOnlySpan<char> pan)
    {
        IinRange? best = null;
        foreach (var range in Ranges)
        {
            var length = range.Low.Length;
            if (pan.Length < length || (best is not null && length < best.Low.Length))
            {
                continue;
            }

            var prefix = pan[..length];

            // Equal-length digit strings compare ordinally in numeric order.
            if (!Digits.AreAll(prefix)
                || prefix.SequenceCompareTo(range.Low) < 0
                || prefix.SequenceCompareTo(range.High) > 0)
            {
                continue;
            }

            if (best is null || length > best.Low.Length || range.Width < best.Width)
            {
                best = range;
            }
        }

        return best;
    }

    /// <summary>An inclusive prefix range (Low and High have the same number of digits) and the PAN lengths it issues.</summary>
    private sealed record IinRange(string Low, string High, CardBrand Brand, int[] Lengths)
    {
        public int Width { get; } = Digits.ValueOf(High) - Digits.ValueOf(Low) + 1;
    }
}
