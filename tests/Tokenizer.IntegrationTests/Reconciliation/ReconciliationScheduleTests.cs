using Tokenizer.Contracts.V1;
using Run = Tokenizer.Contracts.V1.Reconciliation;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>A reconciliation server with the daily schedule on, due at midnight UTC (so it is due as soon as it starts).</summary>
public sealed class ScheduleServerFixture() : ReconciliationServerFixture(
    ["--Tokenizer:Reconciliation:ScheduleEnabled=true", "--Tokenizer:Reconciliation:ScheduleTimeUtc=00:00"]);

public sealed class ReconciliationScheduleTests(ScheduleServerFixture host) : IClassFixture<ScheduleServerFixture>
{
    [Fact]
    public async Task Schedule_Due_OneRunForThePreviousUtcDayStartedByTheScheduleAndAudited()
    {
        // Arrange
        var today = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero);

        // Act: the worker starts it on its first pass; wait until it is listed and done.
        Run? scheduled = null;
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (scheduled is null)
        {
            var runs = await host.Finance.ListReconciliationsAsync(new ListReconciliationsRequest(), cancellationToken: bound.Token);
            scheduled = runs.Reconciliations.SingleOrDefault(r => r.StartedBy == "schedule");
            if (scheduled is null)
            {
                await Task.Delay(100, bound.Token);
            }
        }

        var done = await host.WaitAsync(scheduled.RunId, ReconciliationState.Completed);
        var audit = new AuditService.AuditServiceClient(host.Server.ChannelFor("admin"));
        var events = new List<AuditEvent>();
        using (var call = audit.ExportAuditEvents(new ExportAuditEventsRequest()))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                events.Add(call.ResponseStream.Current.Event);
            }
        }

        // Assert
        Assert.Equal((today.AddDays(-1), today), (scheduled.Filter.From.ToDateTimeOffset(), scheduled.Filter.To.ToDateTimeOffset()));
        Assert.Equal(ReconciliationState.Completed, done.Reconciliation.State);
        Assert.Single(events, e => e.Action == "reconciliation.scheduled" && e.Resource == scheduled.RunId && e.CallerId == "system");
        Assert.Single(events, e => e.Action == "reconciliation.finished" && e.Resource == scheduled.RunId && e.Outcome == "success");
        Assert.Single((await host.Finance.ListReconciliationsAsync(new ListReconciliationsRequest())).Reconciliations, r => r.StartedBy == "schedule");
    }
}
