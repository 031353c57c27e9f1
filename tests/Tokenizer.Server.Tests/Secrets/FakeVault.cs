using System.Collections.Concurrent;
using Azure;
using Azure.Security.KeyVault.Secrets;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace Tokenizer.Server.Tests.Secrets;

/// <summary>
/// A Key Vault behind a substituted <see cref="SecretClient"/>: versioned secrets, newest last, built with
/// <see cref="SecretModelFactory"/>; <see cref="FailWith"/> makes every call throw (an unreachable vault).
/// </summary>
internal sealed class FakeVault
{
    public const string Uri = "https://tokenizer-test.vault.azure.net/";

    private readonly ConcurrentDictionary<string, List<KeyVaultSecret>> secrets = new(StringComparer.Ordinal);
    private Exception? failure;
    private Exception? listFailure;
    private int versionCounter;

    public FakeVault()
    {
        Client = Substitute.For<SecretClient>();
        Client.GetSecret(Arg.Any<string>(), Arg.Any<string?>(), Arg.Any<CancellationToken>())
            .Returns(call => Response.FromValue(Find(call.ArgAt<string>(0), call.ArgAt<string?>(1)), Substitute.For<Response>()));
        Client.GetSecretAsync(Arg.Any<string>(), Arg.Any<string?>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.FromResult(Response.FromValue(Find(call.ArgAt<string>(0), call.ArgAt<string?>(1)), Substitute.For<Response>())));
        Client.GetPropertiesOfSecretVersions(Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns(call => Versions(call.ArgAt<string>(0)));
        Client.SetSecretAsync(Arg.Any<KeyVaultSecret>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var secret = call.ArgAt<KeyVaultSecret>(0);
                Set(secret.Name, secret.Value);
                return Task.FromResult(Response.FromValue(Find(secret.Name, null), Substitute.For<Response>()));
            });
    }

    public SecretClient Client { get; }

    /// <summary>How many reads of a secret value the client has served or refused.</summary>
    public int Reads => Client.ReceivedCalls().Count(c => c.GetMethodInfo().Name.StartsWith("GetSecret", StringComparison.Ordinal));

    /// <summary>The four default secrets, valid.</summary>
    public static FakeVault WithDefaults(string stripeKey = "sk_test_vault_one")
    {
        var vault = new FakeVault();
        vault.Set("stripe-api-key", stripeKey);
        vault.Set("request-hmac-secret", Convert.ToBase64String(TestSecrets.RequestHmac));
        vault.Set("audit-hmac-secret", Convert.ToBase64String(TestSecrets.AuditHmac));
        vault.Set("dataprotection-certificate", TestCertificates.Pkcs12Base64(TestCertificates.Rsa3072), "application/x-pkcs12");
        return vault;
    }

    /// <summary>Adds a new current version of a secret; returns its version id.</summary>
    public string Set(string name, string value, string? contentType = null, bool enabled = true)
    {
        var version = $"v{Interlocked.Increment(ref versionCounter):D4}";
        var properties = SecretModelFactory.SecretProperties(
            id: new System.Uri($"{Uri}secrets/{name}/{version}"),
            vaultUri: new System.Uri(Uri),
            name: name,
            version: version,
            createdOn: DateTimeOffset.UnixEpoch.AddMinutes(versionCounter));
        properties.ContentType = contentType;
        properties.Enabled = enabled;
        var list = secrets.GetOrAdd(name, _ => []);
        lock (list)
        {
            list.Add(SecretModelFactory.KeyVaultSecret(properties, value));
        }

        return version;
    }

    public void Remove(string name) => secrets.TryRemove(name, out _);

    public void FailWith(Exception? exception) => failure = exception;

    public void FailListingWith(Exception? exception) => listFailure = exception;

    private KeyVaultSecret Find(string name, string? version)
    {
        if (failure is not null)
        {
            throw failure;
        }

        if (!secrets.TryGetValue(name, out var list))
        {
            throw NotFound(name);
        }

        lock (list)
        {
            var secret = version is null ? list[^1] : list.SingleOrDefault(s => s.Properties.Version == version) ?? throw NotFound(name);
            return secret.Properties.Enabled == false ? throw new RequestFailedException(403, "Operation get is not allowed on a disabled secret.", "Forbidden", null) : secret;
        }
    }

    private Pageable<SecretProperties> Versions(string name)
    {
        if ((listFailure ?? failure) is { } e)
        {
            throw e;
        }

        List<SecretProperties> properties;
        if (!secrets.TryGetValue(name, out var list))
        {
            properties = [];
        }
        else
        {
            lock (list)
            {
                properties = list.Select(s => s.Properties).ToList();
            }
        }

        return Pageable<SecretProperties>.FromPages([Page<SecretProperties>.FromValues(properties, null, Substitute.For<Response>())]);
    }

    private static RequestFailedException NotFound(string name) =>
        new(404, $"A secret with (name/id) {name} was not found in this key vault.", "SecretNotFound", null);
}

/// <summary>Distinctive secret values that tests look for in messages and logs.</summary>
internal static class TestSecrets
{
    public static readonly byte[] RequestHmac = Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i)).ToArray();

    public static readonly byte[] AuditHmac = Enumerable.Range(0, 48).Select(i => (byte)(0x10 + i)).ToArray();

    /// <summary>Every value a leak check looks for: keys, base64 secrets, and a run of the certificate's base64.</summary>
    public static IEnumerable<string> Values(params string[] stripeKeys) =>
    [
        .. stripeKeys,
        Convert.ToBase64String(RequestHmac),
        Convert.ToBase64String(AuditHmac),
        TestCertificates.Pkcs12Base64(TestCertificates.Rsa3072)[100..140],
    ];
}
