using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
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
    : CallInterceptor
{
    internal const string ErrorDomain = "tokenizer.v1";

    /// <summary>
    /// Maps what the handler threw, for every kind of call. Messages a stream already wrote stay sent; the mapped status
    /// ends the stream. The server's cap fires the call's own token (<see cref="TokenizerCall"/>): DEADLINE_EXCEEDED.
    /// </summary>
    protected override async Task AroundAsync(TokenizerCall call, Func<TokenizerCall, Task> next)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(call);
        }
        catch (TokenizerException error)
        {
            LogDomainError(logger, call.Method, error.Kind, error.Reason);
            throw call.Fail(error, RetryDelay);
        }
        catch (OperationCanceledException) when (call.CancelledByCaller)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "call cancelled"));
        }
        catch (OperationCanceledException) when (call.TimedOut)
        {
            throw call.Fail(new TokenizerException(ErrorKind.DeadlineExceeded, ErrorReasons.CallTimedOut, "the call took longer than the server allows"));
        }
        catch (Exception error) when (error is not RpcException)
        {
            LogUnexpected(logger, call.Method, error.GetType().FullName ?? "unknown", error.StackTrace ?? string.Empty);
            throw call.Fail(new TokenizerException(ErrorKind.Internal, ErrorReasons.InternalError, "internal error"));
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
