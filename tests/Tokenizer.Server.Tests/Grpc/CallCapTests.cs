using System.Runtime.CompilerServices;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Tests.Audit;
using AuditEvent = Tokenizer.Core.Audit.AuditEvent;

namespace Tokenizer.Server.Tests.Grpc;

/// <summary>
/// The server's cap on a call reaches every handler through the call's own cancellation token, the audit service's
/// included: the interceptor chain as the host registers it (context, audit, error mapping) around the real
/// AuditGrpcService, over a reader that waits for its token.
/// </summary>
public sealed class CallCapTests
{
    private const int CapSeconds = 30;
    private readonly FakeTimeProvider clock = new(AuditTestSupport.T0);
    private readonly ListTrail trail = new();
    private readonly WaitingReader reader = new();

    [Fact]
    public async Task VerifyAuditTrail_CapPasses_HandlerTokenCancelledAndCallEndsTimedOutAndAudited()
    {
        // Arrange
        var service = new AuditGrpcService(reader);
        DateTime deadline = default;
        var call = Unary<VerifyAuditTrailRequest, VerifyAuditTrailResponse>(
            new VerifyAuditTrailRequest(),
            (request, context) =>
            {
                deadline = context.Deadline;
                return service.VerifyAuditTrail(request, context);
            });
        var token = await reader.Called.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        clock.Advance(TimeSpan.FromSeconds(CapSeconds - 1));
        var cancelledBeforeCap = token.IsCancellationRequested;
        clock.Advance(TimeSpan.FromSeconds(1));
        var thrown = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert
        Assert.False(cancelledBeforeCap);
        Assert.True(token.IsCancellationRequested);
        Assert.Equal(AuditTestSupport.T0.UtcDateTime.AddSeconds(CapSeconds), deadline);
        AssertTimedOut(thrown, "tokenizer.v1.AuditService/VerifyAuditTrail");
    }

    [Fact]
    public async Task ExportAuditEvents_CapPasses_HandlerTokenCancelledAndStreamEndsTimedOutAndAudited()
    {
        // Arrange
        var service = new AuditGrpcService(reader);
        var context = new TestServerCallContext("/tokenizer.v1.AuditService/ExportAuditEvents", AuditTestSupport.Http("auditor"));
        var call = Owner().ServerStreamingServerHandler<ExportAuditEventsRequest, ExportAuditEventsResponse>(
            new ExportAuditEventsRequest(),
            new DiscardingWriter(),
            context,
            (r, s, c) => Audit().ServerStreamingServerHandler(r, s, c, (r2, s2, c2) => Mapping().ServerStreamingServerHandler(r2, s2, c2, service.ExportAuditEvents)));
        var token = await reader.Called.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // Act
        clock.Advance(TimeSpan.FromSeconds(CapSeconds));
        var thrown = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        // Assert
        Assert.True(token.IsCancellationRequested);
        AssertTimedOut(thrown, "tokenizer.v1.AuditService/ExportAuditEvents");
    }

    [Fact]
    public async Task WatchTokenEvents_LongAfterTheCap_TokenNotCancelled()
    {
        // Arrange: a watch runs until its caller leaves or the host stops.
        var watched = new TaskCompletionSource<CancellationToken>();
        var context = new TestServerCallContext("/tokenizer.v1.TokenizerService/WatchTokenEvents", AuditTestSupport.Http());

        // Act
        await Owner().ServerStreamingServerHandler<WatchTokenEventsRequest, TokenEvent>(
            new WatchTokenEventsRequest(),
            null!,
            context,
            (_, _, c) =>
            {
                clock.Advance(TimeSpan.FromHours(1));
                watched.SetResult(c.CancellationToken);
                return Task.CompletedTask;
            });

        // Assert
        Assert.False((await watched.Task).IsCancellationRequested);
    }

    private Task<TResponse> Unary<TRequest, TResponse>(TRequest request, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        Owner().UnaryServerHandler(
            request,
            new TestServerCallContext("/tokenizer.v1.AuditService/VerifyAuditTrail", AuditTestSupport.Http("auditor")),
            (r, c) => Audit().UnaryServerHandler(r, c, (r2, c2) => Mapping().UnaryServerHandler(r2, c2, handler)));

    private void AssertTimedOut(RpcException thrown, string action)
    {
        Assert.Equal(StatusCode.DeadlineExceeded, thrown.StatusCode);
        Assert.Equal(ErrorReasons.CallTimedOut, thrown.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        var recorded = Assert.Single(trail.Events);
        Assert.Equal((action, AuditOutcome.Failure, ErrorReasons.CallTimedOut), (recorded.Action, recorded.Outcome, recorded.ReasonCode));
    }

    private static IOptions<TokenizerOptions> Options() =>
        Microsoft.Extensions.Options.Options.Create(new TokenizerOptions { Limits = new LimitSettings { CallTimeoutSeconds = CapSeconds } });

    private CallContextInterceptor Owner() => new(Options(), clock);

    private AuditInterceptor Audit() => new(trail, clock, NullLogger<AuditInterceptor>.Instance);

    private static ErrorMappingInterceptor Mapping() => new(NullLogger<ErrorMappingInterceptor>.Instance, Options());

    /// <summary>A response stream that writes nowhere.</summary>
    private sealed class DiscardingWriter : IServerStreamWriter<ExportAuditEventsResponse>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(ExportAuditEventsResponse message) => Task.CompletedTask;
    }

    /// <summary>Keeps what is appended.</summary>
    private sealed class ListTrail : IAuditTrail
    {
        public List<AuditEvent> Events { get; } = [];

        public Task AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
        {
            Events.Add(auditEvent);
            return Task.CompletedTask;
        }
    }

    /// <summary>A trail reader that waits, as a slow database would, until the token it was given is cancelled.</summary>
    private sealed class WaitingReader : IAuditTrailReader
    {
        public TaskCompletionSource<CancellationToken> Called { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<AuditVerification> VerifyAsync(AuditAnchor? anchor, CancellationToken cancellationToken)
        {
            Called.TrySetResult(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public async IAsyncEnumerable<AuditRecord> ReadAsync(
            DateTimeOffset? fromInclusive,
            DateTimeOffset? toExclusive,
            [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Called.TrySetResult(cancellationToken);
            await Task.Delay(Timeout.Infinite, cancellationToken);
            yield break;
        }

        public Task<IReadOnlyList<AuditRecord>> ReadByResourcesAsync(IReadOnlyCollection<string> resources, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
