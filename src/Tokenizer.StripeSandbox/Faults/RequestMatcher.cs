namespace Tokenizer.StripeSandbox.Faults;

/// <summary>
/// A parsed request pattern: <c>"METHOD /path"</c>, <c>"/path"</c> or <c>"*"</c>. METHOD is letters or <c>*</c>; in the path
/// <c>*</c> matches one segment and a final <c>**</c> any number of segments. Paths compare ordinally, trailing '/' ignored.
/// Two matchers are equal when their normalised patterns are.
/// </summary>
internal sealed class RequestMatcher : IEquatable<RequestMatcher>
{
    public const string FormatMessage =
        "match must be \"*\", \"/path\" or \"METHOD /path\" (METHOD letters or *, path from '/', '*' one segment, a final '**' any), at most 200 characters.";

    private const int MaxLength = 200;

    private readonly string? method;
    private readonly string[]? segments;
    private readonly bool openEnded;
    private readonly string normalised;

    private RequestMatcher(string? method, string[]? segments, bool openEnded)
    {
        this.method = method;
        this.segments = segments;
        this.openEnded = openEnded;
        normalised = (method ?? "*") + " " + (segments is null ? "**" : "/" + string.Join('/', segments) + (openEnded ? "/**" : string.Empty));
    }

    /// <summary>The matcher, or null when the pattern is malformed.</summary>
    public static RequestMatcher? Parse(string? pattern)
    {
        if (pattern is null || pattern.Length is 0 or > MaxLength || pattern.Any(c => c is not (' ' or (>= '!' and <= '~'))))
        {
            return null;
        }

        var parts = pattern.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is ["*"])
        {
            return new RequestMatcher(null, null, openEnded: true);
        }

        var (methodPart, pathPart) = parts switch
        {
            [var only] => ("*", only),
            [var first, var second] => (first, second),
            _ => (string.Empty, string.Empty),
        };
        if (methodPart.Length == 0 || (methodPart != "*" && !methodPart.All(char.IsAsciiLetter)))
        {
            return null;
        }

        if (!pathPart.StartsWith('/') || pathPart.Contains('?', StringComparison.Ordinal) || pathPart.Contains('#', StringComparison.Ordinal))
        {
            return null;
        }

        var pathSegments = pathPart.Trim('/').Split('/');
        if (pathSegments is [""])
        {
            pathSegments = [];
        }

        var openEnded = pathSegments.Length > 0 && pathSegments[^1] == "**";
        if (openEnded)
        {
            pathSegments = pathSegments[..^1];
        }

        if (pathSegments.Any(s => s.Length == 0 || s.Contains("**", StringComparison.Ordinal) || (s.Contains('*', StringComparison.Ordinal) && s != "*")))
        {
            return null;
        }

        return new RequestMatcher(methodPart == "*" ? null : methodPart.ToUpperInvariant(), pathSegments, openEnded);
    }

    /// <summary>Whether a request with this method and path (no query string) matches.</summary>
    public bool IsMatch(string requestMethod, string requestPath)
    {
        if (method is not null && !string.Equals(method, requestMethod, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (segments is null)
        {
            return true;
        }

        var path = requestPath.AsSpan().Trim('/');
        if (path.IsEmpty)
        {
            return segments.Length == 0;
        }

        var index = 0;
        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (index >= segments.Length)
            {
                return openEnded;
            }

            if (segments[index] != "*" ? !segment.SequenceEqual(segments[index]) : segment.IsEmpty)
            {
                return false;
            }

            index++;
        }

        return index == segments.Length;
    }

    public bool Equals(RequestMatcher? other) => other is not null && normalised == other.normalised;

    public override bool Equals(object? obj) => Equals(obj as RequestMatcher);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(normalised);

    public override string ToString() => normalised;
}
