using CsCheck;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Core.Tests.Redaction;

/// <summary>The detector as the card-data scanner uses it (<see cref="SensitiveDataDetectorOptions.Scanning"/>).</summary>
public class SensitiveDataDetectorTests
{
    [Fact]
    public void Find_PanWithSeparators_EveryLuhnValidWindowInsideTheChain()
    {
        // Arrange: 424242424242 passes Luhn too, so the windows overlap.
        const string text = "pan: 4242 4242 4242 4242;";

        // Act
        var matches = SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning);

        // Assert
        Assert.Contains(new(SensitiveDataKind.Pan, 5, 19), matches);
        Assert.Contains(new(SensitiveDataKind.Pan, 5, 14), matches);
        Assert.All(matches, m => Assert.True(m.Kind == SensitiveDataKind.Pan && m.Start >= 5 && m.End <= 24));
        var whole = matches.Single(m => m.Length == 19);
        Assert.Equal("4242424242424242", whole.Normalised(text));
        Assert.Equal("4242", whole.LastFour(text));
    }

    [Fact]
    public void Find_KestrelTraceIdGluedToDigitBytesInALedgerRecord_NotReportedWhenScanning()
    {
        // In a SQLite audit record the correlation id (a Kestrel trace id) sits
        // between the outcome's text and the binary MAC, whose first bytes may be digits: "20581" + "00000371" + "0"
        // is a Luhn-valid 14-digit run. Control: the same digits without the trace id's shape are still reported.
        const string record = "success0HNQK8MK20581:000003710\u0001\u00ff";
        const string control = "success 20581:000003710\u0001\u00ff";

        Assert.Empty(SensitiveDataDetector.Find(record, SensitiveDataDetectorOptions.Scanning));
        Assert.Empty(SensitiveDataDetector.Find(record, SensitiveDataDetectorOptions.Scrubbing));
        Assert.Contains(SensitiveDataDetector.Find(control, SensitiveDataDetectorOptions.Scanning), m => m.Kind == SensitiveDataKind.Pan);
    }

    [Fact]
    public void Find_GeneratedKestrelTraceIdsFollowedByDigits_NeverReportedWhenScanning()
    {
        // The worst case: the connection id ends in digits and the counter is all digits (a young connection), so the
        // digits around the colon run on into the MAC's digit bytes.
        const string Base32 = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
        Gen.Select(Gen.Char[Base32].Array[6], Gen.Char['0', '9'].Array[5], Gen.Char['0', '9'].Array[8], Gen.Char['0', '9'].Array[1, 6])
            .Sample((connection, connectionDigits, counter, macDigits) =>
                SensitiveDataDetector.Find(
                    "success0H" + new string(connection) + new string(connectionDigits) + ":" + new string(counter) + new string(macDigits) + "\u0001",
                    SensitiveDataDetectorOptions.Scanning).Count == 0);
    }

    [Theory]
    [InlineData("{\\u0022bank_code\\u0022:\\u002231162302\\u0022}")]
    [InlineData("\\u0022routing_number\\u0022:\\u0022110000000\\u0022")]
    public void Find_JsonUnicodeEscapeBeforeDigits_EscapeIsNotDigits(string text)
    {
        // Found by the security check: the sandbox's state (System.Text.Json writes quotes as \u0022) read "0022" plus
        // a bank code as one Luhn-valid run, one run in ten.
        Assert.Empty(SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning));
    }

    [Theory]
    [InlineData("{\"TraceId\":\"660033c3ad434a714cba46981ad6ea1e\"}")]
    [InlineData("660033c3-ad43-4a71-4cba-46981ad6ea1e")]
    public void Find_IbanShapeInsideHexId_NotAnIban(string text)
    {
        // Found by a CsCheck run in CI: "AD43 4A71..." inside a trace id passes mod-97 one time in 97.
        Assert.DoesNotContain(SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scrubbing), m => m.Kind == SensitiveDataKind.Iban);
    }

    [Fact]
    public void Find_PanAfterJsonUnicodeEscape_StillFound()
    {
        const string text = "{\\u0022number\\u0022:\\u00224242424242424242\\u0022}";

        var matches = SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning);

        Assert.Contains(matches, m => m.Kind == SensitiveDataKind.Pan && m.Normalised(text) == "4242424242424242");
    }

    [Fact]
    public void Find_IbanWithBadChecksum_NotReportedWhenScanning()
    {
        // Act
        var scanning = SensitiveDataDetector.Find("DE89370400440532013001", SensitiveDataDetectorOptions.Scanning);
        var scrubbing = SensitiveDataDetector.Find("DE89370400440532013001", SensitiveDataDetectorOptions.Scrubbing);

        // Assert: its digits still hold Luhn-valid windows, reported as PANs.
        Assert.DoesNotContain(scanning, m => m.Kind == SensitiveDataKind.Iban);
        Assert.Equal(SensitiveDataKind.Iban, Assert.Single(scrubbing).Kind);
    }

    [Fact]
    public void Find_GroupedIban_NormalisedUpperCase()
    {
        // Arrange
        const string text = "gb82 west 1234 5698 7654 32";

        // Act
        var match = Assert.Single(SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning));

        // Assert
        Assert.Equal(SensitiveDataKind.Iban, match.Kind);
        Assert.Equal("GB82WEST12345698765432", match.Normalised(text));
    }

    [Fact]
    public void Find_CvcLabelFarFromAnyPan_NotReportedWhenScanning()
    {
        // Arrange
        var text = "cvc: 123 " + new string('.', 80) + " 4242424242424242";

        // Act
        var kinds = SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning).Select(m => m.Kind).Distinct();

        // Assert
        Assert.Equal([SensitiveDataKind.Pan], kinds);
    }

    [Fact]
    public void Find_CvcLabelBeforePan_Reported()
    {
        // Arrange
        const string text = "{\"cvc\":\"123\",\"number\":\"4242424242424242\"}";

        // Act
        var matches = SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning);

        // Assert
        Assert.Equal([SensitiveDataKind.Cvc, SensitiveDataKind.Pan], matches.Select(m => m.Kind).Distinct());
        Assert.Equal("123", Assert.Single(matches, m => m.Kind == SensitiveDataKind.Cvc).Normalised(text));
    }

    [Fact]
    public void Find_PanFollowedByYearAndCvc_YearSkippedCvcFound()
    {
        // Arrange
        const string text = "4242424242424242 exp 2030 cvc 987";

        // Act
        var cvc = Assert.Single(SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning), m => m.Kind == SensitiveDataKind.Cvc);

        // Assert
        Assert.Equal("987", cvc.Normalised(text));
    }

    [Fact]
    public void Find_PanInsideIban_OnlyTheIban()
    {
        // Arrange: the digits of this IBAN hold Luhn-valid windows once grouped.
        const string text = "DE89 3704 0044 0532 0130 00";

        // Act
        var matches = SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning);

        // Assert
        Assert.Equal(SensitiveDataKind.Iban, Assert.Single(matches).Kind);
    }

    [Theory]
    [InlineData("20251120101105", true)]
    [InlineData("202511201008", true)]
    [InlineData("20251120101105123", true)]
    [InlineData("1732100000006", true)]
    [InlineData("1732100000000001", true)]
    [InlineData("4242424242424242", false)]
    [InlineData("20251320101105", false)]
    [InlineData("2223003122003222", false)]
    public void LooksLikeTimestamp_Table(string digits, bool expected)
    {
        // Act
        var timestamp = SensitiveDataDetector.LooksLikeTimestamp(digits);

        // Assert
        Assert.Equal(expected, timestamp);
    }

    [Fact]
    public void LastFour_ShortValue_Empty()
    {
        // Arrange
        var match = new SensitiveDataMatch(SensitiveDataKind.AccountNumber, 0, 6);

        // Act
        var lastFour = match.LastFour("123456");

        // Assert
        Assert.Equal(string.Empty, lastFour);
    }
}
