using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tokenizer.Server.DataProtection;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>
/// A generic host with only the secrets layer and Data Protection (as <c>AddTokenizer</c> wires them, with its option
/// validators), over a temporary data directory. Starting it runs option validation and the secrets' hosted service.
/// </summary>
internal sealed class SecretsHarness : IAsyncDisposable
{
    private readonly bool ownsDirectory;
    private IHost? host;
    private bool started;

    public SecretsHarness(string environment = "Development", string? dataDirectory = null)
    {
        Environment = environment;
        ownsDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("tokenizer-secrets-").FullName;
    }

    public string Environment { get; }

    public string DataDirectory { get; }

    public Dictionary<string, string?> Settings { get; } = new(StringComparer.Ordinal)
    {
        // Outside Development the TLS settings are required; these tests do not listen, so the paths are never read.
        ["Tokenizer:Tls:CertificatePath"] = "/nonexistent/server.crt",
        ["Tokenizer:Tls:KeyPath"] = "/nonexistent/server.key",
        ["Tokenizer:Tls:ClientCaPath"] = "/nonexistent/ca.crt",
    };

    public LogCapture Logs { get; } = new();

    public FakeVault? Vault { get; set; }

    public TimeProvider? Time { get; set; }

    public IServiceProvider Services => host?.Services ?? throw new InvalidOperationException("not built");

    public string SecretsDirectory => Path.Combine(DataDirectory, "secrets");

    public string KeysDirectory => Path.Combine(DataDirectory, TokenizerDataProtection.KeysDirectory);

    /// <summary>Uses <see cref="Vault"/> (created with the default secrets when null) through <c>KeyVault:Uri</c>.</summary>
    public SecretsHarness WithVault(FakeVault? vault = null)
    {
        Vault = vault ?? Vault ?? FakeVault.WithDefaults();
        Settings["KeyVault:Uri"] = FakeVault.Uri;
        return this;
    }

    public IHost Build()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            EnvironmentName = Environment,
            DisableDefaults = true,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.Configuration.AddInMemoryCollection([new("Tokenizer:DataDirectory", DataDirectory)]);
        builder.Logging.ClearProviders().AddProvider(Logs).SetMinimumLevel(LogLevel.Trace);

        var services = builder.Services;
        services.AddOptions<TokenizerOptions>().BindConfiguration(TokenizerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenizerOptions>, TokenizerOptionsValidator>();
        services.AddOptions<StripeSettings>().BindConfiguration(StripeSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StripeSettings>, StripeSettingsValidator>();
        services.AddSingleton<DataDirectory>();
        services.AddTokenizerSecrets(builder.Configuration, builder.Environment);
        // The host starts it as the first step of its StartupSequence; here it is the only one.
        services.AddHostedService(sp => sp.GetRequiredService<SecretsRefreshService>());
        services.AddTokenizerDataProtection();
        if (Vault is not null)
        {
            services.AddSingleton(Vault.Client);
        }

        if (Time is not null)
        {
            services.AddSingleton(Time);
        }

        host = builder.Build();
        return host;
    }

    public async Task<IHost> StartAsync()
    {
        var built = Build();
        await built.StartAsync();
        started = true;
        return built;
    }

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            if (started)
            {
                await host.StopAsync();
            }

            host.Dispose();
        }

        if (ownsDirectory)
        {
            TryDelete(DataDirectory);
        }
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Leftovers in the temp folder are harmless.
        }
    }
}
