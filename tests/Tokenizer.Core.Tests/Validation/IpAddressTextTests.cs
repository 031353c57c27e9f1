using System.Globalization;
using System.Net;
using CsCheck;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using Xunit.Abstractions;
using static Tokenizer.Core.Tests.Validation.ValidationFixture;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>
/// Every field that takes an IP address (a mandate acceptance's ip_address, a return_url's host) refuses a PAN written
/// as an IPv6 address in any way padding gives it back (groups without leading zeros, <c>::</c>, either case, a dotted
/// IPv4 tail), and accepts random addresses.
/// </summary>
public sealed class IpAddressTextTests(ITestOutputHelper output)
{
    private const string IpField = "mandate_acceptance.online.ip_address";

    /// <summary>A Luhn-valid PAN of 12-19 digits, first digit 1-9 (no brand starts with 0).</summary>
    private static readonly Gen<string> Pan = Gen.Select(Gen.Int[1, 9], Gen.Int[0, 9].Array[10, 17]).Select(
        (first, rest) =>
        {
            var body = first.ToString(CultureInfo.InvariantCulture) + string.Concat(rest);
            return body + CheckDigit(body);
        });

    /// <summary>
    /// A PAN written as an IPv6 address: left-padded with zeros to whole groups, placed at a generated offset among
    /// other groups (zero or random), each group typed with some or all of its leading zeros dropped and in a generated
    /// case, a run of zero groups outside the PAN's last group compressed to <c>::</c> or not, the last two groups
    /// written as a dotted IPv4 tail when the PAN leaves them free.
    /// </summary>
    private static readonly Gen<(string Pan, string Written)> PanAsIpv6 =
        Gen.Select(Pan, Gen.Int[0, 7], Gen.Int[0, 65535].Array[8], Gen.Bool.Array[8], Gen.Int[0, 3].Array[8], Gen.Bool, Gen.Int[0, 2])
            .Select((pan, offset, others, zero, strip, upper, layout) =>
            {
                var padded = pan.PadLeft((pan.Length + 3) / 4 * 4, '0');
                var panGroups = Enumerable.Range(0, padded.Length / 4).Select(g => Convert.ToInt32(padded.Substring(g * 4, 4), 16)).ToArray();
                var start = Math.Min(offset, 8 - panGroups.Length);
                var values = new int[8];
                for (var g = 0; g < 8; g++)
                {
                    var inPan = g >= start && g < start + panGroups.Length;
                    values[g] = inPan ? panGroups[g - start] : zero[g] ? 0 : others[g];
                }

                var texts = values.Select((v, g) => Typed(v, strip[g], upper)).ToList();
                var panEnd = start + panGroups.Length - 1;
                var tailFree = start + panGroups.Length <= 6;
                if (layout == 2 && tailFree)
                {
                    texts[6] = string.Create(CultureInfo.InvariantCulture, $"{values[6] >> 8}.{values[6] & 0xFF}.{values[7] >> 8}.{values[7] & 0xFF}");
                    texts.RemoveAt(7);
                }

                return (pan, layout >= 1 ? Compress(texts, values, panEnd) : string.Join(':', texts));
            });

    [Fact]
    public void Exploded_EveryGroupFourHexDigits_ZeroGroupsExpanded()
    {
        Assert.Equal("2001:0db8:0000:0000:0000:0000:0000:0001", IpAddressText.Exploded(IPAddress.Parse("2001:DB8::1")));
        Assert.Equal("0000:0000:0000:0000:0000:ffff:c000:0201", IpAddressText.Exploded(IPAddress.Parse("::ffff:192.0.2.1")));
    }

