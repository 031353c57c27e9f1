using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>A parameter as the sandbox recorded it: name as sent, kind (string|integer|number|boolean|empty), value only when a ^[a-z_]{1,64}$ word.</summary>
internal sealed record RecordedParam(string Name, string Kind, string? Value, string Source);

/// <summary>One request the sandbox received (from its in-process log or an exported JSON line), with its origin for messages.</summary>
internal sealed record RecordedCall(
    string Method,
    string Path,
    int? Status,
    string Outcome,
    string? Fault,
    IReadOnlyList<RecordedParam>? Parameters,
    IReadOnlyList<string>? ResponseKeys,
    string Origin);

/// <summary>What broke which rule: <see cref="Rule"/> is one of the <see cref="Rules"/> names.</summary>
internal sealed record Violation(string Rule, string Method, string PathTemplate, string Subject, string Detail, string Origin)
{
    public override string ToString() => $"{Rule}: {Method} {PathTemplate} {Subject}: {Detail} ({Origin})";
}

/// <summary>The rule names a violation carries.</summary>
internal static class Rules
{
    public const string UnknownPath = "unknown_path";
    public const string UnknownParameter = "unknown_parameter";
    public const string WrongType = "wrong_type";
    public const string WrongEnum = "wrong_enum";
    public const string Unjudgeable = "unjudgeable";
    public const string MissingResponseField = "missing_response_field";
    public const string NotJson = "not_json";
}

/// <summary>
/// Stripe's OpenAPI description (github.com/stripe/openapi <c>openapi/spec3.json</c>, 2022-04-12 release, with the
/// payment_methods request definitions brought up to the current API; see Conformance/README.md), loaded once from the
/// embedded gzip, and the rules a recorded request is judged by: the path and method exist; every form and query
/// parameter name exists in Stripe's bracket notation (<c>a[b][0][c]</c>; free-form maps such as <c>metadata[*]</c>
/// through <c>additionalProperties</c>); its kind fits the schema's type (anyOf: any alternative, incl. the <c>""</c>
/// "unset" alternative); a word value is one of the enum; and the answer carries every field the spec marks required
/// for the returned object (and for nested objects it returned, where one object schema applies).
/// </summary>
internal sealed partial class StripeOpenApi
{
    private const string ResourceName = "Tokenizer.IntegrationTests.Conformance.stripe-openapi-spec3.json.gz";
    private const int MaxDepth = 12;
    private static readonly Lazy<StripeOpenApi> Loaded = new(Load);

    private readonly JsonDocument document;
    private readonly JsonElement paths;
    private readonly JsonElement schemas;
    private readonly List<(string Template, string[] Segments)> templates;

    private StripeOpenApi(JsonDocument document)
    {
        this.document = document;
        paths = document.RootElement.GetProperty("paths");
        schemas = document.RootElement.GetProperty("components").GetProperty("schemas");
        templates = [.. paths.EnumerateObject().Select(p => (p.Name, p.Name.Split('/')))];
    }

    /// <summary>The description, parsed once per process.</summary>
    public static StripeOpenApi Instance => Loaded.Value;

    /// <summary>The description's own version (<c>info.version</c>): the API version its 2022 part describes.</summary>
    public string Version => document.RootElement.GetProperty("info").GetProperty("version").GetString()!;

    /// <summary>The spec path template a concrete path matches (literal segments preferred), or null.</summary>
    public string? Template(string method, string path)
    {
        var segments = path.Split('/');
        string? best = null;
        var bestLiterals = -1;
        foreach (var (template, parts) in templates)
        {
            if (parts.Length != segments.Length || !paths.GetProperty(template).TryGetProperty(method.ToLowerInvariant(), out _))
            {
                continue;
            }

            var literals = 0;
            var match = true;
            for (var i = 0; i < parts.Length && match; i++)
            {
                if (parts[i].StartsWith('{'))
                {
                    match = segments[i].Length > 0;
                }
                else
                {
                    match = string.Equals(parts[i], segments[i], StringComparison.Ordinal);
                    literals++;
                }
            }

            if (match && literals > bestLiterals)
            {
                (best, bestLiterals) = (template, literals);
            }
        }

        return best;
    }

