using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using Tokenizer.Core.Validation;

namespace Tokenizer.Cli;

/// <summary>
/// The rules every command shares for dates, periods and the files it creates, so that one option means one thing
/// everywhere (<c>audit export</c>, <c>reconcile</c>, <c>privacy export</c>).
/// </summary>
internal static partial class CliInput
{
    /// <summary>The message for a date option that is not ISO 8601 as accepted here.</summary>
    public const string DateRule = "expected an ISO 8601 date (2026-11-01) or date-time with Z or an offset (2026-11-01T12:00Z, 2026-11-01T12:00:00+01:00)";

    // Offsets are rewritten to "+00:00" before parsing ('Z'); seconds and a fraction of 1-7 digits are optional.
    private static readonly string[] TimeFormats =
    [
        "yyyy-MM-dd'T'HH:mmzzz",
        "yyyy-MM-dd'T'HH:mm:sszzz",
        .. Enumerable.Range(1, 7).Select(n => "yyyy-MM-dd'T'HH:mm:ss." + new string('f', n) + "zzz"),
    ];

    /// <summary>
    /// The one parser of every date option. A date (<c>yyyy-MM-dd</c>) is a UTC day: its first instant, or with
    /// <paramref name="lastDay"/> (<c>--to</c>) the first instant of the next day, so the day itself is included. A
    /// date-time (<c>yyyy-MM-ddTHH:mm[:ss[.fffffff]]</c>) must carry <c>Z</c> or an offset (<c>+01:00</c>): without one
    /// it would be read in some clock the user did not name; it is an exact bound. Anything else (US-style
    /// <c>01/12/2026</c>, <c>Dec 7 2026</c>, non-ASCII digits) is refused with <see cref="DateRule"/>, naming the option.
    /// </summary>
    public static DateTimeOffset? ParseTime(ArgumentResult result, string name, bool lastDay)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (TryParseTime(text, lastDay, out var value))
        {
            return value;
        }

        result.AddError($"{name}: {DateRule}");
        return null;
    }

    /// <summary>As <see cref="ParseTime"/>, without a parse result: false for anything that is not ISO 8601 as accepted.</summary>
    public static bool TryParseTime(string text, bool lastDay, out DateTimeOffset value)
    {
        value = default;
        if (IsoDate().IsMatch(text))
        {
            if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                return false;
            }

            if (lastDay && day == DateOnly.MaxValue)
            {
                // The inclusive last day would end at the start of the next, which does not exist: its last tick stands
                // in, so the period rules judge the period like any other.
                value = DateTimeOffset.MaxValue;
                return true;
            }

            var start = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            value = lastDay ? start.AddDays(1) : start;
            return true;
        }

        if (!IsoTime().IsMatch(text))
        {
            return false;
        }

        var zoned = text.EndsWith('Z') ? string.Concat(text.AsSpan(0, text.Length - 1), "+00:00") : text;
        if (!DateTimeOffset.TryParseExact(zoned, TimeFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        value = parsed.ToUniversalTime();
        return true;
    }

    /// <summary>
    /// The period rule of every command with <c>--from</c> and <c>--to</c> (bounds as parsed by <see cref="ParseTime"/>):
    /// <c>--to</c> must lie after <c>--from</c> and, with <paramref name="maxDays"/>, at most that many days later.
    /// Checked before any call and before any file is created.
    /// </summary>
    /// <exception cref="CliInputException">The period breaks the rule; the message names the option.</exception>
    public static void CheckPeriod(DateTimeOffset? from, DateTimeOffset? to, int? maxDays)
    {
        if (from is not { } start || to is not { } end)
        {
            return;
        }

        if (end <= start)
        {
            throw new CliInputException("--to: must be after --from (a date given to --to is its last day, inclusive)");
        }

        if (maxDays is { } days && end - start > TimeSpan.FromDays(days))
        {
            throw new CliInputException(string.Create(CultureInfo.InvariantCulture, $"--from: the period from --from to --to must be at most {days} days; split it into several runs"));
        }
    }

    /// <summary>
    /// Marks <paramref name="option"/> as naming a file the CLI creates: a path holding a card or bank account number
    /// (by the project's one detector, <see cref="FreeTextRule.HoldsCardOrBankNumber"/>) is bad usage at parse time,
    /// before any call and before anything is created; such a file would be written under a name that every later
    /// message has to mask.
    /// </summary>
    public static Option<T> CreatesFile<T>(this Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && FreeTextRule.HoldsCardOrBankNumber(result.Tokens[0].Value))
            {
                result.AddError($"{option.Name}: {FreeTextRule.CardOrBankNumber}");
            }
        });
        return option;
    }

    /// <summary>Throws when <paramref name="path"/> holds a card or bank number (the check of <see cref="CreatesFile{T}"/>, for callers without a parser).</summary>
    /// <exception cref="CliInputException">The path holds a card or bank account number.</exception>
    public static void CheckNewFilePath(string path, string option)
    {
        if (FreeTextRule.HoldsCardOrBankNumber(path))
        {
            throw new CliInputException($"{option}: {FreeTextRule.CardOrBankNumber}");
        }
    }

    // ASCII digits only: \d would also take other scripts' digits.
    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,7})?)?(Z|[+-][0-9]{2}:[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoTime();
}
