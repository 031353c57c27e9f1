namespace Tokenizer.Core.Redaction;

/// <summary>
/// How <see cref="SensitiveDataDetector"/> reads a text and what it reports. The three presets are the only ones the
/// codebase uses: <see cref="Validation"/> for caller input (no exemptions), <see cref="Scrubbing"/> for log lines and
/// other text about to be shown (mask anything that may be card or bank data) and <see cref="Scanning"/> for files at
/// rest (report what is almost certainly card or bank data).
/// </summary>
public sealed class SensitiveDataDetectorOptions
{
    /// <summary>
    /// For caller input: any Luhn-valid 12-19 digit window and any mod-97-valid IBAN, with no exempt shape at all, and
    /// an IBAN may start anywhere (glued to letters too); a labelled CVC (<c>cvc 123</c>, with or without a PAN) and a
    /// labelled account number (<c>account no 00012345</c>). Stops at the first PAN or IBAN.
    /// </summary>
    public static SensitiveDataDetectorOptions Validation { get; } = new()
    {
        IbanRequiresChecksum = true,
        CvcLabelRequiresPan = false,
        ExemptKnownShapes = false,
        StopAtFirst = true,
    };

    /// <summary>
    /// <see cref="Validation"/> for an idempotency key shaped as a ULID (26 Crockford base32 chars): every letter ends a
    /// number (<see cref="LettersEndNumbers"/>), since a lone letter between its random digits would otherwise refuse
    /// about one random ULID in four thousand; IBANs and labelled CVCs and account numbers are looked for as in any text.
    /// </summary>
    internal static SensitiveDataDetectorOptions ValidationOfUlid { get; } = new()
    {
        IbanRequiresChecksum = true,
        CvcLabelRequiresPan = false,
        ExemptKnownShapes = false,
        StopAtFirst = true,
        LettersEndNumbers = true,
    };

    /// <summary>
    /// For the log scrubber: IBAN-shaped strings of a registry country and length are reported even when their
    /// checksum fails (a mistyped IBAN is still bank data); any labelled CVC is reported, with or without a PAN.
    /// </summary>
    public static SensitiveDataDetectorOptions Scrubbing { get; } = new() { IbanRequiresChecksum = false, CvcLabelRequiresPan = false };

    /// <summary>
    /// For the card-data scanner: only mod-97-valid IBANs; a labelled CVC only within
    /// <see cref="SensitiveDataDetector.CvcLabelPanDistance"/> chars of a PAN; bytes that are not text end a number.
    /// </summary>
    public static SensitiveDataDetectorOptions Scanning { get; } = new()
    {
        IbanRequiresChecksum = true,
        CvcLabelRequiresPan = true,
        BinaryBreaksNumbers = true,
        MaxSeparatorRun = 1,
    };

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

    /// <summary>
    /// True (default): ISO dates and times, GUIDs, hex identifiers and contiguous timestamps end a number, and an IBAN
    /// must start and end a token. Only for text the service wrote itself; never for caller input.
    /// </summary>
    public bool ExemptKnownShapes { get; init; } = true;

    /// <summary>True (default): a JSON <c>\uXXXX</c> escape is read as the char it encodes.</summary>
    public bool DecodeJsonEscapes { get; init; } = true;

    /// <summary>True: controls other than whitespace, unassigned, private-use and invalid code points end a number.</summary>
    public bool BinaryBreaksNumbers { get; init; }

    /// <summary>
    /// The most separators in a row a number may cross; 0 (default) for any. Scanning uses 1: files at rest hold only
    /// what validation let through and what code wrote, and code writes a PAN contiguous or with one separator between
    /// groups, while two or more in a row are table cells (<c> | </c>) and list items (<c>, </c>) of unrelated numbers.
    /// </summary>
    public int MaxSeparatorRun { get; init; }

    /// <summary>
    /// True: every letter ends a number: no stretch of lone letters joins a PAN's digits and no lone letter joins an
    /// IBAN's groups (<c>4532x0151</c> and <c>NL91xABNAx0417</c> are not read as one number). False (default) outside
    /// scanning. For keys whose random letters stand between random digits (ULIDs).
    /// </summary>
    public bool LettersEndNumbers { get; init; }

    /// <summary>True: stop at the first PAN or IBAN (a yes/no question).</summary>
    public bool StopAtFirst { get; init; }
}
