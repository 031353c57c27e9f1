namespace Tokenizer.Core.Redaction;

/// <summary>
/// What <see cref="SensitiveDataDetector"/> reports beyond PANs. The two presets are the only ones the codebase uses:
/// <see cref="Scrubbing"/> for log lines (mask anything that may be card or bank data) and <see cref="Scanning"/> for
/// files at rest (report what is almost certainly card or bank data).
/// </summary>
public sealed class SensitiveDataDetectorOptions
{
    /// <summary>
    /// For the log scrubber: IBAN-shaped strings of a registry country and length are reported even when their
    /// checksum fails (a mistyped IBAN is still bank data); any labelled CVC is reported, with or without a PAN.
    /// </summary>
    public static SensitiveDataDetectorOptions Scrubbing { get; } = new() { IbanRequiresChecksum = false, CvcLabelRequiresPan = false };

    /// <summary>
    /// For the card-data scanner: only mod-97-valid IBANs; a labelled CVC only within
    /// <see cref="SensitiveDataDetector.CvcLabelPanDistance"/> chars of a PAN.
    /// </summary>
    public static SensitiveDataDetectorOptions Scanning { get; } = new() { IbanRequiresChecksum = true, CvcLabelRequiresPan = true };

    /// <summary>
    /// True: an IBAN must pass ISO 7064 mod 97. False: an upper-case IBAN of a registry country whose length and
    /// BBAN structure match is reported whatever its check digits (a lower-case one still needs the checksum).
    /// </summary>
    public bool IbanRequiresChecksum { get; init; }

    /// <summary>True: a 3-4 digit value after a <c>cvc</c>/<c>cvv</c>/<c>csc</c> label counts only near a PAN.</summary>
    public bool CvcLabelRequiresPan { get; init; }

    /// <summary>Report CVCs (after a PAN, or after a label). Default true.</summary>
    public bool DetectCvc { get; init; } = true;

    /// <summary>Report account numbers after account-number labels. Default true.</summary>
    public bool DetectAccountNumbers { get; init; } = true;
}
