using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Events;

/// <summary>An event derived from a write, before it is numbered and kept.</summary>
/// <param name="Type">The Stripe event type.</param>
/// <param name="ObjectJson">The object as it is after the change.</param>
/// <param name="PreviousAttributesJson">For <c>*.updated</c>: the changed attributes' earlier values, else null.</param>
internal sealed record DerivedEvent(string Type, string ObjectJson, string? PreviousAttributesJson);

/// <summary>
/// Which Stripe Event each state change creates (docs.stripe.com/api/events/types), derived from the changes one write
/// made (<see cref="StateJournal"/>), in the order they were made:
/// <list type="bullet">
/// <item>customer created: <c>customer.created</c>; deleted: <c>customer.deleted</c> (the customer as it was). Its
/// PaymentMethods are detached with it without <c>payment_method.detached</c> events (Stripe documents none for that).</item>
/// <item>PaymentMethod attached: <c>payment_method.attached</c>; detached: <c>payment_method.detached</c>; other changes:
/// <c>payment_method.updated</c> with <c>previous_attributes</c>, or <c>payment_method.automatically_updated</c> when the
/// card account updater made them. Creating one makes no event (Stripe has no <c>payment_method.created</c>).</item>
/// <item>SetupIntent created: <c>setup_intent.created</c> (as created, before any confirmation in the same request); then
/// to succeeded: <c>.succeeded</c>; to requires_action: <c>.requires_action</c>; to canceled: <c>.canceled</c>; a new
/// <c>last_setup_error</c>: <c>.setup_failed</c>. Processing has no event.</item>
/// <item>Mandate changed (status, network status) after the write that created it: <c>mandate.updated</c> with
/// <c>previous_attributes</c>; Stripe has no <c>mandate.created</c>.</item>
/// </list>
/// </summary>
internal static class EventRules
{
    public const string CustomerKind = "customer";
    public const string PaymentMethodKind = "payment_method";
    public const string SetupIntentKind = "setup_intent";
    public const string MandateKind = "mandate";

    /// <summary>The <see cref="StateJournal.Cause"/> of a change made by the card account updater (the control endpoint).</summary>
    public const string AutomaticUpdateCause = "automatic_update";

    /// <summary>
    /// The API version events are rendered in: the version Stripe.net 53.1.0 (the repository's pinned package) was built
    /// for. Its <c>EventUtility.ConstructEvent</c> refuses events of another release train unless told not to.
    /// </summary>
    public const string ApiVersion = "2026-10-28.endive";

    /// <summary>Every event type the sandbox creates.</summary>
    public static readonly IReadOnlyList<string> Types =
    [
        "customer.created", "customer.deleted", "customer.updated", "mandate.updated",
        "payment_method.attached", "payment_method.automatically_updated", "payment_method.detached", "payment_method.updated",
        "setup_intent.canceled", "setup_intent.created", "setup_intent.requires_action", "setup_intent.setup_failed", "setup_intent.succeeded",
    ];

    /// <summary>Numbers and keeps the events of the changes the write made, and returns them (oldest first). Called under the store's lock.</summary>
    public static IReadOnlyList<StoredEvent> Commit(SandboxData data, long now, Func<string, int> subscribers)
    {
        if (data.Journal.Changes.Count == 0)
        {
            return [];
        }

        var request = EventRequest.Current;
        var kept = new List<StoredEvent>();
        foreach (var derived in Derive(data.Journal.Changes))
        {
            var stored = new StoredEvent
            {
                Id = "evt_" + RandomNumberGenerator.GetString(IdAlphabet.Chars, 24),
                Sequence = data.NextSequence(),
                Type = derived.Type,
                Created = now,
                ApiVersion = ApiVersion,
                ObjectJson = derived.ObjectJson,
                PreviousAttributesJson = derived.PreviousAttributesJson,
                RequestId = request?.Id,
                IdempotencyKey = request?.IdempotencyKey,
                PendingWebhooks = subscribers(derived.Type),
            };
            data.EventLog.Add(stored);
            kept.Add(stored);
        }

        data.EventLog.Evict(now);
        return kept;
    }

    public static List<DerivedEvent> Derive(IReadOnlyList<StateChange> changes)
    {
        var events = new List<DerivedEvent>();
        var last = new Dictionary<(string, string), object?>();
        var createdHere = changes.Where(c => c.Old is null).Select(c => (c.Kind, c.Id)).ToHashSet();
        var deletedCustomers = changes.Where(c => c.Kind == CustomerKind && c.Old is not null && c.New is null).Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var change in changes)
        {
            var key = (change.Kind, change.Id);
            var old = last.TryGetValue(key, out var seen) ? seen : change.Old;
            last[key] = change.New;
            switch (change.Kind)
            {
                case CustomerKind:
                    Customer(events, (CustomerObject?)old, (CustomerObject?)change.New);
                    break;
                case PaymentMethodKind:
                    PaymentMethod(events, (StoredPaymentMethod?)old, (StoredPaymentMethod?)change.New, change.Cause, deletedCustomers);
                    break;
                case SetupIntentKind:
                    SetupIntent(events, (StoredSetupIntent?)old, (StoredSetupIntent?)change.New);
                    break;
                case MandateKind when !createdHere.Contains(key):
                    // A mandate created by this very write (SEPA and BECS set up at once) was never seen otherwise: no update.
                    Mandate(events, (StoredMandate?)old, (StoredMandate?)change.New);
                    break;
            }
        }

