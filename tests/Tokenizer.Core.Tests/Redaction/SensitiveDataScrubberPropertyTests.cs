using System.Globalization;
using CsCheck;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>CsCheck properties of the scrubber: masks every formatted PAN, leaves look-alikes alone, is idempotent.</summary>
public class SensitiveDataScrubberPropertyTests
{
    private const long Iterations = 2_000;

    /// <summary>Text that can hold anything a log line holds, digits included.</summary>
    private static readonly Gen<string> AnyText = Gen.String[Gen.Char["abcdefxyzABCXYZ0123456789 -_:;,.\"'=/()[]{}\\\n\t"], 0, 40];

    /// <summary>Text without digits or letters that could start a label or an IBAN (so it cannot complete a number).</summary>
    private static readonly Gen<string> Filler = Gen.String[Gen.Char["bdfhjkmoqstuwxyz .,;:!?'\"()"], 0, 30];

    /// <summary>
    /// A Luhn-valid number of 12-19 digits, except the contiguous timestamps the detector deliberately leaves alone
    /// (<see cref="SensitiveDataDetector.LooksLikeTimestamp"/>; <see cref="Scrub_ContiguousTimestampThatPassesLuhn_Unchanged"/>).
    /// </summary>
    private static readonly Gen<string> LuhnValidPan =
        Gen.Char['0', '9'].Array[11, 18]
            .Select(payload => new string(payload) + Luhn.ComputeCheckDigit(payload))
            .Where(pan => !SensitiveDataDetector.LooksLikeTimestamp(pan));

    /// <summary>The PAN with a single space or dash, or nothing, between any two digits.</summary>
    private static readonly Gen<(string Pan, string Formatted)> FormattedPan =
        LuhnValidPan.SelectMany(pan => Gen.Int[0, 2].Array[pan.Length - 1].Select(separators =>
        {
            var formatted = new System.Text.StringBuilder(pan[..1]);
            for (var i = 1; i < pan.Length; i++)
            {
                formatted.Append(separators[i - 1] switch { 1 => " ", 2 => "-", _ => string.Empty }).Append(pan[i]);
            }

            return (pan, formatted.ToString());
        }));

    /// <summary>A char that cannot join a digit group or a token: the PAN's boundary in random text.</summary>
    private static readonly Gen<char> Boundary = Gen.Char[",;:()[]\"'=/|<>"];

