using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// The last-line log scrubber: masks card and bank data in any text and keeps log lines on one line. It runs on
/// every value the server's log formatter writes, after data classification and redaction have done their part, to
/// catch what slipped through (an exception message that quotes input, a value logged by a library).
/// </summary>
/// <remarks>
/// <para>What <see cref="SensitiveDataDetector"/> finds (with <see cref="SensitiveDataDetectorOptions.Scrubbing"/>) is
/// replaced, separators included:</para>
/// <list type="bullet">
/// <item>a PAN by <c>[PAN ****4242]</c> (its last four digits only, which PCI DSS 3.4.1 allows), or <c>[PAN ****]</c>
/// when the chain holds more digits than a PAN can (its last four might be an expiry or a CVC);</item>
/// <item>an IBAN by <c>[IBAN ****3000]</c>;</item>
/// <item>a CVC by <c>[CVC ***]</c>;</item>
/// <item>an account number by <c>[ACCOUNT ****6789]</c>, or <c>[ACCOUNT ****]</c> below eight digits.</item>
/// </list>
/// <para>
/// Control characters (CR, LF, tab and the rest of C0, DEL, NEL, U+2028, U+2029) become spaces before detection, so a
/// number split across lines is joined and found, and a caller cannot forge a second log line.
/// </para>
/// <para>
/// Idempotent: <c>Scrub(Scrub(x)) == Scrub(x)</c> (a mask holds at most four digits and the detector reads the scrubber's own masks as the end of a number).
/// Linear in the text length; ASCII text without digits or control characters is returned as is without allocating.
/// It never throws: should detection ever fail, the whole text is withheld as <c>[withheld: N chars]</c>.
/// </para>
/// </remarks>
public static class SensitiveDataScrubber
{
    private static readonly SearchValues<char> DigitsAndControls = SearchValues.Create(
        "0123456789\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F\u007F\u0085\u2028\u2029");

    [ThreadStatic]
    private static List<SensitiveDataMatch>? matchesCache;

    /// <summary>
    /// Masks card and bank data in <paramref name="text"/> and replaces every control character and line separator
    /// by a space. Null stays null.
    /// </summary>
    /// <param name="text">Any text, e.g. a formatted log message or a caller-supplied string about to be logged.</param>
    /// <returns>The scrubbed text; the same instance when nothing needed to change.</returns>
    [return: NotNullIfNotNull(nameof(text))]
    [SuppressMessage(
        "Design",
        "CA1031:Do not catch general exception types",
        Justification = "The last line of defence must fail closed, never open: any failure withholds the whole text instead of logging it raw or throwing into the logger.")]
    public static string? Scrub(string? text)
    {
        // Digits of other scripts hide only outside ASCII.
        if (text is null || (text.AsSpan().IndexOfAny(DigitsAndControls) < 0 && Ascii.IsValid(text)))
        {
            return text;
        }

        try
        {
            return ScrubCore(text);
        }
        catch (Exception)
        {
            return "[withheld: " + text.Length.ToString(CultureInfo.InvariantCulture) + " chars]";
        }
    }

    private static string ScrubCore(string text)
    {
        char[]? normalised = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (IsReplacedControl(text[i]))
            {
                normalised ??= text.ToCharArray();
                normalised[i] = ' ';
            }
        }

        ReadOnlySpan<char> source = normalised ?? text.AsSpan();
        var matches = matchesCache ??= [];
        matches.Clear();
        SensitiveDataDetector.Find(source, SensitiveDataDetectorOptions.Scrubbing, matches);
        if (matches.Count == 0)
        {
            return normalised is null ? text : new string(normalised);
        }

        var output = new StringBuilder(source.Length + (16 * matches.Count));
        var position = 0;
        var k = 0;
        while (k < matches.Count)
        {
            // Overlapping matches (PAN candidates of one chain) become one mask.
            var start = matches[k].Start;
            var end = matches[k].End;
            var kind = matches[k].Kind;
            for (k++; k < matches.Count && matches[k].Start < end; k++)
            {
                end = Math.Max(end, matches[k].End);
                kind = Stronger(kind, matches[k].Kind);
            }

            output.Append(source[position..start]);
            // Its last four are shown only when the chain could be one PAN: in a longer one (a PAN, then an expiry or a
            // CVC) they may be the CVC's.
            var merged = new SensitiveDataMatch(kind, start, end - start);
            var onePan = kind != SensitiveDataKind.Pan || merged.Normalised(source).Length <= SensitiveDataDetector.MaxPanDigits;
            AppendMask(output, kind, merged, source, onePan);
            position = end;
        }

        output.Append(source[position..]);
        matches.Clear();
        return output.ToString();
    }

    private static bool IsReplacedControl(char c) => c is < ' ' or '\u007F' or '\u0085' or '\u2028' or '\u2029';

    private static SensitiveDataKind Stronger(SensitiveDataKind a, SensitiveDataKind b) => Rank(a) >= Rank(b) ? a : b;

    private static int Rank(SensitiveDataKind kind) => kind switch
    {
        SensitiveDataKind.Pan => 4,
        SensitiveDataKind.Iban => 3,
        SensitiveDataKind.AccountNumber => 2,
        _ => 1,
    };

    private static void AppendMask(StringBuilder output, SensitiveDataKind kind, SensitiveDataMatch match, ReadOnlySpan<char> source, bool oneEnd)
    {
        switch (kind)
        {
            case SensitiveDataKind.Pan:
                output.Append("[PAN ****").Append(oneEnd ? match.LastFour(source) : string.Empty).Append(']');
                break;
            case SensitiveDataKind.Iban:
                output.Append("[IBAN ****").Append(match.LastFour(source)).Append(']');
                break;
            case SensitiveDataKind.AccountNumber:
                output.Append("[ACCOUNT ****").Append(match.LastFour(source)).Append(']');
                break;
            default:
                output.Append("[CVC ***]");
                break;
        }
    }
}
