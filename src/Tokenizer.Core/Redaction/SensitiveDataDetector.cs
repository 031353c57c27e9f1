using System.Buffers;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// The one definition of "what is a PAN" (and an IBAN, a CVC, an account number) in text, shared by input validation
/// (<c>Validation.FreeTextRule</c>: every free-text field of every request), the log scrubber
/// (<see cref="SensitiveDataScrubber"/>), the audit text, the CLI's output and the card-data scanner
/// (<c>security/Tokenizer.Security.Scanner</c>).
/// </summary>
/// <remarks>
/// <para>
/// <b>Normalise first.</b> Each code point is read as a digit, a letter or a separator. Every Unicode decimal digit
/// (category Nd: full-width, Arabic-Indic, Devanagari, ...) is its value 0-9, and a number written as one character
/// (<c>㊺</c>, <c>⑮</c>, <c>½</c>, <c>⓫</c>: <see cref="TextNormaliser.CompatibilityDigits"/>) is its digits, a match
/// inside them covering the whole character. Every char that is not a letter or a
/// digit is a separator: ASCII punctuation (<c>_ / + : , . -</c>), every Unicode space (NBSP, thin, ideographic...),
/// format and bidi characters (ZWSP, ZWJ, U+200F, U+202E...), symbols, marks, controls; alone, repeated or mixed.
/// </para>
/// <para>
/// <b>PAN.</b> Digits joined by separators form a chain; a letter ends it. Every window of 12-19 consecutive digits
/// of a chain that passes Luhn is a PAN, whatever the brand: so a PAN inside a longer digit run, or glued to letters or
/// hex, is found. <b>IBAN.</b> Two letters, two digits and the BBAN, in any case and with any separators, as long as
/// the registry (<c>Data/iban-countries.csv</c>) says for that country, passing ISO 7064 mod 97 (see
/// <see cref="SensitiveDataDetectorOptions.IbanRequiresChecksum"/>).
/// </para>
/// <para>
/// <b>Validation has no exemptions</b> (<see cref="SensitiveDataDetectorOptions.Validation"/>): any Luhn-valid 12-19
/// digit window in caller input is refused, so a Luhn-valid 16-digit order number in a reference is refused too (one
/// digit string in ten of that length): the right trade for a PCI service, where a stored look-alike cannot be told from
/// a PAN. <b>Scrubbing and scanning</b> read text the service itself wrote (logs, the database, its files), where "any
/// separator" would chain the service's own numbers into Luhn-valid windows; there, and only there, these precise,
/// range-checked shapes end a number instead of joining one: ISO 8601 dates and times
/// (<c>yyyy-MM-dd[T| ]HH:mm[:ss[.f..f]][Z|±HH:mm]</c>, years 1970-2099, months, days, hours, minutes and seconds in
/// range) and times of day <c>HH:mm:ss[.f..f]</c>; GUIDs (8-4-4-4-12 hex); hex identifiers (exactly 16, 32, 40, 64 or
/// 128 hex chars with a letter, one case: trace ids, hashes); Kestrel request trace ids (<c>0HNQK8MK20581:00000371</c>,
/// wherever they stand); and contiguous timestamps
/// (<see cref="LooksLikeTimestamp"/>). Caller input reaches those sinks only after validation, which had no exemptions.
/// Scanning (<see cref="SensitiveDataDetectorOptions.Scanning"/>) lets a number cross one separator at a time, not
/// runs of them (<see cref="SensitiveDataDetectorOptions.MaxSeparatorRun"/>: table cells and lists of unrelated numbers),
/// and reads bytes that are not text (controls other
/// than whitespace, unassigned and private-use code points, invalid UTF-16, U+FFFD) as the end of a number, so the digit
/// bytes of a binary record do not chain, and decodes JSON <c>\uXXXX</c> escapes as the chars they encode.
/// </para>
/// <para>
/// <b>CVC.</b> The first 3-4 digit run (not preceded by a letter or digit, not a year 1900-2099) starting within
/// <see cref="CvcAfterPanDistance"/> chars after a PAN; or a 3-4 digit run right after a label of
/// <see cref="CvcLabels"/> (<c>cvc</c>, <c>CVV2</c>, <c>C.V.V.</c>, <c>security code</c>, <c>CID</c>, <c>sec code</c>,
/// <c>3-digit code</c>, <c>Prüfnummer</c>, <c>cryptogramme</c>; letters may be split by separators, Latin letters
/// with diacritics or a stroke read as their base letter at any position (<c>Çvc</c>, <c>čvč</c>, <c>Prǖfnummer</c>), a suffix such as <c>code</c> or <c>no</c> may follow) and separators.
/// <b>Account number.</b> 4-17 digits right after a label of <see cref="AccountLabels"/>
/// such as <c>account_number</c>, <c>accountNumber</c>, <c>account #</c>, <c>acc:</c>, <c>a/c</c>, <c>BBAN</c>,
/// <c>kontonummer</c>, <c>rekening</c> or <c>acct_num</c>, or after a bank code and its label
/// (<see cref="BankCodeLabels"/>: <c>sort code 10-88-00, 00012345</c>). Outside scanning labels are read loosely: any
/// run of separators between a label's letters (<c>s e c u r i t y   c o d e</c>, <c>C. V. V</c>, a joiner or a
/// combining mark on each letter) and before the number (<c>cvc:______7391</c>), and a label right after its number
/// with separators or brackets between, that labels nothing after it (<c>123 (cvc)</c>, <c>00012345(acct)</c>).
/// A labelled value's digits are joined as a card number's are (any run of separators outside scanning: <c>cvc 7 - 3 - 9</c>),
/// and the value is the digits nearest the label whatever follows (<see cref="TryValue"/>: <c>cvc 739 12</c> is 739).
/// Scanning keeps single separators between letters and between a value's digits, at most <see cref="MaxLabelGap"/>
/// before the number and the label before it.
/// </para>
/// <para>
/// <b>Lone letters.</b> For the PAN search (not scanning), between two digits a stretch of separators and letters that
/// stand alone (no letter beside another), none of them a hex letter, is one separator:
/// <c>4532x-y0151</c>, <c>4532 k;m 0151</c>, <c>4532ж-ж0151</c>
/// (<see cref="TextNormaliser.SeparateLoneLetterStretches"/>). Hex letters and runs of letters keep digits apart, so
/// UUIDs and ids are not read as numbers. An IBAN's groups may be joined by lone letters too
/// (<c>NL91xABNAx0417x1643x00</c>, see <see cref="MatchJoinedIban"/>). Not with
/// <see cref="SensitiveDataDetectorOptions.LettersEndNumbers"/> (ULID-shaped keys).
/// </para>
/// <para>
/// Matches are ranges of the original text (a surrogate pair or a JSON escape is one position of the normalised text).
/// Time is linear in the text length (bounded look-around, no regular expressions, no backtracking); nothing here
/// throws for any input.
/// </para>
/// </remarks>
public static class SensitiveDataDetector
{
    /// <summary>Fewest digits in a PAN (ISO/IEC 7812; Maestro).</summary>
    public const int MinPanDigits = 12;

    /// <summary>Most digits in a PAN (ISO/IEC 7812).</summary>
    public const int MaxPanDigits = 19;

    /// <summary>A CVC after a PAN must start within this many chars of the PAN's end.</summary>
    public const int CvcAfterPanDistance = 32;

    /// <summary>With <see cref="SensitiveDataDetectorOptions.CvcLabelRequiresPan"/>, a labelled CVC must be this close to a PAN.</summary>
    public const int CvcLabelPanDistance = 64;

    private const int MaxLabelGap = 6;

    /// <summary>The most letters a label is read for.</summary>
    private const int MaxLabelLetters = 24;

    /// <summary>
    /// Names of the card security code: cvc, cvv, csc, cvn, cvd, cav (then an optional 2), security code (also sec code),
    /// card code, card verification value or code, digit code (<c>3-digit code</c>), CID (American Express; in capitals
    /// only, as it is also a name); and the usual German, Spanish, Portuguese, French, Italian and Dutch names
    /// (Prüfnummer, Kartenprüfnummer, Sicherheitscode, código de seguridad, código de segurança, cryptogramme, code de
    /// sécurité, codice di sicurezza, beveiligingscode). Accented letters are read as their base letter
    /// (<see cref="TextNormaliser.LatinBaseLetter"/>); any label may be followed by a word of <see cref="LabelSuffixes"/>.
    /// </summary>
    private static readonly string[] CvcLabels =
    [
        "cvc", "cvv", "csc", "cvn", "cvd", "cav", "CID", "securitycode", "seccode", "cardcode", "cardsecuritycode", "verificationvalue",
        "verificationcode", "cardverificationvalue", "cardverificationcode", "cardverificationnumber", "digitcode",
        "prufnummer", "pruefnummer", "kartenprufnummer", "kartenpruefnummer", "sicherheitscode", "codigodeseguridad",
        "codigodeseguranca", "cryptogramme", "cryptogrammevisuel", "codedesecurite", "codicedisicurezza", "beveiligingscode",
    ];

    /// <summary>
    /// Names of a bank account number: account or acct or acc or accnt, alone or with number, num, nr or no; ac no; bank
    /// account; BBAN; kontonummer, konto and kto; iban (an IBAN's digits without its country code); and the nouns of the
    /// usual foreign names (rekening and rekeningnummer, cuenta, conta, compte, conto: <c>número de cuenta</c>,
    /// <c>numéro de compte</c>, <c>numero di conto</c> end in them, and are labels whole too, for a label after its
    /// number). Also <c>a/c</c>, with its slash
    /// (<see cref="SlashAccountEnd"/>).
    /// </summary>
    private static readonly string[] AccountLabels =
    [
        "account", "accountnumber", "accountnum", "accountnr", "accountno", "acct", "acctnumber", "acctnum", "acctnr", "acctno",
        "acc", "accnt", "acount", "acno", "accnumber", "accnum", "accnr", "accno", "bankaccount", "bankaccountnumber", "bban",
        "kontonummer", "konto", "kontonr", "kto", "iban", "rekening", "rekeningnummer", "cuenta", "conta", "compte", "conto",
        "numerodecuenta", "numerodaconta", "numerodecompte", "numerodiconto", .. NumberedNouns(),
    ];

