using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// Checks the gRPC length-prefixed framing of a request (gRPC over HTTP/2: one byte compressed flag, four bytes
/// big-endian length, the message) before grpc-dotnet reads it, for every method that takes one request message.
/// </summary>
/// <remarks>
/// grpc-dotnet answers a broken frame itself, before any marshaller or interceptor: INTERNAL for an empty or short body,
/// two messages on a unary call or a compressed flag without <c>grpc-encoding</c>, and UNKNOWN with an Error line and
/// stack trace for a length prefix past 2 GiB or a compressed message that does not decompress, and quotes an
/// unsupported content type or <c>grpc-encoding</c> back to the caller. Here each of these is
/// answered INVALID_ARGUMENT with ErrorInfo <see cref="ErrorReasons.MalformedRequest"/> (a frame whose length is over
/// <c>Tokenizer:Limits:MaxReceiveMessageBytes</c>: RESOURCE_EXHAUSTED, as gRPC answers it) and recorded by
/// <see cref="CallAuditMiddleware"/>; nothing is logged. A well-formed frame is handed on unchanged (buffered: at most
/// one message of the receive limit). Runs after authentication and authorisation, so an unauthenticated caller learns
/// nothing from it.
/// </remarks>
internal sealed class GrpcFrameGuard(RequestDelegate next, IOptions<TokenizerOptions> options)
{
    private const int HeaderLength = 5;

    private readonly int limit = options.Value.Limits.MaxReceiveMessageBytes;

    /// <summary>Checks the frame of a single-request gRPC call, then calls the next middleware with it buffered.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.Type is not (MethodType.Unary or MethodType.ServerStreaming))
        {
            await next(context);
            return;
        }

        // grpc-dotnet quotes an unsupported content type or grpc-encoding back in grpc-message: answer them here, fixed.
        var encoding = context.Request.Headers["grpc-encoding"].ToString();
        if (!IsGrpcContentType(context.Request.ContentType) || !IsSupportedEncoding(encoding))
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "request content type or grpc-encoding is not supported", ErrorReasons.MalformedRequest);
            return;
        }

        var body = context.Request.Body;
        var header = new byte[HeaderLength];
        if (await ReadFullyAsync(body, header, context.RequestAborted) < HeaderLength || header[0] > 1)
        {
            await RefuseAsync(context, StatusCode.InvalidArgument, "request frame is malformed", ErrorReasons.MalformedRequest);
            return;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)limit)
        {
            await RefuseAsync(context, StatusCode.ResourceExhausted, "request message is larger than the receive limit", AuditFacts.MessageTooLarge);
            return;
        }

        var frame = new byte[HeaderLength + (int)length];
        header.CopyTo(frame, 0);
        var extra = new byte[1];
        if (await ReadFullyAsync(body, frame.AsMemory(HeaderLength), context.RequestAborted) < length
            || await ReadFullyAsync(body, extra, context.RequestAborted) > 0
            || (header[0] == 1 && !Decompresses(encoding, frame.AsSpan(HeaderLength))))
        {
            // Incomplete, more than the one message the method takes, or compressed and not readable.
            await RefuseAsync(context, StatusCode.InvalidArgument, "request frame is malformed", ErrorReasons.MalformedRequest);
            return;
        }

        context.Request.Body = new MemoryStream(frame, writable: false);
        await next(context);
    }

    /// <summary><c>application/grpc</c>, alone or with a subtype (<c>application/grpc+proto</c>) and parameters.</summary>
    private static bool IsGrpcContentType(string? contentType) =>
        contentType is not null
        && contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase)
        && (contentType.Length == "application/grpc".Length || contentType["application/grpc".Length] is '+' or ';');

    /// <summary>No <c>grpc-encoding</c>, <c>identity</c> or <c>gzip</c>: the encodings this server reads.</summary>
    private static bool IsSupportedEncoding(string encoding) =>
        encoding.Length == 0
        || string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase)
        || string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether a compressed message can be read: gzip that decompresses within the receive limit; no encoding (or
    /// identity) with the compressed flag set cannot.
    /// </summary>
    private bool Decompresses(string encoding, ReadOnlySpan<byte> message)
    {
        if (!string.Equals(encoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(message.ToArray()), CompressionMode.Decompress);
            var sink = new byte[4096];
            long total = 0;
            int read;
            while ((read = gzip.Read(sink, 0, sink.Length)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    return false;
                }
            }

            return true;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    private static async Task<int> ReadFullyAsync(Stream body, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await body.ReadAsync(buffer[total..], cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>A trailers-only gRPC answer with a <c>google.rpc.Status</c> carrying ErrorInfo; marked for the audit.</summary>
    private static Task RefuseAsync(HttpContext context, StatusCode code, string message, string reason)
    {
        CallAuditMiddleware.MarkRefused(context, AuditOutcome.Failure, reason);
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        status.Details.Add(Any.Pack(new Google.Rpc.ErrorInfo { Reason = reason, Domain = ErrorMappingInterceptor.ErrorDomain }));
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = message;
        response.Headers["grpc-status-details-bin"] = Convert.ToBase64String(status.ToByteArray());
        return Task.CompletedTask;
    }
}
