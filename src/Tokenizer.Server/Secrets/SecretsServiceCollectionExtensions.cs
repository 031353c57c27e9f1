using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Secrets;

/// <summary>Registers the secrets layer.</summary>
public static class SecretsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITokenizerSecrets"/>, the gateway's <see cref="IStripeApiKeyProvider"/> (the current Stripe
    /// key, or the embedded sandbox's random per-start key without one), <see cref="KeyVaultOptions"/> (section <c>KeyVault</c>,
    /// validated at start) and <c>SecretsRefreshService</c>, which loads the secrets at start-up and refreshes the Stripe
    /// key from Key Vault: the first step of <c>StartupSequence</c>, so the secrets load (or fail) before anything else.
    /// </summary>
    /// <remarks>
    /// Sources: with <c>KeyVault:Uri</c>, a <see cref="SecretClient"/> over <c>DefaultAzureCredential</c> (in Production
    /// without developer sign-ins: environment, workload and managed identity only); a <see cref="SecretClient"/>
    /// registered before this call is used instead (tests). Without it: configuration, and random local files under
    /// <c>{DataDirectory}/secrets/</c> in Development or embedded-sandbox mode outside Production. Needs the
    /// <c>TokenizerOptions</c>, <c>StripeSettings</c> and <see cref="DataDirectory"/> registrations of <c>AddTokenizer</c>.
    /// </remarks>
    public static IServiceCollection AddTokenizerSecrets(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);

        services.AddOptions<KeyVaultOptions>().Bind(configuration.GetSection(KeyVaultOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyVaultOptions>, KeyVaultOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => CreateSecretClient(sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value, environment));

        services.TryAddSingleton(sp =>
        {
            var keyVault = sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value;
            var logger = sp.GetRequiredService<ILogger<TokenizerSecrets>>();
            return keyVault.IsConfigured
                ? new TokenizerSecrets(
                    new KeyVaultSecretSource(sp.GetRequiredService<SecretClient>(), keyVault, logger),
                    logger,
                    $"Key Vault secret {keyVault.StripeApiKeySecretName}")
                : new TokenizerSecrets(CreateConfigurationSource(sp, environment, logger), logger);
        });
        services.TryAddSingleton<ITokenizerSecrets>(sp => sp.GetRequiredService<TokenizerSecrets>());
        services.TryAddSingleton<IStripeApiKeyProvider>(sp => sp.GetRequiredService<TokenizerSecrets>());
        // Started first by the host's StartupSequence; a host composed without it adds it as a hosted service.
        services.AddSingleton<SecretsRefreshService>();
        return services;
    }

    private static ConfigurationSecretSource CreateConfigurationSource(IServiceProvider services, IHostEnvironment environment, ILogger logger)
    {
        var stripe = services.GetRequiredService<IOptions<StripeSettings>>().Value;
        var embedded = string.IsNullOrWhiteSpace(stripe.ApiKey);
        var isProduction = environment.IsProduction();
        return new ConfigurationSecretSource(
            services.GetRequiredService<IOptions<TokenizerOptions>>().Value,
            stripe,
            services.GetRequiredService<DataDirectory>(),
            allowLocalGeneration: environment.IsDevelopment() || (embedded && !isProduction),
            isProduction,
            services.GetRequiredService<TimeProvider>(),
            logger);
    }

    private static SecretClient CreateSecretClient(KeyVaultOptions options, IHostEnvironment environment)
    {
        // Production takes its identity from the platform only, never from a developer's sign-in on the machine.
        var production = environment.IsProduction();
        TokenCredential credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ExcludeAzureCliCredential = production,
            ExcludeAzureDeveloperCliCredential = production,
            ExcludeAzurePowerShellCredential = production,
            ExcludeVisualStudioCredential = production,
            ExcludeVisualStudioCodeCredential = production,
            ExcludeInteractiveBrowserCredential = true,
        });
        // Bounded so an unreachable vault stops start-up in about two minutes rather than the SDK's default of several.
        var clientOptions = new SecretClientOptions();
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(20);
        return new SecretClient(new Uri(options.Uri!), credential, clientOptions);
    }
}
