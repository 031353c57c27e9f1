using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
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
    public async Task HandleAsync_Challenged_MarksDeniedUnauthenticatedThenAnswersGrpcUnauthenticated()
    {
        // Arrange
        var http = GrpcRequest(Http(callerId: null, authenticated: false));
        var nextCalled = false;

        // Act
        await Handler().HandleAsync(_ => { nextCalled = true; return Task.CompletedTask; }, http, Policy, PolicyAuthorizationResult.Challenge());

        // Assert: CallAuditMiddleware writes the record from this mark.
        Assert.Equal((AuditOutcome.Denied, "UNAUTHENTICATED"), CallAuditMiddleware.RefusalOf(http));
        Assert.Equal("16", http.Response.Headers["grpc-status"].ToString());
        Assert.Equal("application/grpc", http.Response.ContentType);
        Assert.False(nextCalled);
    }

    [Fact]
    public async Task HandleAsync_Forbidden_MarksDeniedPermissionDeniedThenAnswersGrpcPermissionDenied()
    {
        // Arrange
        var http = GrpcRequest(Http("finance-user"));

        // Act
        await Handler().HandleAsync(_ => Task.CompletedTask, http, Policy, PolicyAuthorizationResult.Forbid());

        // Assert
        Assert.Equal((AuditOutcome.Denied, "PERMISSION_DENIED"), CallAuditMiddleware.RefusalOf(http));
        Assert.Equal("7", http.Response.Headers["grpc-status"].ToString());
    }

    [Fact]
    public async Task HandleAsync_Succeeded_MarksNothingAndCallsNext()
    {
        // Arrange: the call itself is recorded by the interceptor once it ran.
        var nextCalled = false;
        var http = GrpcRequest(Http());

        // Act
        await Handler().HandleAsync(_ => { nextCalled = true; return Task.CompletedTask; }, http, Policy, PolicyAuthorizationResult.Success());

        // Assert
        Assert.Null(CallAuditMiddleware.RefusalOf(http));
        Assert.True(nextCalled);
    }

    [Fact]
    public async Task HandleAsync_NotAGrpcRequest_MarkedAndTheFrameworkChallenges()
    {
        // Arrange
        var http = Http(callerId: null, authenticated: false);
        http.Request.Path = "/4242424242424242";
        http.RequestServices = Services();

        // Act
        await Handler().HandleAsync(_ => Task.CompletedTask, http, Policy, PolicyAuthorizationResult.Challenge());

        // Assert
        Assert.Equal((AuditOutcome.Denied, "UNAUTHENTICATED"), CallAuditMiddleware.RefusalOf(http));
        await authentication.Received(1).ChallengeAsync(http, null, null);
    }

    private static AuditingAuthorizationResultHandler Handler() => new();

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
