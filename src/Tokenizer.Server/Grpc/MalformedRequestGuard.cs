using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Tokenizer.Core.Errors;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// The request message that stands for "these bytes did not deserialize": one instance per request type, never handed
/// to a handler (<see cref="MalformedRequestInterceptor"/> refuses the call when it sees it).
/// </summary>
/// <typeparam name="T">The request message type; null when it has no public parameterless constructor.</typeparam>
internal static class MalformedRequest<T>
    where T : class
{
    /// <summary>The marker instance, or null when none can be made (the method then keeps its own marshaller).</summary>
    public static readonly T? Marker = typeof(T).GetConstructor(Type.EmptyTypes) is not null ? Activator.CreateInstance<T>() : null;

    /// <summary>Whether <paramref name="request"/> is the marker (reference equality: a real empty message is not).</summary>
    public static bool Is(T? request) => request is not null && ReferenceEquals(request, Marker);
}

/// <summary>
/// Binds every gRPC service like grpc-dotnet's own binder, but with a request marshaller that never throws: bytes that
/// are not a valid message (malformed protobuf, invalid UTF-8 in a string field) become
/// <see cref="MalformedRequest{T}.Marker"/>.
/// </summary>
/// <remarks>
/// grpc-dotnet deserializes the request before any interceptor runs; a throwing deserializer makes it answer UNKNOWN
/// and log the exception with its stack trace (Error "ErrorExecutingServiceMethod", Information "ErrorReadingMessage").
/// Returning a marker instead lets <see cref="MalformedRequestInterceptor"/> answer INVALID_ARGUMENT with ErrorInfo
/// <see cref="ErrorReasons.MalformedRequest"/> inside the interceptor chain, so the call is audited like any other and
/// nothing is logged with an exception. Replaces the framework's binder (see <see cref="MalformedRequestGuard.Add"/>).
/// </remarks>
/// <typeparam name="TService">The service implementation type.</typeparam>
internal sealed class GuardedServiceMethodProvider<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] TService>
    : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is { } bind)
            {
                var bindMethod = bind.BindType.GetMethod(
                    bind.BindMethodName,
                    BindingFlags.Public | BindingFlags.Static,
                    [typeof(ServiceBinderBase), type])
                    ?? throw new InvalidOperationException($"gRPC service {typeof(TService).Name}: bind method not found");
                bindMethod.Invoke(null, [new Binder(context, type), null]);
                return;
            }
        }
    }

    /// <summary>Adds each method the generated BindService names, with a guarded request marshaller.</summary>
    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type serviceBase) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<UnaryServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(MalformedRequestGuard.Guard(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(MalformedRequestGuard.Guard(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(MalformedRequestGuard.Guard(method), metadata, invoker);
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var (invoker, metadata) = Model<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(MalformedRequestGuard.Guard(method), metadata, invoker);
        }

        /// <summary>
        /// The open-instance delegate to the implementation's override of <paramref name="name"/>, and the endpoint
        /// metadata the framework's binder would give it (type attributes, then method attributes, then POST).
        /// </summary>
        private (TDelegate Invoker, List<object> Metadata) Model<TDelegate>(string name, params Type[] parameters)
            where TDelegate : Delegate
        {
            var implementation = typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters);
            if (implementation is null || implementation.GetBaseDefinition().DeclaringType != serviceBase)
            {
                throw new InvalidOperationException($"gRPC service {typeof(TService).Name}: no override of {name}");
            }

            List<object> metadata = [.. typeof(TService).GetCustomAttributes(inherit: true), .. implementation.GetCustomAttributes(inherit: true)];
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return ((TDelegate)Delegate.CreateDelegate(typeof(TDelegate), implementation), metadata);
        }
    }
}

