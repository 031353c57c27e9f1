using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Security;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Server.Tests.Hosting;

/// <summary>
/// The embedded sandbox's control endpoints for <c>tokenizer sandbox ...</c>: on, behind a token in an owner-only file,
/// in Development only; another environment (Production refuses the sandbox altogether) gets neither token nor endpoints.
/// </summary>
public sealed class EmbeddedSandboxControlTests
{
    [Theory]
    [InlineData("Development", true)]
    [InlineData("Staging", false)]
    public async Task Start_Environment_ControlTokenAndEndpointsOnlyInDevelopment(string environment, bool expected)
    {
        await using var harness = new SecretsHarness(environment);
        await harness.StartAsync();
        var sandbox = new EmbeddedSandbox(
            Options.Create(new StripeSettings()),
            harness.Get<ITokenizerSecrets>(),
            harness.Get<Gateways.Stripe.IStripeApiKeyProvider>(),
            harness.Get<DataDirectory>(),
            harness.Get<IHostEnvironment>(),
            new TlsMaterial(harness.Get<IOptions<TokenizerOptions>>(), harness.Get<DataDirectory>(), harness.Get<IHostEnvironment>(), TimeProvider.System, NullLogger<TlsMaterial>.Instance));
        await using (sandbox)
        {
            await sandbox.StartAsync(CancellationToken.None);
            var tokenFile = Path.Combine(harness.SecretsDirectory, SandboxControlFiles.TokenFile);
            var addressFile = Path.Combine(harness.SecretsDirectory, SandboxControlFiles.AddressFile);
            var token = File.Exists(tokenFile) ? (await File.ReadAllTextAsync(tokenFile)).Trim() : "no-token-no-token-no-token-no-token-0";
            using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Get, "_sandbox/faults");
            request.Headers.Add("Sandbox-Control-Token", token);
            using var answer = await http.SendAsync(request);

            Assert.NotNull(sandbox.Server);
            Assert.Equal(expected, File.Exists(tokenFile));
            Assert.Equal(expected, File.Exists(addressFile));
            Assert.Equal(expected ? HttpStatusCode.OK : HttpStatusCode.NotFound, answer.StatusCode);
            if (expected)
            {
                // What the README's shell line sends: "$(cat secrets/sandbox-control.url)/_sandbox/faults". With a
                // trailing slash in the file that was //_sandbox/faults, which the sandbox answers 404.
                var address = (await File.ReadAllTextAsync(addressFile)).Trim();
                using var composed = new HttpRequestMessage(HttpMethod.Get, new Uri(address + "/_sandbox/faults"));
                composed.Headers.Add("Sandbox-Control-Token", token);
                using var composedAnswer = await http.SendAsync(composed);

                Assert.Equal(sandbox.BaseAddress.ToString().TrimEnd('/'), address);
                Assert.Equal(HttpStatusCode.OK, composedAnswer.StatusCode);
            }

            if (expected && !OperatingSystem.IsWindows())
            {
                Assert.Equal(43, token.Length);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            }
        }

        // Stopped: the CLI is not sent to a sandbox that is gone.
        Assert.False(File.Exists(Path.Combine(harness.SecretsDirectory, SandboxControlFiles.AddressFile)));
    }

    [Fact]
    public async Task Start_TwiceOnOneDataDirectory_SameToken()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-sandbox-control-").FullName;
        try
        {
            var tokens = new List<string>();
            for (var i = 0; i < 2; i++)
            {
                await using var harness = new SecretsHarness("Development", directory);
                await harness.StartAsync();
                await using var sandbox = new EmbeddedSandbox(
                    Options.Create(new StripeSettings()),
                    harness.Get<ITokenizerSecrets>(),
                    harness.Get<Gateways.Stripe.IStripeApiKeyProvider>(),
                    harness.Get<DataDirectory>(),
                    harness.Get<IHostEnvironment>(),
                    new TlsMaterial(harness.Get<IOptions<TokenizerOptions>>(), harness.Get<DataDirectory>(), harness.Get<IHostEnvironment>(), TimeProvider.System, NullLogger<TlsMaterial>.Instance));
                await sandbox.StartAsync(CancellationToken.None);
                tokens.Add(await File.ReadAllTextAsync(Path.Combine(harness.SecretsDirectory, SandboxControlFiles.TokenFile)));
            }

            Assert.Equal(tokens[0], tokens[1]);
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }
}
