using System.Text.Json.Serialization;

namespace Tokenizer.StripeSandbox.Webhooks;

/// <summary><c>POST /_sandbox/payment_methods/{pm}/automatic_update</c>: <c>{"exp_month":12,"exp_year":2031,"last4":"4444"}</c> (last4 optional).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record AutomaticUpdateJson(int? ExpMonth, int? ExpYear, string? Last4);

/// <summary>
/// <c>POST /_sandbox/customers/delete</c>: <c>{"customer":"cus_..."}</c> or <c>{"customer_reference":"..."}</c> (the
/// <c>tokenizer_customer_reference</c> metadata of the Customers to delete), exactly one of them.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record DeleteCustomerJson(string? Customer, string? CustomerReference);

/// <summary>The answer to <c>POST /_sandbox/customers/delete</c>: <c>{"deleted":["cus_..."]}</c>.</summary>
internal sealed record DeletedCustomersJson(IReadOnlyList<string> Deleted);

/// <summary><c>POST /_sandbox/webhooks/mode</c>: <c>{"mode":"deliver"|"drop"|"hold"}</c>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record WebhookModeJson(string? Mode);

/// <summary><c>POST /_sandbox/webhooks/release</c>: <c>{"order":"created"|"reverse"}</c> (default created).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record WebhookReleaseJson(string? Order);

/// <summary>The answer to mode and release: <c>{"mode":"deliver","held":0,"released":3}</c> (released only for release).</summary>
internal sealed record WebhookControlJson(
    string Mode, int Held, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Released);

/// <summary><c>GET /_sandbox/webhooks/deliveries</c>: <c>{"object":"list","mode":"deliver","held":0,"data":[...]}</c>, oldest first.</summary>
internal sealed record DeliveryListJson(string Mode, int Held, IReadOnlyList<DeliveryJson> Data)
{
    public string Object { get; init; } = "list";
}

/// <summary>One attempt: <c>{"sequence","time","event_id","type","endpoint_id","url","attempt","status","outcome","error"}</c>.</summary>
internal sealed record DeliveryJson(
    long Sequence, DateTimeOffset Time, string EventId, string Type, string EndpointId, string Url, int Attempt, int? Status, string Outcome, string? Error);
