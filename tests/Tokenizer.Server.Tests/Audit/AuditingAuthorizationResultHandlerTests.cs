using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Server.Audit;
using static Tokenizer.Server.Tests.Audit.AuditTestSupport;

namespace Tokenizer.Server.Tests.Audit;

public sealed class AuditingAuthorizationResultHandlerTests
{
    private static readonly AuthorizationPolicy Policy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();

    private readonly IAuthenticationService authentication = Substitute.For<IAuthenticationService>();

    [Fact]
    public async Task HandleAsync_Challenged_RecordsDeniedUnauthenticatedThenAnswersGrpcUnauthenticated()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var http = GrpcRequest(Http(callerId: null, authenticated: false));
        var nextCalled = false;

        // Act
        await Handler(trail).HandleAsync(_ => { nextCalled = true; return Task.CompletedTask; }, http, Policy, PolicyAuthorizationResult.Challenge());

        // Assert
        var recorded = Assert.Single(appended).Event;
        Assert.Equal(
            new Core.Audit.AuditEvent(T0, "anonymous", "10.1.2.3", "tokenizer.v1.TokenizerService/GetToken", null, AuditOutcome.Denied, "UNAUTHENTICATED", "0HN-trace:00000001"),
            recorded);
        Assert.Equal("16", http.Response.Headers["grpc-status"].ToString());
        Assert.Equal("application/grpc", http.Response.ContentType);
        Assert.False(nextCalled);
    }

    [Fact]
    public async Task HandleAsync_Forbidden_RecordsDeniedPermissionDeniedWithTheCallerThenAnswersGrpcPermissionDenied()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var http = GrpcRequest(Http("finance-user"));

        // Act
        await Handler(trail).HandleAsync(_ => Task.CompletedTask, http, Policy, PolicyAuthorizationResult.Forbid());

        // Assert
        var recorded = Assert.Single(appended).Event;
        Assert.Equal(("finance-user", AuditOutcome.Denied, "PERMISSION_DENIED"), (recorded.CallerId, recorded.Outcome, recorded.ReasonCode));
        Assert.Equal("7", http.Response.Headers["grpc-status"].ToString());
    }

    [Fact]
    public async Task HandleAsync_Succeeded_RecordsNothingAndCallsNext()
    {
        // Arrange: the call itself is recorded by the interceptor once it ran.
        var (trail, appended) = RecordingTrail();
        var nextCalled = false;

        // Act
        await Handler(trail).HandleAsync(_ => { nextCalled = true; return Task.CompletedTask; }, GrpcRequest(Http()), Policy, PolicyAuthorizationResult.Success());

        // Assert
        Assert.Empty(appended);
        Assert.True(nextCalled);
    }

    [Fact]
    public async Task HandleAsync_NotAGrpcEndpoint_ActionAuthorizationWithoutThePath()
    {
        // Arrange
        var (trail, appended) = RecordingTrail();
        var http = Http(callerId: null, authenticated: false);
        http.Request.Path = "/4242424242424242";
        http.RequestServices = Services();

        // Act
        await Handler(trail).HandleAsync(_ => Task.CompletedTask, http, Policy, PolicyAuthorizationResult.Challenge());

        // Assert
        Assert.Equal("authorization", Assert.Single(appended).Event.Action);
        await authentication.Received(1).ChallengeAsync(http, null, null);
    }

    [Fact]
    public async Task HandleAsync_AuditAppendFails_StillRefuses()
    {
        // Arrange
        var http = GrpcRequest(Http(callerId: null, authenticated: false));
        var nextCalled = false;

        // Act
        await Handler(FailingTrail()).HandleAsync(_ => { nextCalled = true; return Task.CompletedTask; }, http, Policy, PolicyAuthorizationResult.Challenge());

        // Assert
        Assert.Equal("16", http.Response.Headers["grpc-status"].ToString());
        Assert.False(nextCalled);
    }

    private static AuditingAuthorizationResultHandler Handler(IAuditTrail trail) =>
        new(trail, new FakeTimeProvider(T0), NullLogger<AuditingAuthorizationResultHandler>.Instance);

    private DefaultHttpContext GrpcRequest(DefaultHttpContext http)
    {
        var marshaller = Marshallers.Create<GetTokenRequest>(_ => [], _ => new GetTokenRequest());
        var method = new Method<GetTokenRequest, GetTokenRequest>(MethodType.Unary, "tokenizer.v1.TokenizerService", "GetToken", marshaller, marshaller);
        http.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(new GrpcMethodMetadata(typeof(object), method)), "GetToken"));
        http.RequestServices = Services();
        return http;
    }

    private IServiceProvider Services()
    {
        var services = Substitute.For<IServiceProvider>();
        services.GetService(typeof(IAuthenticationService)).Returns(authentication);
        return services;
    }
}
