using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Tokenizer.StripeSandbox.State;

/// <summary>One change to a kept object, in the order the change was made: <paramref name="Old"/> null when created, <paramref name="New"/> null when removed.</summary>
/// <param name="Kind">The map's kind: customer, payment_method, setup_intent or mandate.</param>
/// <param name="Id">The object's id.</param>
/// <param name="Old">The value before this change, or null.</param>
/// <param name="New">The value after this change, or null.</param>
/// <param name="Cause">Why the change happened when it was not an API request's direct effect (e.g. the card account updater), or null.</param>
internal sealed record StateChange(string Kind, string Id, object? Old, object? New, string? Cause);

/// <summary>
/// The changes made by one write to the sandbox's state (under the store's lock), from which the store derives Stripe
/// Events once the write has completed: every state change passes through here, so no change can miss its event.
/// </summary>
internal sealed class StateJournal
{
    private readonly List<StateChange> changes = [];

    /// <summary>Set by a write that is not an API request's direct effect (the control endpoints); recorded on each change.</summary>
    public string? Cause { get; set; }

    /// <summary>False while the state is being loaded from disk: loading is not a change.</summary>
    public bool Recording { get; set; } = true;

    public IReadOnlyList<StateChange> Changes => changes;

    public void Add(string kind, string id, object? old, object? value)
    {
        if (Recording)
        {
            changes.Add(new StateChange(kind, id, old, value, Cause));
        }
    }

    public void Clear()
    {
        changes.Clear();
        Cause = null;
    }
}

/// <summary>A dictionary of kept objects by id that records every set and removal in the <see cref="StateJournal"/>.</summary>
/// <typeparam name="T">The stored record type.</typeparam>
internal sealed class TrackedMap<T>(string kind, StateJournal journal) : IReadOnlyDictionary<string, T>
    where T : class
{
    private readonly Dictionary<string, T> items = new(StringComparer.Ordinal);

    public int Count => items.Count;

    public IEnumerable<string> Keys => items.Keys;

    public IEnumerable<T> Values => items.Values;

    public T this[string key]
    {
        get => items[key];
        set
        {
            items.TryGetValue(key, out var old);
            items[key] = value;
            journal.Add(kind, key, old, value);
        }
    }

    /// <summary>Records a state the object passed through within this write without keeping it (a SetupIntent as created, before its confirmation).</summary>
    public void Note(string key, T value)
    {
        items.TryGetValue(key, out var old);
        journal.Add(kind, key, old, value);
    }

    public bool Remove(string key)
    {
        if (!items.Remove(key, out var old))
        {
            return false;
        }

        journal.Add(kind, key, old, null);
        return true;
    }

    public bool ContainsKey(string key) => items.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value) => items.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
