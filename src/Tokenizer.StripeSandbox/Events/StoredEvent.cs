namespace Tokenizer.StripeSandbox.Events;

/// <summary>
/// A Stripe Event as the sandbox keeps it (docs.stripe.com/api/events/object): the object it carries is kept as the JSON
/// Stripe shows (<see cref="ObjectJson"/>), as it was when the event happened, and never changes afterwards.
/// </summary>
internal sealed class StoredEvent
{
    /// <summary><c>evt_</c> + 24 alphanumerics.</summary>
    public required string Id { get; init; }

    /// <summary>Creation order across all events (list cursors).</summary>
    public required long Sequence { get; init; }

    /// <summary>The event type, e.g. <c>setup_intent.succeeded</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Unix seconds.</summary>
    public required long Created { get; init; }

    /// <summary>The Stripe API version <c>data</c> is rendered in.</summary>
    public required string ApiVersion { get; init; }

    /// <summary><c>data.object</c>: the object's JSON as it was then.</summary>
    public required string ObjectJson { get; init; }

    /// <summary><c>data.previous_attributes</c> (only <c>*.updated</c> events), or null.</summary>
    public string? PreviousAttributesJson { get; init; }

    /// <summary><c>request.id</c>: the API request that caused the event; null when it was automatic.</summary>
    public string? RequestId { get; init; }

    /// <summary><c>request.idempotency_key</c> of that request, or null.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Webhook endpoints the event has not been delivered to successfully yet (changed only under the store's lock).</summary>
    public int PendingWebhooks { get; set; }
}

/// <summary>The API request whose work is running (set by the request pipeline for POST and DELETE), for an event's <c>request</c>.</summary>
/// <param name="Id">The <c>Request-Id</c> answered.</param>
/// <param name="IdempotencyKey">The <c>Idempotency-Key</c> sent, or null.</param>
internal sealed record EventRequest(string Id, string? IdempotencyKey)
{
    private static readonly AsyncLocal<EventRequest?> Ambient = new();

    /// <summary>The request in progress on this flow, or null (hosted pages, control endpoints, time passing: automatic).</summary>
    public static EventRequest? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }
}

/// <summary>
/// The events the sandbox keeps, oldest first: at most <see cref="MaxEvents"/>, none older than 30 days (Stripe keeps 30
/// days of events for <c>GET /v1/events</c>).
/// </summary>
internal sealed class EventLog
{
    /// <summary>The most events kept; older ones are dropped first.</summary>
    public const int MaxEvents = 10_000;

    /// <summary>How long an event is listed (Stripe: 30 days).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    private readonly List<StoredEvent> ordered = [];
    private readonly Dictionary<string, StoredEvent> byId = new(StringComparer.Ordinal);

    /// <summary>Oldest first.</summary>
    public IReadOnlyList<StoredEvent> All => ordered;

    public void Add(StoredEvent stored)
    {
        ordered.Add(stored);
        byId[stored.Id] = stored;
    }

    public bool TryGet(string id, out StoredEvent stored) => byId.TryGetValue(id, out stored!);

    /// <summary>Drops events past the retention period or beyond <see cref="MaxEvents"/>.</summary>
    public void Evict(long now)
    {
        var cutoff = now - (long)Retention.TotalSeconds;
        var drop = 0;
        while (drop < ordered.Count && (ordered[drop].Created < cutoff || ordered.Count - drop > MaxEvents))
        {
            byId.Remove(ordered[drop].Id);
            drop++;
        }

        ordered.RemoveRange(0, drop);
    }
}
