using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Validation;

/// <summary>
/// Detects the card brand from the IIN (issuer identification number, ISO/IEC 7812) prefix of a PAN, using the
/// networks' published ranges as collected by Braintree's credit-card-type. Informational only: the brand
/// never decides whether a card is accepted; the gateway does.
/// </summary>
/// <remarks>
/// The longest matching prefix wins (622126-622925 is Discover, not UnionPay 62; 2200-2204 is Mir). Two
/// matches of the same prefix length resolve to the narrower range (62 UnionPay and 65 Discover win over
/// Maestro's 56-69).
/// </remarks>
public static class CardBrandDetector
{
    private static readonly IinRange[] Ranges =
    [
        new("4", "4", CardBrand.Visa),
        new("51", "55", CardBrand.Mastercard),
        new("222100", "272099", CardBrand.Mastercard),
        new("34", "34", CardBrand.Amex),
        new("37", "37", CardBrand.Amex),
        new("6011", "6011", CardBrand.Discover),
        new("644", "649", CardBrand.Discover),
        new("65", "65", CardBrand.Discover),
        new("622126", "622925", CardBrand.Discover),
        new("3528", "3589", CardBrand.Jcb),
        new("300", "305", CardBrand.Diners),
        new("3095", "3095", CardBrand.Diners),
        new("36", "36", CardBrand.Diners),
        new("38", "39", CardBrand.Diners),
        new("62", "62", CardBrand.UnionPay),
        new("50", "50", CardBrand.Maestro),
        new("56", "69", CardBrand.Maestro),
        new("2200", "2204", CardBrand.Mir),
    ];

    /// <summary>The brand of a PAN by its longest matching IIN prefix.</summary>
    /// <param name="pan">The PAN's digits (spaces and dashes already removed); any length.</param>
    /// <returns><see cref="CardBrand.Unknown"/> when no range matches or the prefix holds a non-digit.</returns>
    public static CardBrand Detect(ReadOnlySpan<char> pan)
    {
        var best = CardBrand.Unknown;
        var bestLength = 0;
        var bestWidth = int.MaxValue;
        foreach (var range in Ranges)
        {
            var length = range.Low.Length;
            if (pan.Length < length || length < bestLength)
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

            if (length > bestLength || range.Width < bestWidth)
            {
                best = range.Brand;
                bestLength = length;
                bestWidth = range.Width;
            }
        }

        return best;
    }

    /// <summary>The CVC length the brand prints: 4 for American Express, 3 for every other brand.</summary>
    public static int CvcLength(CardBrand brand) => brand == CardBrand.Amex ? 4 : 3;

    /// <summary>An inclusive prefix range; Low and High have the same number of digits.</summary>
    private sealed record IinRange(string Low, string High, CardBrand Brand)
    {
        public int Width { get; } = Digits.ValueOf(High) - Digits.ValueOf(Low) + 1;
    }
}
