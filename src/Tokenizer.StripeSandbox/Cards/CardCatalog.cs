using System.Collections.Frozen;

namespace Tokenizer.StripeSandbox.Cards;

/// <summary>
/// What Stripe test mode reports for a card number: brand, funding, issuing country, for decline cards the attach
/// failure, the 3-D Secure the card asks for, and the decline code its charges end with (null: charges succeed).
/// </summary>
internal sealed record CardProfile(
    string Brand,
    string Funding,
    string Country,
    CardDecline? Decline = null,
    CardAuthentication Authentication = CardAuthentication.None,
    string? ChargeDecline = null);

/// <summary>The 3-D Secure a test card asks for (docs.stripe.com/testing, "Authentication and setup" and "3D Secure").</summary>
internal enum CardAuthentication
{
    /// <summary>No authentication: setup succeeds at once, off-session charges succeed.</summary>
    None,

    /// <summary>
    /// 4000002500003155: authentication at setup; once set up through a SetupIntent, off-session charges succeed without
    /// it. Not set up (attached only), an off-session charge fails <c>authentication_required</c>.
    /// </summary>
    UnlessSetUp,

    /// <summary>4000002760003184, 4000000000003220: authentication on every transaction, so every off-session charge fails <c>authentication_required</c>.</summary>
    Always,
}

/// <summary>The card error a decline test card raises when attached (Stripe: HTTP 402 card_error).</summary>
internal sealed record CardDecline(string Code, string DeclineCode, string Message);

/// <summary>
/// The sandbox's own card rules, mimicking Stripe test mode (docs.stripe.com/testing), not the Tokenizer's validator:
/// the documented test numbers with their brand, funding and country; other Luhn-valid numbers get the brand of their
/// longest matching IIN prefix (or "unknown"), funding credit and country US.
/// </summary>
internal static class CardCatalog
{
    private static readonly CardDecline GenericDecline = new("card_declined", "generic_decline", "Your card was declined.");

