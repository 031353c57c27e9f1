using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Api;

namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>Start-up checks of <see cref="StripeSandboxOptions"/>; messages name the setting, never its value.</summary>
internal sealed class StripeSandboxOptionsValidator : IValidateOptions<StripeSandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, StripeSandboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ApiKey is { } key && (!key.StartsWith(RequestPipeline.TestKeyPrefix, StringComparison.Ordinal) || key.Length == RequestPipeline.TestKeyPrefix.Length))
        {
            failures.Add("StripeSandbox ApiKey must be a test secret key (sk_test_...).");
        }

        if (LoopbackUrls.Parse(options.Urls).Error is { } urlError)
        {
            failures.Add(urlError);
        }

        if (options.DataDirectory is { Length: 0 })
        {
            failures.Add("StripeSandbox DataDirectory must be a path or unset.");
        }

        if (options.ControlToken is { } token && (token.Length is < 32 or > 256 || token.Any(c => c is <= ' ' or > '~')))
        {
            failures.Add("StripeSandbox ControlToken must be 32 to 256 printable ASCII characters without spaces, or unset.");
        }

        if (options.RecordedRequestLimit is < 0 or > 1_000_000)
        {
            failures.Add("StripeSandbox RecordedRequestLimit must be between 0 and 1000000.");
        }

        if (options.BacsMandateActivationDelay < TimeSpan.Zero || options.BacsMandateActivationDelay > TimeSpan.FromDays(30))
        {
            failures.Add("StripeSandbox BacsMandateActivationDelay must be between 0 and 30 days.");
        }

        if (options.DebitProcessingDelay < TimeSpan.Zero || options.DebitProcessingDelay > TimeSpan.FromDays(30))
        {
            failures.Add("StripeSandbox DebitProcessingDelay must be between 0 and 30 days.");
        }

        for (var i = 0; i < options.WebhookEndpoints.Count; i++)
        {
            var endpoint = options.WebhookEndpoints[i];
            if (!Webhooks.WebhookRules.IsUrlAllowed(endpoint.Url))
            {
                failures.Add($"StripeSandbox WebhookEndpoints:{i}:Url must be an absolute http(s) URL on a loopback host (127.0.0.1, [::1] or localhost).");
            }

            if (!Webhooks.WebhookRules.IsSecretAllowed(endpoint.Secret))
            {
                failures.Add($"StripeSandbox WebhookEndpoints:{i}:Secret must be whsec_ followed by 16 to 250 printable ASCII characters without spaces.");
            }

            if (!Webhooks.WebhookRules.AreEventsAllowed([.. endpoint.EnabledEvents]))
            {
                failures.Add($"StripeSandbox WebhookEndpoints:{i}:EnabledEvents must be * or event type names such as setup_intent.succeeded (1 to 100).");
            }
        }

        if (options.WebhookTrustedCaPath is { } caPath && !TrustedCaReadable(caPath))
        {
            failures.Add("StripeSandbox WebhookTrustedCaPath must name a readable PEM file holding at least one certificate.");
        }

        if (options.WebhookMaxAttempts is < 1 or > 10)
        {
            failures.Add("StripeSandbox WebhookMaxAttempts must be between 1 and 10.");
        }

        if (options.WebhookRetryBaseDelay < TimeSpan.FromMilliseconds(1) || options.WebhookRetryBaseDelay > TimeSpan.FromDays(1))
        {
            failures.Add("StripeSandbox WebhookRetryBaseDelay must be between 1 millisecond and 1 day.");
        }

        if (options.WebhookTimeout < TimeSpan.FromMilliseconds(100) || options.WebhookTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("StripeSandbox WebhookTimeout must be between 100 milliseconds and 5 minutes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // The loader's own messages are not used: they can quote the file.
    private static bool TrustedCaReadable(string path)
    {
        try
        {
            var certificates = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            var found = certificates.Count > 0;
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            return found;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
