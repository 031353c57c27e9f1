using Tokenizer.Core.Redaction;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>Table tests of the last-line log scrubber: what is masked, what is left alone.</summary>
public class SensitiveDataScrubberTests
{
    public static TheoryData<string, string> Masked => new()
    {
        // PANs: contiguous, spaced, dashed, every length 12-19, letters or punctuation around.
        { "4242424242424242", "[PAN ****4242]" },
        { "card 4242 4242 4242 4242 ok", "card [PAN ****4242] ok" },
        { "4242-4242-4242-4242", "[PAN ****4242]" },
        { "4242 4242-4242 4242", "[PAN ****4242]" },
        { "4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "[PAN ****4242]" },
        { "amex 3782 822463 10005.", "amex [PAN ****0005]." },
        { "diners 36227206271667", "diners [PAN ****1667]" },
        { "maestro 500000000009", "maestro [PAN ****0009]" },
        { "visa19 4000000000000000006", "visa19 [PAN ****0006]" },
        { "unionpay=6200000000000005&x", "unionpay=[PAN ****0005]&x" },
        { "mastercard 2223003122003222", "mastercard [PAN ****3222]" },
        { "x4242424242424242y", "x[PAN ****4242]y" },
        { "The input string '4242424242424242' was not in a correct format.", "The input string '[PAN ****4242]' was not in a correct format." },
        { "two 4242424242424242 5555555555554444", "two [PAN ****]" },
        { "two 4242424242424242 and 5555555555554444", "two [PAN ****4242] and [PAN ****4444]" },
        { "joined across lines 4242 4242\n4242 4242", "joined across lines [PAN ****4242]" },

        // With expiry and CVC: the PAN, and the first 3-4 digit run after it or a labelled CVC.
        { "4242424242424242 12/30 123", "[PAN ****]" },
        { "4242424242424242 exp 12/30 cvc 123", "[PAN ****4242] exp 12/30 cvc [CVC ***]" },
        { "{\"number\":\"4242 4242 4242 4242\",\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"123\"}", "{\"number\":\"[PAN ****4242]\",\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"[CVC ***]\"}" },
        { "cvv2=0123", "cvv2=[CVC ***]" },
        { "CSC: 9876 alone", "CSC: [CVC ***] alone" },

        // IBANs: contiguous or in groups of four; any case when the checksum holds; upper case of registry shape when it fails.
        { "DE89370400440532013000", "[IBAN ****3000]" },
        { "iban DE89 3704 0044 0532 0130 00, thanks", "iban [IBAN ****3000], thanks" },
        { "GB82WEST12345698765432", "[IBAN ****5432]" },
        { "sepa at611904300234573201", "sepa [IBAN ****3201]" },
        { "typo DE89370400440532013001", "typo [IBAN ****3001]" },
        { "AT861904300235473202", "[IBAN ****3202]" },

        // Account numbers after a label.
        { "account_number=000123456789&type=checking", "account_number=[ACCOUNT ****6789]&type=checking" },
        { "{\"accountNumber\":\"00012345\"}", "{\"accountNumber\":\"[ACCOUNT ****2345]\"}" },
        { "Account No: 123456", "Account No: [ACCOUNT ****]" },

        // Control characters: one line, no forged entries.
        { "first\r\nforged: {\"LogLevel\":\"Critical\"}", "first  forged: {\"LogLevel\":\"Critical\"}" },
        { "tab\tbell\u0007nel\u0085ls\u2028ps\u2029end", "tab bell nel ls ps end" },
    };

    public static TheoryData<string> LeftAlone => new()
    {
        "424242424241",
        "42424242424",
        "card ending 4242, brand visa, exp 12/2030",
        "2025-11-20T10:11:12.1234567+00:00",
        "2025-11-20 10:11:12.123",
        "20251120101105",
        "202511201008",
        "1732100000006",
        "1732100000000001",
        "pm_1Nv0dBAsd7ZnDMfhXyZ12345",
        "cus_Q2w3E4r5T6y7U8",
        "req_8f9a0b1c2d3e4f",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        "12345678-1234-1234-1234-123456789012",
        "{12345678-1234-1234-1234-123456789012}",
        "0af7651916cd43dd8448eb211c80319c",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "tkz_0123456789abcdef0123456789abcdef01234567_pm",
        "status 402 after 3 attempts in 1500 ms",
        "XX8937040044",
        "de89 3704 x",
        "DE89 3704 0044",
        "routing 110000000, bsb 000-000, sort code 10-88-00",
        "cvc_check: pass",
        "invalid_cvc",
        "Tokenized pm_123 (Card)",
    };

    [Theory]
    [MemberData(nameof(Masked))]
    public void Scrub_SensitiveValue_Masked(string input, string expected)
    {
        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(input);

        // Assert
        Assert.Equal(expected, scrubbed);
    }

    [Theory]
    [MemberData(nameof(LeftAlone))]
    public void Scrub_NotSensitive_Unchanged(string input)
    {
        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(input);

        // Assert
        Assert.Equal(input, scrubbed);
    }

    [Theory]
    [MemberData(nameof(Masked))]
    public void Scrub_Twice_SameAsOnce(string input, string expected)
    {
        // Act
        var twice = SensitiveDataScrubber.Scrub(SensitiveDataScrubber.Scrub(input));

        // Assert
        Assert.Equal(expected, twice);
    }

    [Fact]
    public void Scrub_NoDigitsOrControls_SameInstance()
    {
        // Arrange
        const string text = "Revoked token: customer request";

        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(text);

        // Assert
        Assert.Same(text, scrubbed);
    }

    [Fact]
    public void Scrub_Null_Null()
    {
        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(null);

        // Assert
        Assert.Null(scrubbed);
    }

    [Theory]
    [InlineData("1 ")]
    [InlineData("4242-")]
    [InlineData("DE89 ")]
    [InlineData("cvc 1 ")]
    [InlineData("account_number ")]
    [InlineData("0f8fad5b-")]
    public void Scrub_MegabyteOfAdversarialRepetition_CompletesWithOneLine(string unit)
    {
        // Arrange: long chains of short groups, half-IBANs, labels: the shapes that would make a backtracking matcher
        // explode. Speed belongs to benchmarks; this proves the adversarial megabyte is handled (a quadratic scan would
        // not finish within the test run) and that the output stays one line.
        var text = string.Concat(Enumerable.Repeat(unit, (1 << 20) / unit.Length));

        // Act
        var scrubbed = SensitiveDataScrubber.Scrub(text);

        // Assert
        Assert.NotNull(scrubbed);
        Assert.DoesNotContain('\n', scrubbed);
        Assert.DoesNotContain("4242-4242-4242-4242", scrubbed, StringComparison.Ordinal);
    }
}
