using System.Globalization;
using System.Text.Json.Serialization;

namespace Tokenizer.StripeSandbox.Faults;

/// <summary>
/// A fault rule as JSON (<c>POST /_sandbox/faults</c> takes an array of these):
/// <c>{"match":"POST /v1/payment_methods","action":"status","status":503,"should_retry":true,"nth":1,"count":1}</c>.
/// Unknown members are refused, so a misspelt parameter is an error rather than a silently ignored one.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record FaultRuleJson
{
    /// <summary>Request pattern (<see cref="SandboxFaultRule.Match"/>); default <c>*</c>.</summary>
    public string? Match { get; init; }

    /// <summary>latency, status, non_json, reset, hang, drop_after_success, hang_after_success.</summary>
    public string? Action { get; init; }

    public int? Nth { get; init; }

    public int? Count { get; init; }

    public int? Status { get; init; }

    public bool? ShouldRetry { get; init; }

    public string? Code { get; init; }

    public int? DelayMs { get; init; }

    public int? MaxMs { get; init; }
}

/// <summary>A rule still in the plan, as <c>GET /_sandbox/faults</c> shows it (absent parameters left out).</summary>
internal sealed record PendingFaultJson
{
    public required string Match { get; init; }

    public required string Action { get; init; }

    public required int Nth { get; init; }

