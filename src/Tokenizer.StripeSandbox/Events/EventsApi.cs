using System.Collections.Frozen;
using System.Globalization;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Events;

/// <summary>
/// Stripe API Events: <c>GET /v1/events</c> (newest first; <c>limit</c> 1-100, default 10; <c>starting_after</c> /
/// <c>ending_before</c> an event id; <c>type</c> an event type or a pattern with <c>*</c> wildcards, or <c>types[]</c> up to
/// 20 exact types, not both; <c>created</c> unix seconds or <c>created[gt|gte|lt|lte]</c>; <c>delivery_success</c>) and
/// <c>GET /v1/events/{id}</c>. Events are kept 30 days (at most <see cref="EventLog.MaxEvents"/>).
/// </summary>
internal sealed class EventsApi(SandboxStore store)
{
    private static readonly FrozenSet<string> ListParams = FrozenSet.Create(
        StringComparer.Ordinal,
        "limit", "starting_after", "ending_before", "type", "created", "created[gt]", "created[gte]", "created[lt]", "created[lte]", "delivery_success");

    /// <summary>Stripe API GET /v1/events/{id}: 404 <c>resource_missing</c> for an unknown (or expired) event.</summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        return ApiResult.Ok(store.Read(data =>
            data.EventLog.TryGet(id, out var stored) ? EventJson.Event(stored) : throw StripeErrors.ResourceMissing("id", "event")));
    }

    /// <summary>Stripe API GET /v1/events.</summary>
    public ApiResult List(StripeParams parameters)
    {
        parameters.RejectUnknown(ListParams, "types[");
        var limit = 10;
        if (parameters.Get("limit") is { } limitText
            && (limitText.Length > 3 || !int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            throw StripeErrors.ParameterInvalid("limit", "Invalid limit: must be an integer between 1 and 100.", "parameter_invalid_integer");
        }

        var startingAfter = parameters.Get("starting_after");
        var endingBefore = parameters.Get("ending_before");
        if (startingAfter is not null && endingBefore is not null)
        {
            throw StripeErrors.ParameterInvalid("ending_before", "You may only specify one of these parameters: starting_after, ending_before.", "parameters_exclusive");
        }

        var type = parameters.Get("type");
        var types = parameters.List("types");
        if (type is not null && types.Count > 0)
        {
            throw StripeErrors.ParameterInvalid("types", "You may only specify one of these parameters: type, types.", "parameters_exclusive");
        }

        if (types.Count > 20)
        {
            throw StripeErrors.ParameterInvalid("types", "types can hold at most 20 event types.");
        }

        if (type is { Length: > 100 })
        {
            throw StripeErrors.ParameterInvalid("type", "Invalid type: too long.");
        }

        var created = Created(parameters);
        bool? deliverySuccess = parameters.Get("delivery_success") switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => throw StripeErrors.ParameterInvalid("delivery_success", "Invalid boolean.", "parameter_invalid_boolean"),
        };

        var json = store.Read(data =>
        {
            long Cursor(string id, string param) =>
                data.EventLog.TryGet(id, out var found) ? found.Sequence : throw StripeErrors.ResourceMissing(param, "event");

            var items = data.EventLog.All.Where(e =>
                (type is null || Matches(type, e.Type))
                && (types.Count == 0 || types.Contains(e.Type))
                && created(e.Created)
                && (deliverySuccess is null || (e.PendingWebhooks == 0) == deliverySuccess));
            if (endingBefore is not null)
            {
                var cursor = Cursor(endingBefore, "ending_before");
                var newer = items.Where(e => e.Sequence > cursor).Take(limit + 1).ToList();
                return EventJson.List(newer.Take(limit).Reverse(), newer.Count > limit);
            }

            var bound = startingAfter is null ? long.MaxValue : Cursor(startingAfter, "starting_after");
            var page = items.Reverse().Where(e => e.Sequence < bound).Take(limit + 1).ToList();
            return EventJson.List(page.Take(limit), page.Count > limit);
        });
        return ApiResult.Ok(json);
    }

    /// <summary>Stripe's <c>type</c> filter: an exact type, or a pattern where <c>*</c> stands for any characters (<c>setup_intent.*</c>).</summary>
    public static bool Matches(string pattern, string type)
    {
        // The classic one-star-backtrack wildcard match: O(pattern x type) at worst, whatever the stars.
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < type.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == type[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    private static Func<long, bool> Created(StripeParams parameters)
    {
        long? Bound(string name) => parameters.Get(name) is { } text
            ? text.Length <= 12 && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw StripeErrors.ParameterInvalid(name, "Invalid integer.", "parameter_invalid_integer")
            : null;

        var exact = Bound("created");
        var gt = Bound("created[gt]");
        var gte = Bound("created[gte]");
        var lt = Bound("created[lt]");
        var lte = Bound("created[lte]");
        return created => (exact is null || created == exact) && (gt is null || created > gt) && (gte is null || created >= gte)
            && (lt is null || created < lt) && (lte is null || created <= lte);
    }
}