    /// <summary>Every violation of one recorded request (empty: it conforms).</summary>
    public IReadOnlyList<Violation> Judge(RecordedCall call)
    {
        var violations = new List<Violation>();
        var template = Template(call.Method, call.Path);
        if (template is null)
        {
            violations.Add(new Violation(Rules.UnknownPath, call.Method, call.Path, call.Path, "no such path and method in the description", call.Origin));
            return violations;
        }

        var operation = paths.GetProperty(template).GetProperty(call.Method.ToLowerInvariant());
        void Add(string rule, string subject, string detail) => violations.Add(new Violation(rule, call.Method, template, subject, detail, call.Origin));

        if (call.Parameters is null)
        {
            Add(Rules.Unjudgeable, "(parameters)", "the sandbox could not read the parameters");
        }
        else
        {
            foreach (var parameter in call.Parameters)
            {
                if (JudgeParameter(operation, parameter) is { } problem)
                {
                    Add(problem.Rule, Generalise(parameter.Name), problem.Detail);
                }
            }
        }

        if (call.ResponseKeys is null)
        {
            // Nothing Stripe-shaped was answered: the connection was cut, or a fault replaced the answer on purpose.
            if (call.Outcome == "answered" && call.Fault is null)
            {
                Add(Rules.NotJson, "(response)", "answered without a JSON object");
            }
        }
        else if (call.Status is { } status)
        {
            var keys = new HashSet<string>(call.ResponseKeys, StringComparer.Ordinal);
            var responses = operation.GetProperty("responses");
            if ((status is >= 200 and < 300 && responses.TryGetProperty(status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response))
                || responses.TryGetProperty("default", out response))
            {
                if (response.TryGetProperty("content", out var content) && content.TryGetProperty("application/json", out var json))
                {
                    CheckRequired(json.GetProperty("schema"), string.Empty, keys, 0, key => Add(Rules.MissingResponseField, key, "required by the description, absent from the answer"));
                }
            }
        }

        return violations;
    }

    /// <summary>The name with array indices written <c>[n]</c> (<c>payment_method_types[0]</c> -> <c>payment_method_types[n]</c>), for grouping and exceptions.</summary>
    public static string Generalise(string name) => Index().Replace(name, "[n]");

    private (string Rule, string Detail)? JudgeParameter(JsonElement operation, RecordedParam parameter)
    {
        var segments = Split(parameter.Name);
        if (segments is null)
        {
            return (Rules.Unjudgeable, "the name is not in bracket notation");
        }

        JsonElement? schema = null;
        if (parameter.Source == "query")
        {
            if (operation.TryGetProperty("parameters", out var declared))
            {
                foreach (var candidate in declared.EnumerateArray())
                {
                    if (candidate.GetProperty("in").GetString() == "query" && candidate.GetProperty("name").GetString() == segments[0])
                    {
                        schema = candidate.GetProperty("schema");
                    }
                }
            }
        }
        else if (operation.TryGetProperty("requestBody", out var body)
            && body.GetProperty("content").TryGetProperty("application/x-www-form-urlencoded", out var form)
            && Resolve(form.GetProperty("schema")).TryGetProperty("properties", out var properties)
            && properties.TryGetProperty(segments[0], out var property))
        {
            schema = property;
        }

        if (schema is null)
        {
            return (Rules.UnknownParameter, $"{segments[0]} is not a {parameter.Source} parameter of this operation");
        }

        return JudgeValue(schema.Value, segments, 1, parameter, 0);
    }

    private (string Rule, string Detail)? JudgeValue(JsonElement schema, string[] segments, int index, RecordedParam parameter, int depth)
    {
        schema = Resolve(schema);
        if (depth > MaxDepth)
        {
            return (Rules.Unjudgeable, "the schema nests too deep to judge");
        }

        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            (string Rule, string Detail)? best = null;
            foreach (var alternative in anyOf.EnumerateArray())
            {
                var problem = JudgeValue(alternative, segments, index, parameter, depth + 1);
                if (problem is null)
                {
                    return null;
                }

                // Prefer what an alternative that knew the name said over "unknown".
                if (best is null || (best.Value.Rule == Rules.UnknownParameter && problem.Value.Rule != Rules.UnknownParameter))
                {
                    best = problem;
                }
            }

            return best ?? (Rules.Unjudgeable, "an empty anyOf");
        }

        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (index < segments.Length)
        {
            var segment = segments[index];
            switch (type)
            {
                case "object":
                    if (schema.TryGetProperty("properties", out var properties) && properties.TryGetProperty(segment, out var property))
                    {
                        return JudgeValue(property, segments, index + 1, parameter, depth + 1);
                    }

                    if (schema.TryGetProperty("additionalProperties", out var additional))
                    {
                        return additional.ValueKind == JsonValueKind.Object ? JudgeValue(additional, segments, index + 1, parameter, depth + 1)
                            : additional.ValueKind == JsonValueKind.True ? null
                            : (Rules.UnknownParameter, $"{Prefix(segments, index + 1)} is not a property");
                    }

                    return (Rules.UnknownParameter, $"{Prefix(segments, index + 1)} is not a property");
                case "array":
                    return segment.Length == 0 || segment.All(char.IsAsciiDigit)
                        ? JudgeValue(schema.GetProperty("items"), segments, index + 1, parameter, depth + 1)
                        : (Rules.UnknownParameter, $"{Prefix(segments, index + 1)}: an array takes [index] here");
                default:
                    return (Rules.UnknownParameter, $"{Prefix(segments, index)} is a {type ?? "value"}, not an object or array");
            }
        }

