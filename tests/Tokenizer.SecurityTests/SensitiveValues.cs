using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.SecurityTests;

/// <summary>
/// Random, valid, distinctive card and bank numbers made fresh for each run, so a hit in a sweep can only come from
/// this run's requests (never from a test card that happens to be in a file for another reason).
/// </summary>
internal sealed class SensitiveValues
{
    public string Pan { get; } = LuhnComplete("4" + Digits(14));

    public string Cvc { get; } = Digits(3);

    public string BecsBsb { get; } = Digits(6);

    public string BecsAccount { get; } = "7" + Digits(8);

    public string Iban { get; } = GermanIban(Digits(8), Digits(10));

    public string BacsSortCode { get; } = Digits(6);

    public string BacsAccount { get; } = "8" + Digits(7);

    public string AchRouting { get; } = Routing();

    public string AchAccount { get; } = "9" + Digits(11);

    /// <summary>A billing name only a webhook body carries (Stripe's side holds it; Tokenizer must not write it down in clear).</summary>
    public string WebhookName { get; } = "Webhook Sweeper " + Letters(12);

    /// <summary>A billing email only a webhook body carries.</summary>
    public string WebhookEmail { get; } = "sweep." + Letters(12) + "@example.org";

    /// <summary>The values that must never be found at rest or in output (CVC and bank identifiers are too short to search for without false hits).</summary>
    public IReadOnlyList<(string Name, string Value)> Secrets =>
    [
        ("PAN", Pan),
        ("AU account number", BecsAccount),
        ("IBAN", Iban),
        ("IBAN account part", Iban[4..]),
        ("Bacs account number", BacsAccount),
        ("ACH account number", AchAccount),
        ("webhook billing name", WebhookName),
        ("webhook billing email", WebhookEmail),
    ];

    private static string Letters(int count) => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", count);

    private static string Digits(int count)
    {
        var builder = new StringBuilder(count);
        for (var i = 0; i < count; i++)
        {
            builder.Append((char)('0' + RandomNumberGenerator.GetInt32(10)));
        }

        return builder.ToString();
    }

    private static string LuhnComplete(string body)
    {
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var digit = body[body.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }

            sum += digit;
        }

        return body + (char)('0' + ((10 - (sum % 10)) % 10));
    }

    private static string GermanIban(string bankCode, string account)
    {
        var bban = bankCode + account;
        // ISO 13616: check digits = 98 - (BBAN + "DE00" as digits) mod 97; D=13, E=14.
        var remainder = 0;
        foreach (var c in bban + "131400")
        {
            remainder = ((remainder * 10) + (c - '0')) % 97;
        }

        var check = 98 - remainder;
        return $"DE{check:00}{bban}";
    }

    private static string Routing()
    {
        // First two digits 01-12 (Federal Reserve ranges), check digit from the ABA 3-7-1 weights.
        var d = new int[9];
        d[0] = 0;
        d[1] = 1 + RandomNumberGenerator.GetInt32(9);
        for (var i = 2; i < 8; i++)
        {
            d[i] = RandomNumberGenerator.GetInt32(10);
        }

        var partial = (3 * (d[0] + d[3] + d[6])) + (7 * (d[1] + d[4] + d[7])) + d[2] + d[5];
        d[8] = (10 - (partial % 10)) % 10;
        return string.Concat(d);
    }
}
