using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Stripe;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Logging;

namespace Tokenizer.Server.Hosting;

/// <summary>Wires the tokenisation path into the host.</summary>
public static class TokenizerServiceCollectionExtensions
{
    /// <summary>The key the embedded sandbox and its client share; a test-mode key of no value outside this process.</summary>
    internal const string EmbeddedSandboxApiKey = "sk_test_tokenizer_embedded_sandbox";

    /// <summary>Adds options, logging, gRPC, the gateway, the ledger and the tokenisation service.</summary>
    public static WebApplicationBuilder AddTokenizer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        // Kestrel: no Server header; request bodies are never logged (no HttpLogging is added).
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // gRPC is HTTP/2; over plaintext loopback that means prior knowledge, which Kestrel serves only when HTTP/2 is the sole protocol.
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2);
        });
        builder.Logging.AddTokenizerLogging();

        services.AddOptions<TokenizerOptions>().BindConfiguration(TokenizerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenizerOptions>, TokenizerOptionsValidator>();
        services.AddOptions<StripeSettings>().BindConfiguration(StripeSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StripeSettings>, StripeSettingsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.EnableDetailedErrors = false;
        });
        services.AddGrpcReflection();

        services.AddSingleton<DataDirectory>();
        services.AddSingleton<EmbeddedSandbox>();
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedSandbox>());
        services.AddSingleton<IStripeClient>(CreateStripeClient);
        services.AddSingleton<ITokenGateway, StripeTokenGateway>();

        services.AddSingleton(sp => new SqliteTokenLedger(
            new SqliteLedgerOptions { DatabasePath = sp.GetRequiredService<DataDirectory>().PathOf("ledger", "tokenizer.db") },
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SqliteTokenLedger>>()));
        services.AddSingleton<ITokenLedger>(sp => sp.GetRequiredService<SqliteTokenLedger>());
        services.AddHostedService<LedgerInitializer>();

        services.AddSingleton(sp => new RequestHasher(sp.GetRequiredService<DataDirectory>().RequestHmacSecret()));
        services.AddSingleton(sp => new TokenizationSettings
        {
            DuplicateWait = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.DuplicateWaitSeconds),
        });
        services.AddSingleton<RequestValidator>();
        services.AddSingleton<TokenizationService>();
        return builder;
    }

    private static IStripeClient CreateStripeClient(IServiceProvider services)
    {
        var settings = services.GetRequiredService<IOptions<StripeSettings>>().Value;
        var embedded = services.GetRequiredService<EmbeddedSandbox>();
        var options = new StripeGatewayOptions
        {
            ApiKey = settings.UsesEmbeddedSandbox ? EmbeddedSandboxApiKey : settings.ApiKey,
            ApiBase = settings.UsesEmbeddedSandbox ? embedded.BaseAddress.ToString().TrimEnd('/') : settings.ApiBase,
            RequestTimeout = TimeSpan.FromSeconds(settings.RequestTimeoutSeconds),
            MaxNetworkRetries = settings.MaxNetworkRetries,
        };
        return StripeClientFactory.Create(options);
    }
}
