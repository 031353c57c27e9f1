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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
