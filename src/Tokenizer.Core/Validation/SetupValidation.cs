using System.Net;
using System.Net.Sockets;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Redaction;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Validation;

/// <summary>
/// The setup fields of a tokenisation request: a card's <c>return_url</c> and a bank account's
/// <c>mandate_acceptance</c>. Rule texts name the field and rule, never the value.
/// </summary>
internal static class SetupValidation
{
    /// <summary>Field path of the card request's return URL.</summary>
    public const string ReturnUrlField = "return_url";

    /// <summary>Field path of the bank request's mandate acceptance.</summary>
    public const string MandateField = "mandate_acceptance";

    /// <summary>Most chars of a return URL.</summary>
    public const int MaxReturnUrlLength = 2048;

    /// <summary>How many times a return_url is percent-decoded for the free-text rule (%2534 is %34 is 4).</summary>
    private const int MaxDecodingRounds = 4;

    /// <summary>Most chars of an IP address as text (an IPv6 address with an embedded IPv4 one has 45).</summary>
    public const int MaxIpAddressLength = 45;

    /// <summary>Most chars of a user agent.</summary>
    public const int MaxUserAgentLength = 512;

    /// <summary>How far in the future an acceptance time may lie (the caller's clock may run ahead of ours).</summary>
    public static readonly TimeSpan AcceptedAtSkew = TimeSpan.FromMinutes(5);

    /// <summary>Rule text of a return URL that is not an absolute https URL.</summary>
    public const string ReturnUrlRule = "must be an absolute https URL without user info, of RFC 3986 characters";

    /// <summary>Rule text of an acceptance in the future.</summary>
    public const string AcceptedAtFuture = "must not be in the future";

    /// <summary>The rule for an accepted_at at or before the Unix epoch.</summary>
    public const string AcceptedAtPast = "must be after 1970-01-01T00:00:00Z";

    /// <summary>Rule text of a missing acceptance type.</summary>
    public const string TypeRequired = "one of online, offline is required";

    /// <summary>Rule text of an IP address that does not parse.</summary>
    public const string IpAddressRule = "must be an IPv4 or IPv6 address";

    /// <summary>
    /// Checks <paramref name="value"/> (absent: null): absolute, https, a host, no user info, only RFC 3986 characters, at
    /// most 2048 chars, and the <see cref="FreeTextRule"/> (no card or bank number, no control characters) on the URL as
    /// written, on each percent-decoding of it, on its normalised form and, for an IPv6 host, on the host's exploded
    /// form (<see cref="IpAddressText"/>).
    /// </summary>
    public static string? ReturnUrl(string? value, List<FieldViolation> violations)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var before = violations.Count;
        var trimmed = FreeTextRule.Check(value, ReturnUrlField, MaxReturnUrlLength, violations, escapesAllowed: true);
        if (violations.Count > before || trimmed is null)
        {
            return null;
        }

        // What the browser and the gateway read is the percent-decoded URL (%34%35... is 45...): the free-text rule
        // judges every decoding, up to the point where decoding changes nothing more.
        var decoded = trimmed;
        for (var round = 0; round < MaxDecodingRounds && decoded.Contains('%', StringComparison.Ordinal); round++)
        {
            var next = Uri.UnescapeDataString(decoded);
            if (string.Equals(next, decoded, StringComparison.Ordinal))
            {
                break;
            }

            decoded = next;
            if (FreeTextRule.RuleBroken(decoded, int.MaxValue, escapesAllowed: true) is { } broken)
            {
                violations.Add(new FieldViolation(ReturnUrlField, broken));
                return null;
            }
        }