    [Fact]
    public void Scrub_LuhnValidPanWithRandomSeparatorsInRandomText_Masked()
    {
        Gen.Select(AnyText, Boundary, FormattedPan, Boundary, AnyText).Sample(
            (prefix, left, pan, right, suffix) =>
            {
                // Arrange
                var text = prefix + left + pan.Formatted + right + suffix;

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.DoesNotContain(pan.Pan, scrubbed, StringComparison.Ordinal);
                Assert.DoesNotContain(pan.Formatted, scrubbed, StringComparison.Ordinal);
                Assert.DoesNotContain(pan.Pan, new string(scrubbed.Where(char.IsAsciiDigit).ToArray()), StringComparison.Ordinal);

                // Letters before it can make an IBAN of the digits (one time in 97): masked all the same.
                Assert.Matches(@"\[(PAN|IBAN) \*\*\*\*", scrubbed);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_LuhnInvalidNumberInText_Unchanged()
    {
        // Twelve digits: the only window of a 12-digit number is the whole number (a longer one has windows inside).
        Gen.Select(Filler, LuhnValidPan.Where(p => p.Length == 12), Gen.Int[1, 9], Filler).Sample(
            (prefix, pan, delta, suffix) =>
            {
                // Arrange: change the check digit, so the number fails Luhn.
                var invalid = pan[..^1] + (char)('0' + ((pan[^1] - '0' + delta) % 10));
                var text = prefix + " " + invalid + " " + suffix;
                if (SensitiveDataDetector.Find(text).Any(m => m.Kind is SensitiveDataKind.Iban or SensitiveDataKind.AccountNumber or SensitiveDataKind.Cvc))
                {
                    // Letters and digits around it chained into a mod-97-valid IBAN by chance (about 1 in 97 of the
                    // texts that fit a country's length), or filler letters spelled a label before the number ("kto",
                    // "b s b"): masked by design, whatever the Luhn check says, outside this property.
                    return;
                }

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Equal(text, scrubbed);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_GuidsAndStripeIds_AtMostThreeInTwentyThousandLinesChanged()
    {
        // Random 24-char ids are random text: about one line in 100,000 holds what the scrubber must mask wherever it
        // appears (a CVC label glued inside an id, "6csC483"; a mod-97-valid IBAN shape; a Luhn-valid chain across lone
        // letters), so "never" would be a flaky claim. A rule that read ids as card data would change hundreds here.
        const string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        var changed = 0;
        Gen.Select(Gen.Guid, Gen.String[Gen.Char[alphabet], 24, 24], Gen.Bool).Sample(
            (guid, id, upper) =>
            {
                // Arrange
                var text = $"{{\"TraceId\":\"{guid:N}\",\"Guid\":\"{(upper ? guid.ToString("D").ToUpperInvariant() : guid.ToString("D"))}\",\"Token\":\"pm_{id}\"}}";

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert (counted: see above)
                if (scrubbed != text)
                {
                    Interlocked.Increment(ref changed);
                }
            },
            iter: 20_000);

        Assert.True(changed <= 3, $"{changed} of 20,000 lines changed");
    }

    [Fact]
    public void Scrub_Timestamps_Unchanged()
    {
        var from = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero).Ticks;
        var to = new DateTimeOffset(2099, 12, 31, 0, 0, 0, TimeSpan.Zero).Ticks;
        Gen.Long[from, to].Sample(
            ticks =>
            {
                // Arrange
                var time = new DateTimeOffset(ticks, TimeSpan.Zero);
                // Labelled, as in a log line: a timestamp joined to other digits by separators only is part of their chain.
                var text = string.Join(
                    " and ",
                    time.ToString("O", CultureInfo.InvariantCulture),
                    time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
                    time.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture),
                    time.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture),
                    time.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture),
                    time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                    time >= new DateTimeOffset(2001, 9, 9, 2, 0, 0, TimeSpan.Zero) && time < new DateTimeOffset(2033, 5, 18, 0, 0, 0, TimeSpan.Zero)
                        ? time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)
                        : "-");

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.Equal(text, scrubbed);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_AnyText_IdempotentAndOneLine()
    {
        var withSensitive = Gen.Select(AnyText, FormattedPan, AnyText, Gen.Bool)
            .Select((a, pan, b, iban) => a + " " + pan.Formatted + " " + (iban ? "DE89 3704 0044 0532 0130 00 cvc 123 " : string.Empty) + b);
        Gen.OneOf(Gen.String, AnyText, withSensitive).Sample(
            text =>
            {
                // Act
                var once = SensitiveDataScrubber.Scrub(text);
                var twice = SensitiveDataScrubber.Scrub(once);

                // Assert
                Assert.Equal(once, twice);
                Assert.DoesNotContain('\n', once);
                Assert.DoesNotContain('\r', once);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_ValidIbanInText_Masked()
    {
        Gen.Select(Filler, Gen.OneOfConst(IbanRegistry.Countries.Values.ToArray()), Gen.Int[0, int.MaxValue].Array[30], Gen.Bool, Filler).Sample(
            (prefix, country, random, grouped, suffix) =>
            {
                // Arrange
                var iban = BuildIban(country, random);
                var formatted = grouped ? string.Join(' ', iban.Chunk(4).Select(c => new string(c))) : iban;
                var text = prefix + " " + formatted + " " + suffix;

                // Act
                var scrubbed = SensitiveDataScrubber.Scrub(text);

                // Assert
                Assert.DoesNotContain(formatted, scrubbed, StringComparison.Ordinal);
                Assert.Contains("[IBAN ****" + iban[^4..] + "]", scrubbed, StringComparison.Ordinal);
            },
            iter: Iterations);
    }

    [Fact]
    public void Scrub_ContiguousTimestampThatPassesLuhn_Unchanged()
    {
        // Arrange: 20251120101105 (yyyyMMddHHmmss) and 1732100000006 (Unix ms) both pass Luhn.
        const string text = "at 20251120101105 or 1732100000006";

        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(text);

        // Assert
        Assert.True(Luhn.IsValid("20251120101105") && Luhn.IsValid("1732100000006"));
        Assert.Equal(text, scrubbed);
    }

    /// <summary>A valid IBAN of the country: a random BBAN of its format, then the computed check digits.</summary>
    internal static string BuildIban(IbanCountry country, int[] random)
    {
        const string letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        const string alphanumerics = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        var bban = new System.Text.StringBuilder();
        var r = 0;
        foreach (var (count, kind) in country.Bban)
        {
            for (var i = 0; i < count; i++, r++)
            {
                var x = random[r % random.Length] + r;
                bban.Append(kind switch
                {
                    'n' => (char)('0' + (x % 10)),
                    'a' => letters[x % letters.Length],
                    _ => alphanumerics[x % alphanumerics.Length],
                });
            }
        }

        var check = 98 - IbanValidation.Mod97(country.Code + "00" + bban);
        return country.Code + check.ToString("00", CultureInfo.InvariantCulture) + bban;
    }
}
