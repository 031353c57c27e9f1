using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;

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