    [Theory]
    [InlineData("4532:151:1283:366::")]
    [InlineData("::4532:151:1283:366")]
    [InlineData("4532:151:1283:366::1.2.3.4")]
    [InlineData("4532::1283:366:1:2:3:4")]
    [InlineData("ab:4532:151:1283:366::")]
    public void Mandate_PanGivenBackByPaddingGroups_RefusedNamingFieldAndRule(string ip)
    {
        // 4532 0151 1283 0366 (and 4532 0000 1283 0366) pass Luhn; the typed and canonical texts hold 14 digits.
        AssertSingle(BankViolations(Bank(ip)), IpField, FreeTextRule.CardOrBankNumber);
        AssertSingle(CardViolations(CardCommand() with { ReturnUrl = $"https://[{ip}]/done" }), "return_url", FreeTextRule.CardOrBankNumber);
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("2001:db8::1")]
    [InlineData("::ffff:192.0.2.1")]
    [InlineData("2001:db8:85a3::8a2e:370:7334")]
    public void Mandate_CommonAddressesWithZeroRuns_Accepted(string ip)
    {
        // Control: expansion invents zeros (all-zero windows pass Luhn), which alone must not refuse an address.
        Assert.NotNull(Validator().ValidateBankAccount(Bank(ip)).MandateAcceptance);
        Assert.NotNull(Validator().ValidateCard(CardCommand() with { ReturnUrl = $"https://[{ip}]/done" }).ReturnUrl);
    }

    [Fact]
    public void PanWrittenAsIpv6_AnyWay_RefusedInBothFields()
    {
        PanAsIpv6.Sample(
            t =>
            {
                Assert.True(IPAddress.TryParse(t.Written, out _), t.Written);
                AssertSingle(BankViolations(Bank(t.Written)), IpField, FreeTextRule.CardOrBankNumber);
                AssertSingle(CardViolations(CardCommand() with { ReturnUrl = $"https://[{t.Written}]/done" }), "return_url", FreeTextRule.CardOrBankNumber);
            },
            iter: 2_000);
    }

    [Fact]
    public void RandomIpv6WithoutTwelveDigitRun_AcceptedInBothFields()
    {
        // Only an exploded form with a 12-digit run (digits across colons) can hold a PAN window: every other address
        // passes, written canonically, in capitals or exploded. The URL as a whole still meets the free-text rule.
        Gen.Select(Gen.Int[0, 65535].Array[8], Gen.Int[0, 2])
            .Select((g, form) => (Address: new IPAddress(g.SelectMany(v => new[] { (byte)(v >> 8), (byte)v }).ToArray()), Form: form))
            .Where(t => LongestDigitRun(IpAddressText.Exploded(t.Address)) < 12)
            // Hex letters spell IBAN country codes (AD, BA, BE, DE, EE, FA...): an address whose text reads as an IBAN
            // of that country's shape is refused by design, like any other free text, and is outside this property.
            .Where(t => !SpellsIban(IpAddressText.Exploded(t.Address)) && !SpellsIban(t.Address.ToString()))
            .Sample(
                t =>
                {
                    var ip = t.Form switch
                    {
                        0 => t.Address.ToString(),
                        1 => t.Address.ToString().ToUpperInvariant(),
                        _ => IpAddressText.Exploded(t.Address),
                    };
                    Assert.False(IpAddressText.HidesCardOrBankNumber(ip, t.Address));
                    Assert.NotNull(Validator().ValidateBankAccount(Bank(ip)).MandateAcceptance);
                    var url = $"https://[{ip}]/done";
                    var urlRule = FreeTextRule.RuleBroken(url, int.MaxValue, escapesAllowed: true) ?? FreeTextRule.RuleBroken(new Uri(url).AbsoluteUri, int.MaxValue, escapesAllowed: true);
                    if (urlRule is null)
                    {
                        Assert.NotNull(Validator().ValidateCard(CardCommand() with { ReturnUrl = url }).ReturnUrl);
                    }
                },
                iter: 2_000);
    }

    [Theory]
    [InlineData("b48c:1b8f:acc:3280:afe1:25b4:422f:1133")]
    [InlineData("fe80:aba:1234:5678:abcd:ef01:2345:6789")]
    public void Ipv6WhoseHexGroupsSpellALabel_AcceptedAsMandateAddress(string address)
    {
        // "acc 3280 ..." and "aba 1234 ..." read as a labelled account or routing number in free text; an IP literal
        // holds no words.
        Assert.NotNull(Validator().ValidateBankAccount(Bank(address)).MandateAcceptance);
    }

    [Fact]
    public void RandomIpv4_AcceptedAsMandateAddress()
    {
        Gen.Byte.Array[4].Sample(b => Assert.NotNull(Validator().ValidateBankAccount(Bank(new IPAddress(b).ToString())).MandateAcceptance), iter: 2_000);
    }

