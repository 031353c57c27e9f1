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

    private CliServer server = null!;

    public async Task InitializeAsync() => server = await CliServer.StartAsync("tokenizer-cli-markup-");

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task TokenizeGetAndList_CustomerReferenceIsMarkup_PrintedAsWrittenInEveryTable()
    {
        // Act
        var tokenized = await server.RunAsync(Card, "tokenize", "card", "--customer", Reference);
        var token = tokenized.Output.Split(Environment.NewLine)[0].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
        var read = await server.RunAsync(string.Empty, "token", "get", token);
        var listed = await server.RunAsync(string.Empty, "tokens", "list", "--customer", Reference);

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
