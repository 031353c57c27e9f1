namespace Tokenizer.Core.Validation;

/// <summary>
/// The Luhn (mod 10) check digit of ISO/IEC 7812-1: from the rightmost digit, double every second digit,
/// subtract 9 from results above 9, and the sum must be a multiple of 10.
/// </summary>
/// <remarks>Works on characters only; never parses the input as a number, so nothing can echo it.</remarks>
public static class Luhn
{
    /// <summary>True when <paramref name="digits"/> is non-empty, only ASCII digits, and its Luhn sum is 0 mod 10.</summary>
    /// <param name="digits">The whole number including its check digit; no spaces or separators.</param>
    public static bool IsValid(ReadOnlySpan<char> digits) =>
        Digits.AreAll(digits) && Sum(digits, doubleRightmost: false) % 10 == 0;

    /// <summary>The check digit that makes <paramref name="payload"/> followed by it Luhn-valid.</summary>
    /// <param name="payload">The number without its check digit: one or more ASCII digits.</param>
    /// <returns>A char '0'-'9'.</returns>
    /// <exception cref="ArgumentException">The payload is empty or holds a non-digit (the message never quotes it).</exception>
    public static char ComputeCheckDigit(ReadOnlySpan<char> payload)
    {
        if (!Digits.AreAll(payload))
        {
            throw new ArgumentException("The payload must be one or more ASCII digits.", nameof(payload));
        }

        // The check digit will become the rightmost digit, so the payload's rightmost digit is doubled.
        var sum = Sum(payload, doubleRightmost: true);
        return (char)('0' + ((10 - (sum % 10)) % 10));
    }

    private static int Sum(ReadOnlySpan<char> digits, bool doubleRightmost)
    {
        var sum = 0;
        var doubleIt = doubleRightmost;
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            var d = digits[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            // Keep the sum small so no input length can overflow it.
            sum = (sum + d) % 10;
            doubleIt = !doubleIt;
        }

        return sum;
    }
}
