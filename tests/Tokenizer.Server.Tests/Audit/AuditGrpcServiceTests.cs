using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using NSubstitute;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Audit;
using static Tokenizer.Server.Tests.Audit.AuditTestSupport;

namespace Tokenizer.Server.Tests.Audit;

public sealed class AuditGrpcServiceTests
{
    private const string Verify = "/tokenizer.v1.AuditService/VerifyAuditTrail";

    private readonly IAuditTrailReader reader = Substitute.For<IAuditTrailReader>();

    [Fact]
    public async Task VerifyAuditTrail_Broken_MapsEveryField()
    {
        // Arrange
        var head = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        reader.VerifyAsync(null, Arg.Any<CancellationToken>())
            .Returns(new AuditVerification(false, 5, 5, AuditProblems.SequenceGap, 4, head));

        // Act
        var response = await new AuditGrpcService(reader).VerifyAuditTrail(new VerifyAuditTrailRequest(), new TestServerCallContext(Verify));

        // Assert
        Assert.Equal(
            new VerifyAuditTrailResponse
            {
                Intact = false,
                RecordsChecked = 5,
                FirstBrokenSequence = 5,
                Problem = "sequence gap",
                HeadSequence = 4,
                HeadMac = ByteString.CopyFrom(head),
            },
            response);
    }

    [Fact]
    public async Task VerifyAuditTrail_OnlyTheTableChanged_NotIntactWithItsProblems()
    {
        // Arrange: every record verified, the table changed (a foreign trigger, a changed definition).
        var head = new byte[32];
        reader.VerifyAsync(null, Arg.Any<CancellationToken>())
            .Returns(new AuditVerification(false, 7, 0, AuditProblems.TableChanged, 7, head) { TableProblems = ["table is no longer STRICT", "index ix_audit_events_time is missing"] });

        // Act
        var response = await new AuditGrpcService(reader).VerifyAuditTrail(new VerifyAuditTrailRequest(), new TestServerCallContext(Verify));

        // Assert
        Assert.False(response.Intact);
        Assert.Equal("table changed", response.Problem);
        Assert.Equal(0, response.FirstBrokenSequence);
        Assert.Empty(response.Broken);
        Assert.Equal(["table is no longer STRICT", "index ix_audit_events_time is missing"], response.TableProblems);
    }

    [Fact]
    public async Task VerifyAuditTrail_Anchor_PassedToTheReader()
    {
        // Arrange
        var mac = new byte[32];
        mac[0] = 9;
        reader.VerifyAsync(Arg.Any<AuditAnchor?>(), Arg.Any<CancellationToken>())
            .Returns(new AuditVerification(true, 7, 0, null, 7, mac));

        // Act
        await new AuditGrpcService(reader).VerifyAuditTrail(
            new VerifyAuditTrailRequest { AnchorSequence = 7, AnchorMac = ByteString.CopyFrom(mac) },
            new TestServerCallContext(Verify));

        // Assert
        await reader.Received(1).VerifyAsync(Arg.Is<AuditAnchor?>(a => a != null && a.Sequence == 7 && a.Mac.SequenceEqual(mac)), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(-1, 32, "anchor_sequence")]
    [InlineData(3, 31, "anchor_mac")]
    [InlineData(0, 32, "anchor_mac")]
    public async Task VerifyAuditTrail_MalformedAnchor_InvalidArgumentNamingTheField(long sequence, int macLength, string field)
    {
        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => new AuditGrpcService(reader).VerifyAuditTrail(
            new VerifyAuditTrailRequest { AnchorSequence = sequence, AnchorMac = ByteString.CopyFrom(new byte[macLength]) },
            new TestServerCallContext(Verify)));

        // Assert
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(error.Violations, v => v.Field == field);
    }

    [Fact]
    public async Task ExportAuditEvents_Range_StreamsRecordsInOrderAsWireMessages()
    {
        // Arrange
        var records = new[]
        {
            new AuditRecord(1, new Core.Audit.AuditEvent(T0, "system", null, "configuration/service_started", null, AuditOutcome.Success, null, "c1")),
            new AuditRecord(2, new Core.Audit.AuditEvent(T0.AddSeconds(1), "billing", "10.0.0.1", "tokenizer.v1.TokenizerService/GetToken", "pm_1", AuditOutcome.Denied, "PERMISSION_DENIED", "c2")),
        };
        reader.ReadAsync(T0, T0.AddDays(1), Arg.Any<CancellationToken>()).Returns(records.ToAsyncEnumerable());
        var written = new List<ExportAuditEventsResponse>();
        var stream = Substitute.For<IServerStreamWriter<ExportAuditEventsResponse>>();
        stream.WriteAsync(Arg.Do<ExportAuditEventsResponse>(written.Add), Arg.Any<CancellationToken>()).Returns(Task.CompletedTask);

        // Act
        await new AuditGrpcService(reader).ExportAuditEvents(
            new ExportAuditEventsRequest { From = Timestamp.FromDateTimeOffset(T0), To = Timestamp.FromDateTimeOffset(T0.AddDays(1)) },
            stream,
            new TestServerCallContext("/tokenizer.v1.AuditService/ExportAuditEvents"));

        // Assert
        Assert.Equal(2, written.Count);
        Assert.Equal(
            new Contracts.V1.AuditEvent
            {
                Sequence = 1,
                Time = Timestamp.FromDateTimeOffset(T0),
                CallerId = "system",
                Action = "configuration/service_started",
                Outcome = "success",
                CorrelationId = "c1",
            },
            written[0].Event);
        Assert.Equal(("10.0.0.1", "pm_1", "denied", "PERMISSION_DENIED"), (written[1].Event.SourceAddress, written[1].Event.Resource, written[1].Event.Outcome, written[1].Event.Reason));
    }

    [Fact]
    public async Task ExportAuditEvents_ToBeforeFrom_InvalidArgument()
    {
        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => new AuditGrpcService(reader).ExportAuditEvents(
            new ExportAuditEventsRequest { From = Timestamp.FromDateTimeOffset(T0), To = Timestamp.FromDateTimeOffset(T0.AddSeconds(-1)) },
            Substitute.For<IServerStreamWriter<ExportAuditEventsResponse>>(),
            new TestServerCallContext("/tokenizer.v1.AuditService/ExportAuditEvents")));

        // Assert
        Assert.Contains(error.Violations, v => v.Field == "to");
    }

    [Fact]
    public async Task ExportAuditEvents_TimestampOutOfRange_InvalidArgumentNotAnException()
    {
        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => new AuditGrpcService(reader).ExportAuditEvents(
            new ExportAuditEventsRequest { From = new Timestamp { Seconds = long.MaxValue } },
            Substitute.For<IServerStreamWriter<ExportAuditEventsResponse>>(),
            new TestServerCallContext("/tokenizer.v1.AuditService/ExportAuditEvents")));

        // Assert
        Assert.Contains(error.Violations, v => v.Field == "from");
    }
}
