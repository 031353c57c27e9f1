using System.Diagnostics;

namespace Tokenizer.IntegrationTests;

/// <summary>Every span the process's tracer providers export, safe to read while the server adds to it.</summary>
public sealed class SpanCollection : ICollection<Activity>
{
    private readonly List<Activity> spans = [];

    public int Count
    {
        get
        {
            lock (spans)
            {
                return spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    /// <summary>A copy of the spans exported so far.</summary>
    public IReadOnlyList<Activity> Snapshot()
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    /// <summary>The spans of <paramref name="traceId"/>, once one of them is named <paramref name="root"/> (the RPC span ends last).</summary>
    public async Task<IReadOnlyList<Activity>> TraceAsync(ActivityTraceId traceId, string root)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(50))
        {
            var trace = Snapshot().Where(s => s.TraceId == traceId).ToList();
            if (trace.Any(s => s.DisplayName == root) || DateTime.UtcNow > deadline)
            {
                return trace;
            }
        }
    }

    public void Add(Activity item)
    {
        lock (spans)
        {
            spans.Add(item);
        }
    }

    public void Clear()
    {
        lock (spans)
        {
            spans.Clear();
        }
    }

    public bool Contains(Activity item) => Snapshot().Contains(item);

    public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

    public bool Remove(Activity item)
    {
        lock (spans)
        {
            return spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Every name, attribute, event and status description of <paramref name="spans"/>, one per line.</summary>
    public static string Render(IEnumerable<Activity> spans) => string.Join('\n', spans.SelectMany(Lines));

    /// <summary>What a span exports, besides its ids and times.</summary>
    public static IEnumerable<string> Lines(Activity span)
    {
        yield return span.Source.Name + " " + span.DisplayName + " " + span.OperationName + " " + span.StatusDescription + " " + span.TraceStateString;
        foreach (var tag in span.TagObjects)
        {
            yield return tag.Key + "=" + tag.Value;
        }

        foreach (var item in span.Baggage)
        {
            yield return "baggage " + item.Key + "=" + item.Value;
        }

        foreach (var spanEvent in span.Events)
        {
            yield return "event " + spanEvent.Name;
            foreach (var tag in spanEvent.Tags)
            {
                yield return "event " + tag.Key + "=" + tag.Value;
            }
        }

        foreach (var link in span.Links)
        {
            foreach (var tag in link.Tags ?? [])
            {
                yield return "link " + tag.Key + "=" + tag.Value;
            }
        }
    }
}
