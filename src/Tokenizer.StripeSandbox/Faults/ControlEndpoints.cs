using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Faults;

/// <summary>
/// The sandbox's control endpoints, mapped only when <see cref="StripeSandboxOptions.ControlToken"/> is set, and each
/// refusing (401) a request without <c>Sandbox-Control-Token: &lt;token&gt;</c>:
/// <c>GET|POST|DELETE /_sandbox/faults</c>, <c>GET|DELETE /_sandbox/requests</c>,
/// <c>POST /_sandbox/payment_methods/{pm}/automatic_update</c>, <c>POST /_sandbox/payment_methods/{pm}/detach</c>,
/// <c>POST /_sandbox/mandates/{mandate}/deactivate</c>, <c>POST /_sandbox/customers/delete</c>,
/// <c>POST /_sandbox/webhooks/mode</c>, <c>POST /_sandbox/webhooks/release</c> and <c>GET|DELETE /_sandbox/webhooks/deliveries</c>.
/// Without a token they do not exist (404).
/// </summary>
internal static partial class ControlEndpoints
{
    public const string TokenHeader = "Sandbox-Control-Token";
    public const string FaultsPath = "/_sandbox/faults";
    public const string RequestsPath = "/_sandbox/requests";

    public const string WebhooksPath = "/_sandbox/webhooks";

    public static void Map(WebApplication app, string token, SandboxFaultPlan plan, SandboxRequestLog log, SandboxWebhooks webhooks, SandboxControl control)
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
        app.MapPost("/_sandbox/payment_methods/{id}/automatic_update", Guarded(async context =>
        {
            if (await ReadJsonAsync(context, SandboxJson.Default.AutomaticUpdateJson) is { } body)
            {
                await WriteResultAsync(context, () => control.AutomaticUpdate((string)context.GetRouteValue("id")!, body.ExpMonth, body.ExpYear, body.Last4));
            }
        }));
        app.MapPost("/_sandbox/payment_methods/{id}/detach", Guarded(context =>
            WriteResultAsync(context, () => control.Detach((string)context.GetRouteValue("id")!))));
        app.MapPost("/_sandbox/mandates/{id}/deactivate", Guarded(context =>
            WriteResultAsync(context, () => control.DeactivateMandate((string)context.GetRouteValue("id")!))));
        app.MapPost("/_sandbox/customers/delete", Guarded(async context =>
        {
            if (await ReadJsonAsync(context, SandboxJson.Default.DeleteCustomerJson) is { } body)
            {
                await WriteResultAsync(context, () => control.DeleteCustomers(body.Customer, body.CustomerReference));
            }
        }));
        app.MapPost(WebhooksPath + "/mode", Guarded(async context =>
        {
            if (await ReadJsonAsync(context, SandboxJson.Default.WebhookModeJson) is not { } body)
            {
                return;
            }

            if (WebhookModes.Parse(body.Mode) is not { } mode)
            {
                await WriteErrorAsync(context, 400, "mode must be deliver, drop or hold.", "mode");
                return;
            }

            webhooks.SetMode(mode);
            await WriteWebhookStateAsync(context, webhooks, null);
        }));
        app.MapPost(WebhooksPath + "/release", Guarded(async context =>
        {
            var body = context.Request.ContentLength == 0 ? new WebhookReleaseJson(null) : await ReadJsonAsync(context, SandboxJson.Default.WebhookReleaseJson);
            if (body is null)
            {
                return;
            }

            SandboxReleaseOrder? order = body.Order switch
            {
                null or "created" => SandboxReleaseOrder.Created,
                "reverse" => SandboxReleaseOrder.Reverse,
                _ => null,
            };
            if (order is null)
            {
                await WriteErrorAsync(context, 400, "order must be created or reverse.", "order");
                return;
            }

            var released = webhooks.Release(order.Value);
            await WriteWebhookStateAsync(context, webhooks, released);
        }));
        app.MapGet(WebhooksPath + "/deliveries", Guarded(context =>
        {
            var list = new DeliveryListJson(
                WebhookModes.Name(webhooks.Mode),
                webhooks.HeldCount,
                [.. webhooks.Deliveries().Select(d => new DeliveryJson(d.Sequence, d.Time, d.EventId, d.EventType, d.EndpointId, d.Url, d.Attempt, d.Status, d.Outcome, d.Error))]);
            return WriteJsonAsync(context, 200, JsonSerializer.Serialize(list, SandboxJson.Default.DeliveryListJson));
        }));
        app.MapDelete(WebhooksPath + "/deliveries", Guarded(context =>
        {
            webhooks.ClearDeliveries();
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

    // The JSON body as T, or null after answering 415 (not JSON) or 400 (malformed, unknown member; never quoting input).
    private static async Task<T?> ReadJsonAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            await WriteErrorAsync(context, 415, "The body must be application/json.", null);
            return null;
        }

        try
        {
            var body = await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted);
            if (body is null)
            {
                await WriteErrorAsync(context, 400, "The body must be a JSON object.", null);
            }

            return body;
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, 400, "The body must be a JSON object with known members of the right types.", SafeJsonPath(e.Path));
            return null;
        }
    }

    // A control action's answer: the object (200) or Stripe's error body with its status.
    private static Task WriteResultAsync(HttpContext context, Func<ApiResult> action)
    {
        ApiResult result;
        try
        {
            result = action();
        }
        catch (StripeApiException e)
        {
            result = ApiResult.From(e);
        }

        return WriteJsonAsync(context, result.Status, result.Body);
    }

    private static Task WriteWebhookStateAsync(HttpContext context, SandboxWebhooks webhooks, int? released) =>
        WriteJsonAsync(context, 200, JsonSerializer.Serialize(
            new WebhookControlJson(WebhookModes.Name(webhooks.Mode), webhooks.HeldCount, released), SandboxJson.Default.WebhookControlJson));

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

    [LoggerMessage(EventId = 9101, EventName = "ControlRefused", Level = LogLevel.Warning,
        Message = "Stripe sandbox refused a control request without the right Sandbox-Control-Token")]
    private static partial void LogControlRefused(ILogger logger);
}
