using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// One gRPC call as the interceptors and the handler see it: who called, the resource and subject pseudonym its audit
/// record names, the reason it failed with, and its deadline. Opened by <see cref="CallContextInterceptor"/> (the
/// outermost interceptor) and handed down the chain in place of the framework's context, so every handler receives it
/// as its <see cref="ServerCallContext"/>.
/// </summary>
/// <remarks>
/// <see cref="ServerCallContext.CancellationToken"/> is the call's own token: the caller's cancellation (and gRPC
/// deadline) linked with the server's cap, so a handler cannot pass down a token that outlives the cap.
/// Everything else (headers, trailers, status, peer) is the framework context's.
/// </remarks>
internal sealed class TokenizerCall : ServerCallContext, IDisposable
{
    // Where grpc-dotnet's GetHttpContext() looks for the HttpContext behind a context that wraps its own.
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext inner;
    private readonly CancellationTokenSource? cap;
    private readonly CancellationTokenSource cancellation;
    private readonly DateTime deadline;
    private CallerContext? caller;
    private RpcException? failure;
    private string? failureReason;

    private TokenizerCall(ServerCallContext inner, TimeSpan? limit, TimeProvider timeProvider)
    {
        this.inner = inner;
        Http = HttpContextOf(inner);
        deadline = inner.Deadline;
        if (limit is { } cut)
        {
            cap = new CancellationTokenSource(cut, timeProvider);
            var capped = timeProvider.GetUtcNow().UtcDateTime + cut;
            deadline = capped < deadline ? capped : deadline;
            cancellation = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken, cap.Token);
        }
        else
        {
            cancellation = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken);
        }

        if (Http is not null)
        {
            inner.UserState[HttpContextKey] = Http;
        }
    }

    /// <summary>The HttpContext behind the call, or null when it is not hosted by ASP.NET Core (unit tests).</summary>
    public HttpContext? Http { get; }

    /// <summary>The authenticated caller (id and roles).</summary>
    /// <exception cref="InvalidOperationException">The call has no authenticated caller with an id.</exception>
    public CallerContext Caller => caller ??= CallerDirectory.ToCaller(
        Http?.User ?? throw new InvalidOperationException("the call is not hosted by ASP.NET Core"));

    /// <summary>
    /// The token or run id the call acted on, from the response when it declares one (<see cref="IAuditResource"/>),
    /// else the request's; only when shaped like an id and holding no card number (callers control request fields).
    /// </summary>
    public string? Resource { get; private set; }

    /// <summary>A privacy call's subject as its keyed pseudonym (never the reference in clear), set by the handler.</summary>
    public string? SubjectPseudonym { get; set; }

    /// <summary>Whether the server's cap on the call's work fired (the call ends DEADLINE_EXCEEDED CALL_TIMED_OUT).</summary>
    public bool TimedOut => cap?.IsCancellationRequested == true && !inner.CancellationToken.IsCancellationRequested;

    /// <summary>Whether the caller cancelled the call or its own gRPC deadline passed.</summary>
    public bool CancelledByCaller => inner.CancellationToken.IsCancellationRequested;

    /// <inheritdoc />
    protected override string MethodCore => inner.Method;

    /// <inheritdoc />
    protected override string HostCore => inner.Host;

    /// <inheritdoc />
    protected override string PeerCore => inner.Peer;

    /// <inheritdoc />
    protected override DateTime DeadlineCore => deadline;

    /// <inheritdoc />
    protected override Metadata RequestHeadersCore => inner.RequestHeaders;

    /// <inheritdoc />
    protected override CancellationToken CancellationTokenCore => cancellation.Token;

    /// <inheritdoc />
    protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;

    /// <inheritdoc />
    protected override Status StatusCore
    {
        get => inner.Status;
        set => inner.Status = value;
    }

    /// <inheritdoc />
    protected override WriteOptions? WriteOptionsCore
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    /// <inheritdoc />
    protected override AuthContext AuthContextCore => inner.AuthContext;

    /// <inheritdoc />
    protected override IDictionary<object, object> UserStateCore => inner.UserState;

    /// <summary>
    /// Opens the call over the framework's <paramref name="context"/>: its token is cancelled when the caller cancels
    /// or, with a <paramref name="limit"/>, when that much time has passed (measured by <paramref name="timeProvider"/>).
    /// </summary>
    public static TokenizerCall Open(ServerCallContext context, TimeSpan? limit, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return context as TokenizerCall ?? new TokenizerCall(context, limit, timeProvider);
    }

    /// <summary>The call a handler or interceptor was given.</summary>
    /// <exception cref="InvalidOperationException">The context was not opened by <see cref="CallContextInterceptor"/>.</exception>
    public static TokenizerCall Of(ServerCallContext context) => context as TokenizerCall
        ?? throw new InvalidOperationException("the gRPC call was not opened by CallContextInterceptor; register it first");

    /// <summary>Takes the resource a request or response declares (a response's wins: it came from the ledger).</summary>
    public void Observe(object? message)
    {
        if (message is IAuditResource { AuditResource: { Length: > 0 } id } && InputRules.IsValidTokenId(id))
        {
            Resource = id;
        }
    }

    /// <summary>
    /// The one way a domain error becomes the call's gRPC status (<see cref="ErrorMappingInterceptor.ToRpcException(TokenizerException, TimeSpan?)"/>):
    /// the call remembers the error's reason for its audit record, span and logs.
    /// </summary>
    public RpcException Fail(TokenizerException error, TimeSpan? retryDelay = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        failure = ErrorMappingInterceptor.ToRpcException(error, retryDelay);
        failureReason = error.Reason;
        return failure;
    }

    /// <summary>The reason of <paramref name="error"/>: the domain reason when this call produced it, else its status code name.</summary>
    public string ReasonOf(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return ReferenceEquals(error, failure) && failureReason is not null ? failureReason : AuditFacts.StatusName(error.StatusCode);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        cancellation.Dispose();
        cap?.Dispose();
    }

    /// <inheritdoc />
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        inner.CreatePropagationToken(options);

    /// <inheritdoc />
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);

    private static HttpContext? HttpContextOf(ServerCallContext context)
    {
        try
        {
            return context.GetHttpContext();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
