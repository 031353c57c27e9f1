using System.Collections.Frozen;

namespace Tokenizer.Core.Validation;

/// <summary>One country's IBAN shape from the SWIFT IBAN registry.</summary>
/// <param name="Code">ISO 3166-1 alpha-2 code, the IBAN's first two characters.</param>
/// <param name="Length">Total IBAN length including country code and check digits.</param>
/// <param name="Bban">The BBAN structure as (count, class) segments; class n digits, a upper-case letters, c alphanumerics.</param>
internal sealed record IbanCountry(string Code, int Length, IReadOnlyList<(int Count, char Kind)> Bban)
{
    /// <summary>The class of each BBAN position in order (<c>n</c>, <c>a</c> or <c>c</c>), one char per position.</summary>
    public string BbanKinds { get; } = string.Concat(Bban.Select(segment => new string(segment.Kind, segment.Count)));

    /// <summary>True when the BBAN (the IBAN from its fifth character) matches the structure exactly.</summary>
    public bool MatchesBban(ReadOnlySpan<char> bban)
    {
        var position = 0;
        foreach (var (count, kind) in Bban)
        {
            if (position + count > bban.Length)
            {
                return false;
            }

            foreach (var c in bban.Slice(position, count))
            {
                var ok = kind switch
                {
                    'n' => char.IsAsciiDigit(c),
                    'a' => char.IsAsciiLetterUpper(c),
                    _ => char.IsAsciiDigit(c) || char.IsAsciiLetterUpper(c),
                };
                if (!ok)
                {
                    return false;
                }
            }

            position += count;
        }

        return position == bban.Length;
    }
}

/// <summary>
/// The per-country IBAN lengths and BBAN structures, read once from the embedded resource
/// <c>Tokenizer.Core.Data.iban-countries.csv</c> (source: SWIFT IBAN Registry).
/// </summary>
internal static class IbanRegistry
{
    public const string ResourceName = "Tokenizer.Core.Data.iban-countries.csv";

    /// <summary>Every country of the registry by its two-letter code.</summary>
    public static FrozenDictionary<string, IbanCountry> Countries { get; } = Load();

    /// <summary>The country's entry, or null when the code is not in the registry.</summary>
    public static IbanCountry? Find(ReadOnlySpan<char> code) =>
        Countries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(code, out var country) ? country : null;

    private static FrozenDictionary<string, IbanCountry> Load()
    {
        using var stream = typeof(IbanRegistry).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The embedded IBAN registry resource is missing.");
        using var reader = new StreamReader(stream);
        var countries = new Dictionary<string, IbanCountry>(StringComparer.Ordinal);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("country_code,", StringComparison.Ordinal))
            {
                continue;
            }

            var country = ParseLine(line)
                ?? throw new InvalidOperationException(
                    "The embedded IBAN registry is malformed at line " + lineNumber.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
            countries.Add(country.Code, country);
        }

        return countries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // code,"name, possibly with commas",length,format: the name is the only quoted field, so the code is
    // before the first comma and the length and format are the last two fields.
    private static IbanCountry? ParseLine(string line)
    {
        var firstComma = line.IndexOf(',', StringComparison.Ordinal);
        var lastComma = line.LastIndexOf(',');
        var lengthComma = lastComma > 0 ? line.LastIndexOf(',', lastComma - 1) : -1;
        if (firstComma != 2 || lengthComma <= firstComma)
        {
            return null;
        }

        var code = line[..2];
        var lengthText = line.AsSpan(lengthComma + 1, lastComma - lengthComma - 1);
        var bban = ParseFormat(line.AsSpan(lastComma + 1));
        if (!char.IsAsciiLetterUpper(code[0]) || !char.IsAsciiLetterUpper(code[1])
            || lengthText.Length is < 1 or > 2 || !Digits.AreAll(lengthText) || bban is null)
        {
            return null;
        }

        var length = Digits.ValueOf(lengthText);
        return bban.Sum(s => s.Count) + 4 == length ? new IbanCountry(code, length, bban) : null;
    }

    // SWIFT notation, e.g. 4!n4!n12!c: a count, '!' (fixed length; the registry uses no other kind in BBANs),
    // and a class n, a or c.
    private static List<(int Count, char Kind)>? ParseFormat(ReadOnlySpan<char> format)
    {
        var segments = new List<(int, char)>();
        var i = 0;
        while (i < format.Length)
        {
            var start = i;
            while (i < format.Length && char.IsAsciiDigit(format[i]))
            {
                i++;
            }

            if (i == start || i - start > 2 || i + 1 >= format.Length || format[i] != '!' || format[i + 1] is not ('n' or 'a' or 'c'))
            {
                return null;
            }

            segments.Add((Digits.ValueOf(format[start..i]), format[i + 1]));
            i += 2;
        }

        return segments.Count > 0 ? segments : null;
    }
}