        return events;
    }

    private static void Customer(List<DerivedEvent> events, CustomerObject? old, CustomerObject? current)
    {
        if (old is null && current is not null)
        {
            events.Add(new DerivedEvent("customer.created", Json(current), null));
        }
        else if (old is not null && current is null)
        {
            events.Add(new DerivedEvent("customer.deleted", Json(old), null));
        }
        else if (old is not null && current is not null && Updated(Json(old), Json(current)) is { } previous)
        {
            events.Add(new DerivedEvent("customer.updated", Json(current), previous));
        }
    }

    private static void PaymentMethod(
        List<DerivedEvent> events, StoredPaymentMethod? old, StoredPaymentMethod? current, string? cause, HashSet<string> deletedCustomers)
    {
        if (old is null || current is null)
        {
            return;
        }

        var (before, after) = (old.View, current.View);
        if (before.Customer is null && after.Customer is not null)
        {
            events.Add(new DerivedEvent("payment_method.attached", Json(after), null));
            return;
        }

        if (before.Customer is not null && after.Customer is null)
        {
            if (!deletedCustomers.Contains(before.Customer))
            {
                events.Add(new DerivedEvent("payment_method.detached", Json(after), null));
            }

            return;
        }

        var afterJson = Json(after);
        if (Updated(Json(before), afterJson) is { } previous)
        {
            events.Add(cause == AutomaticUpdateCause
                ? new DerivedEvent("payment_method.automatically_updated", afterJson, null)
                : new DerivedEvent("payment_method.updated", afterJson, previous));
        }
    }

    private static void SetupIntent(List<DerivedEvent> events, StoredSetupIntent? old, StoredSetupIntent? current)
    {
        if (current is null)
        {
            return;
        }

        var view = current.View;
        if (old is null)
        {
            events.Add(new DerivedEvent("setup_intent.created", Json(view), null));
            return;
        }

        var before = old.View;
        var statusChanged = before.Status != view.Status;
        string? type = null;
        if (view.LastSetupError is not null && !ReferenceEquals(view.LastSetupError, before.LastSetupError))
        {
            type = "setup_intent.setup_failed";
        }
        else if (statusChanged)
        {
            type = view.Status switch
            {
                "succeeded" => "setup_intent.succeeded",
                "requires_action" => "setup_intent.requires_action",
                "canceled" => "setup_intent.canceled",
                _ => null,
            };
        }

        if (type is not null)
        {
            events.Add(new DerivedEvent(type, Json(view), null));
        }
    }

    private static void Mandate(List<DerivedEvent> events, StoredMandate? old, StoredMandate? current)
    {
        if (old is null || current is null)
        {
            return;
        }

        var after = Json(current.View);
        if (Updated(Json(old.View), after) is { } previous)
        {
            events.Add(new DerivedEvent("mandate.updated", after, previous));
        }
    }

    private static string Json(CustomerObject value) => JsonSerializer.Serialize(value, SandboxJson.Default.CustomerObject);

    private static string Json(PaymentMethodObject value) => JsonSerializer.Serialize(value, SandboxJson.Default.PaymentMethodObject);

    private static string Json(SetupIntentObject value) => JsonSerializer.Serialize(value, SandboxJson.Default.SetupIntentObject);

    private static string Json(MandateObject value) => JsonSerializer.Serialize(value, SandboxJson.Default.MandateObject);

    /// <summary>
    /// Stripe's <c>previous_attributes</c>: the attributes that changed, with their earlier values; nested hashes hold only
    /// their changed members, an array or scalar is given whole. Null when nothing changed.
    /// </summary>
    public static string? Updated(string beforeJson, string afterJson)
    {
        if (string.Equals(beforeJson, afterJson, StringComparison.Ordinal))
        {
            return null;
        }

        var previous = Difference(JsonNode.Parse(beforeJson)!.AsObject(), JsonNode.Parse(afterJson)!.AsObject());
        return previous is null ? null : previous.ToJsonString();
    }

    private static JsonObject? Difference(JsonObject before, JsonObject after)
    {
        var result = new JsonObject();
        foreach (var (name, value) in before)
        {
            after.TryGetPropertyValue(name, out var now);
            if (value is JsonObject nestedBefore && now is JsonObject nestedAfter)
            {
                if (Difference(nestedBefore, nestedAfter) is { } nested)
                {
                    result[name] = nested;
                }
            }
            else if (!JsonNode.DeepEquals(value, now))
            {
                result[name] = value?.DeepClone();
            }
        }

        foreach (var (name, _) in after)
        {
            if (!before.ContainsKey(name))
            {
                result[name] = null;
            }
        }

        return result.Count == 0 ? null : result;
    }
}