        // Only the characters RFC 3986 allows in a URI, so no space and no backslash, which browsers read as '/'.
        if (!trimmed.All(IsUriChar)
            || !Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            || uri.Scheme != Uri.UriSchemeHttps
            || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.UserInfo))
        {
            violations.Add(new FieldViolation(ReturnUrlField, ReturnUrlRule));
            return null;
        }

        // Browsers and the gateway normalise the host (a hex IPv4 host becomes its dotted quad; IPv6 loses leading zeros):
        // judge the normalised URL too.
        if (FreeTextRule.RuleBroken(uri.AbsoluteUri, int.MaxValue, escapesAllowed: true) is { } normalisedBroken)
        {
            violations.Add(new FieldViolation(ReturnUrlField, normalisedBroken));
            return null;
        }

        // An IPv6 host typed without its groups' leading zeros gives a PAN back when padded: judge its exploded form.
        if (uri.HostNameType == UriHostNameType.IPv6 && WrittenIpv6Host(trimmed) is { } host
            && IPAddress.TryParse(host, out var hostAddress) && IpAddressText.HidesCardOrBankNumber(host, hostAddress))
        {
            violations.Add(new FieldViolation(ReturnUrlField, FreeTextRule.CardOrBankNumber));
            return null;
        }

        return trimmed;
    }

    /// <summary>The IPv6 host of an absolute URL as typed: between the first '[' and the next ']', without a zone.</summary>
    private static string? WrittenIpv6Host(string url)
    {
        var open = url.IndexOf('[', StringComparison.Ordinal);
        var close = open < 0 ? -1 : url.IndexOf(']', open);
        if (close < 0)
        {
            return null;
        }

        var host = url[(open + 1)..close];
        var zone = host.IndexOf('%', StringComparison.Ordinal);
        return zone < 0 ? host : host[..zone];
    }

    // RFC 3986: unreserved, reserved and '%'.
    private static bool IsUriChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "-._~:/?#[]@!$&'()*+,;=%".Contains(c, StringComparison.Ordinal);

    /// <summary>
    /// Checks a mandate acceptance: required; <c>accepted_at</c> required and at most <see cref="AcceptedAtSkew"/> ahead of
    /// <paramref name="now"/>; exactly one of online or offline; online needs an IP address (<see cref="IPAddress.TryParse(string?, out IPAddress?)"/>,
    /// IPv4 in dotted-quad form only; IPv6 also judged in its exploded form, <see cref="IpAddressText"/>) and a user agent (<see cref="FreeTextRule"/>, at most 512 chars).
    /// </summary>
    /// <returns>The acceptance (accepted_at truncated to whole seconds, as Stripe takes it), or null when refused.</returns>
    public static MandateAcceptance? Mandate(MandateAcceptanceInput? input, DateTimeOffset now, List<FieldViolation> violations)
    {
        if (input is null)
        {
            violations.Add(new FieldViolation(MandateField, ValidationRules.Required));
            return null;
        }

        var before = violations.Count;
        DateTimeOffset acceptedAt = default;
        if (input.AcceptedAt is not { } at)
        {
            violations.Add(new FieldViolation(MandateField + ".accepted_at", ValidationRules.Required));
        }
        else if (at > now + AcceptedAtSkew)
        {
            violations.Add(new FieldViolation(MandateField + ".accepted_at", AcceptedAtFuture));
        }
        else if (at.ToUnixTimeSeconds() <= 0)
        {
            // Stripe takes accepted_at as a positive Unix timestamp.
            violations.Add(new FieldViolation(MandateField + ".accepted_at", AcceptedAtPast));
        }
        else
        {
            acceptedAt = DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());
        }

        OnlineAcceptance? online = null;
        if (input.Online is not null && input.Offline)
        {
            violations.Add(new FieldViolation(MandateField + ".type", TypeRequired));
        }
        else if (input.Online is { } details)
        {
            online = Online(details, violations);
        }
        else if (!input.Offline)
        {
            violations.Add(new FieldViolation(MandateField + ".type", TypeRequired));
        }

        return violations.Count > before ? null : new MandateAcceptance(acceptedAt, online);
    }

    /// <summary>
    /// The free-text rule for an IP address, without labels when the text is an IPv6 literal: its hex groups can spell a
    /// label (a group <c>acc</c> or <c>aba</c> before digit groups reads as a labelled account or routing number), but a
    /// literal holds no words, so only a PAN or IBAN in its digits and letters counts there.
    /// </summary>
    private static string? IpRuleBroken(string text)
    {
        var broken = FreeTextRule.RuleBroken(text, MaxIpAddressLength);
        return broken is not null
            && !text.Contains('%', StringComparison.Ordinal) && IPAddress.TryParse(text, out var literal) && literal.AddressFamily == AddressFamily.InterNetworkV6
            && FreeTextRule.FindCardOrBankNumber(text) is SensitiveDataKind.AccountNumber or SensitiveDataKind.Cvc
            ? null
            : broken;
    }

    private static OnlineAcceptance? Online(OnlineAcceptanceInput details, List<FieldViolation> violations)
    {
        const string ip = MandateField + ".online.ip_address";
        const string agent = MandateField + ".online.user_agent";
        var before = violations.Count;
        string? address = null;
        if (string.IsNullOrEmpty(details.IpAddress))
        {
            violations.Add(new FieldViolation(ip, ValidationRules.Required));
        }
        else if (!IsDottedQuad(details.IpAddress) && IpRuleBroken(details.IpAddress) is { } broken)
        {
            // A card number or control character is named as such, like in every other string field. A dotted-quad IPv4
            // address is exempt: at most 12 digits starting 0-2 (octets up to 255), which no issued PAN is (the 12-digit
            // ones are Maestro, IIN 50 or 56-69), while one such address in ten passes Luhn.
            violations.Add(new FieldViolation(ip, broken));
        }
        else if (ParseIp(details.IpAddress) is { } parsed)
        {
            // What is stored and sent is the canonical text, which drops leading zeros and compresses zero groups:
            // judge that too (0409:0729:… becomes 409:729:…, whose digits may be a PAN the typed form was not).
            if (!IsDottedQuad(parsed) && IpRuleBroken(parsed) is { } canonicalBroken)
            {
                violations.Add(new FieldViolation(ip, canonicalBroken));
            }
            else if (IPAddress.TryParse(details.IpAddress, out var typed) && IpAddressText.HidesCardOrBankNumber(details.IpAddress, typed))
            {
                // Padding each group back to four digits (4532:151:… is 4532:0151:…) must not give a PAN back either.
                violations.Add(new FieldViolation(ip, FreeTextRule.CardOrBankNumber));
            }
            else
            {
                address = parsed;
            }
        }
        else
        {
            violations.Add(new FieldViolation(ip, IpAddressRule));
        }

        var userAgent = FreeTextRule.Check(details.UserAgent, agent, MaxUserAgentLength, violations);
        if (userAgent is null && string.IsNullOrWhiteSpace(details.UserAgent))
        {
            violations.Add(new FieldViolation(agent, ValidationRules.Required));
        }

        return violations.Count > before ? null : new OnlineAcceptance(address!, userAgent!);
    }

    /// <summary>Four decimal parts of 1-3 ASCII digits, each at most 255, separated by dots.</summary>
    private static bool IsDottedQuad(string value)
    {
        var parts = value.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit) && p.Aggregate(0, (n, c) => (n * 10) + (c - '0')) <= 255);
    }

    /// <summary>
    /// The canonical text of an IP address, or null. IPv4 must be written as four decimal parts (TryParse alone also
    /// takes "1" or "0x7f.1"); IPv6 without a zone id.
    /// </summary>
    private static string? ParseIp(string value)
    {
        if (!IPAddress.TryParse(value, out var address))
        {
            return null;
        }

        var text = address.ToString();
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork when string.Equals(text, value, StringComparison.Ordinal) => text,
            AddressFamily.InterNetworkV6 when address.ScopeId == 0 && !value.Contains('%', StringComparison.Ordinal) => text,
            _ => null,
        };
    }
}
