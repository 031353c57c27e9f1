using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Tokenizer.Server.Tests.Audit;

/// <summary>
/// A ServerCallContext for interceptor unit tests (Grpc.Core.Testing is not available). The HttpContext travels in
/// UserState under <c>__HttpContext</c>, where <c>GetHttpContext()</c> looks for it outside a real server.
/// </summary>
internal sealed class TestServerCallContext : ServerCallContext
{
    private readonly Dictionary<object, object> userState = [];
    private readonly CancellationToken cancellationToken;
    private readonly string method;

    public TestServerCallContext(string method, HttpContext? httpContext = null, CancellationToken cancellationToken = default)
    {
        this.method = method;
        this.cancellationToken = cancellationToken;
        if (httpContext is not null)
        {
            userState["__HttpContext"] = httpContext;
        }
    }

    protected override string MethodCore => method;

    protected override string HostCore => "localhost";

    protected override string PeerCore => "ipv4:127.0.0.1:50000";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore { get; } = [];

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore { get; } = [];

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore { get; } = new(null, []);

    protected override IDictionary<object, object> UserStateCore => userState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException();

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
