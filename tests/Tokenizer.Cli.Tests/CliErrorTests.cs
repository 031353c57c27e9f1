using System.Net;
using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Cli.Tests;

/// <summary>What the CLI says when the server cannot be reached or answers with an error, as text and as JSON.</summary>
public sealed class CliErrorTests(CliFixture files) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task AnyCommand_NothingListening_OneLineNamingTheAddress()
    {
        // Act
        var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert
        Assert.Equal(1, code);
        var line = Assert.Single(error.TrimEnd('\r', '\n').Split('\n'));
        Assert.StartsWith($"error: cannot connect to {files.ClosedAddress}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_NothingListening_ErrorIsOneJsonObjectWithTheAddress()
    {
        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", "--json", "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert
        Assert.Equal(1, code);
        Assert.Empty(output);
        using var document = JsonDocument.Parse(error);
        var problem = document.RootElement.GetProperty("error");
        Assert.Equal("connection", problem.GetProperty("kind").GetString());
        Assert.Equal(files.ClosedAddress, problem.GetProperty("address").GetString());
        Assert.Equal(1, problem.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task KeyInFlight_ServerSendsRetryInfo_CliSaysWhenTheSameKeyCanBeRetried()
    {
        // Arrange: the real error interceptor in front of a service whose request is still in flight.
        await using var app = await StartInFlightServerAsync(duplicateWaitSeconds: 7);
        var address = app.Urls.First();
        const string Card = "{\"card\":{\"number\":\"4242424242424242\",\"exp_month\":12,\"exp_year\":2034,\"cvc\":\"123\"}}";

        // Act
        var text = await CliFixture.RunAsync(Card, null, "tokenize", "card", "--customer", "c-1", "--idempotency-key", "k-1", "--server", address);
        var json = await CliFixture.RunAsync(Card, null, "tokenize", "card", "--customer", "c-1", "--idempotency-key", "k-1", "--server", address, "--json");

        // Assert
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("IDEMPOTENCY_KEY_IN_FLIGHT", text.Error, StringComparison.Ordinal);
        Assert.Contains("retry with the same --idempotency-key after 7 s", text.Error, StringComparison.Ordinal);
        Assert.Contains("free again after Tokenizer:PendingLeaseSeconds", text.Error, StringComparison.Ordinal);
        Assert.Equal(1, json.ExitCode);
        using var document = JsonDocument.Parse(json.Error);
        var problem = document.RootElement.GetProperty("error");
        Assert.Equal("ABORTED", problem.GetProperty("status").GetString());
        Assert.Equal("IDEMPOTENCY_KEY_IN_FLIGHT", problem.GetProperty("reason").GetString());
        Assert.Equal(7, problem.GetProperty("retry_after_seconds").GetInt32());
        Assert.DoesNotContain("4242424242424242", text.Error + text.Output + json.Error + json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ErrorMapping_Aborted_CarriesRetryInfoWithTheDuplicateWait()
    {
        // Act
        var exception = ErrorMappingInterceptor.ToRpcException(
            new TokenizerException(ErrorKind.Aborted, ErrorReasons.IdempotencyKeyInFlight, "still in progress"), TimeSpan.FromSeconds(9));
        var other = ErrorMappingInterceptor.ToRpcException(
            new TokenizerException(ErrorKind.NotFound, ErrorReasons.IdempotencyKeyInFlight, "x"), TimeSpan.FromSeconds(9));

        // Assert
        var retry = exception.GetRpcStatus()!.GetDetail<Google.Rpc.RetryInfo>();
        Assert.Equal(9, retry!.RetryDelay.Seconds);
        Assert.Null(other.GetRpcStatus()!.GetDetail<Google.Rpc.RetryInfo>());
    }

    private static async Task<WebApplication> StartInFlightServerAsync(int duplicateWaitSeconds)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.Configure<TokenizerOptions>(o => o.DuplicateWaitSeconds = duplicateWaitSeconds);
        builder.Services.AddGrpc(o => o.Interceptors.Add<ErrorMappingInterceptor>());
        var app = builder.Build();
        app.MapGrpcService<InFlightService>();
        await app.StartAsync();
        return app;
    }

    private sealed class InFlightService : TokenizerService.TokenizerServiceBase
    {
        public override Task<TokenizeCardResponse> TokenizeCard(TokenizeCardRequest request, ServerCallContext context) =>
            throw new TokenizerException(ErrorKind.Aborted, ErrorReasons.IdempotencyKeyInFlight, "idempotency_key: a request with this key is still in progress; retry");
    }
}
