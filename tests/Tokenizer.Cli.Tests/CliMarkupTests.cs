using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// A customer reference that is Spectre.Console markup (<c>[/]</c> closes nothing, <c>[red]</c> would colour the rest)
/// goes through a real server and comes back in the CLI's tables as written: never parsed as markup, which would throw
/// or restyle the output.
/// </summary>
public sealed class CliMarkupTests : IAsyncLifetime
{
    private const string Card = """{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2034,"cvc":"123"}}""";

    private const string Reference = "[/][red]cli-markup[bold";

    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-cli-markup-").FullName;
    private WebApplication app = null!;
    private Dictionary<string, string> environment = null!;
    private string address = null!;

    public async Task InitializeAsync()
    {
        app = TokenizerHost.Build(
            ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"],
            builder => builder.Logging.ClearProviders());
        await app.StartAsync();
        address = app.Urls.First();
        environment = new Dictionary<string, string> { ["Tokenizer__DataDirectory"] = directory };
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        CliFixture.TryDelete(directory);
    }

    [Fact]
    public async Task TokenizeGetAndList_CustomerReferenceIsMarkup_PrintedAsWrittenInEveryTable()
    {
        // Act
        var tokenized = await CliFixture.RunAsync(Card, environment, "tokenize", "card", "--customer", Reference, "--server", address);
        var token = tokenized.Output.Split(Environment.NewLine)[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
        var read = await CliFixture.RunAsync(string.Empty, environment, "token", "get", token, "--server", address);
        var listed = await CliFixture.RunAsync(string.Empty, environment, "tokens", "list", "--customer", Reference, "--server", address);

        // Assert
        Assert.Equal((0, string.Empty), (tokenized.ExitCode, tokenized.Error));
        Assert.StartsWith("pm_", token, StringComparison.Ordinal);
        Assert.Equal((0, 0), (read.ExitCode, listed.ExitCode));
        foreach (var output in new[] { tokenized.Output, read.Output })
        {
            Assert.Contains("customer_reference  " + Reference + Environment.NewLine, output, StringComparison.Ordinal);
        }

        var row = Assert.Single(listed.Output.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries), line => line.StartsWith(token, StringComparison.Ordinal));
        Assert.Contains(" " + Reference + " ", row, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', tokenized.Output + read.Output + listed.Output);
    }
}
