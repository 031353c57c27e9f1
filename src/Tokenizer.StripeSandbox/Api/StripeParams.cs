using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// The parameters of one Stripe API request: the form body of a POST (<c>application/x-www-form-urlencoded</c>, names
/// such as <c>card[number]</c> or <c>metadata[key]</c>) or the query string of a GET. Values are never logged or echoed.
/// </summary>
internal sealed class StripeParams
{
    private readonly Dictionary<string, string> values;

    private StripeParams(Dictionary<string, string> values) => this.values = values;

    public static StripeParams Empty { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, string> All => values;

    /// <summary>Reads the form body (POST) or query string (other methods). A parameter sent twice is rejected.</summary>
    public static async Task<StripeParams> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        IEnumerable<KeyValuePair<string, StringValues>> source;
        if (HttpMethods.IsPost(request.Method))
        {
            source = request.HasFormContentType ? await request.ReadFormAsync(cancellationToken) : [];
        }
        else
        {
            source = request.Query;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in source)
        {
            // A list sent as name[]=a&name[]=b (Stripe's own clients send name[0]=a&name[1]=b) is read as the indexed form.
            if (name.EndsWith("[]", StringComparison.Ordinal) && name.Length > 2 && value.Count <= 100)
            {
                for (var i = 0; i < value.Count; i++)
                {
                    values[string.Create(CultureInfo.InvariantCulture, $"{name[..^2]}[{i}]")] = value[i] ?? string.Empty;
                }

                continue;
            }

            if (value.Count != 1)
            {
                throw StripeErrors.ParameterInvalid(StripeErrors.PlainName(name), "A parameter was sent more than once.");
            }

            values[name] = value[0] ?? string.Empty;
        }

        return new StripeParams(values);
    }

    /// <summary>The value, or null when absent or empty (Stripe treats an empty value as unset).</summary>
    public string? Get(string name) =>
        values.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// A list parameter sent as <c>name[0]</c>, <c>name[1]</c>... in index order (at most 100 items; empty values skipped).
    /// An index that is not a small integer, or a gap, answers 400 naming the list.
    /// </summary>
    public IReadOnlyList<string> List(string name)
    {
        var prefix = name + "[";
        var items = new SortedDictionary<int, string>();
        foreach (var (key, value) in values)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var index = key[prefix.Length..];
            if (!index.EndsWith(']') || index.Length is < 2 or > 4
                || !int.TryParse(index[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var position) || position >= 100)
            {
                throw StripeErrors.ParameterInvalid(name, $"Invalid array: {name} must be sent as {name}[0], {name}[1] and so on.");
            }

            if (value.Length > 0)
            {
                items[position] = value;
            }
        }

        return [.. items.Values];
    }

    /// <summary>The value, or 400 parameter_missing.</summary>
    public string Required(string name) => Get(name) ?? throw StripeErrors.ParameterMissing(name);

    /// <summary>
    /// 400 parameter_unknown for any name not in <paramref name="allowed"/>, not under an allowed prefix (such as
    /// <c>metadata[</c>) and not an <c>expand[...]</c> list (accepted and ignored). An empty value for a parent object
    /// (<c>billing_details[address]=</c>, which Stripe.net sends for an explicit null) means "unset" and is accepted.
    /// </summary>
    public void RejectUnknown(IReadOnlySet<string> allowed, params ReadOnlySpan<string> allowedPrefixes)
    {
        foreach (var (name, value) in values)
        {
            if (allowed.Contains(name) || name.StartsWith("expand[", StringComparison.Ordinal)
                || (value.Length == 0 && IsParentOf(name, allowed, allowedPrefixes)))
            {
                continue;
            }

            var underPrefix = false;
            foreach (var prefix in allowedPrefixes)
            {
                underPrefix |= name.StartsWith(prefix, StringComparison.Ordinal);
            }

            if (!underPrefix)
            {
                throw StripeErrors.ParameterUnknown(name);
            }
        }
    }

    private static bool IsParentOf(string name, IReadOnlySet<string> allowed, ReadOnlySpan<string> allowedPrefixes)
    {
        var child = name + "[";
        foreach (var prefix in allowedPrefixes)
        {
            if (prefix.StartsWith(child, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return allowed.Any(a => a.StartsWith(child, StringComparison.Ordinal));
    }

    /// <summary>
    /// <c>metadata[key]=value</c> pairs, with Stripe's limits: at most 50 keys, keys up to 40 characters without square
    /// brackets, values up to 500 characters. Empty values are skipped (Stripe: unset).
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata()
    {
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (!name.StartsWith("metadata[", StringComparison.Ordinal))
            {
                continue;
            }

            if (!name.EndsWith(']') || name.Length < "metadata[]".Length + 1)
            {
                throw StripeErrors.ParameterInvalid("metadata", "Invalid metadata: keys must be sent as metadata[key]=value.");
            }

            var key = name["metadata[".Length..^1];
            if (key.Length > 40 || key.Contains('[', StringComparison.Ordinal) || key.Contains(']', StringComparison.Ordinal))
            {
                throw StripeErrors.ParameterInvalid("metadata", "Metadata keys can have up to 40 characters and cannot contain square brackets.");
            }

            if (value.Length > 500)
            {
                throw StripeErrors.ParameterInvalid("metadata", "Metadata values can have up to 500 characters.");
            }

            if (value.Length > 0)
            {
                metadata[key] = value;
            }
        }

        if (metadata.Count > 50)
        {
            throw StripeErrors.ParameterInvalid("metadata", "Metadata can have up to 50 keys.");
        }

        return metadata;
    }
}