    public required int Count { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Status { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ShouldRetry { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Code { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? DelayMs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? MaxMs { get; init; }

    public required int Seen { get; init; }

    public required int Fired { get; init; }
}

/// <summary>A recorded request as <c>GET /_sandbox/requests</c> shows it.</summary>
internal sealed record RecordedRequestJson(
    long Sequence,
    DateTimeOffset Time,
    string Method,
    string Path,
    string? IdempotencyKey,
    string Outcome,
    int? Status,
    string? Fault,
    IReadOnlyList<RecordedParameterJson>? Parameters,
    IReadOnlyList<string>? ResponseKeys);

/// <summary>A recorded parameter as <c>GET /_sandbox/requests</c> shows it (see <see cref="SandboxRecordedParameter"/>).</summary>
internal sealed record RecordedParameterJson(string Name, string Kind, string? Value, string Source);

/// <summary>Wire names and conversions between the public fault types and their JSON / header forms.</summary>
internal static class FaultWire
{
    private static readonly Dictionary<string, SandboxFaultAction> Actions = new(StringComparer.Ordinal)
    {
        ["latency"] = SandboxFaultAction.Latency,
        ["status"] = SandboxFaultAction.Status,
        ["non_json"] = SandboxFaultAction.NonJson,
        ["reset"] = SandboxFaultAction.Reset,
        ["hang"] = SandboxFaultAction.Hang,
        ["drop_after_success"] = SandboxFaultAction.DropAfterSuccess,
        ["hang_after_success"] = SandboxFaultAction.HangAfterSuccess,
    };

    public static string Name(SandboxFaultAction action) => action switch
    {
        SandboxFaultAction.Latency => "latency",
        SandboxFaultAction.Status => "status",
        SandboxFaultAction.NonJson => "non_json",
        SandboxFaultAction.Reset => "reset",
        SandboxFaultAction.Hang => "hang",
        SandboxFaultAction.DropAfterSuccess => "drop_after_success",
        _ => "hang_after_success",
    };

    public static string Name(SandboxRequestOutcome outcome) => outcome switch
    {
        SandboxRequestOutcome.InProgress => "in_progress",
        SandboxRequestOutcome.Answered => "answered",
        _ => "aborted",
    };

    public static PendingFaultJson ToJson(SandboxPendingFault pending)
    {
        var fault = pending.Rule.Fault;
        return new PendingFaultJson
        {
            Match = pending.Rule.Match,
            Action = Name(fault.Action),
            Nth = pending.Rule.Nth,
            Count = pending.Rule.Count,
            Status = fault.StatusCode,
            ShouldRetry = fault.ShouldRetry,
            Code = fault.Code,
            DelayMs = fault.Delay is { } delay ? (long)delay.TotalMilliseconds : null,
            MaxMs = fault.MaxWait is { } maxWait ? (long)maxWait.TotalMilliseconds : null,
            Seen = pending.Seen,
            Fired = pending.Fired,
        };
    }

    public static RecordedRequestJson ToJson(SandboxRecordedRequest request) => new(
        request.Sequence,
        request.Time,
        request.Method,
        request.Path,
        request.IdempotencyKey,
        Name(request.Outcome),
        request.Status,
        request.Fault is { } fault ? Name(fault) : null,
        request.Parameters?.Select(p => new RecordedParameterJson(
            p.Name, SandboxRequestLog.KindName(p.Kind), p.Value, p.Source == SandboxParameterSource.Form ? "form" : "query")).ToList(),
        request.ResponseKeys);

    /// <summary>
    /// The rule, or an error naming the member (<paramref name="where"/> + name) and the rule it breaks. Messages are fixed
    /// texts and never hold a submitted value.
    /// </summary>
    public static (SandboxFaultRule? Rule, string? Param, string? Error) ToRule(FaultRuleJson json, string where)
    {
        if (json.Action is null || !Actions.TryGetValue(json.Action, out var action))
        {
            return Fail("action", "must be one of latency, status, non_json, reset, hang, drop_after_success, hang_after_success.");
        }

        // Each action takes its own parameters only: a parameter another action uses is a mistake worth reporting.
        (string Name, bool Given)[] parameters =
        [
            ("status", json.Status is not null), ("should_retry", json.ShouldRetry is not null), ("code", json.Code is not null),
            ("delay_ms", json.DelayMs is not null), ("max_ms", json.MaxMs is not null),
        ];
        string[] allowed = action switch
        {
            SandboxFaultAction.Latency => ["delay_ms"],
            SandboxFaultAction.Status => ["status", "should_retry", "code"],
            SandboxFaultAction.NonJson => ["status"],
            SandboxFaultAction.Hang or SandboxFaultAction.HangAfterSuccess => ["max_ms"],
            _ => [],
        };
        foreach (var (name, given) in parameters)
        {
            if (given && !allowed.Contains(name))
            {
                return Fail(name, $"is not a parameter of {Name(action)}.");
            }
        }

        var match = json.Match ?? "*";
        if (RequestMatcher.Parse(match) is null)
        {
            return Fail("match", RequestMatcher.FormatMessage["match ".Length..]);
        }

        if (json.Nth is < 1 or > 1_000_000)
        {
            return Fail("nth", "must be between 1 and 1000000.");
        }

        if (json.Count is < 0 or > 1_000_000)
        {
            return Fail("count", "must be between 1 and 1000000, or 0 for unlimited.");
        }

        if (action == SandboxFaultAction.Status && json.Status is null)
        {
            return Fail("status", "is required for status.");
        }

        try
        {
            var fault = action switch
            {
                SandboxFaultAction.Latency => SandboxFault.Latency(TimeSpan.FromMilliseconds(json.DelayMs ?? 0)),
                SandboxFaultAction.Status => SandboxFault.Status(json.Status!.Value, json.ShouldRetry, json.Code),
                SandboxFaultAction.NonJson => SandboxFault.NonJson(json.Status ?? 502),
                SandboxFaultAction.Reset => SandboxFault.Reset(),
                SandboxFaultAction.Hang => SandboxFault.Hang(Milliseconds(json.MaxMs)),
                SandboxFaultAction.HangAfterSuccess => SandboxFault.HangAfterSuccess(Milliseconds(json.MaxMs)),
                _ => SandboxFault.DropAfterSuccess(),
            };
            return (new SandboxFaultRule(match, fault, json.Nth ?? 1, json.Count ?? 1), null, null);
        }
        catch (ArgumentException e)
        {
            // The factories' messages are fixed texts naming the C# parameter; report the wire name instead.
            var name = e.ParamName switch
            {
                "delay" => "delay_ms",
                "maxWait" => "max_ms",
                "code" => "code",
                _ => "status",
            };
            var message = e.Message;
            var cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            return Fail(name, cut >= 0 ? message[..cut] : message);
        }

        static TimeSpan? Milliseconds(int? value) => value is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

        (SandboxFaultRule?, string?, string?) Fail(string name, string reason) => (null, where + name, $"{where}{name}: {reason}");
    }

    /// <summary>
    /// Parses a <c>Sandbox-Fault</c> header: <c>action[;value][;name=value]...</c>, where a bare value is the action's main
    /// parameter (latency: delay_ms; status and non_json: status; hang and hang_after_success: max_ms). Examples:
    /// <c>status;503</c>, <c>status;429;should_retry=false</c>, <c>latency;250</c>, <c>reset</c>, <c>drop_after_success</c>.
    /// </summary>
    public static (SandboxFault? Fault, string? Error) ParseHeader(string header)
    {
        const string Where = "Sandbox-Fault ";
        var parts = header.Split(';', StringSplitOptions.TrimEntries);
        if (parts.Length > 4 || parts[0].Length == 0)
        {
            return (null, Where + "must be action[;value][;name=value]...");
        }

        var json = new FaultRuleJson { Action = parts[0] };
        var main = parts[0] switch
        {
            "latency" => "delay_ms",
            "status" or "non_json" => "status",
            "hang" or "hang_after_success" => "max_ms",
            _ => null,
        };
        foreach (var part in parts.Skip(1))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? main : part[..equals];
            var value = equals < 0 ? part : part[(equals + 1)..];
            int? number = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
            FaultRuleJson? next = name switch
            {
                "delay_ms" when number is not null && json.DelayMs is null => json with { DelayMs = number },
                "status" when number is not null && json.Status is null => json with { Status = number },
                "max_ms" when number is not null && json.MaxMs is null => json with { MaxMs = number },
                "should_retry" when value is "true" or "false" && json.ShouldRetry is null => json with { ShouldRetry = value == "true" },
                "code" when value.Length is > 0 and <= 32 && json.Code is null => json with { Code = value },
                _ => null,
            };
            if (next is null)
            {
                return (null, Where + "has a parameter that is unknown, repeated or not a valid value.");
            }

            json = next;
        }

        var (rule, _, error) = ToRule(json, Where);
        return (rule?.Fault, error);
    }
}