    private static readonly FrozenDictionary<string, CardProfile> TestCards = new Dictionary<string, CardProfile>(StringComparer.Ordinal)
    {
        ["4242424242424242"] = new("visa", "credit", "US"),
        ["4000056655665556"] = new("visa", "debit", "US"),
        ["5555555555554444"] = new("mastercard", "credit", "US"),
        ["2223003122003222"] = new("mastercard", "credit", "US"),
        ["5200828282828210"] = new("mastercard", "debit", "US"),
        ["5105105105105100"] = new("mastercard", "prepaid", "US"),
        ["378282246310005"] = new("amex", "credit", "US"),
        ["371449635398431"] = new("amex", "credit", "US"),
        ["6011111111111117"] = new("discover", "credit", "US"),
        ["6011000990139424"] = new("discover", "credit", "US"),
        ["6011981111111113"] = new("discover", "debit", "US"),
        ["3056930009020004"] = new("diners", "credit", "US"),
        ["36227206271667"] = new("diners", "credit", "US"),
        // Stripe's docs: JCB and UnionPay test cards are issued outside the US.
        ["3566002020360505"] = new("jcb", "credit", "JP"),
        ["6200000000000005"] = new("unionpay", "credit", "CN"),
        ["6200000000000047"] = new("unionpay", "debit", "CN"),
        ["4000000000000002"] = new("visa", "credit", "US", GenericDecline),
        ["4000000000009995"] = new("visa", "credit", "US", new("card_declined", "insufficient_funds", "Your card has insufficient funds.")),
        ["4000000000009987"] = new("visa", "credit", "US", new("card_declined", "lost_card", "Your card was declined.")),
        ["4000000000009979"] = new("visa", "credit", "US", new("card_declined", "stolen_card", "Your card was declined.")),
        ["4000000000000069"] = new("visa", "credit", "US", new("expired_card", "expired_card", "Your card has expired.")),
        ["4000000000000127"] = new("visa", "credit", "US", new("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.")),
        ["4000000000000119"] = new("visa", "credit", "US",
            new("processing_error", "processing_error", "An error occurred while processing your card. Try again in a little bit.")),
        // Stripe: "attaching this card to a Customer object succeeds, but attempts to charge the customer fail".
        ["4000000000000341"] = new("visa", "credit", "US", ChargeDecline: "generic_decline"),
        // Authentication and setup (docs.stripe.com/testing#authentication-and-setup).
        ["4000002500003155"] = new("visa", "credit", "IE", Authentication: CardAuthentication.UnlessSetUp),
        ["4000002760003184"] = new("visa", "credit", "DE", Authentication: CardAuthentication.Always),
        // "This card requires authentication, but payments will be declined with an insufficient_funds failure code
        // after successful authentication."
        ["4000008260003178"] = new("visa", "credit", "GB", Authentication: CardAuthentication.UnlessSetUp, ChargeDecline: "insufficient_funds"),
        // 3D Secure 2: "3D Secure 2 authentication must be completed for the payment to be successful."
        ["4000000000003220"] = new("visa", "credit", "US", Authentication: CardAuthentication.Always),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // IIN ranges (inclusive, same digit count); the longest matching prefix wins.
    private static readonly (int Low, int High, string Brand)[] Ranges =
    [
        (4, 4, "visa"),
        (51, 55, "mastercard"),
        (2221, 2720, "mastercard"),
        (34, 34, "amex"),
        (37, 37, "amex"),
        (6011, 6011, "discover"),
        (644, 649, "discover"),
        (65, 65, "discover"),
        (622126, 622925, "discover"),
        (300, 305, "diners"),
        (3095, 3095, "diners"),
        (36, 36, "diners"),
        (38, 39, "diners"),
        (3528, 3589, "jcb"),
        (62, 62, "unionpay"),
        (81, 81, "unionpay"),
    ];

    /// <summary>The attach failure for a decline code kept on a PaymentMethod (the sandbox keeps the code, never the number), or null.</summary>
    public static CardDecline? DeclineFor(string declineCode) =>
        TestCards.Values.FirstOrDefault(p => p.Decline?.DeclineCode == declineCode)?.Decline;

    /// <summary>The profile of a number that is already known to be digits only and Luhn-valid.</summary>
    public static CardProfile Profile(string digits) =>
        TestCards.TryGetValue(digits, out var known) ? known : new CardProfile(BrandOf(digits), "credit", "US");

    /// <summary>The brand of the longest IIN prefix that matches, or "unknown".</summary>
    public static string BrandOf(string digits)
    {
        var brand = "unknown";
        var bestLength = 0;
        foreach (var (low, high, candidate) in Ranges)
        {
            var length = low.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
            if (length <= bestLength || digits.Length < length)
            {
                continue;
            }

            var prefix = 0;
            for (var i = 0; i < length; i++)
            {
                prefix = (prefix * 10) + (digits[i] - '0');
            }

            if (prefix >= low && prefix <= high)
            {
                brand = candidate;
                bestLength = length;
            }
        }

        return brand;
    }

    /// <summary>Stripe's <c>display_brand</c> for a <c>brand</c>.</summary>
    public static string DisplayBrand(string brand) => brand switch
    {
        "amex" => "american_express",
        "diners" => "diners_club",
        "unionpay" => "union_pay",
        "visa" or "mastercard" or "discover" or "jcb" => brand,
        _ => "other",
    };

    /// <summary>True when the string is 12 to 19 ASCII digits.</summary>
    public static bool IsWellFormed(string number) =>
        number.Length is >= 12 and <= 19 && number.All(char.IsAsciiDigit);

    /// <summary>Luhn (ISO/IEC 7812-1 annex B) over ASCII digits.</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> digits)
    {
        var sum = 0;
        var doubleIt = false;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (d is < 0 or > 9)
            {
                return false;
            }

            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        return digits.Length > 0 && sum % 10 == 0;
    }
}
