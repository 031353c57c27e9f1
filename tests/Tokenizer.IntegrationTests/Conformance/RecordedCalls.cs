using System.Text.Json;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>Reads recorded requests: from a running sandbox's log, or from the JSON lines sandboxes exported.</summary>
internal static class RecordedCalls
{
    /// <summary>The requests a sandbox in this process recorded, oldest first.</summary>
    public static IReadOnlyList<RecordedCall> From(StripeSandboxServer sandbox, string origin) =>
        [.. sandbox.Requests.Snapshot().Select(r => new RecordedCall(
            r.Method,
            r.Path,
            r.Status,
            r.Outcome switch { SandboxRequestOutcome.Answered => "answered", SandboxRequestOutcome.Aborted => "aborted", _ => "in_progress" },
            r.Fault?.ToString(),
            r.Parameters?.Select(p => new RecordedParam(p.Name, Kind(p.Kind), p.Value, p.Source == SandboxParameterSource.Form ? "form" : "query")).ToList(),
            r.ResponseKeys,
            $"{origin} #{r.Sequence}"))];

    /// <summary>Every request in the <c>*.jsonl</c> files of a folder (see <see cref="SandboxRequestLog.ExportDirectoryVariable"/>).</summary>
    public static IReadOnlyList<RecordedCall> FromFolder(string folder)
    {
        var calls = new List<RecordedCall>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var number = 0;
            foreach (var line in File.ReadLines(file))
            {
                number++;
                if (line.Length > 0)
                {
                    calls.Add(Parse(line, $"{Path.GetFileName(file)}:{number}"));
                }
            }
        }

        return calls;
    }

    /// <summary>One exported line.</summary>
    public static RecordedCall Parse(string line, string origin)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        string? Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        return new RecordedCall(
            Text(root, "method")!,
            Text(root, "path")!,
            root.TryGetProperty("status", out var status) ? status.GetInt32() : null,
            Text(root, "outcome")!,
            Text(root, "fault"),
            root.TryGetProperty("parameters", out var parameters)
                ? [.. parameters.EnumerateArray().Select(p => new RecordedParam(Text(p, "name")!, Text(p, "kind")!, Text(p, "value"), Text(p, "source")!))]
                : null,
            root.TryGetProperty("response_keys", out var keys) ? [.. keys.EnumerateArray().Select(k => k.GetString()!)] : null,
            origin);
    }

    private static string Kind(SandboxParameterKind kind) => kind switch
    {
        SandboxParameterKind.WholeNumber => "integer",
        SandboxParameterKind.Number => "number",
        SandboxParameterKind.Boolean => "boolean",
        SandboxParameterKind.Empty => "empty",
        _ => "string",
    };
}

/// <summary>The verdict over many requests: findings (violations no exception covers) and the exceptions used.</summary>
internal sealed record ConformanceVerdict(int Judged, IReadOnlyList<Violation> Findings, IReadOnlyDictionary<string, int> ExceptionsUsed)
{
    public static ConformanceVerdict Of(IEnumerable<RecordedCall> calls)
    {
        var judged = 0;
        var findings = new List<Violation>();
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var call in calls)
        {
            judged++;
            foreach (var violation in StripeOpenApi.Instance.Judge(call))
            {
                var covering = SpecExceptions.Covering(violation).ToList();
                if (covering.Count == 0)
                {
                    findings.Add(violation);
                }

                foreach (var exception in covering)
                {
                    used[exception.Id] = used.GetValueOrDefault(exception.Id) + 1;
                }
            }
        }

        return new ConformanceVerdict(judged, findings, used);
    }

    /// <summary>The findings grouped (rule, method, template, subject) with a count and the first origin, one per line.</summary>
    public string Describe() => string.Join(
        Environment.NewLine,
        Findings.GroupBy(f => (f.Rule, f.Method, f.PathTemplate, f.Subject, f.Detail))
            .Select(g => $"{g.Count()}x {g.First()}"));
}
