using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Schema;

namespace Tokenizer.Ledger.Tests.Audit;

/// <summary>
/// The privacy export's read of a subject's audit records through the resource index
/// (<see cref="Ledger.Audit.RelationalAuditTrail.ReadByResourcesAsync"/>): the same records, in the same order, as the
/// walk of the whole trail filtered by resource that it replaces. A sealed class per provider runs these and proves
/// from the query plan that the index is read, not the table.
/// </summary>
public abstract class AuditByResourceTests(TestDatabase database) : AuditTestBase(database)
{
    [Fact]
    public async Task ReadByResourcesAsync_MixedTrail_SameRecordsAndOrderAsTheWholeTrailFiltered()
    {
        // Arrange: records of the asked resources among others and ones without a resource, appended out of time order
        // (an event's time is its call's start), with two at the same time (then sequence decides).
        string?[] resources = ["pm_a", "pm_other", "subject_1", null, "pm_b", "pm_a", "pm_other", "pm_b", "subject_1", "pm_a"];
        int[] seconds = [5, 1, 3, 2, 9, 3, 7, 0, 8, 6];
        for (var i = 0; i < resources.Length; i++)
        {
            await Trail.AppendAsync(Event(i + 1) with { Time = T0.AddSeconds(seconds[i]), Resource = resources[i] }, CancellationToken.None);
        }

        HashSet<string> asked = ["pm_a", "pm_b", "subject_1", "pm_never_audited"];
        var walked = new List<AuditRecord>();
        await foreach (var record in Trail.ReadAsync(null, null, CancellationToken.None))
        {
            if (record.Event.Resource is { } resource && asked.Contains(resource))
            {
                walked.Add(record);
            }
        }

        // Act
        var read = await Trail.ReadByResourcesAsync(asked, CancellationToken.None);

        // Assert: the control first: the filter left records out and the order is not the append order.
        Assert.Equal(7, walked.Count);
        Assert.NotEqual(walked.Select(r => r.Sequence).Order(), walked.Select(r => r.Sequence));
        Assert.Equal(walked, read);
    }

    [Fact]
    public async Task ReadByResourcesAsync_MoreResourcesThanOneQueryNames_FindsEveryOne()
    {
        // Arrange: one record per resource, more resources than one query's IN list holds, plus one not asked for.
        var count = AuditSql.ResourceBatch * 2 + 7;
        for (var n = 1; n <= count + 1; n++)
        {
            await Trail.AppendAsync(Event(n) with { Resource = "pm_" + n }, CancellationToken.None);
        }

        // Act
        var read = await Trail.ReadByResourcesAsync([.. Enumerable.Range(1, count).Select(n => "pm_" + n)], CancellationToken.None);

        // Assert
        Assert.Equal(Enumerable.Range(1, count).Select(n => (long)n), read.Select(r => r.Sequence));
    }

    [Fact]
    public async Task ReadByResourcesAsync_NothingAskedOrNothingAudited_Empty()
    {
        // Arrange
        await AppendEventsAsync(3);

        // Act
        var none = await Trail.ReadByResourcesAsync([], CancellationToken.None);
        var unknown = await Trail.ReadByResourcesAsync(["pm_unknown"], CancellationToken.None);
        var known = await Trail.ReadByResourcesAsync(["pm_2"], CancellationToken.None);

        // Assert: the control (a resource with a record) finds it.
        Assert.Empty(none);
        Assert.Empty(unknown);
        Assert.Equal([2L], known.Select(r => r.Sequence));
    }

    [Fact]
    public async Task ReadByResourcesAsync_ResourceRewrittenInTheTable_ServesWhatTheTableHolds()
    {
        // Arrange: the attacker rewrites one record's resource with the guards dropped, and the old value is asked for.
        await AppendEventsAsync(3);
        var unchanged = await Trail.ReadByResourcesAsync(["pm_2"], CancellationToken.None);
        await DropTriggersAsync();
        await ExecuteAsync("UPDATE audit_events SET resource = 'pm_9' WHERE sequence = 2");

        // Act
        var moved = await Trail.ReadByResourcesAsync(["pm_2"], CancellationToken.None);

        // Assert: the table decides which records are served (verification reports the broken MAC).
        Assert.Single(unchanged);
        Assert.Empty(moved);
        Assert.False((await Trail.VerifyAsync(null, CancellationToken.None)).Intact);
    }
}
