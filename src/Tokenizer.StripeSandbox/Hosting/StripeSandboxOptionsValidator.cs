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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