    /// <summary>
    /// The foreign account nouns after a short word for number and an optional <c>de</c>, <c>di</c>, <c>da</c> or
    /// <c>do</c>: <c>N° de compte</c> (° is a separator), <c>nº de compte</c> (NFKC: <c>no</c>), <c>Nr. de compte</c>,
    /// <c>N° compte</c>, <c>num. de cuenta</c>. Whole labels, so that they are read right after their number too.
    /// </summary>
    private static List<string> NumberedNouns()
    {
        ReadOnlySpan<string> numbers = ["n", "no", "nr", "num", "numero"];
        ReadOnlySpan<string> linkers = ["", "de", "di", "da", "do"];
        ReadOnlySpan<string> nouns = ["cuenta", "conta", "compte", "conto"];
        var labels = new List<string>();
        foreach (var number in numbers)
        {
            foreach (var linker in linkers)
            {
                foreach (var noun in nouns)
                {
                    labels.Add(number + linker + noun);
                }
            }
        }

        return labels;
    }

    /// <summary>
    /// Names of a bank's code that an account number follows: sort code, BSB, routing (number), ABA (in capitals only).
    /// The code is not secret; the digits after it are the account (<c>sort code 10-88-00, 00012345</c>).
    /// </summary>
    private static readonly string[] BankCodeLabels = ["sortcode", "sort", "bsb", "routing", "routingnumber", "routingno", "routingnr", "ABA"];

    /// <summary>Label endings that take a plural or possessive <c>s</c> (<see cref="PluralEnd"/>).</summary>
    private static readonly string[] PluralLabels = ["account", "acct", "accnt", "cvc", "cvv", "csc", "cuenta"];

    /// <summary>Words that may follow a label before its value: <c>cvc code</c>, <c>acc no.</c>, <c>accnt number</c>.</summary>
    private static readonly string[] LabelSuffixes = ["code", "number", "num", "nr", "no", "value"];

    private static readonly SearchValues<char> CvcLabelStarts = StartsOf(CvcLabels);
    private static readonly SearchValues<char> AccountLabelStarts = StartsOf([.. AccountLabels, .. BankCodeLabels]);

    /// <summary>Digits of a bank code: sort code and BSB 6, routing number 9.</summary>
    private static readonly (int Min, int Max) BankCodeDigits = (6, 9);

    private const int MinAccountDigits = 4;
    private const int MaxAccountDigits = 17;
    private const int GuidLength = 36;
    private const int MaxIbanLength = 34;
    private const int StackLimit = 512;

    private static readonly System.Buffers.SearchValues<char> Base32Upper = System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUV");
    private static readonly System.Buffers.SearchValues<char> HexUpper = System.Buffers.SearchValues.Create("0123456789ABCDEF");

    /// <summary>Shared, never modified: the covered ranges of a text without IBANs or PANs.</summary>
    private static readonly List<(int Start, int End)> NoRanges = [];

    [ThreadStatic]
    private static List<SensitiveDataMatch>? validationMatches;

    /// <summary>Finds every match in <paramref name="text"/>, ordered by <see cref="SensitiveDataMatch.Start"/>.</summary>
    /// <param name="text">Any text; may be empty.</param>
    /// <param name="options">What to report; <see cref="SensitiveDataDetectorOptions.Scrubbing"/> when null.</param>
    /// <returns>A new list; PAN candidates may overlap each other and an IBAN they reach past; other kinds never overlap a PAN.</returns>
    public static List<SensitiveDataMatch> Find(ReadOnlySpan<char> text, SensitiveDataDetectorOptions? options = null)
    {
        var results = new List<SensitiveDataMatch>();
        Find(text, options ?? SensitiveDataDetectorOptions.Scrubbing, results);
        return results;
    }

    /// <summary>
    /// What caller input must not hold: the kind of the first PAN, IBAN, labelled CVC or labelled account number in
    /// <paramref name="text"/> under <see cref="SensitiveDataDetectorOptions.Validation"/> (no exemptions), or null when
    /// it holds none.
    /// </summary>
    /// <param name="text">A free-text value as received.</param>
    public static SensitiveDataKind? FindCardOrBankNumber(ReadOnlySpan<char> text) =>
        FindCardOrBankNumber(text, SensitiveDataDetectorOptions.Validation);

    /// <summary>As <see cref="FindCardOrBankNumber(ReadOnlySpan{char})"/> under a variant of the validation preset.</summary>
    /// <param name="text">A value as received.</param>
    /// <param name="options"><see cref="SensitiveDataDetectorOptions.Validation"/> or <see cref="SensitiveDataDetectorOptions.ValidationOfUlid"/>.</param>
    internal static SensitiveDataKind? FindCardOrBankNumber(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options)
    {
        var matches = validationMatches ??= [];
        matches.Clear();
        Find(text, options, matches);
        SensitiveDataKind? kind = matches.Count == 0 ? null : matches[0].Kind;
        matches.Clear();
        return kind;
    }

    /// <summary>
    /// Appends every match in <paramref name="text"/> to <paramref name="results"/>, the appended ones ordered by
    /// start. Lets a caller reuse one list across calls.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="results"/> is null.</exception>
    public static void Find(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(results);

        // Every kind needs a digit; outside ASCII a digit of another script may hide, and in ASCII only '0'-'9' are.
        if (text.IndexOfAnyInRange('0', '9') < 0 && System.Text.Ascii.IsValid(text))
        {
            return;
        }

        // 一 between ASCII digits is read both ways (a dash, and a one): the second reading only when it differs.
        var first = results.Count;
        if (FindOnce(text, options, results, numeralsSeparate: true) && !(options.StopAtFirst && results.Count > first))
        {
            var firstReading = results.Count;
            FindOnce(text, options, results, numeralsSeparate: false);
            var kept = firstReading;
            for (var i = firstReading; i < results.Count; i++)
            {
                var candidate = results[i];
                var overlaps = false;
                for (var j = first; j < firstReading && !overlaps; j++)
                {
                    overlaps = candidate.Start < results[j].End && results[j].Start < candidate.End;
                }

                if (!overlaps)
                {
                    results[kept++] = candidate;
                }
            }

            results.RemoveRange(kept, results.Count - kept);
            if (kept > firstReading)
            {
                results.Sort(first, results.Count - first, StartComparer.Instance);
            }
        }
    }

