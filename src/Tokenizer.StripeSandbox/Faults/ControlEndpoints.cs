using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tokenizer.StripeSandbox.Api;

namespace Tokenizer.StripeSandbox.Faults;

/// <summary>
/// The sandbox's control endpoints, mapped only when <see cref="StripeSandboxOptions.ControlToken"/> is set, and each
/// refusing (401) a request without <c>Sandbox-Control-Token: &lt;token&gt;</c>:
/// <c>GET|POST|DELETE /_sandbox/faults</c> and <c>GET|DELETE /_sandbox/requests</c>. Without a token they do not exist (404).
/// </summary>
internal static partial class ControlEndpoints
{
    public const string TokenHeader = "Sandbox-Control-Token";
    public const string FaultsPath = "/_sandbox/faults";
    public const string RequestsPath = "/_sandbox/requests";

    public static void Map(WebApplication app, string token, SandboxFaultPlan plan, SandboxRequestLog log)
    {
        // Compare digests so neither the content nor the length of the token leaks through timing.
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ControlEndpoints).FullName!);

        RequestDelegate Guarded(Func<HttpContext, Task> handler) => async context =>
        {
            var presented = context.Request.Headers[TokenHeader].ToString();
            if (!CryptographicOperations.FixedTimeEquals(expected, SHA256.HashData(Encoding.UTF8.GetBytes(presented))))
            {
                LogControlRefused(logger);
                await WriteErrorAsync(context, 401, $"The {TokenHeader} header is missing or wrong.", null);
                return;
            }

            await handler(context);
        };

        app.MapGet(FaultsPath, Guarded(context => WritePlanAsync(context, plan)));
        app.MapPost(FaultsPath, Guarded(context => AddFaultsAsync(context, plan)));
        app.MapDelete(FaultsPath, Guarded(context =>
        {
            plan.Clear();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }));
        app.MapGet(RequestsPath, Guarded(context => WriteRequestsAsync(context, log)));
        app.MapDelete(RequestsPath, Guarded(context =>
        {
            log.Clear();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        }));
    }

    private static async Task AddFaultsAsync(HttpContext context, SandboxFaultPlan plan)
    {
        if (!context.Request.HasJsonContentType())
        {
            await WriteErrorAsync(context, 415, "The body must be application/json: an array of fault rules.", null);
            return;
        }

        List<FaultRuleJson>? rules;
        try
        {
            rules = await JsonSerializer.DeserializeAsync(context.Request.Body, SandboxJson.Default.ListFaultRuleJson, context.RequestAborted);
        }
        catch (JsonException e)
        {
            // The JSON path names where the problem is; the exception message (which can quote input) is not used.
            await WriteErrorAsync(context, 400, "The body must be a JSON array of fault rules with known members of the right types.", SafeJsonPath(e.Path));
            return;
        }

        if (rules is null || rules.Count > SandboxFaultPlan.MaxRules)
        {
            await WriteErrorAsync(context, 400, $"The body must be a JSON array of at most {SandboxFaultPlan.MaxRules} fault rules.", null);
            return;
        }

        var parsed = new List<SandboxFaultRule>(rules.Count);
        for (var i = 0; i < rules.Count; i++)
        {
            var where = $"[{i}].";
            if (rules[i] is not { } json)
            {
                await WriteErrorAsync(context, 400, $"{where[..^1]}: must be an object.", where[..^1]);
                return;
            }

            var (rule, param, error) = FaultWire.ToRule(json, where);
            if (rule is null)
            {
                await WriteErrorAsync(context, 400, error!, param);
                return;
            }

            parsed.Add(rule);
        }

        try
        {
            plan.AddRange(parsed);
        }
        catch (InvalidOperationException)
        {
            await WriteErrorAsync(context, 400, $"The fault plan holds at most {SandboxFaultPlan.MaxRules} rules.", null);
            return;
        }

        await WritePlanAsync(context, plan);
    }

    private static Task WritePlanAsync(HttpContext context, SandboxFaultPlan plan)
    {
        var list = new ListObject<PendingFaultJson>([.. plan.Pending.Select(FaultWire.ToJson)], false, FaultsPath);
        return WriteJsonAsync(context, 200, JsonSerializer.Serialize(list, SandboxJson.Default.ListObjectPendingFaultJson));
    }

    private static async Task WriteRequestsAsync(HttpContext context, SandboxRequestLog log)
    {
        var match = context.Request.Query["match"];
        if (match.Count > 1 || (match.Count == 1 && RequestMatcher.Parse(match.ToString()) is null))
        {
            await WriteErrorAsync(context, 400, RequestMatcher.FormatMessage, "match");
            return;
        }

        var requests = log.Snapshot(match.Count == 0 ? null : match.ToString());
        var list = new ListObject<RecordedRequestJson>([.. requests.Select(FaultWire.ToJson)], false, RequestsPath);
        await WriteJsonAsync(context, 200, JsonSerializer.Serialize(list, SandboxJson.Default.ListObjectRecordedRequestJson));
    }

    // A JSON path can carry a member name the caller chose; keep it only when it is plainly a path of ours.
    private static string? SafeJsonPath(string? path) =>
        path is { Length: <= 64 } && path.All(c => c is '$' or '[' or ']' or '.' or '_' or (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            && path.Count(char.IsAsciiDigit) <= 4
            ? path
            : null;

    private static Task WriteErrorAsync(HttpContext context, int status, string message, string? param) =>
        WriteJsonAsync(context, status, JsonSerializer.Serialize(
            new ErrorBody(new ErrorObject { Type = ErrorTypes.InvalidRequest, Message = message, Param = param }), SandboxJson.Default.ErrorBody));

    private static async Task WriteJsonAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body, context.RequestAborted);
    }

    [LoggerMessage(EventId = 1101, EventName = "ControlRefused", Level = LogLevel.Warning,
        Message = "Stripe sandbox refused a control request without the right Sandbox-Control-Token")]
    private static partial void LogControlRefused(ILogger logger);
}