        var kind = parameter.Kind;
        switch (type)
        {
            case "string":
                if (!schema.TryGetProperty("enum", out var values))
                {
                    return null;
                }

                var allowed = values.EnumerateArray().Select(v => v.GetString() ?? string.Empty).ToList();
                if (kind == "empty")
                {
                    return allowed.Contains(string.Empty) ? null : (Rules.WrongEnum, $"empty, not one of {string.Join('|', allowed)}");
                }

                if (parameter.Value is { } value)
                {
                    return allowed.Contains(value) ? null : (Rules.WrongEnum, $"'{value}' is not one of {string.Join('|', allowed)}");
                }

                // The log keeps a value only when it is a ^[a-z_]{1,64}$ word: when every allowed value is such a word,
                // a value the log did not keep cannot be one of them.
                return allowed.All(a => Word().IsMatch(a))
                    ? (Rules.WrongEnum, $"a {kind} that is not a lower-case word, so not one of {string.Join('|', allowed)}")
                    : (Rules.Unjudgeable, $"the enum {string.Join('|', allowed)} holds values the log cannot show");
            case "integer":
                return kind == "integer" ? null : (Rules.WrongType, $"a {kind} where the description wants an integer");
            case "number":
                return kind is "integer" or "number" ? null : (Rules.WrongType, $"a {kind} where the description wants a number");
            case "boolean":
                return kind == "boolean" ? null : (Rules.WrongType, $"a {kind} where the description wants a boolean");
            case "object" or "array":
                return (Rules.WrongType, $"a {kind} where the description wants an {type} (brackets)");
            default:
                return (Rules.Unjudgeable, "the schema has no type");
        }
    }

    private void CheckRequired(JsonElement schema, string prefix, HashSet<string> keys, int depth, Action<string> missing)
    {
        schema = Resolve(schema);
        if (depth > MaxDepth)
        {
            return;
        }

        if (schema.TryGetProperty("anyOf", out var anyOf))
        {
            // Nested: judge only when exactly one alternative is an object with properties (nullable wrappers, expandable
            // ids); several object shapes leave the answer's shape unknown, and ids or nulls carry no fields.
            var objects = anyOf.EnumerateArray().Select(Resolve).Where(a => a.TryGetProperty("properties", out _)).ToList();
            if (objects.Count == 1)
            {
                CheckRequired(objects[0], prefix, keys, depth + 1, missing);
            }

            return;
        }

        if (!schema.TryGetProperty("properties", out var properties))
        {
            return;
        }

        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray())
            {
                var key = prefix + name.GetString();
                if (!keys.Contains(key))
                {
                    missing(key);
                }
            }
        }

        foreach (var property in properties.EnumerateObject())
        {
            var key = prefix + property.Name;
            var resolved = Resolve(property.Value);
            if (keys.Any(k => k.StartsWith(key + ".", StringComparison.Ordinal)))
            {
                CheckRequired(resolved, key + ".", keys, depth + 1, missing);
            }
            else if (keys.Any(k => k.StartsWith(key + "[].", StringComparison.Ordinal))
                && resolved.TryGetProperty("items", out var items))
            {
                CheckRequired(items, key + "[].", keys, depth + 1, missing);
            }
        }
    }

    private JsonElement Resolve(JsonElement schema)
    {
        for (var i = 0; i < MaxDepth && schema.TryGetProperty("$ref", out var reference); i++)
        {
            var name = reference.GetString()!;
            schema = schemas.GetProperty(name[(name.LastIndexOf('/') + 1)..]);
        }

        return schema;
    }

    /// <summary><c>a[b][0][]</c> -> [a, b, 0, ""], or null when the brackets do not pair.</summary>
    private static string[]? Split(string name)
    {
        var open = name.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return name.Contains(']', StringComparison.Ordinal) ? null : [name];
        }

        var parts = new List<string> { name[..open] };
        var rest = name[open..];
        while (rest.Length > 0)
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (rest[0] != '[' || close < 0 || rest[1..close].Contains('[', StringComparison.Ordinal))
            {
                return null;
            }

            parts.Add(rest[1..close]);
            rest = rest[(close + 1)..];
        }

        return [.. parts];
    }

    private static string Prefix(string[] segments, int count) =>
        segments[0] + string.Concat(segments.Skip(1).Take(count - 1).Select(s => $"[{s}]"));

    private static StripeOpenApi Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} missing");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        return new StripeOpenApi(JsonDocument.Parse(gzip));
    }

    [GeneratedRegex("^[a-z_]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Word();

    [GeneratedRegex(@"\[[0-9]+\]", RegexOptions.CultureInvariant)]
    private static partial Regex Index();
}