    /// <summary>One reading of <paramref name="text"/>; true when the other reading of its numerals differs.</summary>
    private static bool FindOnce(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results, bool numeralsSeparate)
    {
        var length = TextNormaliser.Capacity(text);
        char[]? rentedChars = null;
        int[]? rentedOrigin = null;
        Span<char> chars = length * 2 <= StackLimit ? stackalloc char[length * 2] : (rentedChars = ArrayPool<char>.Shared.Rent(length * 2));
        Span<int> origin = length <= StackLimit / 2 ? stackalloc int[length] : (rentedOrigin = ArrayPool<int>.Shared.Rent(length));
        try
        {
            var normalised = chars[..length];
            var raw = chars.Slice(length, length);
            var n = TextNormaliser.Normalise(
                text, options.DecodeJsonEscapes, options.BinaryBreaksNumbers, numeralsSeparate, normalised, raw, origin, out var ambiguous);
            var norm = normalised[..n];
            var first = results.Count;

            if (options.ExemptKnownShapes)
            {
                MarkIdentifiers(norm, raw[..n]);
            }

            // Decorative Latin letters (small capitals, negative circled and squared, regional indicators) read as
            // their letters for IBANs and labels only: for card numbers they stay separators or lone letters.
            var decorative = DecorativeLetters(text, raw[..n], origin);
            var ibanText = decorative is null ? norm : FoldDecorative(norm, decorative, labelRaw: default);
            FindIbans(ibanText, options, results);
            if (!(options.StopAtFirst && results.Count > first) && raw[..n].IndexOfAnyInRange('\u00AA', '\uAB6F') >= 0
                && norm.IndexOfAnyInRange('0', '9') >= 0)
            {
                FindIbansWithAccentedLetters(ibanText, raw[..n], options, results, first);
            }
            if (!options.StopAtFirst || results.Count == first)
            {
                if (options.ExemptKnownShapes)
                {
                    MarkTimestamps(norm, raw[..n]);
                }

                // Folded before lone letters are made separators: ᴄ🇻v2 is CVV2, though ᴄ and v alone would join digits.
                var letterText = decorative is null ? null : FoldDecorative(norm, decorative, raw[..n]);
                if (LoneLettersJoin(options))
                {
                    // After the IBANs (their BBANs hold letters between digits): 4532x0151x... and 4532x-y0151... are
                    // written numbers. Files at rest (scanning) hold only what validation let through.
                    TextNormaliser.SeparateLoneLetterStretches(norm);
                }

                FindInNormalised(norm, letterText ?? norm, raw[..n], options, results, first);
            }

            for (var i = first; i < results.Count; i++)
            {
                var m = results[i];
                // A match that starts or ends inside the digits of one char (the 5 of ㊺) covers the whole char.
                var start = origin[m.Start];
                results[i] = m with { Start = start, Length = TextNormaliser.OriginalEnd(origin, m.End) - start };
            }

            return ambiguous;
        }
        finally
        {
            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }

            if (rentedOrigin is not null)
            {
                ArrayPool<int>.Shared.Return(rentedOrigin);
            }
        }
    }

    /// <summary>
    /// A second IBAN search, in a copy of <paramref name="text"/> where each Latin letter with diacritics or a stroke
    /// reads as its base letter (<see cref="TextNormaliser.LatinBaseLetter"/>: <c>ÑL91 ABNA…</c> is <c>NL91 ABNA…</c>);
    /// the IBANs it finds that overlap none found before are added. A second reading rather than a folded first one:
    /// read as its base letter, an accented letter between an IBAN's groups could be a hex letter or one of two letters
    /// in a row, which keep groups apart, where as a lone letter it joins them (<c>NL91éABNAé0417…</c>).
    /// </summary>
    private static void FindIbansWithAccentedLetters(
        ReadOnlySpan<char> text, ReadOnlySpan<char> raw, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results, int first)
    {
        char[]? rented = null;
        Span<char> stack = text.Length <= StackLimit / 2 ? stackalloc char[StackLimit / 2] : default;
        try
        {
            scoped Span<char> folded = default;
            var before = results.Count;
            var from = -1;
            var to = -1;
            var alphanumerics = 0;
            Span<int> recent = stackalloc int[MaxIbanLength];
            for (var i = 0; i < text.Length; i++)
            {
                if (TextNormaliser.IsAlphanumeric(text[i]))
                {
                    // Where the last MaxIbanLength letters and digits started: an IBAN holding a letter here starts there at the earliest.
                    recent[alphanumerics++ % MaxIbanLength] = i;
                }

                // Exempt shapes stay as they are, and so does a letter already read as this one (a small capital); ǫ, a
                // small capital Q to the first reading, is o with ogonek here.
                if (text[i] == TextNormaliser.Breaker || TextNormaliser.LatinBaseLetter(raw[i]) is not (not '\0' and var letter) || (letter | 0x20) == (text[i] | 0x20))
                {
                    continue;
                }

                if (folded.IsEmpty)
                {
                    folded = text.Length <= StackLimit / 2 ? stack[..text.Length] : (rented = ArrayPool<char>.Shared.Rent(text.Length)).AsSpan(0, text.Length);
                    text.CopyTo(folded);
                }

                folded[i] = letter;

                // Only an IBAN that holds a folded letter is new: search from where one holding this letter could start.
                var start = alphanumerics <= MaxIbanLength ? 0 : recent[alphanumerics % MaxIbanLength];
                if (start > to && to >= 0)
                {
                    FindIbans(folded, options, results, from, to + 1);
                    from = start;
                }
                else if (from < 0)
                {
                    from = start;
                }

                to = i;
            }

            if (from < 0)
            {
                return;
            }

            FindIbans(folded, options, results, from, to + 1);
            var kept = before;
            for (var k = before; k < results.Count; k++)
            {
                var candidate = results[k];
                var overlaps = false;
                for (var j = first; j < before && !overlaps; j++)
                {
                    overlaps = candidate.Start < results[j].End && results[j].Start < candidate.End;
                }

                if (!overlaps)
                {
                    results[kept++] = candidate;
                }
            }

            results.RemoveRange(kept, results.Count - kept);
            if (kept > before)
            {
                results.Sort(first, results.Count - first, StartComparer.Instance);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The ASCII letter of each normalised char that is a decorative Latin letter
    /// (<see cref="TextNormaliser.DecorativeLatinLetter"/>), else '\0'; null when the text holds none (almost always).
    /// </summary>
    private static char[]? DecorativeLetters(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, ReadOnlySpan<int> origin)
    {
        char[]? letters = null;
        for (var i = 0; i < raw.Length; i++)
        {
            // raw holds a BMP char as decoded; a supplementary one (U+FFFF or U+FFFE there) is decoded again where it starts.
            var value = raw[i] is not ('\uFFFF' or TextNormaliser.SupplementaryNumeral) ? raw[i]
                : System.Text.Rune.DecodeFromUtf16(text[origin[i]..], out var rune, out _) == OperationStatus.Done ? rune.Value : 0;
            if (TextNormaliser.DecorativeLatinLetter(value) is not '\0' and var letter)
            {
                letters ??= new char[raw.Length];
                letters[i] = letter;
            }
        }

        return letters;
    }

    /// <summary>
    /// A copy of <paramref name="norm"/> with each decorative letter read as its ASCII letter (exempt shapes kept). For
    /// labels (<paramref name="labelRaw"/> not empty), a decorative letter that is also a Latin letter with a diacritic
    /// of another base letter stays as it was, for <see cref="LabelLetter"/> to read its base letter: <c>ǫ</c> is a
    /// small capital Q to an IBAN but o with ogonek to a label (no label holds a q).
    /// </summary>
    private static char[] FoldDecorative(ReadOnlySpan<char> norm, char[] decorative, ReadOnlySpan<char> labelRaw)
    {
        var folded = norm.ToArray();
        for (var i = 0; i < folded.Length; i++)
        {
            if (decorative[i] != '\0' && folded[i] != TextNormaliser.Breaker
                && (labelRaw.IsEmpty || TextNormaliser.LatinBaseLetter(labelRaw[i]) is var letter && (letter == '\0' || (letter | 0x20) == (decorative[i] | 0x20))))
            {
                folded[i] = decorative[i];
            }
        }

        return folded;
    }

    /// <summary>True when lone letters join digits (PANs) and IBAN groups: not in scanning, not for ULID-shaped keys.</summary>
    private static bool LoneLettersJoin(SensitiveDataDetectorOptions options) => !options.BinaryBreaksNumbers && !options.LettersEndNumbers;

    /// <summary>
    /// True when labels are read loosely: any run of separators between a label's letters and between the label and its
    /// number, and a label right after its number. Not in scanning, which reads files at rest that hold only what
    /// validation let through, written by code (tables, lists).
    /// </summary>
    private static bool LooseLabels(SensitiveDataDetectorOptions options) => !options.BinaryBreaksNumbers;

    private static void FindInNormalised(
        ReadOnlySpan<char> text, ReadOnlySpan<char> letterText, ReadOnlySpan<char> raw, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results, int first)
    {
        var ibanCount = results.Count - first;
        FindPans(text, options, results, first, ibanCount);
        var panFirst = first + ibanCount;
        if (options.StopAtFirst && results.Count > first)
        {
            return;
        }

        results.Sort(panFirst, results.Count - panFirst, StartComparer.Instance);

        // A labelled CVC or account number is digits: a text without any (a name, a city) has no label worth reading.
        if ((options.DetectCvc || options.DetectAccountNumbers) && text.IndexOfAnyInRange('0', '9') >= 0)
        {
            var anyMatch = results.Count > first;
            var covered = anyMatch ? Covered(results, first, results.Count) : NoRanges;
            var panRegions = options.DetectCvc && anyMatch ? Covered(results, panFirst, results.Count) : NoRanges;
            var before = results.Count;
            if (options.DetectCvc)
            {
                FindCvcAfterPans(text, panRegions, covered, results);
                FindLabelledCvcs(letterText, raw, options, panRegions, covered, results);
            }

            if (options.DetectAccountNumbers)
            {
                FindLabelledAccounts(letterText, raw, options, covered, results);
            }

            if (results.Count - before > 1)
            {
                // A run can be both after a PAN and after a label: report it once.
                results.Sort(before, results.Count - before, StartComparer.Instance);
                var kept = before + 1;
                for (var i = before + 1; i < results.Count; i++)
                {
                    if (results[i] != results[kept - 1])
                    {
                        results[kept++] = results[i];
                    }
                }

                results.RemoveRange(kept, results.Count - kept);
            }
        }

        if (results.Count - first > 1)
        {
            results.Sort(first, results.Count - first, StartComparer.Instance);
        }
    }

    // ---- exempt shapes (scrubbing and scanning only) -----------------------------------------------------------------

    /// <summary>GUIDs, hex ids (not IBANs) and the scrubber's own masks become breakers.</summary>
    private static void MarkIdentifiers(Span<char> norm, ReadOnlySpan<char> raw)
    {
        MarkTraceIdentifiers(norm, raw);
        var i = 0;
        while (i < norm.Length)
        {
            var length = TextNormaliser.IsAlphanumeric(norm[i]) ? IdentifierLength(norm, raw, i) : raw[i] == '[' ? MaskLength(raw, i) : 0;
            if (length > 0)
            {
                norm.Slice(i, length).Clear();
                i += length;
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>
    /// Kestrel's request trace identifiers (the audit trail's correlation ids): a connection id of 13 base32 chars
    /// (<c>0-9A-V</c>, at least one letter) starting with 0, a colon and a request counter of 8 upper-case hex chars
    /// (<c>0HNQK8MK20581:00000371</c>). Wherever they stand, glued or not: in a SQLite record the value before one is
    /// the outcome's text and the value after it a binary MAC, whose bytes may be digits that would extend its counter.
    /// The leading 0 is the top four bits of a counter Kestrel seeds with the clock's ticks (below 2^60 until the
    /// year 3600); without it an upper-case account label of 13 letters from A-V before its number
    /// (<c>REKENINGNUMMER:</c> glued to its number) would read as a trace id.
    /// </summary>
    private static void MarkTraceIdentifiers(Span<char> norm, ReadOnlySpan<char> raw)
    {
        const int Connection = 13, Counter = 8;
        var from = 0;
        while (raw[from..].IndexOf(':') is var offset and >= 0)
        {
            var colon = from + offset;
            from = colon + 1;
            if (colon < Connection || colon + Counter >= raw.Length)
            {
                continue;
            }

            var connection = raw.Slice(colon - Connection, Connection);
            var counter = raw.Slice(colon + 1, Counter);
            if (connection[0] == '0' && !connection.ContainsAnyExcept(Base32Upper) && connection.ContainsAnyInRange('A', 'V') && !counter.ContainsAnyExcept(HexUpper))
            {
                norm.Slice(colon - Connection, Connection + 1 + Counter).Clear();
            }
        }
    }

    /// <summary>
    /// Dates, times and contiguous timestamps become breakers when no other digit joins them through separators (a
    /// timestamp inside a chain of digits is part of that chain: a PAN written "22:00:12:34:..." is not a time of day),
    /// other than the digits of a neighbouring timestamp.
    /// </summary>
    private static void MarkTimestamps(Span<char> norm, ReadOnlySpan<char> raw)
    {
        List<(int Start, int End, bool Full)>? found = null;
        var i = 0;
        while (i < norm.Length)
        {
            var full = false;
            var length = TextNormaliser.IsDigit(norm[i]) ? TimestampLength(norm, raw, i, out full) : 0;
            if (length > 0)
            {
                (found ??= []).Add((i, i + length, full));
                i += length;
            }
            else
            {
                i++;
            }
        }

        if (found is null)
        {
            return;
        }

        var alone = new bool[found.Count];
        for (var k = 0; k < found.Count; k++)
        {
            var (start, end, _) = found[k];
            var before = start - 1;
            while (before >= 0 && norm[before] == TextNormaliser.Separator)
            {
                before--;
            }

            var after = end;
            while (after < norm.Length && norm[after] == TextNormaliser.Separator)
            {
                after++;
            }

            // A full date and time (yyyy-MM-dd, T or space, HH:mm) is too precise a shape to be a PAN's writing; shorter
            // shapes count only alone. A shape that ends on a letter (the Z of UTC) ends any chain by itself.
            if (found[k].Full)
            {
                alone[k] = true;
                continue;
            }

            var leftOk = before < 0 || !TextNormaliser.IsDigit(norm[before]) || (k > 0 && found[k - 1].End == before + 1);
            var rightOk = !TextNormaliser.IsDigit(norm[end - 1]) || after >= norm.Length || !TextNormaliser.IsDigit(norm[after])
                || (k + 1 < found.Count && found[k + 1].Start == after);
            alone[k] = leftOk && rightOk;
        }

        for (var k = 0; k < found.Count; k++)
        {
            if (alone[k])
            {
                norm[found[k].Start..found[k].End].Clear();
            }
        }
    }

    /// <summary>
    /// A mask the scrubber wrote (<c>[PAN ****4242]</c>, <c>[IBAN ****3000]</c>, <c>[ACCOUNT ****6789]</c>,
    /// <c>[CVC ***]</c>...): its four digits are a masked value's last four and its word is no label, so scrubbing twice
    /// changes nothing.
    /// </summary>
    private static int MaskLength(ReadOnlySpan<char> raw, int start)
    {
        var rest = raw[start..];
        foreach (var whole in (ReadOnlySpan<string>)["[PAN ****]", "[ACCOUNT ****]", "[CVC ***]"])
        {
            if (rest.StartsWith(whole, StringComparison.Ordinal))
            {
                return whole.Length;
            }
        }

        foreach (var prefix in (ReadOnlySpan<string>)["[PAN ****", "[IBAN ****", "[ACCOUNT ****"])
        {
            if (rest.StartsWith(prefix, StringComparison.Ordinal) && rest.Length >= prefix.Length + 5
                && char.IsAsciiLetterOrDigit(rest[prefix.Length]) && char.IsAsciiLetterOrDigit(rest[prefix.Length + 1])
                && char.IsAsciiLetterOrDigit(rest[prefix.Length + 2]) && char.IsAsciiLetterOrDigit(rest[prefix.Length + 3])
                && rest[prefix.Length + 4] == ']')
            {
                return prefix.Length + 5;
            }
        }

        return 0;
    }

    /// <remarks>
    /// The id starts a token, or follows one lone letter that is not hex: in a SQLite record the byte before a text value
    /// is its serial type, which for a GUID or a 32-char id is a letter (<c>U</c>, <c>M</c>) after a binary byte. Two
    /// letters before it could be an IBAN's country code, so they never qualify.
    /// </remarks>
    private static int IdentifierLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int i)
    {
        if (i > 0 && TextNormaliser.IsAlphanumeric(norm[i - 1]) && !AfterLoneLetter(norm, raw, i, hexAllowed: false))
        {
            return 0;
        }

        var length = GuidShapeLength(norm, raw, i);
        return length > 0 ? length : HexIdLength(norm, raw, i);
    }

    /// <remarks>
    /// A date or time starts a token; a full date-time (date and time of day) may also follow one lone letter: in a SQLite
    /// record the byte before a text value is its serial type, which for a 26-28 char ISO date-time is a
    /// letter (<c>A</c>, <c>C</c>, <c>E</c>) after a binary byte.
    /// </remarks>
    private static int TimestampLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int i, out bool full)
    {
        var length = 0;
        full = false;
        if (i == 0 || !TextNormaliser.IsAlphanumeric(norm[i - 1]))
        {
            length = DateTimeLength(norm, raw, i);
            full = length > 10;
            length = length > 0 ? length : TimeOfDayLength(norm, raw, i);
        }
        else if (AfterLoneLetter(norm, raw, i, hexAllowed: true) && DateTimeLength(norm, raw, i) is > 10 and var dateTime)
        {
            full = true;
            length = dateTime;
        }

        if (length == 0 && TextNormaliser.IsDigit(norm[i]) && (i == 0 || !TextNormaliser.IsDigit(norm[i - 1])))
        {
            var end = i;
            while (end < norm.Length && TextNormaliser.IsDigit(norm[end]))
            {
                end++;
            }

            length = LooksLikeTimestamp(norm[i..end]) ? end - i : 0;
        }

        return length;
    }

    private static bool EndsToken(ReadOnlySpan<char> norm, int at) => at >= norm.Length || !TextNormaliser.IsAlphanumeric(norm[at]);

    /// <summary>
    /// True when the char before <paramref name="i"/> is a letter (not ASCII hex when <paramref name="hexAllowed"/> is
    /// false) with no letter or digit before it.
    /// </summary>
    private static bool AfterLoneLetter(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int i, bool hexAllowed) =>
        i > 0 && !TextNormaliser.IsDigit(norm[i - 1]) && TextNormaliser.IsAlphanumeric(norm[i - 1])
        && (hexAllowed || !char.IsAsciiHexDigit(raw[i - 1])) && (i == 1 || !TextNormaliser.IsAlphanumeric(norm[i - 2]));

    private static int GuidShapeLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int start)
    {
        if (start + GuidLength > norm.Length || !EndsToken(norm, start + GuidLength))
        {
            return 0;
        }

        for (var i = 0; i < GuidLength; i++)
        {
            var c = raw[start + i];
            var dash = i is 8 or 13 or 18 or 23;
            if (dash ? c != '-' : !char.IsAsciiHexDigit(c))
            {
                return 0;
            }
        }

        return GuidLength;
    }

    /// <summary>Tokens of exactly 16, 32, 40, 64 or 128 ASCII hex chars, at least one a letter, letters of one case.</summary>
    private static int HexIdLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int start)
    {
        var i = start;
        var lower = false;
        var upper = false;
        while (i < raw.Length && i - start <= 128 && char.IsAsciiHexDigit(raw[i]))
        {
            lower |= char.IsAsciiLetterLower(raw[i]);
            upper |= char.IsAsciiLetterUpper(raw[i]);
            i++;
        }

        var length = i - start;
        if (!EndsToken(norm, i) || !(lower ^ upper) || length is not (16 or 32 or 40 or 64 or 128))
        {
            return 0;
        }

        // A Belgian IBAN (BE + 14 digits) is 16 hex chars too.
        Span<char> iban = stackalloc char[MaxIbanLength];
        return MatchIban(norm, start, SensitiveDataDetectorOptions.Scanning, iban, out _) > 0 ? 0 : length;
    }

    /// <summary>
    /// ISO 8601 <c>yyyy-MM-dd</c>, optionally with <c>T</c> or a space and <c>HH:mm[:ss[.f..f]]</c>, optionally with
    /// <c>Z</c> or <c>±HH[:]mm</c>; every field in range, years 1970-2099. The chars covered, or 0.
    /// </summary>
    private static int DateTimeLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int start)
    {
        var i = start;
        if (!Number(norm, ref i, 4, 1970, 2099) || !Char(raw, ref i, '-') || !Number(norm, ref i, 2, 1, 12)
            || !Char(raw, ref i, '-') || !Number(norm, ref i, 2, 1, 31))
        {
            return 0;
        }

        var date = i;
        if (i < raw.Length && raw[i] is 'T' or 't' or ' ')
        {
            i++;
            var time = TimeLength(norm, raw, i, secondsRequired: false);
            if (time == 0)
            {
                return EndsNumber(norm, date) ? date - start : 0;
            }

            i += time;
            if (i < raw.Length && raw[i] is 'Z' or 'z')
            {
                i++;
            }
            else if (i < raw.Length && raw[i] is '+' or '-')
            {
                var offset = i + 1;
                if (Number(norm, ref offset, 2, 0, 14) && (Char(raw, ref offset, ':') || true) && Number(norm, ref offset, 2, 0, 59))
                {
                    i = offset;
                }
            }
        }

        return EndsNumber(norm, i) ? i - start : 0;
    }

    private static int TimeOfDayLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int start) =>
        TimeLength(norm, raw, start, secondsRequired: true) is var length and > 0 && EndsNumber(norm, start + length) ? length : 0;

    /// <summary><c>HH:mm[:ss[(.|,)f{1,9}]]</c> in range; the chars covered, or 0.</summary>
    private static int TimeLength(ReadOnlySpan<char> norm, ReadOnlySpan<char> raw, int start, bool secondsRequired)
    {
        var i = start;
        if (!Number(norm, ref i, 2, 0, 23) || !Char(raw, ref i, ':') || !Number(norm, ref i, 2, 0, 59))
        {
            return 0;
        }

        var minutes = i;
        if (!Char(raw, ref i, ':') || !Number(norm, ref i, 2, 0, 60))
        {
            return secondsRequired ? 0 : minutes - start;
        }

        var seconds = i;
        if (i < raw.Length && raw[i] is '.' or ',')
        {
            var fraction = i + 1;
            while (fraction < norm.Length && fraction - i - 1 < 9 && TextNormaliser.IsDigit(norm[fraction]))
            {
                fraction++;
            }

            return fraction > i + 1 ? fraction - start : seconds - start;
        }

        return seconds - start;
    }

    private static bool EndsNumber(ReadOnlySpan<char> norm, int at) => at >= norm.Length || !TextNormaliser.IsDigit(norm[at]);

    private static bool Char(ReadOnlySpan<char> raw, ref int i, char expected)
    {
        if (i < raw.Length && raw[i] == expected)
        {
            i++;
            return true;
        }

        return false;
    }

    /// <summary>Exactly <paramref name="digits"/> digits (any script) with a value in [min, max].</summary>
    private static bool Number(ReadOnlySpan<char> norm, ref int i, int digits, int min, int max)
    {
        if (i + digits > norm.Length)
        {
            return false;
        }

        var value = 0;
        for (var k = 0; k < digits; k++)
        {
            var c = norm[i + k];
            if (!TextNormaliser.IsDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        if (value < min || value > max)
        {
            return false;
        }

        i += digits;
        return true;
    }

    // ---- IBAN ---------------------------------------------------------------------------------------------------

    private static void FindIbans(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results, int from = 0, int to = int.MaxValue)
    {
        // Candidates start in [from, to); a match may run past to.
        Span<char> iban = stackalloc char[MaxIbanLength];
        for (var i = from; i + 3 < text.Length && i < to; i++)
        {
            // Scrubbing and scanning: an IBAN starts a token, since a candidate glued to a letter or digit before it is
            // the inside of something else, such as a hex trace id ("660033c3ad434a71...": "AD43..." passes mod-97
            // one time in 97). Validation: anywhere.
            if (!char.IsAsciiLetter(text[i]) || (options.ExemptKnownShapes && i > 0 && TextNormaliser.IsAlphanumeric(text[i - 1])))
            {
                continue;
            }

            var end = MatchIban(text, i, options, iban, out var country);
            if (end == 0 && country is not null && LoneLettersJoin(options))
            {
                end = MatchJoinedIban(text, i, country, options, iban);
            }

            if (end > 0)
            {
                results.Add(new SensitiveDataMatch(SensitiveDataKind.Iban, i, end - i));
                if (options.StopAtFirst)
                {
                    return;
                }

                i = end - 1;
            }
        }
    }

    /// <summary>
    /// The end of an IBAN starting at <paramref name="start"/> (normalised index), or 0; <paramref name="country"/> the
    /// registry country its first two letters name, when they name one.
    /// </summary>
    private static int MatchIban(ReadOnlySpan<char> text, int start, SensitiveDataDetectorOptions options, Span<char> buffer, out IbanCountry? country)
    {
        // The country code and check digits, then the BBAN, skipping separators anywhere.
        var count = 0;
        var i = start;
        var length = MaxIbanLength;
        country = null;
        var upperCase = true;

        // Contiguous, or the paper format (groups of four, single spaces): the only shapes a mistyped IBAN is reported in.
        var paperFormat = true;
        var contiguous = true;
        while (count < length && i < text.Length)
        {
            var c = text[i];
            if (c == TextNormaliser.Separator)
            {
                if (count < 2 && options.ExemptKnownShapes)
                {
                    return 0;
                }

                contiguous = false;
                var single = i + 1 < text.Length && text[i + 1] != TextNormaliser.Separator;
                if (!single && options.MaxSeparatorRun == 1)
                {
                    return 0;
                }

                paperFormat &= count % 4 == 0 && single;
                i++;
                continue;
            }

            if (count > 0 && count % 4 == 0 && i > start && text[i - 1] != TextNormaliser.Separator)
            {
                paperFormat = false;
            }

            var valid = count switch
            {
                0 or 1 => char.IsAsciiLetter(c),
                2 or 3 => TextNormaliser.IsDigit(c),
                _ => TextNormaliser.IsDigit(c) || char.IsAsciiLetter(c),
            };
            if (!valid)
            {
                return 0;
            }

            upperCase &= !char.IsAsciiLetterLower(c);
            buffer[count++] = char.ToUpperInvariant(c);
            i++;
            if (count == 2)
            {
                country = IbanRegistry.Find(buffer[..2]);
                if (country is null)
                {
                    return 0;
                }

                length = country.Length;
            }
        }

        if (count < length || country is null || (options.ExemptKnownShapes && !EndsToken(text, i)))
        {
            return 0;
        }

        // A real IBAN always has its country's BBAN shape (SWIFT IBAN Registry); mod-97 alone passes one candidate in
        // 97, and words glued across separators ("a.d122fc9f.erase@...": "AD12 2FC9...") are candidates by the thousand.
        var iban = buffer[..length];
        if (!country.MatchesBban(iban[4..]))
        {
            return 0;
        }

        var checksumValid = iban[2..4] is not ("00" or "01" or "99") && IbanValidation.Mod97(iban) == 1;
        if (checksumValid)
        {
            return i;
        }

        return !options.IbanRequiresChecksum && upperCase && (contiguous || paperFormat) ? i : 0;
    }

    /// <summary>
    /// The end of an IBAN starting at <paramref name="start"/> whose groups are joined by lone letters, as a PAN's digits
    /// may be (<c>NL91xABNAx0417x1643x00</c>, <c>GB02 k IKLZ k 8019...</c>, <c>NL91жABNA...</c>), or 0. A BBAN holds
    /// letters too, so after the country code every letter that could be a joiner is read both ways, as the IBAN's next
    /// char and as a joiner, and every reading is judged: it must have its country's registry BBAN shape and pass mod 97
    /// (always, in every preset). A joiner is a letter that is not hex (a-f, as for PANs: ids hold hex between digits)
    /// with no letter beside it, or with a letter on one side and a digit on the other (<c>1xA</c>, <c>Ax0</c>), one at
    /// most between two of the IBAN's chars (separators around it are free).
    /// </summary>
    /// <remarks>
    /// The readings are not tried one by one (a text written to be ambiguous would have exponentially many): the
    /// search keeps, for each count of IBAN chars read and whether a joiner was just skipped, the set of BBAN
    /// remainders mod 97 some reading reaches (97 bits). Time is linear in the chars read, times the IBAN's length and
    /// the set sizes: bounded, with no backtracking.
    /// </remarks>
    private static int MatchJoinedIban(ReadOnlySpan<char> text, int start, IbanCountry country, SensitiveDataDetectorOptions options, Span<char> buffer)
    {
        // The country code is two letters side by side (the plain reading found a country in them).
        if (start + 1 >= text.Length || !char.IsAsciiLetter(text[start + 1]))
        {
            return 0;
        }

        // Enough letters and digits must follow for the rest of the IBAN: a cheap test that ends most starts in words.
        var needed = country.Length - 2;
        for (var k = start + 2; k < text.Length && needed > 0; k++)
        {
            if (TextNormaliser.IsAlphanumeric(text[k]))
            {
                needed--;
            }
            else if (text[k] != TextNormaliser.Separator)
            {
                break;
            }
        }

        if (needed > 0)
        {
            return 0;
        }

        buffer[0] = country.Code[0];
        buffer[1] = country.Code[1];

        var length = country.Length;

        // sets[2 * count + joiner]: the BBAN remainders reached with count IBAN chars read, joiner true right after a
        // skipped joiner. Only one of the counts below 4 is ever alive, and the check digits are the same in every
        // reading (digits are never skipped), so they go to the buffer.
        Span<UInt128> sets = stackalloc UInt128[2 * (MaxIbanLength + 1)];
        sets.Clear();
        sets[2 * 2] = UInt128.One;
        var low = 2;
        var high = 2;
        for (var i = start + 2; i < text.Length; i++)
        {
            var c = text[i];
            if (c == TextNormaliser.Separator)
            {
                continue;
            }

            var digit = TextNormaliser.IsDigit(c);
            if (!digit && !TextNormaliser.IsLetter(c))
            {
                return 0;
            }

            var letterBefore = i > 0 && TextNormaliser.IsLetter(text[i - 1]);
            var letterAfter = i + 1 < text.Length && TextNormaliser.IsLetter(text[i + 1]);
            var joiner = !digit && !char.IsAsciiHexDigit(c)
                && (letterBefore
                    ? !letterAfter && i + 1 < text.Length && TextNormaliser.IsDigit(text[i + 1])
                    : !letterAfter || (i > 0 && TextNormaliser.IsDigit(text[i - 1])));
            var upper = char.ToUpperInvariant(c);
            var alive = false;
            var newLow = int.MaxValue;
            var newHigh = -1;
            for (var count = Math.Min(high, length - 1); count >= low; count--)
            {
                var taken = sets[2 * count] | sets[(2 * count) + 1];
                var notAfterJoiner = sets[2 * count];
                sets[2 * count] = sets[(2 * count) + 1] = UInt128.Zero;
                if (taken == UInt128.Zero)
                {
                    continue;
                }

                var kind = count < 4 ? 'n' : country.BbanKinds[count - 4];
                if (digit ? kind != 'a' : kind != 'n' && char.IsAsciiLetter(c))
                {
                    UInt128 next;
                    if (count < 4)
                    {
                        buffer[count] = c;
                        next = taken;
                    }
                    else
                    {
                        next = NextRemainders(taken, digit ? 10 : 100, digit ? c - '0' : upper - 'A' + 10);
                    }

                    if (count + 1 == length)
                    {
                        if (CompletesIban(buffer, next) && (!options.ExemptKnownShapes || EndsToken(text, i + 1)))
                        {
                            return i + 1;
                        }
                    }
                    else
                    {
                        sets[2 * (count + 1)] = next;
                        alive = true;
                        newLow = Math.Min(newLow, count + 1);
                        newHigh = Math.Max(newHigh, count + 1);
                    }
                }

                if (joiner && notAfterJoiner != UInt128.Zero)
                {
                    sets[(2 * count) + 1] = notAfterJoiner;
                    alive = true;
                    newLow = Math.Min(newLow, count);
                    newHigh = Math.Max(newHigh, count);
                }
            }

            if (!alive)
            {
                return 0;
            }

            low = newLow;
            high = newHigh;
        }

        return 0;
    }

    /// <summary>The set <c>{(r * multiplier + add) mod 97 : r in remainders}</c>.</summary>
    private static UInt128 NextRemainders(UInt128 remainders, int multiplier, int add)
    {
        var next = UInt128.Zero;
        while (remainders != UInt128.Zero)
        {
            var r = (int)UInt128.TrailingZeroCount(remainders);
            remainders &= remainders - UInt128.One;
            next |= UInt128.One << (((r * multiplier) + add) % 97);
        }

        return next;
    }

    /// <summary>
    /// True when some BBAN remainder of <paramref name="remainders"/>, followed by the country code and check digits in
    /// <paramref name="buffer"/>[..4], makes the ISO 7064 mod 97 remainder 1 (check digits 00, 01 and 99 never occur).
    /// </summary>
    private static bool CompletesIban(ReadOnlySpan<char> buffer, UInt128 remainders)
    {
        if (buffer[2..4] is "00" or "01" or "99")
        {
            return false;
        }

        // The country's letters are two digits each (A = 10), then the two check digits.
        var tail = ((buffer[0] - 'A' + 10) * 10_000) + ((buffer[1] - 'A' + 10) * 100) + ((buffer[2] - '0') * 10) + (buffer[3] - '0');
        for (var r = 0; r < 97; r++)
        {
            if ((remainders & (UInt128.One << r)) != UInt128.Zero && ((r * 1_000_000L) + tail) % 97 == 1)
            {
                return true;
            }
        }

        return false;
    }

    // ---- PAN ----------------------------------------------------------------------------------------------------

    private static void FindPans(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results, int ibanFirst, int ibanCount)
    {
        // Positions of the last MaxPanDigits digits of the current chain, as a ring.
        Span<int> ring = stackalloc int[MaxPanDigits];
        var count = 0;
        var head = 0;
        var separators = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == TextNormaliser.Separator)
            {
                if (++separators == options.MaxSeparatorRun + 1 && options.MaxSeparatorRun > 0)
                {
                    count = 0;
                }

                continue;
            }

            separators = 0;

            if (!TextNormaliser.IsDigit(c))
            {
                // A letter or a breaker ends the chain.
                count = 0;
                continue;
            }

            ring[head] = i;
            head = (head + 1) % MaxPanDigits;
            count = Math.Min(count + 1, MaxPanDigits);
            if (count < MinPanDigits)
            {
                continue;
            }

            // Every window ending at this digit: the Luhn sum grows leftwards one digit at a time.
            var sum = 0;
            for (var k = 0; k < count; k++)
            {
                var position = ring[(head - 1 - k + (2 * MaxPanDigits)) % MaxPanDigits];
                var d = text[position] - '0';
                if (k % 2 == 1)
                {
                    d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
                }

                sum += d;
                if (k + 1 < MinPanDigits || sum % 10 != 0)
                {
                    continue;
                }

                // A window inside an IBAN is the IBAN's; one that reaches past it (an IBAN made by chance of letters
                // before a PAN and its first digits) is still a PAN, so the rest of it is masked too.
                var match = new SensitiveDataMatch(SensitiveDataKind.Pan, position, i + 1 - position);
                if (!InsideAny(results, ibanFirst, ibanCount, match.Start, match.End))
                {
                    results.Add(match);
                    if (options.StopAtFirst)
                    {
                        return;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Contiguous timestamps that a Luhn check would otherwise flag one time in ten: yyyyMMddHHmm, yyyyMMddHHmmss and
    /// yyyyMMddHHmmssfff (years 1970-2099), and Unix epoch milli-, micro- or nanoseconds (13, 16 or 19 digits
    /// starting with 1, i.e. 2001-2033). No PAN brand starts with 1 at those lengths or with 19/20 at 12, 14 or 17.
    /// Exempt in scrubbing and scanning only.
    /// </summary>
    internal static bool LooksLikeTimestamp(ReadOnlySpan<char> digits)
    {
        if (digits.Length is 13 or 16 or 19)
        {
            return digits[0] == '1';
        }

        if (digits.Length is not (12 or 14 or 17))
        {
            return false;
        }

        var year = Digits.ValueOf(digits[..4]);
        var month = Digits.ValueOf(digits[4..6]);
        var day = Digits.ValueOf(digits[6..8]);
        var hour = Digits.ValueOf(digits[8..10]);
        var minute = Digits.ValueOf(digits[10..12]);
        var second = digits.Length >= 14 ? Digits.ValueOf(digits[12..14]) : 0;
        return year is >= 1970 and <= 2099 && month is >= 1 and <= 12 && day is >= 1 and <= 31
            && hour <= 23 && minute <= 59 && second <= 60;
    }

    // ---- CVC and account numbers --------------------------------------------------------------------------------

    private static void FindCvcAfterPans(
        ReadOnlySpan<char> text, List<(int Start, int End)> panRegions, List<(int Start, int End)> covered, List<SensitiveDataMatch> found)
    {
        foreach (var (_, end) in panRegions)
        {
            var limit = Math.Min(text.Length, end + CvcAfterPanDistance + 1);
            var i = end;
            while (i < limit)
            {
                if (!TextNormaliser.IsDigit(text[i]))
                {
                    i++;
                    continue;
                }

                var runEnd = i;
                while (runEnd < text.Length && TextNormaliser.IsDigit(text[runEnd]))
                {
                    runEnd++;
                }

                var length = runEnd - i;
                var standsAlone = i > 0 && !TextNormaliser.IsAlphanumeric(text[i - 1]);
                var year = length == 4 && Digits.ValueOf(text.Slice(i, 4)) is >= 1900 and <= 2099;
                if (standsAlone && length is 3 or 4 && !year && !Overlaps(covered, i, runEnd))
                {
                    found.Add(new SensitiveDataMatch(SensitiveDataKind.Cvc, i, length));
                    break;
                }

                i = runEnd;
            }
        }
    }

    private static void FindLabelledCvcs(
        ReadOnlySpan<char> text,
        ReadOnlySpan<char> raw,
        SensitiveDataDetectorOptions options,
        List<(int Start, int End)> panRegions,
        List<(int Start, int End)> covered,
        List<SensitiveDataMatch> found)
    {
        var loose = LooseLabels(options);
        Span<char> letters = stackalloc char[MaxLabelLetters];
        Span<int> ends = stackalloc int[MaxLabelLetters];
        for (var i = 0; i + 3 <= text.Length; i++)
        {
            if (!StartsLabel(text, raw, i, CvcLabelStarts))
            {
                continue;
            }

            var j = LabelEnd(text, raw, i, CvcLabels, loose, letters, ends);
            if (j < 0)
            {
                continue;
            }

            j = PluralEnd(text, raw, i, j);

            // The 2 of CVV2, glued or, read loosely, apart and before the number (c v v 2 0471).
            var apartTwo = -1;
            if (j < text.Length && text[j] == '2')
            {
                j++;
            }
            else if (loose && SkipSeparators(text, j, loose) is var two && two > j && two < text.Length && text[two] == '2'
                && (two + 1 == text.Length || !TextNormaliser.IsDigit(text[two + 1])))
            {
                apartTwo = two + 1;
            }

            // The 2 apart is the label's when the digits after the label are no CVC in whole groups with it (cvv 2 0471
            // is 0471, not 2047; CID 2 4 22 is 2422), before the CVC is read from the first four digits.
            j = SuffixEnd(text, raw, j, loose, letters, ends);
            var afterTwo = apartTwo >= 0 ? SuffixEnd(text, raw, apartTwo, loose, letters, ends) : -1;
            if (TryValueAfterLabel(text, j, loose, 3, 4, out var valueStart, out var valueEnd, cut: false)
                || (afterTwo >= 0 && TryValueAfterLabel(text, afterTwo, loose, 3, 4, out valueStart, out valueEnd))
                || TryValueAfterLabel(text, j, loose, 3, 4, out valueStart, out valueEnd))
            {
                AddLabelledCvc(options, panRegions, covered, found, i, valueStart, valueEnd);
            }
            else if (loose && EndsLabel(text, afterTwo >= 0 ? afterTwo : j) && TryValueBeforeLabel(text, DigitCountStart(text, raw, i), 3, 4, out valueStart, out valueEnd))
            {
                // A label right after its number, the label word ended there and no number of its own after it
                // (123 (cvc), 0471_cvv2, 123 cvc; not the year in "exp 2030 cvc 123"). The digit of "3-digit code" is
                // the label's, not the number's (123-(3-digit-code) is 123).
                AddLabelledCvc(options, panRegions, covered, found, i, valueStart, valueEnd);
            }
        }
    }

    /// <summary>
    /// Where a label at <paramref name="start"/> begins for reading the number before it: at the lone digit of
    /// <c>3-digit code</c> (a digit with no digit glued before it, separators apart from <c>digit</c>), else
    /// <paramref name="start"/>.
    /// </summary>
    private static int DigitCountStart(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int start)
    {
        if ((LabelLetter(text, raw, start) | 0x20) != 'd')
        {
            return start;
        }

        var i = start - 1;
        while (i >= 0 && text[i] == TextNormaliser.Separator)
        {
            i--;
        }

        return i >= 0 && TextNormaliser.IsDigit(text[i]) && (i == 0 || !TextNormaliser.IsDigit(text[i - 1])) ? i : start;
    }

    /// <summary>
    /// True when the label ending at <paramref name="end"/> ends its word and labels nothing after it: no letter glued
    /// on, and after any separators no digit and no breaker (a mask the scrubber wrote, an exempt shape), so
    /// <c>exp 12/30 cvc 123</c> and <c>exp 12/30 cvc [CVC ***]</c> do not make the expiry a CVC.
    /// </summary>
    private static bool EndsLabel(ReadOnlySpan<char> text, int end)
    {
        if (end < text.Length && TextNormaliser.IsLetter(text[end]))
        {
            return false;
        }

        var next = SkipSeparators(text, end, loose: true);
        return next >= text.Length || (text[next] != TextNormaliser.Breaker && !TextNormaliser.IsDigit(text[next]));
    }

    private static void AddLabelledCvc(
        SensitiveDataDetectorOptions options,
        List<(int Start, int End)> panRegions,
        List<(int Start, int End)> covered,
        List<SensitiveDataMatch> found,
        int label,
        int valueStart,
        int valueEnd)
    {
        if (Overlaps(covered, valueStart, valueEnd)
            || (options.CvcLabelRequiresPan && !Near(panRegions, Math.Min(label, valueStart), Math.Max(label, valueEnd), CvcLabelPanDistance)))
        {
            return;
        }

        found.Add(new SensitiveDataMatch(SensitiveDataKind.Cvc, valueStart, valueEnd - valueStart));
    }

    private static void FindLabelledAccounts(
        ReadOnlySpan<char> text,
        ReadOnlySpan<char> raw,
        SensitiveDataDetectorOptions options,
        List<(int Start, int End)> covered,
        List<SensitiveDataMatch> found)
    {
        var loose = LooseLabels(options);
        var lastCodeStart = -1;
        Span<char> letters = stackalloc char[MaxLabelLetters];
        Span<int> ends = stackalloc int[MaxLabelLetters];
        for (var i = 0; i + 3 <= text.Length; i++)
        {
            if (!StartsLabel(text, raw, i, AccountLabelStarts))
            {
                continue;
            }

            int valueStart, valueEnd;
            var j = AccountLabelEnd(text, raw, i, loose, letters, ends);
            if (j >= 0)
            {
                if (TryValueAfterLabel(text, j, loose, MinAccountDigits, MaxAccountDigits, out valueStart, out valueEnd))
                {
                    AddAccount(covered, found, valueStart, valueEnd);
                }
                else if (loose && EndsLabel(text, j)
                    && TryValueBeforeLabel(text, i, MinAccountDigits, MaxAccountDigits, out valueStart, out valueEnd))
                {
                    // A label right after its number, the label word ended there and no number of its own after it
                    // (00012345 (acct), 000123456789 konto; not the sort code in "sort code 108800 account 00012345").
                    AddAccount(covered, found, valueStart, valueEnd);
                }
            }
            else if ((j = LabelEnd(text, raw, i, BankCodeLabels, loose, letters, ends)) >= 0
                && StandsApart(text, i, j = SuffixEnd(text, raw, j, loose, letters, ends)))
            {
                if (TryAccountAfterBankCode(text, raw, j, loose, letters, ends, out valueStart, out valueEnd))
                {
                    AddAccount(covered, found, valueStart, valueEnd);
                }
                else if (loose && TryValueAfterLabel(text, j, loose, BankCodeDigits.Min, BankCodeDigits.Max, out var codeStart, out var codeEnd, wholeChain: true))
                {
                    // The account right before a bank code's label and its code (00012345 sort code 108800), unless that
                    // number is the code of the bank code label before it (routing 110000000, bsb 000-000).
                    if (TryValueBeforeLabel(text, i, MinAccountDigits, MaxAccountDigits, out valueStart, out valueEnd) && valueStart != lastCodeStart)
                    {
                        AddAccount(covered, found, valueStart, valueEnd);
                    }

                    lastCodeStart = codeStart;
                }
            }
        }
    }

    private static void AddAccount(List<(int Start, int End)> covered, List<SensitiveDataMatch> found, int valueStart, int valueEnd)
    {
        if (!Overlaps(covered, valueStart, valueEnd))
        {
            found.Add(new SensitiveDataMatch(SensitiveDataKind.AccountNumber, valueStart, valueEnd - valueStart));
        }
    }

    /// <summary>
    /// The index after an account label (<see cref="AccountLabels"/>, then a suffix, or <c>a/c</c>) at
    /// <paramref name="start"/> that <see cref="StandsApart"/>, or -1.
    /// </summary>
    private static int AccountLabelEnd(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int start, bool loose, Span<char> letters, Span<int> ends)
    {
        var end = LabelEnd(text, raw, start, AccountLabels, loose, letters, ends) is >= 0 and var label
            ? SuffixEnd(text, raw, PluralEnd(text, raw, start, label), loose, letters, ends)
            : SlashAccountEnd(text, raw, start, loose);
        return end >= 0 && StandsApart(text, start, end) ? end : -1;
    }

    /// <summary>
    /// A label spelled in hex letters only (<c>acc</c>, <c>ABA</c>) or of three letters at most (<c>kto</c>) is also
    /// the inside of hex ids and random ids (<c>3acc0414</c>, <c>acc98511</c>, <c>pm_kTo7m66160...</c>): it counts only
    /// when nothing alphanumeric is glued before it and a separator or the end of the text follows it. Other labels
    /// always count.
    /// </summary>
    private static bool StandsApart(ReadOnlySpan<char> text, int start, int end)
    {
        var letters = 0;
        var hexOnly = true;
        foreach (var c in text[start..end])
        {
            letters += c == TextNormaliser.Separator ? 0 : 1;
            hexOnly &= c == TextNormaliser.Separator || char.IsAsciiHexDigit(c);
        }

        if (letters > 3 && !hexOnly)
        {
            return true;
        }

        return (start == 0 || !TextNormaliser.IsAlphanumeric(text[start - 1])) && (end == text.Length || text[end] == TextNormaliser.Separator);
    }

    /// <summary>
    /// The index after <c>a/c</c> (any case, the slash as typed; read loosely, other separators may stand beside the
    /// slash: <c>a / c</c>, <c>a</c> ZWJ <c>/</c> ZWJ <c>c</c>) at <paramref name="start"/>, or -1. Only with its slash:
    /// <c>AC</c> alone is also a Brazilian state before a postal code, and <c>a c</c> is two words.
    /// </summary>
    private static int SlashAccountEnd(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int start, bool loose)
    {
        if ((LabelLetter(text, raw, start) | 0x20) != 'a')
        {
            return -1;
        }

        var c = start + 1;
        var slash = false;
        while (c < text.Length && text[c] == TextNormaliser.Separator && (loose || c == start + 1))
        {
            slash |= raw[c] == '/';
            c++;
        }

        return slash && c < text.Length && (LabelLetter(text, raw, c) | 0x20) == 'c' && (c + 1 == text.Length || LabelLetter(text, raw, c + 1) == '\0')
            ? c + 1
            : -1;
    }

    /// <summary>
    /// After a bank code's label: the code (6-9 digits: sort code and BSB 6, routing number 9) and, joined to it by single
    /// separators, or apart by up to <see cref="MaxLabelGap"/> separators and an account label glued or not
    /// (<c>routing110000000acc000123456789</c>), 4-17 digits of account number. The range is the account (with the code
    /// when the two are one chain of digits).
    /// </summary>
    private static bool TryAccountAfterBankCode(
        ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int labelEnd, bool loose, Span<char> letters, Span<int> ends, out int start, out int end)
    {
        var (minCodeDigits, maxCodeDigits) = BankCodeDigits;
        if (!TryValueAfterLabel(text, labelEnd, loose, minCodeDigits, maxCodeDigits + MaxAccountDigits, out start, out end, wholeChain: true))
        {
            return false;
        }

        var digits = 0;
        foreach (var c in text[start..end])
        {
            digits += TextNormaliser.IsDigit(c) ? 1 : 0;
        }

        if (digits >= minCodeDigits + MinAccountDigits)
        {
            // One chain longer than any code holds the account too.
            return true;
        }

        if (digits > maxCodeDigits)
        {
            return false;
        }

        // A code alone: the account may follow, after separators and an account label of any spelling.
        var next = SkipSeparators(text, end, loose);
        if (next < text.Length && LabelLetter(text, raw, next) != '\0')
        {
            var label = LabelEnd(text, raw, next, AccountLabels, loose, letters, ends) is >= 0 and var word
                ? SuffixEnd(text, raw, word, loose, letters, ends)
                : SlashAccountEnd(text, raw, next, loose);
            if (label < 0)
            {
                return false;
            }

            next = label;
        }

        return TryValueAfterLabel(text, next, loose, MinAccountDigits, MaxAccountDigits, out start, out end);
    }

    /// <summary>
    /// The index after the plural or possessive ending of the label from <paramref name="start"/> to
    /// <paramref name="labelEnd"/> that ends the letters there, else <paramref name="labelEnd"/>: an <c>s</c>, glued or
    /// after an apostrophe, on a label that ends in one of <see cref="PluralLabels"/> (<c>accounts</c>,
    /// <c>account's</c>, <c>bank accounts</c>, <c>cvcs</c>, <c>cvc’s</c>, <c>cuentas</c>), and the <c>n</c> of
    /// <c>Kontonummern</c>. Not on other labels: <c>Kontoš</c> and <c>Kontos</c> are names, and <c>accs</c> and
    /// <c>ktos</c> are inside random ids.
    /// </summary>
    private static int PluralEnd(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int start, int labelEnd)
    {
        if (labelEnd >= text.Length)
        {
            return labelEnd;
        }

        var at = labelEnd;
        if (text[at] == TextNormaliser.Separator && raw[at] is '\'' or '\u2019' && at + 1 < text.Length)
        {
            at++;
        }

        var letter = LabelLetter(text, raw, at) | 0x20;
        if ((letter != 's' && (letter != 'n' || at != labelEnd)) || (at + 1 < text.Length && LabelLetter(text, raw, at + 1) != '\0'))
        {
            return labelEnd;
        }

        // The label's letters, lower case, without the separators between them.
        Span<char> spelled = stackalloc char[MaxLabelLetters];
        var count = 0;
        for (var i = labelEnd - 1; i >= start && count < spelled.Length; i--)
        {
            if (LabelLetter(text, raw, i) is not '\0' and var c)
            {
                spelled[spelled.Length - ++count] = (char)(c | 0x20);
            }
        }

        var word = spelled[^count..];
        if (letter == 'n')
        {
            return word.EndsWith("kontonummer") ? at + 1 : labelEnd;
        }

        foreach (var plural in PluralLabels)
        {
            if (word.EndsWith(plural))
            {
                return at + 1;
            }
        }

        return labelEnd;
    }

    /// <summary>
    /// The index after a word of <see cref="LabelSuffixes"/> at <paramref name="labelEnd"/> (glued or after up to three
    /// separators) that ends the letters there, else <paramref name="labelEnd"/>.
    /// </summary>
    private static int SuffixEnd(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int labelEnd, bool loose, Span<char> letters, Span<int> ends)
    {
        // Abbreviations end in a dot (Kto.-Nr., acc. no.): up to three separators before the suffix (any, read loosely).
        var at = labelEnd;
        while (at < text.Length && (loose || at - labelEnd < 3) && text[at] == TextNormaliser.Separator)
        {
            at++;
        }

        if (at >= text.Length || LabelLetter(text, raw, at) == '\0')
        {
            return labelEnd;
        }

        var end = LabelEnd(text, raw, at, LabelSuffixes, loose, letters, ends);
        return end > 0 && (end >= text.Length || LabelLetter(text, raw, end) == '\0') ? end : labelEnd;
    }

    /// <summary>
    /// The letter a label reads at <paramref name="i"/>: an ASCII letter (decorative letters such as <c>ᴄ</c> or
    /// <c>🅒</c> are already one in the text labels are read in), a Latin letter with diacritics or a stroke as its base
    /// letter in its case (<see cref="TextNormaliser.LatinBaseLetter"/>: <c>Ç</c> is <c>C</c>, <c>č</c> is <c>c</c>),
    /// else '\0'.
    /// </summary>
    private static char LabelLetter(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int i) =>
        char.IsAsciiLetter(text[i]) ? text[i] : text[i] == TextNormaliser.OtherLetter ? TextNormaliser.LatinBaseLetter(raw[i]) : '\0';

    /// <summary>
    /// True when a label may start at <paramref name="i"/>: a letter it reads (<see cref="LabelLetter"/>: an accented
    /// first letter too, <c>Çvc</c>) that is one of <paramref name="starts"/>, with no Latin letter glued before it (a
    /// label is a word: not <c>Acvc</c>, not <c>Đặng</c> read from its ặ). A letter of another script before it does not
    /// count (text in scripts without spaces holds labels glued to it: <c>卡cvc 123</c>).
    /// </summary>
    private static bool StartsLabel(ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int i, SearchValues<char> starts) =>
        LabelLetter(text, raw, i) is var first && first != '\0' && starts.Contains(first) && (i == 0 || LabelLetter(text, raw, i - 1) == '\0');

    /// <summary>The first letters of <paramref name="labels"/>, in both cases (a capitals-only label in capitals).</summary>
    private static SearchValues<char> StartsOf(string[] labels)
    {
        var starts = new HashSet<char>();
        foreach (var label in labels)
        {
            starts.Add(label[0]);
            if (label.AsSpan().ContainsAnyExceptInRange('A', 'Z'))
            {
                starts.Add(char.ToUpperInvariant(label[0]));
            }
        }

        return SearchValues.Create([.. starts]);
    }

    /// <summary>
    /// The index after the longest of <paramref name="labels"/> that the letters from <paramref name="start"/> spell,
    /// read case-insensitively with single separators between letters ignored (<c>C.V.V.</c>, <c>c v v</c>,
    /// <c>security code</c>, <c>a/c</c> are <c>cvv</c>, <c>securitycode</c> and <c>ac</c>), and any run of them when
    /// <paramref name="loose"/> (<c>s e c u r i t y   c o d e</c>, <c>C. V. V</c>; a joiner U+200D or a combining mark
    /// on each letter is a separator too), and accented Latin letters read as their base letter (<c>Prüfnummer</c> is
    /// <c>prufnummer</c>); -1 when none. A label written in capitals only (<c>CID</c>, which is also a name) counts only
    /// in capitals.
    /// </summary>
    private static int LabelEnd(
        ReadOnlySpan<char> text, ReadOnlySpan<char> raw, int start, ReadOnlySpan<string> labels, bool loose, Span<char> letters, Span<int> ends)
    {
        // Letters beyond the longest label cannot change the answer.
        var longest = 0;
        foreach (var label in labels)
        {
            longest = Math.Max(longest, label.Length);
        }

        var count = 0;
        var i = start;
        var limit = Math.Min(letters.Length, longest);
        while (i < text.Length && count < limit)
        {
            if (LabelLetter(text, raw, i) is not '\0' and var letter)
            {
                letters[count] = letter;
                ends[count++] = i + 1;
                i++;
            }
            else if (text[i] == TextNormaliser.Separator && count > 0
                && SkipSeparators(text, i, loose) is var next && next < text.Length && (loose || next == i + 1) && LabelLetter(text, raw, next) != '\0')
            {
                i = next;
            }
            else
            {
                break;
            }
        }

        var best = -1;
        foreach (var label in labels)
        {
            // Most labels differ in their first letter: that test first, as this runs at every word of every text.
            if (label.Length > count || label.Length <= best || (label[0] | 0x20) != (letters[0] | 0x20))
            {
                continue;
            }

            var capitalsOnly = !label.AsSpan().ContainsAnyExceptInRange('A', 'Z');
            var spelled = capitalsOnly
                ? letters[..label.Length].SequenceEqual(label)
                : letters[..label.Length].Equals(label, StringComparison.OrdinalIgnoreCase);
            if (spelled)
            {
                best = label.Length;
            }
        }

        return best < 0 ? -1 : ends[best - 1];
    }

    /// <summary>
    /// The index of the first char from <paramref name="i"/> on that is not a separator: any run when
    /// <paramref name="loose"/>, else at most <see cref="MaxLabelGap"/> separators.
    /// </summary>
    private static int SkipSeparators(ReadOnlySpan<char> text, int i, bool loose)
    {
        var from = i;
        while (i < text.Length && (loose || i - from < MaxLabelGap) && text[i] == TextNormaliser.Separator)
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// Before a label read loosely: a run of one or more separators (or brackets), then a labelled value read towards the
    /// start of the text (<see cref="TryValue"/>). Glued to its number a label after it is not read: random ids hold
    /// <c>123cvc</c> and <c>4097acct</c> by chance (a label before its number may be glued, as it always could).
    /// </summary>
    private static bool TryValueBeforeLabel(ReadOnlySpan<char> text, int labelStart, int min, int max, out int start, out int end)
    {
        start = end = 0;
        var i = labelStart - 1;
        while (i >= 0 && text[i] == TextNormaliser.Separator)
        {
            i--;
        }

        if (i < 0 || i == labelStart - 1 || !TextNormaliser.IsDigit(text[i]))
        {
            return false;
        }

        if (!TryValue(text, i, -1, loose: true, min, max, wholeChain: false, cut: true, out var far))
        {
            return false;
        }

        (start, end) = (far, i + 1);
        return true;
    }

    /// <summary>
    /// After a label: up to <see cref="MaxLabelGap"/> separators (any run when <paramref name="loose"/>), then a labelled
    /// value (<see cref="TryValue"/>; the whole chain of digits when <paramref name="wholeChain"/>, whole groups only
    /// unless <paramref name="cut"/>).
    /// </summary>
    private static bool TryValueAfterLabel(
        ReadOnlySpan<char> text, int labelEnd, bool loose, int min, int max, out int start, out int end, bool wholeChain = false, bool cut = true)
    {
        start = end = 0;
        var i = SkipSeparators(text, labelEnd, loose);
        if (i >= text.Length || !TextNormaliser.IsDigit(text[i]))
        {
            return false;
        }

        if (!TryValue(text, i, 1, loose, min, max, wholeChain, cut, out var far))
        {
            return false;
        }

        (start, end) = (i, far + 1);
        return true;
    }

    /// <summary>
    /// A labelled value from the digit at <paramref name="first"/> (the one nearest the label), read away from the label
    /// (<paramref name="step"/> 1 or -1) as the card-number search reads digits: groups of digits joined by any run of
    /// separators when <paramref name="loose"/> (a stretch of lone letters is one, <see cref="TextNormaliser.SeparateLoneLetterStretches"/>),
    /// else by single ones; a letter (a hex letter, a run of letters) or a breaker ends it. With
    /// <paramref name="wholeChain"/> the chain must hold <paramref name="min"/>-<paramref name="max"/> digits. Else the
    /// value is the digits nearest the label, whatever follows them: the whole groups that hold at most
    /// <paramref name="max"/> digits, or, when those are fewer than <paramref name="min"/> and <paramref name="cut"/>, the
    /// first <paramref name="max"/> digits (<c>cvc 739 12</c> is the CVC 739, <c>cvc 12 345</c> the CVC 1234); a first group
    /// longer than <paramref name="max"/> is another number (<c>cvc 12345</c>). <paramref name="far"/> is the index of
    /// the value's digit farthest from the label.
    /// </summary>
    private static bool TryValue(ReadOnlySpan<char> text, int first, int step, bool loose, int min, int max, bool wholeChain, bool cut, out int far)
    {
        far = first;
        var digits = 0;
        var wholeDigits = 0;
        var maxFar = first;
        var i = first;
        while (true)
        {
            var group = 0;
            while ((uint)i < (uint)text.Length && TextNormaliser.IsDigit(text[i]))
            {
                if (++digits == max)
                {
                    maxFar = i;
                }

                group++;
                i += step;
            }

            if (digits > max)
            {
                // Past the most digits a value holds: the chain is another number (whole chain, or a first group too
                // long), or the value ends before this group.
                if (wholeChain || group == digits)
                {
                    return false;
                }

                break;
            }

            wholeDigits = digits;
            far = i - step;
            var next = i;
            while ((uint)next < (uint)text.Length && text[next] == TextNormaliser.Separator && (loose || next == i))
            {
                next += step;
            }

            if (next == i || (uint)next >= (uint)text.Length || !TextNormaliser.IsDigit(text[next]))
            {
                break;
            }

            i = next;
        }

        if (wholeDigits >= min)
        {
            return true;
        }

        if (cut && digits > max)
        {
            // The whole groups are too few: the first max digits.
            far = maxFar;
            return true;
        }

        return false;
    }

    // ---- ranges -------------------------------------------------------------------------------------------------

    /// <summary>The union of the matches results[from..to) (ordered by start) as disjoint ordered ranges.</summary>
    private static List<(int Start, int End)> Covered(List<SensitiveDataMatch> results, int from, int to)
    {
        var ranges = new List<(int Start, int End)>();
        var ordered = results.GetRange(from, to - from);
        ordered.Sort(StartComparer.Instance);
        foreach (var match in ordered)
        {
            if (ranges.Count > 0 && match.Start < ranges[^1].End)
            {
                ranges[^1] = (ranges[^1].Start, Math.Max(ranges[^1].End, match.End));
            }
            else
            {
                ranges.Add((match.Start, match.End));
            }
        }

        return ranges;
    }

    /// <summary>True when [start, end) overlaps one of the disjoint ordered ranges.</summary>
    private static bool Overlaps(List<(int Start, int End)> ranges, int start, int end)
    {
        // The first range ending after start; it overlaps when it begins before end.
        int low = 0, high = ranges.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (ranges[mid].End <= start)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low < ranges.Count && ranges[low].Start < end;
    }

    private static bool Near(List<(int Start, int End)> ranges, int start, int end, int distance) =>
        Overlaps(ranges, Math.Max(0, start - distance), end + distance);

    /// <summary>True when [start, end) lies wholly inside one of the IBAN matches (disjoint, ordered by start).</summary>
    private static bool InsideAny(List<SensitiveDataMatch> results, int first, int count, int start, int end)
    {
        int low = first, high = first + count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (results[mid].End <= start)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low < first + count && results[low].Start <= start && end <= results[low].End;
    }

    private sealed class StartComparer : IComparer<SensitiveDataMatch>
    {
        public static readonly StartComparer Instance = new();

        public int Compare(SensitiveDataMatch x, SensitiveDataMatch y)
        {
            var byStart = x.Start.CompareTo(y.Start);
            return byStart != 0 ? byStart : x.Length.CompareTo(y.Length);
        }
    }
}
