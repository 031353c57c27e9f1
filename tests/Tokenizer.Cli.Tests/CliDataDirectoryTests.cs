using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// A server started on another data directory than ./data: its start line names the directory and a CLI command that
/// works, and the CLI finds the PKI through the server's own environment variable.
/// </summary>
public sealed class CliDataDirectoryTests
{
    [Fact]
    public async Task Server_OtherDataDirectory_StartLineNamesItAndACliCommandThatWorks()
    {
        // Arrange
        var directory = Directory.CreateTempSubdirectory("tokenizer-cli-data-").FullName;
        var logs = new LogCapture();
        try
        {
            await using var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"],
                builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Logging.AddProvider(logs);
                });
            await app.StartAsync();
            var address = app.Urls.First();

            // Act
            var started = Assert.Single(logs.Lines, l => l.EventId.Name == "TokenizerStarted");
            var cli = Regex.Match(started.Text, @"scripts/tokenizer\.sh --server (?<server>\S+) --pki (?<pki>\S+) tokens list");
            var printed = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", "--server", cli.Groups["server"].Value, "--pki", cli.Groups["pki"].Value);
            var fromEnvironment = await CliFixture.RunAsync(
                string.Empty, new Dictionary<string, string> { ["Tokenizer__DataDirectory"] = directory }, "tokens", "list", "--server", address);
            var withoutEither = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", "--server", address);
            var exported = Regex.Match(started.Text, @"or export TOKENIZER_SERVER=(?<server>\S+) Tokenizer__DataDirectory=(?<directory>[^)\s]+)\)");
            var bothFromEnvironment = await CliFixture.RunAsync(
                string.Empty,
                new Dictionary<string, string> { ["TOKENIZER_SERVER"] = exported.Groups["server"].Value, ["Tokenizer__DataDirectory"] = exported.Groups["directory"].Value },
                "tokens",
                "list");
            // The control: the variable really is where the address comes from (a closed port fails), and --server wins over it.
            using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            closed.Start();
            var closedAddress = $"https://127.0.0.1:{((System.Net.IPEndPoint)closed.LocalEndpoint).Port}";
            closed.Stop();
            var closedFromEnvironment = await CliFixture.RunAsync(
                string.Empty, new Dictionary<string, string> { ["TOKENIZER_SERVER"] = closedAddress, ["Tokenizer__DataDirectory"] = directory }, "tokens", "list");
            // A server the CLI's CA did not issue (another development PKI) is refused at TLS, whatever the variable says:
            // the card read from stdin is never sent.
            using var otherPki = new CliFixture();
            var untrusted = await CliFixture.RunAsync(
                "{\"card\":{\"number\":\"4242424242424242\",\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"123\"}}",
                new Dictionary<string, string> { ["TOKENIZER_SERVER"] = address, ["Tokenizer__DataDirectory"] = otherPki.Root },
                "tokenize",
                "card",
                "--customer",
                "cust-untrusted");
            var optionWins = await CliFixture.RunAsync(
                string.Empty, new Dictionary<string, string> { ["TOKENIZER_SERVER"] = closedAddress, ["Tokenizer__DataDirectory"] = directory }, "tokens", "list", "--server", address);

            // Assert
            Assert.Equal(LogLevel.Information, started.Level);
            Assert.Contains($"data directory {directory}", started.Text, StringComparison.Ordinal);
            Assert.True(cli.Success, started.Text);
            Assert.Equal(address, cli.Groups["server"].Value);
            Assert.Equal((0, string.Empty), (printed.ExitCode, printed.Error));
            Assert.Equal((0, string.Empty), (fromEnvironment.ExitCode, fromEnvironment.Error));
            Assert.Equal(2, withoutEither.ExitCode);
            Assert.Contains("Tokenizer__DataDirectory", withoutEither.Error, StringComparison.Ordinal);
            Assert.True(exported.Success, started.Text);
            Assert.Equal((0, string.Empty), (bothFromEnvironment.ExitCode, bothFromEnvironment.Error));
            Assert.Equal(1, closedFromEnvironment.ExitCode);
            Assert.Equal((0, string.Empty), (optionWins.ExitCode, optionWins.Error));
            Assert.Equal(1, untrusted.ExitCode);
            Assert.Contains("TLS handshake failed", untrusted.Error, StringComparison.Ordinal);
            await app.StopAsync();
        }
        finally
        {
            CliFixture.TryDelete(directory);
        }
    }
}
