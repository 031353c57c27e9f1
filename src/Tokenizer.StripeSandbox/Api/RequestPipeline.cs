using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Faults;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>A handler's answer: HTTP status, JSON body, and whether an idempotency record may keep it.</summary>
internal readonly record struct ApiResult(int Status, string Body, bool Replayable)
{
    public static ApiResult Ok(string body) => new(200, body, Replayable: true);

    public static ApiResult From(StripeApiException error) =>
        new(error.Status, System.Text.Json.JsonSerializer.Serialize(error.ToBody(), SandboxJson.Default.ErrorBody), error.Replayable);
}

/// <summary>
/// What every Stripe API request goes through: a <c>Request-Id</c>, the API key check (<c>Authorization: Bearer sk_test_...</c>,
/// or HTTP Basic with the key as user name, as Stripe accepts), parameter reading, idempotency
/// (<c>Idempotency-Key</c>, per account: the configured key's, else each key's own) and writing the JSON answer.
/// </summary>
internal sealed partial class RequestPipeline(
    SandboxStore store, SandboxSecret secret, IOptions<StripeSandboxOptions> options, ILogger<RequestPipeline> logger)
{
    public const string TestKeyPrefix = "sk_test_";
    private const string ApiKeyItem = "stripe-sandbox.api-key";
    private const string RequestIdItem = "stripe-sandbox.request-id";
    private const int MaxIdempotencyKeyLength = 255;
    private const string ConfiguredAccountScope = "stripe-sandbox/configured-account";

    private readonly byte[]? configuredKey = options.Value.ApiKey is { } key ? Encoding.UTF8.GetBytes(key) : null;

    /// <summary>Middleware: stamps <c>Request-Id</c> on every response and authenticates <c>/v1</c> requests.</summary>
    public async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        var requestId = "req_" + RandomNumberGenerator.GetString(IdAlphabet.Chars, 14);
        context.Items[RequestIdItem] = requestId;
        context.Response.Headers["Request-Id"] = requestId;

        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var apiKey = ReadApiKey(context.Request);
        if (apiKey is null)
        {
            await WriteAsync(context, ApiResult.From(StripeErrors.NoApiKey()));
            return;
        }

        if (!IsAccepted(apiKey))
        {
            LogRejectedKey(logger);
            await WriteAsync(context, ApiResult.From(StripeErrors.InvalidApiKey()));
            return;
        }

        context.Items[ApiKeyItem] = apiKey;
        try
        {
            await next(context);
        }
#pragma warning disable CA1031 // Last line of defence: Stripe's api_error instead of a framework error page that could echo the request.
        catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
#pragma warning restore CA1031
        {
            LogHandlerFault(logger, e.GetType().FullName);
            await WriteAsync(context, ApiResult.From(StripeErrors.Internal()));
        }
    }

    /// <summary>Reads the parameters, applies idempotency to POSTs that carry a key, runs the handler and writes its answer.</summary>
    public async Task RunAsync(HttpContext context, Func<StripeParams, ApiResult> handler)
    {
        var request = context.Request;
        StripeParams parameters;
        try
        {
            parameters = await StripeParams.ReadAsync(request, context.RequestAborted);
        }
        catch (StripeApiException e)
        {
            await WriteAsync(context, ApiResult.From(e));
            return;
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            await WriteAsync(context, ApiResult.From(StripeErrors.ParameterInvalid(null, "The request body could not be read.")));
            return;
        }

        var key = HttpMethods.IsPost(request.Method) ? request.Headers["Idempotency-Key"].ToString() : string.Empty;

        // The events this request's changes create name it (Stripe's event.request); a GET that completes a due change
        // (a Bacs setup, a settling debit) does not cause it, so those events are automatic (request.id null), as at Stripe.
        if (!HttpMethods.IsGet(request.Method))
        {
            Events.EventRequest.Current = new Events.EventRequest((string)context.Items[RequestIdItem]!, key.Length == 0 ? null : key);
        }

        if (key.Length == 0)
        {
            await WriteAsync(context, Execute(handler, parameters));
            return;
        }

        if (key.Length > MaxIdempotencyKeyLength)
        {
            await WriteAsync(context, ApiResult.From(StripeErrors.IdempotencyKeyTooLong()));
            return;
        }

        context.Response.Headers["Idempotency-Key"] = key;
        // Stripe scopes idempotency keys per account, not per API key. With one configured key the sandbox is one account,
        // whatever that key is (the embedded sandbox draws a new one at every start, and a retry after a restart must
        // still replay); accepting any sk_test_ key, each key is its own account.
        var scope = configuredKey is null ? (string)context.Items[ApiKeyItem]! : ConfiguredAccountScope;
        var recordId = secret.IdempotencyRecordId(scope, key);
        var requestHash = secret.RequestHash(request.Method, request.Path.Value ?? string.Empty, parameters.All);
        switch (store.BeginIdempotent(recordId, requestHash, out var completed))
        {
            case IdempotencyStart.InUse:
                await WriteAsync(context, ApiResult.From(StripeErrors.IdempotencyKeyInUse()));
                return;
            case IdempotencyStart.Mismatch:
                await WriteAsync(context, ApiResult.From(StripeErrors.IdempotencyMismatch()));
                return;
            case IdempotencyStart.Replay:
                context.Response.Headers["Idempotent-Replayed"] = "true";
                context.Response.Headers["Original-Request"] = completed!.RequestId;
                await WriteAsync(context, new ApiResult(completed.Status, completed.Body, Replayable: true));
                return;
        }

        IdempotencyRecord? keep = null;
        ApiResult result;
        try
        {
            if (options.Value.BeforeExecuteAsync is { } hook)
            {
                await hook(context.RequestAborted);
            }

            result = Execute(handler, parameters);
            if (result.Replayable)
            {
                keep = new IdempotencyRecord(
                    recordId,
                    requestHash,
                    result.Status,
                    result.Body,
                    (string)context.Items[RequestIdItem]!,
                    options.Value.TimeProvider.GetUtcNow().ToUnixTimeSeconds());
            }
        }
        finally
        {
            store.CompleteIdempotent(recordId, keep);
        }

        await WriteAsync(context, result);
    }

    /// <summary>
    /// Writes a JSON answer with its status, unless a <c>drop_after_success</c> or <c>hang_after_success</c> fault holds the
    /// request: then the work is already done (and any idempotency result kept) and the fault replaces the answer.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, ApiResult result)
    {
        if (context.Features.Get<FaultState>()?.InsteadOfAnswer is { } instead)
        {
            await instead(context);
            return;
        }

        if (context.Features.Get<FaultState>()?.Entry is { } recorded)
        {
            SandboxRequestLog.CaptureResponse(recorded, result.Body);
        }

        context.Response.StatusCode = result.Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(result.Body, context.RequestAborted);
    }

    private ApiResult Execute(Func<StripeParams, ApiResult> handler, StripeParams parameters)
    {
        try
        {
            return handler(parameters);
        }
        catch (StripeApiException e)
        {
            return ApiResult.From(e);
        }
#pragma warning disable CA1031 // A sandbox fault answers Stripe's api_error; its text (which may hold input) never reaches the caller or the log.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogHandlerFault(logger, e.GetType().FullName);
            return ApiResult.From(StripeErrors.Internal());
        }
    }

    private static string? ReadApiKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var key = header["Bearer ".Length..].Trim();
            return key.Length > 0 ? key : null;
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            Span<byte> decoded = stackalloc byte[512];
            if (Convert.TryFromBase64String(header["Basic ".Length..].Trim(), decoded, out var length))
            {
                var credentials = Encoding.UTF8.GetString(decoded[..length]);
                var user = credentials.Split(':', 2)[0];
                return user.Length > 0 ? user : null;
            }
        }

        return null;
    }

    private bool IsAccepted(string apiKey)
    {
        if (!apiKey.StartsWith(TestKeyPrefix, StringComparison.Ordinal) || apiKey.Length == TestKeyPrefix.Length)
        {
            return false;
        }

        return configuredKey is null || CryptographicOperations.FixedTimeEquals(configuredKey, Encoding.UTF8.GetBytes(apiKey));
    }

    [LoggerMessage(EventId = 9001, EventName = "ApiKeyRejected", Level = LogLevel.Information,
        Message = "Stripe sandbox rejected a request whose API key is not accepted")]
    private static partial void LogRejectedKey(ILogger logger);

    [LoggerMessage(EventId = 9002, EventName = "HandlerFault", Level = LogLevel.Error,
        Message = "Stripe sandbox handler failed with {ExceptionType}; answered api_error")]
    private static partial void LogHandlerFault(ILogger logger, string? exceptionType);
}
