namespace Tokenizer.Security.Scanner;

/// <summary>
/// Published test values that are not card data: the Stripe test cards and bank numbers, the well-known example
/// IBANs. One value per line; '#' starts a comment; spaces and dashes inside a value are ignored; letters are
/// compared upper-case.
/// </summary>
internal sealed class Allowlist
{
    private readonly HashSet<string> values;

    private Allowlist(HashSet<string> values) => this.values = values;

    /// <summary>An allowlist that allows nothing.</summary>
    public static Allowlist Empty { get; } = new([]);

    /// <summary>How many values it holds.</summary>
    public int Count => values.Count;

    /// <summary>True when the normalised value (digits, or upper-case letters and digits) is on the list.</summary>
    public bool Contains(string normalised) => values.Contains(normalised);

    /// <summary>Reads an allowlist file.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    /// <exception cref="FormatException">A line holds something other than letters, digits, spaces and dashes (the message names the line, not its text).</exception>
    public static Allowlist Load(string path) => Parse(File.ReadAllLines(path));

    /// <summary>Parses allowlist lines; see <see cref="Load"/>.</summary>
    /// <exception cref="FormatException">A line holds something other than letters, digits, spaces and dashes.</exception>
    public static Allowlist Parse(IEnumerable<string> lines)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in lines)
        {
            number++;
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            var value = (comment >= 0 ? line[..comment] : line).Trim();
            if (value.Length == 0)
            {
                continue;
            }

            var normalised = new string(value.Where(c => c is not (' ' or '-')).Select(char.ToUpperInvariant).ToArray());
            if (normalised.Length == 0 || !normalised.All(char.IsAsciiLetterOrDigit))
            {
                throw new FormatException($"allowlist line {number}: expected a card number, account number or IBAN");
            }

            values.Add(normalised);
        }

        return new Allowlist(values);
    }
}
