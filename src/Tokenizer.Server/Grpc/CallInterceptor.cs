using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// An interceptor that acts around a whole call, whatever its kind (unary, client-, server- or duplex streaming), on the
/// call's <see cref="TokenizerCall"/>: tracing, audit, metrics and the error mapping each write one
/// <see cref="AroundAsync"/> instead of four overloads.
/// </summary>
/// <remarks>
/// The request (when there is a single one) and the response (when there is one) are handed to
/// <see cref="TokenizerCall.Observe"/> on the way, so the call knows its resource before the code around it ends.
/// </remarks>
internal abstract class CallInterceptor : Interceptor
{
    /// <inheritdoc />
    public sealed override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RespondAsync(context, request, call => continuation(request, call));
    }

    /// <inheritdoc />
    public sealed override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, request, call => continuation(request, responseStream, call));
    }

    /// <inheritdoc />
    public sealed override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RespondAsync(context, null, call => continuation(requestStream, call));
    }

    /// <inheritdoc />
    public sealed override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return RunAsync(context, null, call => continuation(requestStream, responseStream, call));
    }

    /// <summary>
    /// Runs <paramref name="next"/> (the rest of the chain and the handler) with whatever this interceptor does around
    /// it; exceptions from <paramref name="next"/> are rethrown or replaced, never swallowed.
    /// </summary>
    protected abstract Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next);

    /// <summary>
    /// Runs <paramref name="next"/>, then tells <paramref name="ended"/> how it ended (null: success, else what it
    /// threw, which is rethrown): for interceptors that only observe the outcome.
    /// </summary>
    protected static async Task ThenAsync(TokenizerCall call, Func<TokenizerCall, Task> next, Action<Exception?> ended)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(ended);
        try
        {
            await next(call);
        }
        catch (Exception error)
        {
            ended(error);
            throw;
        }

        ended(null);
    }

    /// <summary>
    /// The call of a context no interceptor opened yet. Only <see cref="CallContextInterceptor"/> opens one; any other
    /// registered outside it fails the call rather than run without the cap.
    /// </summary>
    protected virtual TokenizerCall Open(ServerCallContext context) => throw new InvalidOperationException(
        $"{GetType().Name} must be registered after CallContextInterceptor, which opens each call");

    private async Task<TResponse> RespondAsync<TResponse>(ServerCallContext context, object? request, Func<TokenizerCall, Task<TResponse>> handler)
    {
        TResponse response = default!;
        await RunAsync(context, request, async call =>
        {
            response = await handler(call);
            call.Observe(response);
        });
        return response;
    }

    private async Task RunAsync(ServerCallContext context, object? request, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context is TokenizerCall call)
        {
            call.Observe(request);
            await AroundAsync(call, next);
            return;
        }

        using var opened = Open(context);
        opened.Observe(request);
        await AroundAsync(opened, next);
    }
}

/// <summary>
/// The outermost interceptor: opens each call's <see cref="TokenizerCall"/>, whose cancellation token is cancelled after
/// <see cref="LimitSettings.CallTimeoutSeconds"/> whatever deadline the caller set (or none), and closes it at the end.
/// </summary>
/// <remarks>
/// Streams that run until their caller leaves (<see cref="Uncapped"/>: the token event and health watches, reflection
/// sessions) have no cap; they end with the caller's cancellation or the host's shutdown.
/// </remarks>
internal sealed class CallContextInterceptor(IOptions<TokenizerOptions> options, TimeProvider timeProvider) : CallInterceptor
{
    /// <summary>Methods without the server's cap, by full name.</summary>
    public static IReadOnlySet<string> Uncapped { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "/tokenizer.v1.TokenizerService/WatchTokenEvents",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    };

    /// <inheritdoc />
    protected override Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return next(call);
    }

    /// <inheritdoc />
    protected override TokenizerCall Open(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        TimeSpan? limit = Uncapped.Contains(context.Method) ? null : TimeSpan.FromSeconds(options.Value.Limits.CallTimeoutSeconds);
        return TokenizerCall.Open(context, limit, timeProvider);
    }
}
