using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// The one place domain errors become gRPC status: google.rpc.Status with ErrorInfo (stable reason, domain
/// tokenizer.v1) and BadRequest field violations. Unexpected exceptions become INTERNAL with no detail; their
/// messages are not logged either, since a library's message may echo input (only type and stack trace are).
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger, IOptions<TokenizerOptions> options)
    : Interceptor
{
    internal const string ErrorDomain = "tokenizer.v1";
    internal const string CallCancellationKey = "tokenizer.call-cancellation";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);

        // A server-side cap on every call's work, whatever deadline the caller set (or none); handlers and the gateway
        // call observe it through ServerCallContext.CallCancellation().
        using var cap = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cap.CancelAfter(TimeSpan.FromSeconds(options.Value.Limits.CallTimeoutSeconds));
        context.UserState[CallCancellationKey] = cap.Token;
        try
        {
            return await continuation(request, context);
        }
        catch (TokenizerException error)
        {
            LogDomainError(logger, context.Method, error.Kind, error.Reason);
            throw ToRpcException(error, RetryDelay);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "call cancelled"));
        }
        catch (OperationCanceledException) when (cap.IsCancellationRequested)
        {
            throw ToRpcException(new TokenizerException(ErrorKind.DeadlineExceeded, ErrorReasons.CallTimedOut, "the call took longer than the server allows"));
        }
        catch (Exception error) when (error is not RpcException)
        {
            LogUnexpected(logger, context.Method, error.GetType().FullName ?? "unknown", error.StackTrace ?? string.Empty);
            throw ToRpcException(new TokenizerException(ErrorKind.Internal, ErrorReasons.InternalError, "internal error"));
        }
    }

    /// <summary>
    /// Server-streaming calls (AuditService.ExportAuditEvents) map errors as unary calls do. Messages already written
    /// stay sent; the mapped status ends the stream.
    /// </summary>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (TokenizerException error)
        {
            LogDomainError(logger, context.Method, error.Kind, error.Reason);
            throw ToRpcException(error, RetryDelay);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "call cancelled"));
        }
        catch (Exception error) when (error is not RpcException)
        {
            LogUnexpected(logger, context.Method, error.GetType().FullName ?? "unknown", error.StackTrace ?? string.Empty);
            throw ToRpcException(new TokenizerException(ErrorKind.Internal, ErrorReasons.InternalError, "internal error"));
        }
    }

    // A retry of an in-flight key itself waits up to DuplicateWaitSeconds for the first request: after that long the
    // first has usually finished and the retry gets its answer.
    private TimeSpan RetryDelay => TimeSpan.FromSeconds(Math.Max(1, options.Value.DuplicateWaitSeconds));

    /// <summary>Builds the RpcException for a domain error (google.rpc.Status in grpc-status-details-bin).</summary>
    internal static RpcException ToRpcException(TokenizerException error) => ToRpcException(error, retryDelay: null);

    /// <summary>
    /// As <see cref="ToRpcException(TokenizerException)"/>; ABORTED (a key still in flight) also carries
    /// google.rpc.RetryInfo with <paramref name="retryDelay"/>, when the same key is worth retrying.
    /// </summary>
    internal static RpcException ToRpcException(TokenizerException error, TimeSpan? retryDelay)
    {
        ArgumentNullException.ThrowIfNull(error);
        var status = new Google.Rpc.Status { Code = (int)ToStatusCode(error.Kind), Message = error.Message };
        var info = new ErrorInfo { Reason = error.Reason, Domain = ErrorDomain };
        foreach (var (key, value) in error.ErrorMetadata)
        {
            info.Metadata[key] = value;
        }

        status.Details.Add(Any.Pack(info));
        if (error.Violations.Count > 0)
        {
            var badRequest = new BadRequest();
            badRequest.FieldViolations.AddRange(error.Violations.Select(v => new BadRequest.Types.FieldViolation
            {
                Field = v.Field,
                Description = v.Rule,
            }));
            status.Details.Add(Any.Pack(badRequest));
        }

        if (error.Kind == ErrorKind.Aborted && retryDelay is { } delay)
        {
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(delay) }));
        }

        return status.ToRpcException();
    }

    internal static StatusCode ToStatusCode(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        ErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorKind.NotFound => StatusCode.NotFound,
        ErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        ErrorKind.Aborted => StatusCode.Aborted,
        ErrorKind.Unavailable => StatusCode.Unavailable,
        ErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        ErrorKind.Unauthenticated => StatusCode.Unauthenticated,
        ErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        ErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    [LoggerMessage(EventId = 2001, EventName = "DomainError", Level = LogLevel.Information, Message = "{Method} failed: {Kind} {Reason}")]
    private static partial void LogDomainError(ILogger logger, string method, ErrorKind kind, string reason);

    [LoggerMessage(EventId = 2002, EventName = "UnexpectedError", Level = LogLevel.Error, Message = "{Method} failed unexpectedly: {ExceptionType}\n{StackTrace}")]
    private static partial void LogUnexpected(ILogger logger, string method, string exceptionType, string stackTrace);
}

/// <summary>The cancellation a handler must pass down: the caller's cancellation or the server's per-call cap.</summary>
internal static class ServerCallContextExtensions
{
    public static CancellationToken CallCancellation(this ServerCallContext context) =>
        context.UserState.TryGetValue(ErrorMappingInterceptor.CallCancellationKey, out var token) && token is CancellationToken capped
            ? capped
            : context.CancellationToken;
}
