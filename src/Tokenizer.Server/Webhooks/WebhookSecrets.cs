using System.Security.Cryptography;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// The Stripe endpoint signing secrets (<c>whsec_...</c>), loaded once when the listener starts: from Key Vault when
/// <c>KeyVault:Uri</c> is set (the secrets named by <c>KeyVault:StripeWebhookSecretNames</c>, default
/// <c>stripe-webhook-secret</c>), else from <c>Tokenizer:Webhooks:Secrets</c> (a file or the environment; the command
/// line is refused, since every local user can read a process's arguments), else, in Development or embedded-sandbox
/// mode outside Production, from <c>{DataDirectory}/secrets/stripe-webhook.secret</c>, generated on first use (0600).
/// </summary>
internal sealed class WebhookSecrets(
    IOptions<WebhookOptions> options,
    IConfiguration configuration,
    IServiceProvider services,
    DataDirectory dataDirectory,
    IHostEnvironment environment,
    ITokenizerSecrets tokenizerSecrets)
{
    /// <summary>The local file the development secret lives in.</summary>
    public const string LocalFile = "stripe-webhook.secret";

    private const string Prefix = "whsec_";
    private readonly Lazy<IReadOnlyList<string>> secrets = new(() => Load(options.Value, configuration, services, dataDirectory, environment, tokenizerSecrets));

    /// <summary>
    /// Every accepted secret, the current one first. Secret: never logged.
    /// </summary>
    /// <exception cref="InvalidOperationException">None is configured where one is required, one is malformed, or it was given on the command line (the message names the setting).</exception>
    public IReadOnlyList<string> Current => secrets.Value;

    /// <summary>True for <c>whsec_</c> followed by 16 to 200 ASCII letters and digits.</summary>
    public static bool IsSigningSecret(string? value) =>
        value is not null && value.StartsWith(Prefix, StringComparison.Ordinal)
        && value.Length is >= 22 and <= 206 && value.AsSpan(Prefix.Length).ContainsAnyExcept(Alphanumerics) is false;

    private static readonly System.Buffers.SearchValues<char> Alphanumerics =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    private static List<string> Load(
        WebhookOptions options,
        IConfiguration configuration,
        IServiceProvider services,
        DataDirectory dataDirectory,
        IHostEnvironment environment,
        ITokenizerSecrets tokenizerSecrets)
    {
        if (configuration is IConfigurationRoot root
            && root.Providers.OfType<CommandLineConfigurationProvider>().Any(p => p.GetChildKeys([], "Tokenizer:Webhooks:Secrets").Any()))
        {
            throw new InvalidOperationException("Tokenizer:Webhooks:Secrets must not be given on the command line (any local user can read it there); use a configuration file, the environment or Key Vault.");
        }

        var keyVault = services.GetRequiredService<IOptions<KeyVaultOptions>>().Value;
        if (keyVault.IsConfigured)
        {
            if (options.Secrets.Count > 0)
            {
                throw new InvalidOperationException("Tokenizer:Webhooks:Secrets must be empty when KeyVault:Uri is set: Key Vault is then the only source of secrets.");
            }

            var names = configuration.GetSection("KeyVault:StripeWebhookSecretNames").Get<List<string>>() is { Count: > 0 } configured ? configured : ["stripe-webhook-secret"];
            var client = services.GetRequiredService<SecretClient>();
            var fromVault = new List<string>();
            for (var i = 0; i < names.Count; i++)
            {
                string? value;
                try
                {
                    value = client.GetSecret(names[i], version: null, CancellationToken.None).Value.Value?.Trim();
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"Key Vault secret '{names[i]}' (KeyVault:StripeWebhookSecretNames:{i}) could not be read: {SecretRules.Describe(e)}.", e);
                }

                fromVault.Add(IsSigningSecret(value)
                    ? value!
                    : throw new InvalidOperationException($"Key Vault secret '{names[i]}' (KeyVault:StripeWebhookSecretNames:{i}) must hold a Stripe endpoint signing secret (whsec_...)."));
            }

            return fromVault;
        }

        if (options.Secrets.Count > 0)
        {
            return [.. options.Secrets.Select(s => s.Trim())];
        }

        var allowLocal = environment.IsDevelopment() || (tokenizerSecrets.UsesEmbeddedSandbox && !environment.IsProduction());
        if (!allowLocal)
        {
            throw new InvalidOperationException("Tokenizer:Webhooks:Secrets (or KeyVault:Uri) is required for the webhook listener outside Development and embedded-sandbox mode: the endpoint's signing secret from the Stripe Dashboard (whsec_...).");
        }

        return [LoadOrCreateLocal(Path.Combine(dataDirectory.Root, "secrets", LocalFile))];
    }

    /// <summary>Reads the local development secret, creating it (owner read/write only, written then moved) on first use.</summary>
    internal static string LoadOrCreateLocal(string path)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            return IsSigningSecret(existing) ? existing : throw new InvalidOperationException($"secret file {LocalFile} is not a whsec_ secret");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var secret = Prefix + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        var temp = path + ".tmp";
        var streamOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, streamOptions))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(secret));
            stream.Flush(flushToDisk: true);
        }

        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return File.ReadAllText(path).Trim();
        }

        return secret;
    }
}
