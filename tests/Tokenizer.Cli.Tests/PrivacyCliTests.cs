using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.StripeSandbox;

namespace Tokenizer.Cli.Tests;

/// <summary><c>tokenizer privacy export|correct|erase|status</c> through the real CLI against the real server.</summary>
public sealed class PrivacyCliTests
{
    [Fact]
    public async Task PrivacyCommands_ExportCorrectEraseStatus_WorkForAdminAndAreRefusedToOthers()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-privacy-cli-").FullName;
        try
        {
            await using var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"],
                builder => builder.Logging.ClearProviders());
            await app.StartAsync();
            var address = app.Urls.First();
            var pki = Path.Combine(directory, "pki");
            using var channel = Tokenizer.IntegrationTests.TestChannels.Create(new Uri(address), pki, "billing");
            var client = new TokenizerService.TokenizerServiceClient(channel);
            var token = (await client.TokenizeCardAsync(new TokenizeCardRequest
            {
                IdempotencyKey = "cli-privacy-1",
                CustomerReference = "cust-cli-privacy",
                Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2034, Cvc = "123" },
                BillingDetails = new BillingDetails { Name = "Clio Commandline", Email = "clio.cli@example.org" },
            })).Token;
            var exportPath = Path.Combine(directory, "subject.json");
            string[] common = ["--customer", "cust-cli-privacy", "--server", address, "--pki", pki];

            // Act
            var export = await RunCliAsync(string.Empty, ["privacy", "export", "--out", exportPath, .. common]);
            var exportAgain = await RunCliAsync(string.Empty, ["privacy", "export", "--out", exportPath, .. common]);
            var correct = await RunCliAsync("{\"email\": \"clio.corrected@example.org\"}", ["privacy", "correct", .. common]);
            var denied = await RunCliAsync(string.Empty, ["privacy", "status", .. common, "--cert", Path.Combine(pki, "billing.crt"), "--key", Path.Combine(pki, "billing.key")]);
            var erase = await RunCliAsync(string.Empty, ["privacy", "erase", "--reason", "cli test", .. common]);
            var status = await RunCliAsync(string.Empty, ["privacy", "status", "--json", .. common]);

            // Assert: the export file is the person's data, owner-only, and never overwritten.
            Assert.Equal(0, export.ExitCode);
            var exported = ExportSubjectDataResponse.Parser.ParseJson(await File.ReadAllTextAsync(exportPath));
            Assert.Equal(token.Token_, Assert.Single(exported.Tokens).Token.Token_);
            Assert.Equal("Clio Commandline", exported.Tokens[0].BillingDetails.Name);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(exportPath));
            }

            Assert.Equal(2, exportAgain.ExitCode);

            Assert.Equal(0, correct.ExitCode);
            Assert.Contains($"{token.Token_}  updated", correct.Output, StringComparison.Ordinal);

            Assert.Equal(1, denied.ExitCode);
            Assert.Contains("PermissionDenied", denied.Error, StringComparison.Ordinal);

            Assert.Equal(0, erase.ExitCode);
            Assert.Matches(@"erasure\s+completed", erase.Output);
            Assert.Equal(ErasureState.Completed, GetErasureStatusResponse.Parser.ParseJson(status.Output).Status.State);
            Assert.DoesNotContain("used again", status.Output, StringComparison.Ordinal);

            // Act: the reference is tokenised again after its erasure.
            await client.TokenizeCardAsync(new TokenizeCardRequest
            {
                IdempotencyKey = "cli-privacy-2",
                CustomerReference = "cust-cli-privacy",
                Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2034, Cvc = "123" },
            });
            var statusAgain = await RunCliAsync(string.Empty, ["privacy", "status", .. common]);

            // Assert: still the completed erasure, and a line saying the reference holds data again.
            Assert.Equal(0, statusAgain.ExitCode);
            Assert.Matches(@"erasure\s+completed", statusAgain.Output);
            Assert.Matches(@"used again at\s+20\d\d-", statusAgain.Output);
            await app.StopAsync();
        }
        finally
        {
            CliFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task PrivacyErase_BacsSetupStillProcessing_ExitsNotFinishedSaysSoThenResumesToZero()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-privacy-cli-detaching-").FullName;
        try
        {
            // Arrange: a gateway whose Bacs setups stay processing for a while (Stripe: a few business days), which
            // Stripe cannot cancel: an erasure meanwhile revokes the token, keeps the Customer and stops at detaching.
            await using var gateway = await StripeSandboxServer.StartAsync(
                new StripeSandboxOptions { BacsMandateActivationDelay = TimeSpan.FromSeconds(15) }, "Development");
            await using var app = TokenizerHost.Build(
                [
                    "--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development",
                    $"--Stripe:ApiBase={gateway.BaseAddress.ToString().TrimEnd('/')}",
                ],
                builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Configuration.AddInMemoryCollection(
                    [
                        new("Stripe:ApiKey", "sk_test_cli_detaching"),
                        new("Tokenizer:RequestHmacSecret", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                        new("Tokenizer:AuditHmacSecret", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                    ]);
                });
            await app.StartAsync();
            var address = app.Urls.First();
            var pki = Path.Combine(directory, "pki");
            using var channel = Tokenizer.IntegrationTests.TestChannels.Create(new Uri(address), pki, "billing");
            var client = new TokenizerService.TokenizerServiceClient(channel);
            var token = (await client.TokenizeBankAccountAsync(
                Tokenizer.IntegrationTests.Requests.Bacs("cli-detaching-1", customer: "cust-cli-detaching"))).Token;
            Assert.Equal(SetupStatus.Processing, token.Setup.Status);
            string[] erase = ["privacy", "erase", "--customer", "cust-cli-detaching", "--idempotency-key", "cli-erase-1", "--server", address, "--pki", pki];

            // Act: erase while the setup is processing, in text and in JSON.
            var first = await RunCliAsync(string.Empty, erase);
            var firstJson = await RunCliAsync(string.Empty, [.. erase, "--json"]);

            // Assert: not 0 (a script must not take it for done), the state on standard output, and on standard error
            // why and what to do; with --json a JSON object on each.
            Assert.Equal(PrivacyCommands.ExitNotFinished, first.ExitCode);
            Assert.Equal(3, first.ExitCode);
            Assert.Matches(@"erasure\s+detaching", first.Output);
            Assert.Contains("erasure not finished (detaching)", first.Error, StringComparison.Ordinal);
            Assert.Contains("run the same `tokenizer privacy erase` again later", first.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("cust-cli-detaching", first.Error, StringComparison.Ordinal);
            Assert.Equal(3, firstJson.ExitCode);
            Assert.Equal(ErasureState.Detaching, GetErasureStatusResponse.Parser.ParseJson(firstJson.Output).Status.State);
            using (var problem = JsonDocument.Parse(firstJson.Error))
            {
                var body = problem.RootElement.GetProperty("error");
                Assert.Equal(("not_finished", 3), (body.GetProperty("kind").GetString(), body.GetProperty("exit_code").GetInt32()));
            }

            // Control: once the setup has settled, the same command completes and exits 0 with nothing on standard error
            // (bounded wait for the gateway's delay; no timing is asserted).
            var again = first;
            for (var attempt = 0; attempt < 60 && again.ExitCode != 0; attempt++)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                again = await RunCliAsync(string.Empty, erase);
            }

            Assert.Equal(0, again.ExitCode);
            Assert.Matches(@"erasure\s+completed", again.Output);
            Assert.Equal(string.Empty, again.Error);
            await app.StopAsync();
        }
        finally
        {
            CliFixture.TryDelete(directory);
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunCliAsync(string stdin, string[] args)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var root = CliApp.BuildRootCommand(input, output, error);
        var exitCode = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
