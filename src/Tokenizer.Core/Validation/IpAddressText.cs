using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Core.Validation;

/// <summary>
/// The card-data rule for an IPv6 address in caller input (a mandate acceptance's <c>ip_address</c>, the host of a
/// <c>return_url</c>), on top of the <see cref="FreeTextRule"/> on the text as written and in canonical form.
/// </summary>
/// <remarks>
/// <para>
/// IPv6 text drops each group's leading zeros and compresses zero groups (<c>::</c>), so a PAN written in 4-digit groups
/// (<c>4000:0566:5566:5556::</c>) can be typed without its zeros (<c>4000:566:5566:5556::</c>): neither the typed text
/// nor the canonical text holds its 16 digits, but anyone padding the groups gets them back. So the address is also
/// judged in its <b>exploded form</b>: eight groups of four lower-case hex digits, <c>::</c> expanded into zero groups
/// and a dotted IPv4 tail (<c>::ffff:192.0.2.1</c>) written as its two hex groups.
/// </para>
/// <para>
/// In the exploded form a Luhn-valid 12-19 digit window counts when it <b>starts with a digit other than 0</b> and
/// <b>ends at a digit the caller typed</b> (not a padding zero, not a zero group of <c>::</c>). Expansion invents
/// zeros: every all-zero window passes Luhn, so without the first condition <c>::1</c> and <c>fe80::1</c> would be
/// refused, and without the second many addresses with short numeric groups before <c>::</c> would be. No card brand
/// starts with 0, and a PAN an attacker writes ends with a group he typed, so both conditions keep every PAN the padding
/// gives back. A <c>::</c> that stands for one zero group counts inside a window (<c>4532::1283:366:1:2:3:4</c> is
/// refused); one that stands for two or more ends the window: the usual <c>prefix:subnet::id</c> address would
/// otherwise chain its prefix, eight or more invented zeros and its interface id into a window about one time in four
/// (measured in <c>IpAddressTextTests</c>). Any IBAN the detector finds in the exploded form is refused too. What
/// remains: a PAN holding <c>0000 0000</c> on group boundaries written as <c>::</c>, and a PAN whose last group is 0000
/// written as a trailing <c>::</c> (both read back only by counting groups and guessing a length).
/// </para>
/// </remarks>
internal static class IpAddressText
{
    /// <summary>Groups of an IPv6 address.</summary>
    private const int Groups = 8;

    /// <summary>Hex digits of an exploded group.</summary>
    private const int GroupDigits = 4;

    /// <summary>
    /// Every PAN window and every IBAN, no exemptions (the validation preset, not stopping at the first window). No
    /// CVCs: hex holds no label, and a CVC after a PAN would follow windows this class then sets aside.
    /// </summary>
    private static readonly SensitiveDataDetectorOptions AllWindows = new()
    {
        IbanRequiresChecksum = true,
        CvcLabelRequiresPan = false,
        ExemptKnownShapes = false,
        StopAtFirst = false,
        DetectCvc = false,
        DetectAccountNumbers = false,
    };

    /// <summary>
    /// The eight groups of <paramref name="address"/> as four lower-case hex digits each, separated by colons (39 chars):
    /// <c>2001:0db8:85a3:0000:0000:8a2e:0370:7334</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not IPv6.</exception>
    public static string Exploded(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException("An IPv6 address is required.", nameof(address));
        }

        var bytes = address.GetAddressBytes();
        var text = new StringBuilder((Groups * (GroupDigits + 1)) - 1);
        for (var g = 0; g < Groups; g++)
        {
            if (g > 0)
            {
                text.Append(':');
            }

            text.Append(((bytes[2 * g] << 8) | bytes[(2 * g) + 1]).ToString("x4", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>
    /// True when the exploded form of the IPv6 address <paramref name="address"/>, typed as <paramref name="written"/>,
    /// holds a PAN or an IBAN by the rule of the class remarks. False for an IPv4 address (its dotted quad has no
    /// zeros to restore; the free-text rule judges it as written).
    /// </summary>
    /// <param name="written">The address as the caller typed it, without brackets or zone.</param>
    /// <param name="address">The parsed address.</param>
    public static bool HidesCardOrBankNumber(string written, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(written);
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return false;
        }

        var exploded = Exploded(address);

        // Unmappable text (never after a successful parse) counts every digit as typed: stricter, never laxer.
        var origin = Origins(written) ?? Enumerable.Repeat(Origin.Typed, exploded.Length).ToArray();
        foreach (var match in SensitiveDataDetector.Find(exploded, AllWindows))
        {
            if (match.Kind != SensitiveDataKind.Pan
                || (exploded[match.Start] != '0' && origin[match.End - 1] == Origin.Typed
                    && Array.IndexOf(origin, Origin.LongZeroRun, match.Start, match.Length) < 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Where each char of the exploded form comes from; null when <paramref name="written"/> does not split into eight
    /// groups. A dotted IPv4 tail becomes two whole typed groups (its digits were typed, in decimal).
    /// </summary>
    private static Origin[]? Origins(string written)
    {
        var split = written.IndexOf("::", StringComparison.Ordinal);
        var left = Split(split < 0 ? written : written[..split]);
        var right = split < 0 ? [] : Split(written[(split + 2)..]);
        var tail = right.Count > 0 ? right : left;
        if (tail.Count > 0 && tail[^1].Contains('.', StringComparison.Ordinal))
        {
            tail[^1] = "ffff";
            tail.Add("ffff");
        }

        var missing = Groups - left.Count - right.Count;
        if ((split < 0 && missing != 0) || missing < 0)
        {
            return null;
        }

        var lengths = new List<int>(Groups);
        lengths.AddRange(left.Select(g => g.Length));
        lengths.AddRange(Enumerable.Repeat(-1, missing));
        lengths.AddRange(right.Select(g => g.Length));
        var origin = new Origin[(Groups * (GroupDigits + 1)) - 1];
        for (var g = 0; g < Groups; g++)
        {
            for (var d = 0; d < GroupDigits; d++)
            {
                origin[(g * (GroupDigits + 1)) + d] = lengths[g] switch
                {
                    < 0 when missing >= 2 => Origin.LongZeroRun,
                    < 0 => Origin.Padding,
                    var typed when d >= GroupDigits - typed => Origin.Typed,
                    _ => Origin.Padding,
                };
            }
        }

        return origin;

        static List<string> Split(string part) => part.Length == 0 ? [] : [.. part.Split(':')];
    }

    /// <summary>Where a char of the exploded form comes from.</summary>
    private enum Origin
    {
        /// <summary>A colon.</summary>
        Separator,

        /// <summary>A hex digit the caller typed.</summary>
        Typed,

        /// <summary>A leading zero added to a group, or a zero group of a <c>::</c> that stands for one group.</summary>
        Padding,

        /// <summary>A zero group of a <c>::</c> that stands for two or more groups.</summary>
        LongZeroRun,
    }
}
