using System.Text;
using Tokenizer.Ledger.Webhooks;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.Server.Tests.Webhooks;

/// <summary>Start-up refuses webhook settings that would weaken the listener; messages name the setting, never its value.</summary>
public sealed class WebhookOptionsTests
{
    private const string Secret = "whsec_0123456789abcdefABCDEF0123456789";

    public static TheoryData<string?, string?> UrlCases => new()
    {
        { null, null },
        { "https://0.0.0.0:8443", null },
        { "https://127.0.0.1:0;https://[::1]:8443", null },
        { "http://127.0.0.1:8443", "Tokenizer:Webhooks:Urls:" },         // Stripe delivers over HTTPS only
        { "https://127.0.0.1:8443/stripe", "Tokenizer:Webhooks:Urls:" }, // the path is fixed
        { "https://user@127.0.0.1:8443", "Tokenizer:Webhooks:Urls:" },
        { "not a url", "Tokenizer:Webhooks:Urls:" },
    };

    [Theory]
    [MemberData(nameof(UrlCases))]
    public void Validate_Urls(string? urls, string? expected)
    {
        var result = new WebhookOptionsValidator().Validate(null, new WebhookOptions { Urls = urls });

        AssertResult(result, expected);
    }

    [Theory]
    [InlineData(Secret, null)]
    [InlineData("sk_test_0123456789abcdef0123456789", "Tokenizer:Webhooks:Secrets:0 must be")]
    [InlineData("whsec_short", "Tokenizer:Webhooks:Secrets:0 must be")]
    [InlineData("whsec_0123456789abcdef 0123456789", "Tokenizer:Webhooks:Secrets:0 must be")]
    public void Validate_Secrets_NamedNeverQuoted(string secret, string? expected)
    {
        var result = new WebhookOptionsValidator().Validate(null, new WebhookOptions { Secrets = [secret] });

        AssertResult(result, expected);
        if (result.Failed)
        {
            Assert.DoesNotContain(secret, result.FailureMessage, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(3600, 5, null)]
    [InlineData(4, 5, "Tokenizer:Webhooks:MaxRetryDelaySeconds")]
    [InlineData(86401, 5, "Tokenizer:Webhooks:MaxRetryDelaySeconds")]
    [InlineData(3600, 0, "Tokenizer:Webhooks:AlertAfterAttempts")]
    public void Validate_RetrySettings(int maxRetryDelay, int alertAfter, string? expected)
    {
        var options = new WebhookOptions { MaxRetryDelaySeconds = maxRetryDelay, AlertAfterAttempts = alertAfter };

        AssertResult(new WebhookOptionsValidator().Validate(null, options), expected);
    }

    [Theory]
    [InlineData(1, 60)]
    [InlineData(2, 120)]
    [InlineData(6, 1920)]
    [InlineData(7, 3600)]
    [InlineData(1_000_000, 3600)]
    public void RetryDelay_DoublesFromTheLeaseUpToTheMaximum(int attempts, int expectedSeconds)
    {
        var delay = WebhookWorker.RetryDelay(attempts, TimeSpan.FromSeconds(60), TimeSpan.FromHours(1));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Theory]
    [InlineData(0, 300, 60, 1000, null)]
    [InlineData(4, 300, 60, 1000, "Tokenizer:Webhooks:CatchUpIntervalSeconds")]
    [InlineData(300, -1, 60, 1000, "Tokenizer:Webhooks:CatchUpOverlapSeconds")]
    [InlineData(300, 300, 4, 1000, "Tokenizer:Webhooks:LeaseSeconds")]
    [InlineData(300, 300, 60, 10, "Tokenizer:Webhooks:PollMilliseconds")]
    public void Validate_WorkerSettings(int catchUp, int overlap, int lease, int poll, string? expected)
    {
        var options = new WebhookOptions { CatchUpIntervalSeconds = catchUp, CatchUpOverlapSeconds = overlap, LeaseSeconds = lease, PollMilliseconds = poll };

        AssertResult(new WebhookOptionsValidator().Validate(null, options), expected);
    }

    [Fact]
    public void LoadOrCreateLocal_FirstUse_CreatesAWhsecSecretOwnerOnlyThenReadsTheSame()
    {
        var directory = Directory.CreateTempSubdirectory("whk-secret-").FullName;
        try
        {
            var path = Path.Combine(directory, "secrets", WebhookSecrets.LocalFile);

            var first = WebhookSecrets.LoadOrCreateLocal(path);
            var again = WebhookSecrets.LoadOrCreateLocal(path);

            Assert.True(WebhookSecrets.IsSigningSecret(first));
            Assert.Equal(first, again);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"mandate.updated\",\"created\":1700000000,\"data\":{\"object\":{\"id\":\"mandate_1\"}}}", true)]
    [InlineData("{\"id\":\"evt_1\",\"type\":\"mandate.updated\",\"created\":1700000000}", true)]
    [InlineData("{\"id\":\"1\",\"type\":\"mandate.updated\",\"created\":1700000000}", false)]             // not an event id
    [InlineData("{\"id\":\"evt_1\",\"type\":\"Mandate Updated\",\"created\":1700000000}", false)]         // not a type
    [InlineData("{\"id\":\"evt_1\",\"type\":\"mandate.updated\",\"created\":\"1700000000\"}", false)]     // created not a number
    [InlineData("{\"id\":\"evt_1\",\"type\":\"mandate.updated\",\"created\":1,\"data\":{\"object\":{\"id\":\"x'; drop\"}}}", false)]
    [InlineData("[1,2,3]", false)]
    [InlineData("{\"id\":\"evt_1\",", false)]
    public void Parse_OnlyAWellFormedEvent(string json, bool parsed)
    {
        var result = WebhookReceiver.Parse(json);

        Assert.Equal(parsed, result is not null);
    }

    [Fact]
    public void Parse_NestedTooDeep_RefusedNotThrown()
    {
        var deep = new StringBuilder("{\"id\":\"evt_1\",\"type\":\"a.b\",\"created\":1,\"x\":");
        deep.Append(new string('[', 100)).Append(new string(']', 100)).Append('}');

        Assert.Null(WebhookReceiver.Parse(deep.ToString()));
    }

    [Fact]
    public void Parse_Event_KeepsOnlyIdTypeCreatedAndObjectId()
    {
        var parsed = WebhookReceiver.Parse("{\"id\":\"evt_9\",\"type\":\"payment_method.updated\",\"created\":1700000000,\"data\":{\"object\":{\"id\":\"pm_9\",\"billing_details\":{\"email\":\"a@example.com\"}}}}");

        Assert.Equal(new WebhookEvent("evt_9", "payment_method.updated", DateTimeOffset.FromUnixTimeSeconds(1700000000), "pm_9"), parsed);
    }

    private static void AssertResult(Microsoft.Extensions.Options.ValidateOptionsResult result, string? expected)
    {
        if (expected is null)
        {
            Assert.True(result.Succeeded, result.FailureMessage);
        }
        else
        {
            Assert.True(result.Failed);
            Assert.Contains(result.Failures!, f => f.StartsWith(expected, StringComparison.Ordinal));
        }
    }
}
