using CsCheck;
using Tokenizer.Cli;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The CLI's standard output (<c>Program.cs</c> wraps it in <see cref="ScrubbingTextWriter"/>) masks what the one
/// detector reads as card or bank data, in writings that were once printed unmasked by
/// <c>tokens list --json</c>: an IBAN joined by lone letters, a CVC after seven separators, a label after its number.
/// </summary>
public sealed class CliOutputScrubbingTests
{
    [Theory]
    [InlineData("    \"customerReference\": \"NL31xFQGBx1715x4278x05\",", "NL31xFQGB", "[IBAN ****")]
    [InlineData("    \"customerReference\": \"GB02xIKLZx8019x9809x7136x63\",", "8019x9809", "[IBAN ****")]
    [InlineData("    \"customerReference\": \"cvc:______7391\",", "7391", "[CVC ***]")]
    [InlineData("    \"customerReference\": \"8826(acct)\",", "8826", "[ACCOUNT ****]")]
    [InlineData("    \"customerReference\": \"s_e_c_u_r_i_t_y__c_o_d_e_123\",", "_123", "[CVC ***]")]
    [InlineData("cust-1  tok_1  c\u200Dv\u200Dv\u200D2 0471  active", "0471", "[CVC ***]")]
    public void Write_ReviewsDisguisedCardData_Masked(string line, string secret, string mask)
    {
        // Arrange
        using var inner = new StringWriter();
        using (var output = new ScrubbingTextWriter(inner))
        {
            // Act: written in two pieces, as a JSON writer may, then the newline.
            output.Write(line[..(line.Length / 2)]);
            output.WriteLine(line[(line.Length / 2)..]);
        }

        // Assert
        var printed = inner.ToString();
        Assert.DoesNotContain(secret, printed, StringComparison.Ordinal);
        Assert.Contains(mask, printed, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_GeneratedIbanJoinedByLoneLettersOrLabelledCvc_MaskedAndOtherLinesKept()
    {
        // A JSON listing line per value: a generated IBAN-shaped reference of a letter-BBAN country joined by a lone
        // letter every four chars, or a CVC after a run of separators or before its label; and a control line that
        // must come out as written.
        var joined = Gen.Select(Gen.OneOfConst("NL91ABNA0417164300", "GB02IKLZ80199809713663", "IE83VEME81102164116098", "NL31FQGB1715427805"), Gen.Char["ghkmnpqrstuvwxyz"])
            .Select((iban, joiner) => (Text: string.Join(joiner, iban.Chunk(4).Select(c => new string(c))), Secret: iban[4..8]));
        var cvc = Gen.Select(Gen.Char['0', '9'].Array[3, 4], Gen.Int[1, 12], Gen.Bool)
            .Select((digits, gap, after) => after
                ? (Text: new string(digits) + "(cvc)", Secret: new string(digits))
                : (Text: "cvc:" + new string('_', gap) + new string(digits), Secret: new string(digits)));
        Gen.Select(Gen.OneOf(joined, cvc), Gen.Int[1000, 9999]).Sample(
            (value, n) =>
            {
                using var inner = new StringWriter();
                using (var output = new ScrubbingTextWriter(inner))
                {
                    output.WriteLine($"    \"customerReference\": \"{value.Text}\",");
                    output.WriteLine($"    \"customerReference\": \"cust-{n}\",");
                }

                var lines = inner.ToString().Split(Environment.NewLine);
                Assert.DoesNotContain(value.Secret, lines[0], StringComparison.Ordinal);
                Assert.Matches(@"\[(IBAN|CVC) ", lines[0]);
                Assert.Equal($"    \"customerReference\": \"cust-{n}\",", lines[1]);
            },
            iter: 500);
    }
}
