using CsCheck;
using Tokenizer.StripeSandbox.Banks;
using Tokenizer.StripeSandbox.Cards;
using Tokenizer.StripeSandbox.Hosting;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class SandboxRulesTests
{
    [Theory]
    [InlineData("4242424242424242", true)]
    [InlineData("4242424242424241", false)]
    [InlineData("378282246310005", true)]
    [InlineData("36227206271667", true)]
    [InlineData("6200000000000005", true)]
    [InlineData("79927398713", true)]
    [InlineData("", false)]
    [InlineData("42424242424242a2", false)]
    public void PassesLuhn_KnownNumbers_MatchesChecksum(string number, bool expected) =>
        Assert.Equal(expected, CardCatalog.PassesLuhn(number));

    [Fact]
    public void PassesLuhn_AnySingleDigitChange_IsDetected()
    {
        Gen.Select(Gen.Int[0, 15], Gen.Int[1, 9]).Sample((position, delta) =>
        {
            var digits = "4242424242424242".ToCharArray();
            digits[position] = (char)('0' + ((digits[position] - '0' + delta) % 10));
            return !CardCatalog.PassesLuhn(new string(digits));
        });
    }

    [Theory]
    [InlineData("4000000000000000", "visa")]
    [InlineData("5100000000000000", "mastercard")]
    [InlineData("2221000000000000", "mastercard")]
    [InlineData("2721000000000000", "unknown")]
    [InlineData("340000000000000", "amex")]
    [InlineData("6011000000000000", "discover")]
    [InlineData("6221260000000000", "discover")]
    [InlineData("6200000000000000", "unionpay")]
    [InlineData("6500000000000000", "discover")]
    [InlineData("3095000000000000", "diners")]
    [InlineData("3528000000000000", "jcb")]
    [InlineData("9000000000000000", "unknown")]
    public void BrandOf_Prefix_LongestMatchWins(string number, string brand) =>
        Assert.Equal(brand, CardCatalog.BrandOf(number));

    [Theory]
    [InlineData("AT611904300234573201", true)]
    [InlineData("AT861904300235473202", true)]
    [InlineData("DE89370400440532013000", true)]
    [InlineData("GB33BUKB20201555555555", true)]
    [InlineData("DE89370400440532013001", false)]
    [InlineData("de89370400440532013000", false)]
    [InlineData("DE8937040044", false)]
    public void IsValidIban_Examples_ChecksMod97AndShape(string iban, bool expected) =>
        Assert.Equal(expected, BankFactory.IsValidIban(iban));

    [Theory]
    [InlineData("110000000", true)]
    [InlineData("021000021", true)]
    [InlineData("110000001", false)]
    public void PassesAbaChecksum_Examples_MatchesChecksum(string routing, bool expected) =>
        Assert.Equal(expected, BankFactory.PassesAbaChecksum(routing));

    [Fact]
    public void RequestHash_ParameterOrder_DoesNotMatterButValuesDo()
    {
        var secret = SandboxSecret.CreateRandom();
        KeyValuePair<string, string>[] forward = [new("type", "card"), new("card[number]", "4242424242424242")];
        KeyValuePair<string, string>[] backward = [forward[1], forward[0]];
        KeyValuePair<string, string>[] other = [forward[0], new("card[number]", "5555555555554444")];

        var hash = secret.RequestHash("POST", "/v1/payment_methods", forward);

        Assert.Equal(hash, secret.RequestHash("POST", "/v1/payment_methods", backward));
        Assert.NotEqual(hash, secret.RequestHash("POST", "/v1/payment_methods", other));
        Assert.NotEqual(hash, secret.RequestHash("POST", "/v1/customers", forward));
        Assert.DoesNotContain("4242", hash, StringComparison.Ordinal);
    }

    [Fact]
    public void RequestHash_CvcAmongTheParameters_LeftOutButTheOtherCardFieldsCount()
    {
        var secret = SandboxSecret.CreateRandom();
        KeyValuePair<string, string>[] withCvc = [new("type", "card"), new("card[number]", "4242424242424242"), new("card[cvc]", "123")];
        KeyValuePair<string, string>[] otherCvc = [withCvc[0], withCvc[1], new("card[cvc]", "987")];
        KeyValuePair<string, string>[] otherMonth = [.. withCvc, new("card[exp_month]", "11")];

        var hash = secret.RequestHash("POST", "/v1/payment_methods", withCvc);

        Assert.Equal(hash, secret.RequestHash("POST", "/v1/payment_methods", otherCvc));
        Assert.Equal(hash, secret.RequestHash("POST", "/v1/payment_methods", withCvc[..2]));
        Assert.NotEqual(hash, secret.RequestHash("POST", "/v1/payment_methods", otherMonth));
    }

    [Fact]
    public void Fingerprint_FieldBoundaries_DoNotCollide()
    {
        var secret = SandboxSecret.CreateRandom();

        Assert.NotEqual(secret.Fingerprint("bacs_debit", "108800", "00012345"), secret.Fingerprint("bacs_debit", "1088000", "0012345"));
        Assert.NotEqual(secret.Fingerprint("card", "4242424242424242"), secret.Fingerprint("sepa_debit", "4242424242424242"));
        Assert.Equal(secret.Fingerprint("card", "4242424242424242"), secret.Fingerprint("card", "4242424242424242"));
    }

    [Fact]
    public void LoadOrCreate_SameDirectory_GivesSameFingerprints()
    {
        var directory = Path.Combine(Path.GetTempPath(), "stripe-sandbox-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var first = SandboxSecret.LoadOrCreate(directory).Fingerprint("card", "4242424242424242");
            var second = SandboxSecret.LoadOrCreate(directory).Fingerprint("card", "4242424242424242");

            Assert.Equal(first, second);
            Assert.Equal(32, new FileInfo(Path.Combine(directory, SandboxSecret.FileName)).Length);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(Path.Combine(directory, SandboxSecret.FileName)));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", true)]
    [InlineData("http://[::1]:12111", true)]
    [InlineData("http://localhost:12111", true)]
    [InlineData("http://127.0.0.1:0;http://[::1]:0", true)]
    [InlineData("http://localhost:0", false)]
    [InlineData("http://0.0.0.0:12111", false)]
    [InlineData("http://[::]:12111", false)]
    [InlineData("http://192.168.1.10:12111", false)]
    [InlineData("", false)]
    public void LoopbackUrls_Parse_AcceptsLoopbackOnly(string urls, bool accepted) =>
        Assert.Equal(accepted, LoopbackUrls.Parse(urls).Error is null);
}
