using Google.Rpc;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using AuditEvent = Tokenizer.Core.Audit.AuditEvent;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using static Tokenizer.Server.Tests.Audit.AuditTestSupport;

namespace Tokenizer.Server.Tests.Audit;

public sealed class AuditInterceptorTests
{
    private const string TokenizeCard = "/tokenizer.v1.TokenizerService/TokenizeCard";
    private const string GetToken = "/tokenizer.v1.TokenizerService/GetToken";
    private const string Export = "/tokenizer.v1.AuditService/ExportAuditEvents";

    private readonly FakeTimeProvider clock = new(T0);

    [Fact]
    public async Task UnaryServerHandler_TokenizeCardSucceeds_RecordsSuccessWithTheNewTokenAndCallFacts()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var interceptor = Interceptor(trail);
        var response = new TokenizeCardResponse { Token = new Token { Token_ = "pm_1NewToken" } };

        // Act
        var result = await interceptor.UnaryServerHandler(
            new TokenizeCardRequest { Card = new Card { Number = "4242424242424242" } },
            Call(TokenizeCard, Http()),
            (_, _) => Task.FromResult(response));

        // Assert
        Assert.Same(response, result);
        var (recorded, token) = Assert.Single(appended);
        Assert.Equal(
            new AuditEvent(
                T0,
                "billing-service",
                "10.1.2.3",
                "tokenizer.v1.TokenizerService/TokenizeCard",
                "pm_1NewToken",
                AuditOutcome.Success,
                null,
                "0HN-trace:00000001"),
            recorded);
        Assert.False(token.CanBeCanceled);
    }

    [Fact]
    public async Task UnaryServerHandler_MappedNotFound_RecordsFailureWithErrorInfoReasonAndRethrows()
    {
        // Arrange: what ErrorMappingInterceptor (inside this one) throws for an unknown token.
        var (trail, appended) = RecordingTrail();
        var call = Call(GetToken, Http());
        var mapped = call.Fail(new TokenizerException(ErrorKind.NotFound, ErrorReasons.TokenNotFound, "token not found"));

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(trail).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_missing" },
            call,
            (_, _) => throw mapped));

        // Assert
        Assert.Same(mapped, thrown);
        var recorded = Assert.Single(appended).Event;
        Assert.Equal(AuditOutcome.Failure, recorded.Outcome);
        Assert.Equal(ErrorReasons.TokenNotFound, recorded.ReasonCode);
        Assert.Equal("pm_missing", recorded.Resource);
        Assert.Equal("tokenizer.v1.TokenizerService/GetToken", recorded.Action);
    }

    [Theory]
    [InlineData(StatusCode.DeadlineExceeded, AuditOutcome.Failure, "DEADLINE_EXCEEDED")]
    [InlineData(StatusCode.Cancelled, AuditOutcome.Failure, "CANCELLED")]
    [InlineData(StatusCode.Unauthenticated, AuditOutcome.Denied, "UNAUTHENTICATED")]
    [InlineData(StatusCode.PermissionDenied, AuditOutcome.Denied, "PERMISSION_DENIED")]
    public async Task UnaryServerHandler_RpcExceptionWithoutErrorInfo_RecordsStatusCodeName(StatusCode code, AuditOutcome outcome, string reason)
    {
        // Arrange
        var (trail, appended) = RecordingTrail();

        // Act
        await Assert.ThrowsAsync<RpcException>(() => Interceptor(trail).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_1" },
            Call(GetToken, Http()),
            (_, _) => throw new RpcException(new global::Grpc.Core.Status(code, "x"))));

        // Assert
        var recorded = Assert.Single(appended).Event;
        Assert.Equal(outcome, recorded.Outcome);
        Assert.Equal(reason, recorded.ReasonCode);
    }

    [Fact]
    public async Task UnaryServerHandler_UnmappedException_RecordsInternalErrorAndRethrowsIt()
    {
        // Arrange: only if the interceptors were registered in the wrong order would this reach the audit interceptor.
        var (trail, appended) = RecordingTrail();
        var original = new InvalidOperationException("boom");

        // Act
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => Interceptor(trail).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_1" },
            Call(GetToken, Http()),
            (_, _) => throw original));

        // Assert
        Assert.Same(original, thrown);
        Assert.Equal(ErrorReasons.InternalError, Assert.Single(appended).Event.ReasonCode);
    }

    [Fact]
    public async Task UnaryServerHandler_AuditAppendFailsAfterSuccess_FailsTheCallWithInternalAuditUnavailable()
    {
        // Arrange
        var handlerRan = false;

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(FailingTrail()).UnaryServerHandler(
            new GetTokenRequest { Token = "pm_1" },
            Call(GetToken, Http()),
            (_, _) =>
            {
                handlerRan = true;
                return Task.FromResult(new GetTokenResponse { Token = new Token { Token_ = "pm_1" } });
            }));

        // Assert: the response is withheld; the status carries the stable reason and nothing of the cause.
        Assert.True(handlerRan);
        AssertAuditUnavailable(thrown);
    }

    [Fact]
    public async Task UnaryServerHandler_AuditAppendFailsAfterFailure_FailsWithAuditUnavailableInstead()
    {
        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(FailingTrail()).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_1" },
            Call(GetToken, Http()),
            (_, _) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.NotFound, "x"))));

        // Assert
        AssertAuditUnavailable(thrown);
    }

    [Fact]
    public async Task UnaryServerHandler_AuditAppendFailsAfterLedgerUnavailable_KeepsTheRetryableUnavailable()
    {
        // Arrange: the trail lives in the ledger's database, so both fail together.
        var call = Call(GetToken, Http());
        var ledgerDown = call.Fail(new TokenizerException(ErrorKind.Unavailable, ErrorReasons.LedgerUnavailable, "the ledger is unavailable"));

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(FailingTrail()).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_1" },
            call,
            (_, _) => throw ledgerDown));

        // Assert: the call still fails (fail closed), as UNAVAILABLE LEDGER_UNAVAILABLE rather than INTERNAL.
        Assert.Equal(StatusCode.Unavailable, thrown.StatusCode);
        Assert.Equal(ErrorReasons.LedgerUnavailable, thrown.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
    }

    [Theory]
    [InlineData("4242424242424242")] // a PAN where a token id belongs: shaped like an id, but never recorded
    [InlineData("pm_1\nforged")]
    [InlineData("")]
    public async Task UnaryServerHandler_RequestTokenNotAPlausibleTokenId_ResourceNotRecorded(string requested)
    {
        // Arrange
        var (trail, appended) = RecordingTrail();

        // Act
        await Assert.ThrowsAsync<RpcException>(() => Interceptor(trail).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = requested },
            Call(GetToken, Http()),
            (_, _) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.InvalidArgument, "x"))));

        // Assert
        Assert.Null(Assert.Single(appended).Event.Resource);
    }

    [Fact]
    public async Task UnaryServerHandler_RevokeToken_ResourceFromResponseElseRequest()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        const string Revoke = "/tokenizer.v1.TokenizerService/RevokeToken";

        // Act
        await Interceptor(trail).UnaryServerHandler(
            new RevokeTokenRequest { Token = "pm_asked" },
            Call(Revoke, Http()),
            (_, _) => Task.FromResult(new RevokeTokenResponse { Token = new Token { Token_ = "pm_asked" } }));
        await Interceptor(trail).UnaryServerHandler(
            new ListTokensRequest { CustomerReference = "cust-1" },
            Call(Revoke, Http()),
            (_, _) => Task.FromResult(new ListTokensResponse()));

        // Assert: a listing has no single resource, and customer references are not recorded.
        Assert.Equal(["pm_asked", null], appended.Select(a => a.Event.Resource));
    }

    [Theory]
    [InlineData(null, true)] // authenticated, but without a NameIdentifier claim
    [InlineData("someone", false)] // the claim on an unauthenticated identity is not an identity
    public async Task UnaryServerHandler_NoAuthenticatedCallerId_CallerAnonymous(string? callerId, bool authenticated)
    {
        // Arrange
        var (trail, appended) = RecordingTrail();

        // Act
        await Interceptor(trail).UnaryServerHandler(
            new GetTokenRequest(),
            Call(GetToken, Http(callerId, authenticated: authenticated)),
            (_, _) => Task.FromResult(new GetTokenResponse()));

        // Assert
        Assert.Equal("unauthenticated", Assert.Single(appended).Event.CallerId);
    }

    [Fact]
    public async Task UnaryServerHandler_Ipv4MappedPeer_RecordedAsIpv4()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();

        // Act
        await Interceptor(trail).UnaryServerHandler(
            new GetTokenRequest(),
            Call(GetToken, Http(address: "::ffff:192.0.2.7")),
            (_, _) => Task.FromResult(new GetTokenResponse()));

        // Assert
        Assert.Equal("192.0.2.7", Assert.Single(appended).Event.SourceAddress);
    }

    [Fact]
    public async Task UnaryServerHandler_NotHostedByAspNetCore_AnonymousWithoutAddressButCorrelated()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();

        // Act
        await Interceptor(trail).UnaryServerHandler(
            new GetTokenRequest(),
            Call(GetToken),
            (_, _) => Task.FromResult(new GetTokenResponse()));

        // Assert
        var recorded = Assert.Single(appended).Event;
        Assert.Equal("unauthenticated", recorded.CallerId);
        Assert.Null(recorded.SourceAddress);
        Assert.NotEmpty(recorded.CorrelationId);
    }

    [Fact]
    public async Task UnaryServerHandler_CallCancelled_StillRecordedWithAnUncancelledToken()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        // Act
        await Assert.ThrowsAsync<RpcException>(() => Interceptor(trail).UnaryServerHandler<GetTokenRequest, GetTokenResponse>(
            new GetTokenRequest { Token = "pm_1" },
            Call(GetToken, Http(), cancellation.Token),
            (_, _) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "call cancelled"))));

        // Assert
        var (recorded, token) = Assert.Single(appended);
        Assert.Equal("CANCELLED", recorded.ReasonCode);
        Assert.False(token.IsCancellationRequested);
    }

    [Fact]
    public async Task ServerStreamingServerHandler_StreamCompletes_RecordsOnceAfterTheLastMessage()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var recordsWhileStreaming = -1;

        // Act
        await Interceptor(trail).ServerStreamingServerHandler<ExportAuditEventsRequest, ExportAuditEventsResponse>(
            new ExportAuditEventsRequest(),
            null!,
            Call(Export, Http("auditor")),
            (_, _, _) =>
            {
                recordsWhileStreaming = appended.Count;
                return Task.CompletedTask;
            });

        // Assert
        Assert.Equal(0, recordsWhileStreaming);
        var recorded = Assert.Single(appended).Event;
        Assert.Equal(("tokenizer.v1.AuditService/ExportAuditEvents", AuditOutcome.Success, "auditor"), (recorded.Action, recorded.Outcome, recorded.CallerId));
    }

    [Fact]
    public async Task ServerStreamingServerHandler_StreamFails_RecordsFailureAndRethrows()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var call = Call(Export, Http());
        var mapped = call.Fail(TokenizerException.Invalid([new("to", "must not be before from")]));

        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(trail).ServerStreamingServerHandler<ExportAuditEventsRequest, ExportAuditEventsResponse>(
            new ExportAuditEventsRequest(),
            null!,
            call,
            (_, _, _) => throw mapped));

        // Assert
        Assert.Same(mapped, thrown);
        Assert.Equal((AuditOutcome.Failure, ErrorReasons.ValidationFailed), (Assert.Single(appended).Event.Outcome, appended[0].Event.ReasonCode));
    }

    [Fact]
    public async Task ServerStreamingServerHandler_AuditAppendFails_EndsTheStreamWithAuditUnavailable()
    {
        // Act
        var thrown = await Assert.ThrowsAsync<RpcException>(() => Interceptor(FailingTrail()).ServerStreamingServerHandler<ExportAuditEventsRequest, ExportAuditEventsResponse>(
            new ExportAuditEventsRequest(),
            null!,
            Call(Export, Http()),
            (_, _, _) => Task.CompletedTask));

        // Assert
        AssertAuditUnavailable(thrown);
    }

    private static void AssertAuditUnavailable(RpcException thrown)
    {
        Assert.Equal(StatusCode.Internal, thrown.StatusCode);
        Assert.Equal(ErrorReasons.AuditUnavailable, thrown.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason);
        Assert.DoesNotContain("disk full", thrown.Status.Detail, StringComparison.Ordinal);
    }

    private AuditInterceptor Interceptor(IAuditTrail trail) => new(trail, clock, NullLogger<AuditInterceptor>.Instance);

    // The call as CallContextInterceptor opens it (without the cap, which these tests do not exercise).
    private TokenizerCall Call(string method, HttpContext? http = null, CancellationToken cancellationToken = default) =>
        TokenizerCall.Open(new TestServerCallContext(method, http, cancellationToken), null, clock);
}
