using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Events;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Webhooks;

/// <summary>
/// Stripe API WebhookEndpoint object (docs.stripe.com/api/webhook_endpoints/object). <c>secret</c> is shown only in the
/// answer to its creation, as at Stripe; the sandbox keeps it (in <c>state.json</c> with a DataDirectory) to sign deliveries.
/// </summary>
internal sealed record WebhookEndpointObject
{
    public required string Id { get; init; }

    public string Object { get; init; } = "webhook_endpoint";

    public string? ApiVersion { get; init; }

    public string? Application { get; init; }

    public required long Created { get; init; }

    public string? Description { get; init; }

    public required IReadOnlyList<string> EnabledEvents { get; init; }

    public bool Livemode { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    public string Status { get; init; } = "enabled";

    public required string Url { get; init; }
}

/// <summary>
/// Stripe API webhook endpoints: <c>POST /v1/webhook_endpoints</c> (<c>url</c>, <c>enabled_events[]</c>, <c>description</c>,
/// <c>metadata</c>, <c>api_version</c>), <c>GET /v1/webhook_endpoints</c> (newest first, <c>limit</c> 1-100), <c>GET</c> and
/// <c>DELETE /v1/webhook_endpoints/{id}</c>. Endpoints given at start (<see cref="StripeSandboxOptions.WebhookEndpoints"/>)
/// are not listed here. URLs must be on a loopback host: the sandbox delivers nowhere else.
/// </summary>
internal sealed class WebhookEndpointsApi(SandboxStore store, SandboxWebhooks webhooks, IOptions<StripeSandboxOptions> options)
{
    private static readonly FrozenSet<string> CreateParams = FrozenSet.Create(StringComparer.Ordinal, "url", "description", "api_version");
    private static readonly FrozenSet<string> ListParams = FrozenSet.Create(StringComparer.Ordinal, "limit");

    /// <summary>Stripe API POST /v1/webhook_endpoints: answers the endpoint with its <c>whsec_</c> <c>secret</c>.</summary>
    public ApiResult Create(StripeParams parameters)
    {
        parameters.RejectUnknown(CreateParams, "enabled_events[", "metadata[");
        var url = parameters.Required("url");
        if (!WebhookRules.IsUrlAllowed(url))
        {
            throw StripeErrors.ParameterInvalid("url", "Invalid URL: the sandbox delivers only to http(s) URLs on a loopback host (127.0.0.1, [::1], localhost).", "url_invalid");
        }

        var events = parameters.List("enabled_events");
        if (events.Count == 0)
        {
            throw StripeErrors.ParameterMissing("enabled_events");
        }

        if (!WebhookRules.AreEventsAllowed(events))
        {
            throw StripeErrors.ParameterInvalid("enabled_events", "Invalid enabled_events: each must be * or an event type such as setup_intent.succeeded.");
        }

        var apiVersion = parameters.Get("api_version");
        if (apiVersion is not null && apiVersion != EventRules.ApiVersion)
        {
            throw StripeErrors.ParameterInvalid("api_version", $"The sandbox renders events in API version {EventRules.ApiVersion} only.");
        }

        var description = parameters.Get("description");
        if (description is { Length: > 5000 })
        {
            throw StripeErrors.ParameterInvalid("description", "The description can have up to 5000 characters.");
        }

        var endpoint = new WebhookEndpointObject
        {
            Id = SandboxWebhooks.NewEndpointId(),
            ApiVersion = apiVersion,
            Created = options.Value.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            Description = description,
            EnabledEvents = events,
            Metadata = parameters.Metadata(),
            Secret = WebhookRules.SecretPrefix + RandomNumberGenerator.GetString(IdAlphabet.Chars, 32),
            Url = url,
        };
        store.Write(data => data.WebhookEndpoints[endpoint.Id] = endpoint);
        webhooks.Register(endpoint);
        return Ok(endpoint);
    }

    /// <summary>Stripe API GET /v1/webhook_endpoints/{id} (without the secret).</summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        return Ok(store.Read(data => Find(data, id)) with { Secret = null });
    }

    /// <summary>Stripe API GET /v1/webhook_endpoints: newest first, <c>limit</c> 1-100 (default 10).</summary>
    public ApiResult List(StripeParams parameters)
    {
        parameters.RejectUnknown(ListParams);
        var limit = 10;
        if (parameters.Get("limit") is { } limitText
            && (limitText.Length > 3 || !int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            throw StripeErrors.ParameterInvalid("limit", "Invalid limit: must be an integer between 1 and 100.", "parameter_invalid_integer");
        }

        var all = store.Read(data => data.WebhookEndpoints.Values.OrderByDescending(e => e.Created).ThenByDescending(e => e.Id, StringComparer.Ordinal).ToList());
        var list = new ListObject<WebhookEndpointObject>([.. all.Take(limit).Select(e => e with { Secret = null })], all.Count > limit, "/v1/webhook_endpoints");
        return ApiResult.Ok(JsonSerializer.Serialize(list, SandboxJson.Default.ListObjectWebhookEndpointObject));
    }

    /// <summary>Stripe API DELETE /v1/webhook_endpoints/{id}: <c>{"id","object":"webhook_endpoint","deleted":true}</c>; nothing more is delivered to it.</summary>
    public ApiResult Delete(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        store.Write(data => data.WebhookEndpoints.Remove(id) ? true : throw StripeErrors.ResourceMissing("id", "webhook_endpoint"));
        webhooks.Unregister(id);
        return ApiResult.Ok(JsonSerializer.Serialize(new DeletedObject(id, "webhook_endpoint", true), SandboxJson.Default.DeletedObject));
    }

    private static WebhookEndpointObject Find(SandboxData data, string id) =>
        data.WebhookEndpoints.TryGetValue(id, out var found) ? found : throw StripeErrors.ResourceMissing("id", "webhook_endpoint");

    private static ApiResult Ok(WebhookEndpointObject endpoint) =>
        ApiResult.Ok(JsonSerializer.Serialize(endpoint, SandboxJson.Default.WebhookEndpointObject));
}
