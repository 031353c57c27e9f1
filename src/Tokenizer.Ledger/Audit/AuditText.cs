using System.Text;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Validation;

namespace Tokenizer.Ledger.Audit;

/// <summary>
/// Makes a text value fit to rest in the audit trail and to be shown to people: control characters (CR, LF...),
/// invisible format characters and line separators removed, trimmed, unpaired surrogates replaced by U+FFFD (so the
/// stored UTF-8 is exactly what the MAC covers), capped at <see cref="MaxLength"/> characters without splitting a pair,
/// and a value in which <see cref="SensitiveDataDetector"/> finds anything (scrubbing preset: a PAN or IBAN with any
/// separators and digits of any script, a labelled CVC or account number) replaced by <see cref="Redacted"/>.
/// </summary>
internal static class AuditText
{
    /// <summary>The longest stored text, in UTF-16 code units (the schema allows 200 characters).</summary>
    public const int MaxLength = 200;

    /// <summary>What a value that holds a card number becomes.</summary>
    public const string Redacted = "[redacted]";

    /// <summary>The cleaned value; null when <paramref name="value"/> is null or nothing visible is left.</summary>
    public static string? Clean(string? value)
    {
        var cleaned = InputRules.CleanText(value);
        if (cleaned is null)
        {
            return null;
        }

        if (HoldsSensitiveData(cleaned))
        {
            return Redacted;
        }

        var text = new StringBuilder(Math.Min(cleaned.Length, MaxLength));
        for (var i = 0; i < cleaned.Length; i++)
        {
            var c = cleaned[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < cleaned.Length && char.IsLowSurrogate(cleaned[i + 1]);
            var width = pair ? 2 : 1;
            if (text.Length + width > MaxLength)
            {
                break;
            }

            if (pair)
            {
                text.Append(c).Append(cleaned[++i]);
            }
            else
            {
                text.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }

        var result = text.ToString().Trim();

        // Cutting a long digit run can leave a shorter run that passes Luhn.
        return result.Length == 0 ? null : HoldsSensitiveData(result) ? Redacted : result;
    }

    // The scrubbing preset: audit text is written by the service (ids, codes, addresses), not taken from a request field,
    // so trace ids and timestamps in it are not numbers; caller text reached it only through validation.
    private static bool HoldsSensitiveData(string text) => SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scrubbing).Count > 0;
}
