namespace Tokenizer.StripeSandbox.Events;

/// <summary>Where new events go once their write has completed: the webhook dispatcher.</summary>
internal interface IEventSink
{
    /// <summary>How many webhook endpoints receive events of this type (the event's <c>pending_webhooks</c> at creation).</summary>
    int Subscribers(string type);

    /// <summary>Takes the events of one write, oldest first. Called under the store's lock: must only queue, never block.</summary>
    void Publish(IReadOnlyList<StoredEvent> events);
}
