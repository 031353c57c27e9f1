using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// The one definition of "what is a PAN" (and an IBAN, a CVC, an account number) in free text, shared by the log
/// scrubber (<see cref="SensitiveDataScrubber"/>) and the card-data scanner (<c>security/Tokenizer.Security.Scanner</c>).
/// </summary>
/// <remarks>
/// <para>
/// <b>PAN.</b> Digits are read as groups (maximal runs of ASCII digits); groups separated by exactly one separator
/// (space, dash, or a no-break space or hyphen) form a chain. Every run of whole consecutive groups of a chain with
/// 12-19 digits in total is a candidate, and each Luhn-valid candidate is reported. So a PAN followed by an expiry
/// ("4242 4242 4242 4242 12 30") is still found, while a run of more than 19 contiguous digits is never split.
/// Letters next to digits do not stop a match. Three things are left alone: GUIDs (8-4-4-4-12 hex),
/// hex identifiers (a token of exactly 16, 32, 40, 64 or 128 hex chars with a letter: trace ids, hashes), and
/// contiguous timestamps (yyyyMMddHHmm[ss[fff]] from 1970-2099, and 13/16/19-digit Unix epoch milli/micro/nanoseconds
/// starting with 1; no card network issues PANs starting with 1 in those lengths).
/// </para>
/// <para>
/// <b>IBAN.</b> Two letters (not preceded by a letter), two digits, then alphanumerics, either contiguous or in groups
/// of four separated by single spaces, exactly as long as the registry says for that country
/// (<c>Data/iban-countries.csv</c>). See <see cref="SensitiveDataDetectorOptions.IbanRequiresChecksum"/>.
/// </para>
/// <para>
/// <b>CVC.</b> The first 3-4 digit run (not preceded by a letter or digit, not a year 1900-2099) starting within
/// <see cref="CvcAfterPanDistance"/> chars after a PAN; or a 3-4 digit run right after a <c>cvc</c>, <c>cvv</c> or
/// <c>csc</c> label (optionally followed by <c>2</c>) and up to six quote, colon, equals, bracket, space or underscore
/// chars. <b>Account number.</b> 4-17 digits (single separators allowed) right after a label such as
/// <c>account_number</c>, <c>accountNumber</c>, <c>account no</c> or <c>acct_num</c>.
/// </para>
/// <para>
/// Every pass is a single left-to-right walk with bounded look-around (no regular expressions, no backtracking):
/// time is linear in the text length. Nothing here throws for any input.
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
    private const int MinAccountDigits = 4;
    private const int MaxAccountDigits = 17;
    private const int GuidLength = 36;

    /// <summary>Shared, never modified: the covered ranges of a text without IBANs or PANs.</summary>
    private static readonly List<(int Start, int End)> NoRanges = [];

    /// <summary>Finds every match in <paramref name="text"/>, ordered by <see cref="SensitiveDataMatch.Start"/>.</summary>
    /// <param name="text">Any text; may be empty.</param>
    /// <param name="options">What to report; <see cref="SensitiveDataDetectorOptions.Scrubbing"/> when null.</param>
    /// <returns>A new list; PAN candidates may overlap each other, other kinds never overlap a PAN.</returns>
    public static List<SensitiveDataMatch> Find(ReadOnlySpan<char> text, SensitiveDataDetectorOptions? options = null)
    {
        var results = new List<SensitiveDataMatch>();
        Find(text, options ?? SensitiveDataDetectorOptions.Scrubbing, results);
        return results;
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
        var first = results.Count;

        FindIbans(text, options, results);
        var ibanCount = results.Count - first;
        FindPans(text, results, first, ibanCount);
        var panFirst = first + ibanCount;
        results.Sort(panFirst, results.Count - panFirst, StartComparer.Instance);

        if (options.DetectCvc || options.DetectAccountNumbers)
        {
            var anyMatch = results.Count > first;
            var covered = anyMatch ? Covered(results, first, results.Count) : NoRanges;
            var panRegions = options.DetectCvc && anyMatch ? Covered(results, panFirst, results.Count) : NoRanges;
            var before = results.Count;
            if (options.DetectCvc)
            {
                FindCvcAfterPans(text, panRegions, covered, results);
                FindLabelledCvcs(text, options, panRegions, covered, results);
            }

            if (options.DetectAccountNumbers)
            {
                FindLabelledAccounts(text, covered, results);
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

    /// <summary>True when <paramref name="c"/> may stand alone between two digit groups of a formatted number.</summary>
    public static bool IsSeparator(char c) => c is ' ' or '-' or '\u00A0' or '\u2007' or '\u202F' or '\u2010' or '\u2011';

    // ---- IBAN ---------------------------------------------------------------------------------------------------

    // An IBAN starts a token: a candidate glued to a letter or digit before it is the inside of something else, such as
    // a hex trace id ("660033c3ad434a71...": "AD43..." passed mod-97 one time in 97).
    private static void FindIbans(ReadOnlySpan<char> text, SensitiveDataDetectorOptions options, List<SensitiveDataMatch> results)
    {
        for (var i = 0; i + 3 < text.Length; i++)
        {
            if (!char.IsAsciiLetter(text[i]) || !char.IsAsciiLetter(text[i + 1])
                || !char.IsAsciiDigit(text[i + 2]) || !char.IsAsciiDigit(text[i + 3])
                || (i > 0 && char.IsAsciiLetterOrDigit(text[i - 1])))
            {
                continue;
            }

            var length = MatchIban(text, i, options);
            if (length > 0)
            {
                results.Add(new SensitiveDataMatch(SensitiveDataKind.Iban, i, length));
                i += length - 1;
            }
        }
    }

    /// <summary>The chars an IBAN starting at <paramref name="start"/> covers, or 0.</summary>
    private static int MatchIban(ReadOnlySpan<char> text, int start, SensitiveDataDetectorOptions options)
    {
        ReadOnlySpan<char> code = [char.ToUpperInvariant(text[start]), char.ToUpperInvariant(text[start + 1])];
        var country = IbanRegistry.Find(code);
        if (country is null)
        {
            return 0;
        }

        var length = country.Length;
        Span<char> iban = stackalloc char[length];
        int covered;
        var run = AlphanumericRun(text, start, length + 1);
        if (run == length)
        {
            text.Slice(start, length).CopyTo(iban);
            covered = length;
        }
        else if (run == 4 && start + 4 < text.Length && text[start + 4] == ' ')
        {
            // The paper format: groups of four separated by single spaces, the last group 1-4 chars.
            text.Slice(start, 4).CopyTo(iban);
            var count = 4;
            var position = start + 4;
            while (count < length)
            {
                var expected = Math.Min(4, length - count);
                if (position >= text.Length || text[position] != ' ' || AlphanumericRun(text, position + 1, 5) != expected)
                {
                    return 0;
                }

                text.Slice(position + 1, expected).CopyTo(iban[count..]);
                count += expected;
                position += 1 + expected;
            }

            covered = position - start;
        }
        else
        {
            return 0;
        }

        var upperCase = true;
        for (var i = 0; i < iban.Length; i++)
        {
            upperCase &= !char.IsAsciiLetterLower(iban[i]);
            iban[i] = char.ToUpperInvariant(iban[i]);
        }

        var checksumValid = iban[2..4] is not ("00" or "01" or "99") && IbanValidation.Mod97(iban) == 1;
        if (checksumValid)
        {
            return covered;
        }

        return !options.IbanRequiresChecksum && upperCase && country.MatchesBban(iban[4..]) ? covered : 0;
    }

    private static int AlphanumericRun(ReadOnlySpan<char> text, int start, int cap)
    {
        var i = start;
        while (i < text.Length && i - start < cap && char.IsAsciiLetterOrDigit(text[i]))
        {
            i++;
        }

        return i - start;
    }

    // ---- PAN ----------------------------------------------------------------------------------------------------

    private static void FindPans(ReadOnlySpan<char> text, List<SensitiveDataMatch> results, int ibanFirst, int ibanCount)
    {
        // The last MaxPanDigits groups of the current chain (each has at least one digit, so no window spans more).
        Span<int> groupStart = stackalloc int[MaxPanDigits];
        Span<int> groupLength = stackalloc int[MaxPanDigits];
        var groups = 0;
        var lastGroupEnd = -2;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '\\' && IsUnicodeEscape(text, i))
            {
                // A JSON \uXXXX escape (System.Text.Json writes quotes as \u0022) is one character, not digits: its hex
                // would otherwise join the digits after it ("\u0022" + "31162309" reads as 002231162309).
                i += 6;
                lastGroupEnd = -2;
                continue;
            }

            if (!char.IsAsciiLetterOrDigit(c))
            {
                i++;
                continue;
            }

            if (i == 0 || !char.IsAsciiLetterOrDigit(text[i - 1]))
            {
                var skip = IdentifierLength(text, i);
                if (skip > 0)
                {
                    i += skip;
                    lastGroupEnd = -2;
                    continue;
                }
            }

            if (!char.IsAsciiDigit(c))
            {
                i++;
                continue;
            }

            var end = i;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            // Continue the chain only across exactly one separator.
            if (lastGroupEnd != i - 1 || !IsSeparator(text[i - 1]))
            {
                groups = 0;
            }

            if (groups == MaxPanDigits)
            {
                // Drop the oldest group: no window can reach back that far.
                groupStart[1..].CopyTo(groupStart);
                groupLength[1..].CopyTo(groupLength);
                groups--;
            }

            groupStart[groups] = i;
            groupLength[groups] = end - i;
            groups++;
            AddWindowsEndingAtLastGroup(text, groupStart[..groups], groupLength[..groups], results, ibanFirst, ibanCount);
            lastGroupEnd = end;
            i = end;
        }
    }

    private static void AddWindowsEndingAtLastGroup(
        ReadOnlySpan<char> text, ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, List<SensitiveDataMatch> results, int ibanFirst, int ibanCount)
    {
        // Windows share their rightmost digit, so the Luhn sum grows leftwards one digit at a time: each window costs
        // only its new digits, and a chain of any length stays linear.
        var last = starts.Length - 1;
        var windowEnd = starts[last] + lengths[last];
        var count = 0;
        var sum = 0;
        for (var first = last; first >= 0; first--)
        {
            if (count + lengths[first] > MaxPanDigits)
            {
                return;
            }

            for (var i = starts[first] + lengths[first] - 1; i >= starts[first]; i--)
            {
                var d = text[i] - '0';
                if (count % 2 == 1)
                {
                    d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
                }

                sum += d;
                count++;
            }

            if (count < MinPanDigits || sum % 10 != 0
                || (first == last && LooksLikeTimestamp(text.Slice(starts[last], lengths[last]))))
            {
                continue;
            }

            var match = new SensitiveDataMatch(SensitiveDataKind.Pan, starts[first], windowEnd - starts[first]);
            if (!OverlapsAny(results, ibanFirst, ibanCount, match.Start, match.End))
            {
                results.Add(match);
            }
        }
    }

    /// <summary>
    /// At a token start: the length of a GUID or a hex identifier to skip, or 0. Hex identifiers are tokens of
    /// exactly 16, 32, 40, 64 or 128 hex chars, at least one a letter, letters of one case.
    /// </summary>
    private static int IdentifierLength(ReadOnlySpan<char> text, int start)
    {
        if (start + GuidLength <= text.Length && IsGuid(text.Slice(start, GuidLength))
            && (start + GuidLength == text.Length || !char.IsAsciiLetterOrDigit(text[start + GuidLength])))
        {
            return GuidLength;
        }

        var i = start;
        var lower = false;
        var upper = false;
        while (i < text.Length && i - start <= 128 && char.IsAsciiHexDigit(text[i]))
        {
            lower |= char.IsAsciiLetterLower(text[i]);
            upper |= char.IsAsciiLetterUpper(text[i]);
            i++;
        }

        var length = i - start;
        var tokenEnds = i == text.Length || !char.IsAsciiLetterOrDigit(text[i]);
        return tokenEnds && (lower ^ upper) && length is 16 or 32 or 40 or 64 or 128 ? length : 0;
    }

    private static bool IsUnicodeEscape(ReadOnlySpan<char> text, int at) =>
        at + 5 < text.Length && text[at + 1] == 'u'
        && char.IsAsciiHexDigit(text[at + 2]) && char.IsAsciiHexDigit(text[at + 3])
        && char.IsAsciiHexDigit(text[at + 4]) && char.IsAsciiHexDigit(text[at + 5]);

    private static bool IsGuid(ReadOnlySpan<char> candidate)
    {
        for (var i = 0; i < GuidLength; i++)
        {
            var dash = i is 8 or 13 or 18 or 23;
            if (dash ? candidate[i] != '-' : !char.IsAsciiHexDigit(candidate[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Contiguous timestamps that a Luhn check would otherwise flag one time in ten: yyyyMMddHHmm, yyyyMMddHHmmss and
    /// yyyyMMddHHmmssfff (years 1970-2099), and Unix epoch milli-, micro- or nanoseconds (13, 16 or 19 digits
    /// starting with 1, i.e. 2001-2033). No PAN brand starts with 1 at those lengths or with 19/20 at 12, 14 or 17.
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
                if (!char.IsAsciiDigit(text[i]))
                {
                    i++;
                    continue;
                }

                var runEnd = i;
                while (runEnd < text.Length && char.IsAsciiDigit(text[runEnd]))
                {
                    runEnd++;
                }

                var length = runEnd - i;
                var standsAlone = i > 0 && !char.IsAsciiLetterOrDigit(text[i - 1]);
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
        SensitiveDataDetectorOptions options,
        List<(int Start, int End)> panRegions,
        List<(int Start, int End)> covered,
        List<SensitiveDataMatch> found)
    {
        for (var i = 0; i + 3 <= text.Length; i++)
        {
            if ((text[i] | 0x20) != 'c' || (i > 0 && char.IsAsciiLetter(text[i - 1])))
            {
                continue;
            }

            var label = text.Slice(i, 3);
            if (!label.Equals("cvc", StringComparison.OrdinalIgnoreCase) && !label.Equals("cvv", StringComparison.OrdinalIgnoreCase)
                && !label.Equals("csc", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var j = i + 3;
            if (j < text.Length && text[j] == '2')
            {
                j++;
            }

            if (!TryValueAfterLabel(text, j, 3, 4, out var valueStart, out var valueEnd) || Overlaps(covered, valueStart, valueEnd))
            {
                continue;
            }

            if (options.CvcLabelRequiresPan && !Near(panRegions, i, valueEnd, CvcLabelPanDistance))
            {
                continue;
            }

            found.Add(new SensitiveDataMatch(SensitiveDataKind.Cvc, valueStart, valueEnd - valueStart));
        }
    }

    private static void FindLabelledAccounts(ReadOnlySpan<char> text, List<(int Start, int End)> covered, List<SensitiveDataMatch> found)
    {
        for (var i = 0; i + 4 <= text.Length; i++)
        {
            if ((text[i] | 0x20) != 'a' || (i > 0 && char.IsAsciiLetter(text[i - 1])))
            {
                continue;
            }

            var j = AccountLabelEnd(text, i);
            if (j < 0 || !TryValueAfterLabel(text, j, MinAccountDigits, MaxAccountDigits, out var valueStart, out var valueEnd)
                || Overlaps(covered, valueStart, valueEnd))
            {
                continue;
            }

            found.Add(new SensitiveDataMatch(SensitiveDataKind.AccountNumber, valueStart, valueEnd - valueStart));
        }
    }

    /// <summary>"account" or "acct", an optional '_', '-' or ' ', then "number", "num", "nr" or "no"; the index after it, or -1.</summary>
    private static int AccountLabelEnd(ReadOnlySpan<char> text, int start)
    {
        var rest = text[start..];
        int j;
        if (rest.StartsWith("account", StringComparison.OrdinalIgnoreCase))
        {
            j = 7;
        }
        else if (rest.StartsWith("acct", StringComparison.OrdinalIgnoreCase))
        {
            j = 4;
        }
        else
        {
            return -1;
        }

        if (j < rest.Length && rest[j] is '_' or '-' or ' ')
        {
            j++;
        }

        var tail = rest[j..];
        foreach (var word in (ReadOnlySpan<string>)["number", "num", "nr", "no"])
        {
            if (tail.StartsWith(word, StringComparison.OrdinalIgnoreCase)
                && (tail.Length == word.Length || !char.IsAsciiLetter(tail[word.Length])))
            {
                return start + j + word.Length;
            }
        }

        return -1;
    }

    /// <summary>
    /// After a label: up to <see cref="MaxLabelGap"/> punctuation chars, then a digit chain (single separators) of
    /// <paramref name="min"/>-<paramref name="max"/> digits that is not followed by more digits.
    /// </summary>
    private static bool TryValueAfterLabel(ReadOnlySpan<char> text, int labelEnd, int min, int max, out int start, out int end)
    {
        start = end = 0;
        var i = labelEnd;
        while (i < text.Length && i - labelEnd < MaxLabelGap && text[i] is ' ' or '\t' or '"' or '\'' or ':' or '=' or '[' or ']' or '\\' or '_' or '(' or ')' or '#')
        {
            i++;
        }

        if (i >= text.Length || !char.IsAsciiDigit(text[i]))
        {
            return false;
        }

        start = i;
        var digits = 0;
        while (true)
        {
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                digits++;
                i++;
            }

            if (i + 1 < text.Length && IsSeparator(text[i]) && char.IsAsciiDigit(text[i + 1]))
            {
                i++;
                continue;
            }

            break;
        }

        end = i;
        return digits >= min && digits <= max;
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

    private static bool OverlapsAny(List<SensitiveDataMatch> results, int first, int count, int start, int end)
    {
        // IBAN matches are few, disjoint and ordered: a binary search finds the only candidates.
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

        return low < first + count && results[low].Start < end;
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