/// <summary>Wiring and the guarded marshaller.</summary>
internal static class MalformedRequestGuard
{
    /// <summary>
    /// Replaces grpc-dotnet's binder (<c>BinderServiceMethodProvider&lt;&gt;</c>) with
    /// <see cref="GuardedServiceMethodProvider{TService}"/>. Call after every <c>AddGrpc</c> (each one re-adds the
    /// framework's binder); start-up fails if the framework's binder is not found exactly once, so a grpc-dotnet update
    /// that renames it cannot silently bind every method twice or unguarded.
    /// </summary>
    /// <exception cref="InvalidOperationException">The framework's binder is not registered exactly once.</exception>
    public static IServiceCollection Add(IServiceCollection services)
    {
        var framework = services
            .Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)
                && d.ImplementationType is { Name: "BinderServiceMethodProvider`1" } type
                && type.Assembly == typeof(IServiceMethodProvider<>).Assembly)
            .ToList();
        if (framework.Count != 1)
        {
            throw new InvalidOperationException("gRPC: the framework's service binder was not found once; the malformed-request guard cannot be installed");
        }

        services.Remove(framework[0]);
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(GuardedServiceMethodProvider<>));
        return services;
    }

    /// <summary><paramref name="method"/> with a request deserializer that returns the marker instead of throwing.</summary>
    public static Method<TRequest, TResponse> Guard<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        if (MalformedRequest<TRequest>.Marker is null)
        {
            return method;
        }

        var deserialize = method.RequestMarshaller.ContextualDeserializer;
        var marshaller = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, context => Deserialize(deserialize, context));
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }

    private static T Deserialize<T>(Func<DeserializationContext, T> deserialize, DeserializationContext context)
        where T : class
    {
        try
        {
            return deserialize(context);
        }
        catch (Exception error) when (error is not OperationCanceledException and not OutOfMemoryException)
        {
            // Any failure to turn the caller's bytes into a message (InvalidProtocolBufferException for malformed wire
            // data and invalid UTF-8, recursion limits...) is the caller's malformed request, never a server fault.
            return MalformedRequest<T>.Marker!;
        }
    }
}

/// <summary>
/// Refuses a call whose request did not deserialize (<see cref="MalformedRequest{T}"/>) with INVALID_ARGUMENT and
/// ErrorInfo <see cref="ErrorReasons.MalformedRequest"/> before its handler runs. Register it after the audit
/// interceptor (which records the refusal) and before <see cref="ErrorMappingInterceptor"/>.
/// </summary>
internal sealed partial class MalformedRequestInterceptor(ILogger<MalformedRequestInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return MalformedRequest<TRequest>.Is(request) ? throw Refuse(context) : continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        return MalformedRequest<TRequest>.Is(request) ? throw Refuse(context) : continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return continuation(new GuardedReader<TRequest>(requestStream, () => Refuse(context)), context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return continuation(new GuardedReader<TRequest>(requestStream, () => Refuse(context)), responseStream, context);
    }

    /// <summary>INVALID_ARGUMENT / MALFORMED_REQUEST through the one error mapping; logged without the bytes or an exception.</summary>
    private RpcException Refuse(ServerCallContext context)
    {
        LogMalformed(logger, context.Method);
        return TokenizerCall.Of(context).Fail(new TokenizerException(
            ErrorKind.InvalidArgument,
            ErrorReasons.MalformedRequest,
            "the request message is not valid protobuf (malformed bytes, or a string field that is not UTF-8)"));
    }

    [LoggerMessage(EventId = 2003, EventName = "MalformedRequest", Level = LogLevel.Information, Message = "{Method} refused: the request message did not deserialize")]
    private static partial void LogMalformed(ILogger logger, string method);

    /// <summary>A request stream that fails the call at the first message that did not deserialize.</summary>
    private sealed class GuardedReader<T>(IAsyncStreamReader<T> inner, Func<RpcException> refuse) : IAsyncStreamReader<T>
        where T : class
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            var moved = await inner.MoveNext(cancellationToken).ConfigureAwait(false);
            return moved && MalformedRequest<T>.Is(inner.Current) ? throw refuse() : moved;
        }
    }
}
