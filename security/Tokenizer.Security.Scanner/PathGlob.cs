namespace Tokenizer.Security.Scanner;

/// <summary>
/// A path pattern for <c>--exclude</c>, matched against paths relative to the scanned directory with '/' separators.
/// <c>**</c> matches any number of whole path segments (<c>**/bin/**</c>, <c>tests/**</c>), <c>*</c> any chars within
/// a segment, <c>?</c> one char. A pattern without '/' matches a file or directory name at any depth, as in .gitignore.
/// </summary>
internal sealed class PathGlob
{
    private readonly string pattern;
    private readonly bool nameOnly;

    public PathGlob(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        var normalised = pattern.Replace('\\', '/');
        while (normalised.StartsWith("./", StringComparison.Ordinal))
        {
            normalised = normalised[2..];
        }

        nameOnly = !normalised.TrimEnd('/').Contains('/', StringComparison.Ordinal);
        this.pattern = nameOnly ? normalised.TrimEnd('/') : normalised;
        Text = pattern;
    }

    /// <summary>The pattern as given.</summary>
    public string Text { get; }

    /// <summary>True when the entry at <paramref name="relativePath"/> (no trailing slash) is excluded.</summary>
    /// <param name="relativePath">Relative to the scanned directory, '/'-separated.</param>
    /// <param name="isDirectory">Directories also match as <c>path/</c>, so <c>tests/**</c> prunes the folder itself.</param>
    public bool Matches(string relativePath, bool isDirectory)
    {
        if (nameOnly)
        {
            var slash = relativePath.LastIndexOf('/');
            return Match(pattern, relativePath[(slash + 1)..]);
        }

        return Match(pattern, relativePath) || (isDirectory && Match(pattern, relativePath + "/"));
    }

    /// <summary>Glob matching, memoised over (pattern position, text position): polynomial, never exponential.</summary>
    private static bool Match(string pattern, string text)
    {
        var memo = new bool?[pattern.Length + 1, text.Length + 1];
        return At(0, 0);

        bool At(int p, int t)
        {
            if (memo[p, t] is { } known)
            {
                return known;
            }

            bool result;
            if (p == pattern.Length)
            {
                result = t == text.Length;
            }
            else if (pattern[p] == '*' && p + 1 < pattern.Length && pattern[p + 1] == '*')
            {
                // "**/" matches zero or more whole segments; a final or inner "**" matches anything.
                var slash = p + 2 < pattern.Length && pattern[p + 2] == '/';
                var next = slash ? p + 3 : p + 2;
                result = At(next, t);
                for (var i = t; !result && i < text.Length; i++)
                {
                    result = (!slash || text[i] == '/') && At(next, i + 1);
                }
            }
            else if (pattern[p] == '*')
            {
                result = At(p + 1, t);
                for (var i = t; !result && i < text.Length && text[i] != '/'; i++)
                {
                    result = At(p + 1, i + 1);
                }
            }
            else if (t < text.Length && (pattern[p] == text[t] || (pattern[p] == '?' && text[t] != '/')))
            {
                result = At(p + 1, t + 1);
            }
            else
            {
                result = false;
            }

            memo[p, t] = result;
            return result;
        }
    }
}
