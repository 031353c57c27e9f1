using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Core.Tests.Privacy;

public sealed class RetentionServiceTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2030, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly IPrivacyStore store = Substitute.For<IPrivacyStore>();
    private readonly IAuditTrail audit = Substitute.For<IAuditTrail>();
    private readonly MeterListener listener = new();
    private readonly List<(string Kind, long Count)> purged = [];
    private readonly Meters meters = new();
    private readonly RetentionService service;

    public RetentionServiceTests()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "tokenizer.retention.purged")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => purged.Add(((string)tags[0].Value!, value)));
        listener.Start();
        service = new RetentionService(
            store,
            audit,
            new TokenizerMetrics(meters, Substitute.For<IGatewayHealth>()),
            new FakeTimeProvider(Now),
            new RetentionSettings { RevokedTokens = TimeSpan.FromDays(365), IdempotencyRecords = TimeSpan.FromDays(30) });
    }

    public void Dispose()
    {
        listener.Dispose();
        meters.Dispose();
    }

    [Fact]
    public async Task PurgeOnceAsync_SomethingExpired_CutOffsFromTheSettingsAuditedAsSystemAndCounted()
    {
        store.PurgeExpiredAsync(default, default, default).ReturnsForAnyArgs(new RetentionPurge(2, 5));

        var result = await service.PurgeOnceAsync(CancellationToken.None);

        Assert.Equal(new RetentionPurge(2, 5), result);
        await store.Received(1).PurgeExpiredAsync(Now.AddDays(-365), Now.AddDays(-30), Arg.Any<CancellationToken>());
        await audit.Received(1).AppendAsync(
            Arg.Is<AuditEvent>(e => e.CallerId == "system" && e.Action == RetentionService.PurgeAction
                && e.Resource == "revoked_tokens=2;idempotency_records=5" && e.Outcome == AuditOutcome.Success),
            Arg.Any<CancellationToken>());
        Assert.Equal([("revoked_tokens", 2L), ("idempotency_records", 5L)], purged);
    }

    [Fact]
    public async Task PurgeOnceAsync_NothingExpired_NoAuditRecordButCountedAsZero()
    {
        store.PurgeExpiredAsync(default, default, default).ReturnsForAnyArgs(new RetentionPurge(0, 0));

        await service.PurgeOnceAsync(CancellationToken.None);

        await audit.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
        Assert.Equal([("revoked_tokens", 0L), ("idempotency_records", 0L)], purged);
    }

    [Fact]
    public async Task PurgeOnceAsync_WithTokenEvents_PurgesThemPastTheirOwnRetention()
    {
        // Arrange
        var events = Substitute.For<ITokenEventReader>();
        events.PurgeRecordedBeforeAsync(default, default).ReturnsForAnyArgs(4);
        store.PurgeExpiredAsync(default, default, default).ReturnsForAnyArgs(new RetentionPurge(0, 0));
        var withEvents = new RetentionService(
            store,
            audit,
            new TokenizerMetrics(meters, Substitute.For<IGatewayHealth>()),
            new FakeTimeProvider(Now),
            new RetentionSettings { TokenEvents = TimeSpan.FromDays(7) },
            events);

        // Act
        var result = await withEvents.PurgeOnceAsync(CancellationToken.None);

        // Assert
        Assert.Equal(new RetentionPurge(0, 0, 4), result);
        await events.Received(1).PurgeRecordedBeforeAsync(Now.AddDays(-7), Arg.Any<CancellationToken>());
        await audit.Received(1).AppendAsync(
            Arg.Is<AuditEvent>(e => e.Resource == "revoked_tokens=0;idempotency_records=0;token_events=4"),
            Arg.Any<CancellationToken>());
        Assert.Contains(("token_events", 4L), purged);
    }

    private sealed class Meters : IMeterFactory
    {
        private readonly List<Meter> created = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            created.Add(meter);
            return meter;
        }

        public void Dispose() => created.ForEach(m => m.Dispose());
    }
}