    [Fact]
    public void RandomIpv6_FalsePositiveRate_Measured()
    {
        // Uniform random addresses, and /48 prefixes with short subnet and interface ids (many zero groups).
        var uniform = Gen.Int[0, 65535].Array[8];
        var sparse = Gen.Select(Gen.Int[0x2000, 0x3FFF], Gen.Int[0, 65535].Array[2], Gen.Int[0, 255], Gen.Int[0, 65535])
            .Select((a, b, subnet, id) => new[] { a, b[0], b[1], subnet, 0, 0, 0, id });
        var uniformRate = RefusedShare(uniform);
        var sparseRate = RefusedShare(sparse);
        output.WriteLine($"refused: uniform random IPv6 {uniformRate:P2}, sparse /48 IPv6 {sparseRate:P2}");

        // Measured near 1.1% and 0.4% (THREAT_MODEL F12): a run of 12+ digits across groups is a PAN window one time in
        // ten. Chaining the zeros a long `::` stands for into windows gave 25% on the sparse ones.
        Assert.InRange(uniformRate, 0, 0.03);
        Assert.InRange(sparseRate, 0, 0.02);
    }

    private static double RefusedShare(Gen<int[]> groups)
    {
        const int Count = 4_000;
        var refused = 0;
        groups.Select(g => new IPAddress(g.SelectMany(v => new[] { (byte)(v >> 8), (byte)v }).ToArray()).ToString()).Array[Count].Sample(
            ips => refused = ips.Count(ip => Refused(Bank(ip))),
            iter: 1,
            threads: 1);
        return refused / (double)Count;
    }

    private static bool Refused(TokenizeBankAccountCommand command)
    {
        try
        {
            Validator().ValidateBankAccount(command);
            return false;
        }
        catch (TokenizerException)
        {
            return true;
        }
    }

    private static TokenizeBankAccountCommand Bank(string ip) =>
        new(Key, Reference, new SepaDebitInput("AT611904300234573201"), FullBilling(),
            new MandateAcceptanceInput(Now.AddMinutes(-1), new OnlineAcceptanceInput(ip, "Mozilla/5.0"), Offline: false));

    private static string Typed(int value, int strip, bool upper)
    {
        var hex = value.ToString(upper ? "X4" : "x4", CultureInfo.InvariantCulture);
        var significant = Math.Max(1, hex.TrimStart('0').Length);

        // strip 0: all leading zeros dropped (canonical); 1-3: up to that many kept.
        return hex[^Math.Min(4, significant + strip)..];
    }

    /// <summary>Compresses the longest run of zero groups that does not hold the PAN's last group, if there is one.</summary>
    private static string Compress(List<string> texts, int[] values, int panEnd)
    {
        var (bestStart, bestLength) = (-1, 0);
        for (var s = 0; s < texts.Count; s++)
        {
            var length = 0;
            while (s + length < texts.Count && s + length != panEnd && values[s + length] == 0 && !texts[s + length].Contains('.', StringComparison.Ordinal))
            {
                length++;
            }

            if (length > bestLength)
            {
                (bestStart, bestLength) = (s, length);
            }
        }

        if (bestLength == 0)
        {
            return string.Join(':', texts);
        }

        return string.Join(':', texts.Take(bestStart)) + "::" + string.Join(':', texts.Skip(bestStart + bestLength));
    }

    private static bool SpellsIban(string text) =>
        Tokenizer.Core.Redaction.SensitiveDataDetector.Find(text, Tokenizer.Core.Redaction.SensitiveDataDetectorOptions.Validation)
            .Any(m => m.Kind == Tokenizer.Core.Redaction.SensitiveDataKind.Iban);

    private static int LongestDigitRun(string exploded)
    {
        var (longest, run) = (0, 0);
        foreach (var c in exploded)
        {
            run = char.IsAsciiDigit(c) ? run + 1 : c == ':' ? run : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    private static int CheckDigit(string body)
    {
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var d = body[body.Length - 1 - i] - '0';
            sum += i % 2 == 0 ? (d * 2 > 9 ? (d * 2) - 9 : d * 2) : d;
        }

        return (10 - (sum % 10)) % 10;
    }
}
