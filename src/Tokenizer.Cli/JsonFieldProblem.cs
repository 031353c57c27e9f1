using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf.Reflection;

namespace Tokenizer.Cli;

/// <summary>
/// Names the field and rule of stdin JSON that Google.Protobuf's JsonParser refused (its messages name no field and can
/// quote the value): the JSON is walked against the message's descriptor and the first field whose value has the wrong
/// shape is described as <c>card.exp_month: expected a number</c>. Only names from the contract are printed; an unknown
/// key is named only when it is made of letters and underscores, and no value is ever printed.
/// </summary>
internal static partial class JsonFieldProblem
{
    /// <summary>The first problem as <c>path: rule</c>, or null when none is found (or the text is not JSON).</summary>
    public static string? Find(string text, MessageDescriptor descriptor)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return Walk(document.RootElement, descriptor, string.Empty);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// What the proto3 JSON mapping lets through but a person would not mean, as <c>path: rule</c>, or null when there
    /// is none or the text is not JSON: a field given twice in one object (by the same name, or by its JSON and its proto
    /// name: <c>expMonth</c> and <c>exp_month</c>; the parser keeps the last one silently), and a whole-number field
    /// written as a string, a fraction or an exponent (the mapping reads <c>"12"</c>, <c>12.0</c> and <c>"1e1"</c> as
    /// numbers: <c>card.exp_month: expected a number</c>, <c>expected a whole number</c>). Keys outside the contract (map keys,
    /// unknown fields) are never printed, values never.
    /// </summary>
    public static string? FindLenient(string text, MessageDescriptor descriptor)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return Repeated(document.RootElement, descriptor, string.Empty);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Repeated(JsonElement element, MessageDescriptor? descriptor, string path)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            return element.EnumerateArray().Select(item => Repeated(item, descriptor, path)).FirstOrDefault(found => found is not null);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var field = descriptor?.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == property.Name || f.Name == property.Name);
            var at = field is null ? path : path.Length > 0 ? $"{path}.{field.Name}" : field.Name;
            if (!seen.Add(field?.Name ?? "\0" + property.Name))
            {
                return field is null
                    ? $"{(path.Length > 0 ? path : "(top level)")}: a key given twice"
                    : $"{at}: given twice";
            }

            if (field is not null && IsWholeNumber(field.FieldType) && !IsDigits(property.Value))
            {
                return property.Value.ValueKind == JsonValueKind.String ? $"{at}: expected a number" : $"{at}: expected a whole number";
            }

            var inner = field is { FieldType: FieldType.Message, IsMap: false } ? field.MessageType : null;
            if (Repeated(property.Value, inner, at) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    private static bool IsWholeNumber(FieldType type) => type is FieldType.Int32 or FieldType.Int64 or FieldType.UInt32
        or FieldType.UInt64 or FieldType.SInt32 or FieldType.SInt64 or FieldType.Fixed32 or FieldType.Fixed64
        or FieldType.SFixed32 or FieldType.SFixed64;

    // A JSON number as digits with an optional minus sign (null and arrays are judged elsewhere).
    private static bool IsDigits(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetRawText().TrimStart('-') is { Length: > 0 } digits && digits.All(char.IsAsciiDigit),
        JsonValueKind.String => false,
        _ => true,
    };

    private static string? Walk(JsonElement element, MessageDescriptor descriptor, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return $"{(path.Length > 0 ? path : "(top level)")}: expected an object";
        }

        var seenOneofs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var field = descriptor.Fields.InDeclarationOrder().FirstOrDefault(f =>
                f.JsonName == property.Name || f.Name == property.Name);
            if (field is null)
            {
                var name = KeyLike().IsMatch(property.Name) ? $"'{property.Name}'" : "(not shown)";
                return $"{(path.Length > 0 ? path + ": " : string.Empty)}unknown field {name}";
            }

            var at = path.Length > 0 ? $"{path}.{field.Name}" : field.Name;
            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (field.RealContainingOneof is { } oneof && !seenOneofs.Add(oneof.Name))
            {
                return $"{at}: only one of {string.Join(", ", oneof.Fields.Select(f => f.Name))} may be given";
            }

            var problem = field.IsRepeated && !field.IsMap
                ? property.Value.ValueKind != JsonValueKind.Array ? $"{at}: expected an array"
                    : property.Value.EnumerateArray().Select(v => Value(v, field, at + "[]")).FirstOrDefault(p => p is not null)
                : Value(property.Value, field, at);
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? Value(JsonElement value, FieldDescriptor field, string at)
    {
        switch (field.FieldType)
        {
            case FieldType.Message or FieldType.Group:
                // Well-known types (wrappers, Timestamp, Struct) have their own JSON forms: left to the parser.
                return field.MessageType.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal)
                    ? null
                    : Walk(value, field.MessageType, at);
            case FieldType.String:
                return value.ValueKind == JsonValueKind.String ? null : $"{at}: expected a string";
            case FieldType.Bytes:
                return value.ValueKind == JsonValueKind.String ? null : $"{at}: expected a base64 string";
            case FieldType.Bool:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"{at}: expected true or false";
            case FieldType.Enum:
                var names = string.Join(", ", field.EnumType.Values.Select(v => v.Name));
                return value.ValueKind == JsonValueKind.String && field.EnumType.FindValueByName(value.GetString() ?? string.Empty) is not null
                    || value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && field.EnumType.FindValueByNumber(number) is not null
                    ? null
                    : $"{at}: expected one of {names}";
            case FieldType.Float or FieldType.Double:
                return value.ValueKind == JsonValueKind.Number || value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                    ? null
                    : $"{at}: expected a number";
            default:
                return WholeNumber(value, field.FieldType, at);
        }
    }

    private static string? WholeNumber(JsonElement value, FieldType type, string at)
    {
        string raw;
        if (value.ValueKind == JsonValueKind.Number)
        {
            raw = value.GetRawText();
        }
        else if (value.ValueKind == JsonValueKind.String)
        {
            raw = value.GetString() ?? string.Empty;
        }
        else
        {
            return $"{at}: expected a number";
        }

        if (!decimal.TryParse(raw, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var number))
        {
            return $"{at}: expected a number";
        }

        if (number != decimal.Truncate(number))
        {
            return $"{at}: expected a whole number";
        }

        var (min, max) = type switch
        {
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => ((decimal)int.MinValue, (decimal)int.MaxValue),
            FieldType.UInt32 or FieldType.Fixed32 => (0m, (decimal)uint.MaxValue),
            FieldType.UInt64 or FieldType.Fixed64 => (0m, (decimal)ulong.MaxValue),
            _ => ((decimal)long.MinValue, (decimal)long.MaxValue),
        };
        return number < min || number > max
            ? string.Create(CultureInfo.InvariantCulture, $"{at}: number out of range ({min} to {max})")
            : null;
    }

    /// <summary>A key as typed that can hold no number: letters and underscores.</summary>
    [GeneratedRegex("^[A-Za-z_]{1,40}$")]
    private static partial Regex KeyLike();
}
