using System.Text;
using System.Text.Json;

namespace Tokenizer.StripeSandbox.Events;

/// <summary>Writes Stripe's Event object and event lists (docs.stripe.com/api/events/object) from <see cref="StoredEvent"/>s.</summary>
internal static class EventJson
{
    /// <summary>One event: <c>{"id","object":"event","api_version","created","data":{"object",["previous_attributes"]},"livemode":false,"pending_webhooks","request":{"id","idempotency_key"},"type"}</c>.</summary>
    public static string Event(StoredEvent stored)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, stored);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Stripe's list object over events: <c>{"object":"list","data":[...],"has_more","url":"/v1/events"}</c>.</summary>
    public static string List(IEnumerable<StoredEvent> events, bool hasMore)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var stored in events)
            {
                Write(writer, stored);
            }

            writer.WriteEndArray();
            writer.WriteBoolean("has_more", hasMore);
            writer.WriteString("url", "/v1/events");
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void Write(Utf8JsonWriter writer, StoredEvent stored)
    {
        writer.WriteStartObject();
        writer.WriteString("id", stored.Id);
        writer.WriteString("object", "event");
        writer.WriteString("api_version", stored.ApiVersion);
        writer.WriteNumber("created", stored.Created);
        writer.WriteStartObject("data");
        writer.WritePropertyName("object");
        writer.WriteRawValue(stored.ObjectJson, skipInputValidation: true);
        if (stored.PreviousAttributesJson is { } previous)
        {
            writer.WritePropertyName("previous_attributes");
            writer.WriteRawValue(previous, skipInputValidation: true);
        }

        writer.WriteEndObject();
        writer.WriteBoolean("livemode", false);
        writer.WriteNumber("pending_webhooks", stored.PendingWebhooks);
        writer.WriteStartObject("request");
        writer.WriteString("id", stored.RequestId);
        writer.WriteString("idempotency_key", stored.IdempotencyKey);
        writer.WriteEndObject();
        writer.WriteString("type", stored.Type);
        writer.WriteEndObject();
    }
}
