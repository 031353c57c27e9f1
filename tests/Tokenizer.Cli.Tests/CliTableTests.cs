using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The CLI's tables and reconciliation progress (Spectre.Console, <see cref="CliTerminal"/>): plain lines without escape
/// sequences, borders, wrapping or trailing spaces where the stream is not a terminal (pipes, files, these tests), a
/// bordered table and a live bar on one; values containing markup (<c>[/]</c>, <c>[red]</c>) print as written.
/// </summary>
public sealed class CliTableTests
{
    // Unbalanced markup: read as markup it would throw (a closing tag with nothing open) or turn the rest red.
    private const string Markup = "[/][red]cust[bold";

    private static readonly DateTimeOffset Created = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void PrintToken_RedirectedOutput_NameValueLinesAsTheyWerePadded()
    {
        // Arrange
        using var output = new StringWriter();
        var token = CardToken("pm_1", "cust-1");

        // Act
        new CliConsole(TextReader.Null, output, TextWriter.Null).PrintToken(token, replayed: false, json: false);

        // Assert: names padded to the longest (customer_reference) plus two spaces, as the hand-drawn table printed them.
        string[] expected =
        [
            "token               pm_1",
            "type                Card",
            "status              Active",
            "customer_reference  cust-1",
            "gateway_customer    cus_1",
            "setup_status        unspecified",
            "brand               visa",
            "last4               4242",
            "expiry              12/2030",
            "funding             credit",
            "country             US",
            "fingerprint         fp_1",
            "created_at          2026-12-01 10:00:00Z",
            "replayed            no",
        ];
        Assert.Equal(expected, Lines(output));
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void PrintList_RedirectedOutput_HeaderAndOneLinePerTokenColumnsAsWideAsTheirCells()
    {
        // Arrange
        using var output = new StringWriter();
        var response = new ListTokensResponse { NextPageToken = "next_1" };
        response.Tokens.Add(CardToken("pm_1", "cust-1"));
        response.Tokens.Add(new Token
        {
            Token_ = "pm_22",
            Type = TokenType.SepaDebit,
            Status = TokenStatus.Revoked,
            CustomerReference = "cust-22",
            BankAccount = new BankAccountMetadata { BankIdentifier = "19043", Last4 = "3201" },
            CreatedAt = Timestamp.FromDateTimeOffset(Created.AddDays(1)),
        });

        // Act
        new CliConsole(TextReader.Null, output, TextWriter.Null).PrintList(response, json: false);

        // Assert
        string[] expected =
        [
            "TOKEN TYPE      STATUS  BRAND/BANK LAST4 CUSTOMER CREATED",
            "pm_1  Card      Active  visa       4242  cust-1   2026-12-01 10:00:00Z",
            "pm_22 SepaDebit Revoked 19043      3201  cust-22  2026-12-02 10:00:00Z",
            "next page: --page-token next_1",
        ];
        Assert.Equal(expected, Lines(output));
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void WriteFields_ValueFarWiderThanAConsole_OneLineNotWrapped()
    {
        // Arrange: Spectre wraps at 80 columns when it cannot ask a terminal; a script reads one record per line.
        using var output = new StringWriter();
        var value = string.Concat(Enumerable.Repeat("https://example.com/next/", 200));

        // Act
        CliTerminal.WriteFields(output, [("next_action_url", value), ("x", "y")]);

        // Assert
        Assert.Equal(["next_action_url  " + value, "x                y"], Lines(output));
    }

    [Fact]
    public void PrintTokenAndList_MarkupInAServerValue_PrintedAsWrittenOnBothKindsOfStream()
    {
        // Arrange
        var token = CardToken("pm_1", Markup);
        var list = new ListTokensResponse();
        list.Tokens.Add(token);
        using var plain = new StringWriter();
        using var terminal = new TerminalWriter();

        // Act
        foreach (TextWriter output in new TextWriter[] { plain, terminal })
        {
            var console = new CliConsole(TextReader.Null, output, TextWriter.Null);
            console.PrintToken(token, replayed: null, json: false);
            console.PrintList(list, json: false);
        }

        // Assert
        Assert.Contains("customer_reference  " + Markup, Lines(plain));
        Assert.Contains(Lines(plain), line => line.StartsWith("pm_1  Card", StringComparison.Ordinal) && line.Contains(" " + Markup + " ", StringComparison.Ordinal));
        // On the terminal: the token's table in full; the list's row as far as its column shows before wrapping.
        Assert.Contains("│ customer_reference │ " + Markup + " ", terminal.ToString(), StringComparison.Ordinal);
        Assert.Contains("│ " + Markup[..8], terminal.ToString().Split("TOKEN")[1], StringComparison.Ordinal);
    }

    [Fact]
    public void PrintToken_TerminalOutput_BorderedTableWithEveryRow()
    {
        // Arrange
        using var terminal = new TerminalWriter();
        using var plain = new StringWriter();
        var token = CardToken("pm_1", "cust-1");

        // Act
        new CliConsole(TextReader.Null, terminal, TextWriter.Null).PrintToken(token, replayed: null, json: false);
        new CliConsole(TextReader.Null, plain, TextWriter.Null).PrintToken(token, replayed: null, json: false);

        // Assert: the same cells, drawn in a box on the terminal only (the control: none on the plain stream).
        var drawn = Lines(terminal);
        Assert.StartsWith("╭", drawn[0], StringComparison.Ordinal);
        Assert.StartsWith("╰", drawn[^1], StringComparison.Ordinal);
        Assert.Contains(drawn, line => line.StartsWith("│ token ", StringComparison.Ordinal) && line.Contains("│ pm_1 ", StringComparison.Ordinal));
        Assert.Equal(Lines(plain).Length + 2, drawn.Length);
        Assert.DoesNotContain(Lines(plain), line => line.Contains('│', StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReconcileProgress_RedirectedError_OneLinePerChangeOfStateWithoutEscapes()
    {
        // Arrange
        using var error = new StringWriter();

        // Act
        var result = await ReconcileProgress.ShowAsync(error, show =>
        {
            show(Run(ReconciliationState.Running, 0, 4));
            show(Run(ReconciliationState.Running, 1, 4));
            show(Run(ReconciliationState.Interrupted, 2, 4, "[/]shutdown[red"));
            show(Run(ReconciliationState.Running, 3, 4));
            show(Run(ReconciliationState.Completed, 4, 4));
            return Task.FromResult(42);
        });

        // Assert
        Assert.Equal(42, result);
        string[] expected =
        [
            " 0 % customers 0/4, tokens 0, discrepancies 0, gateway requests 0: running",
            "50 % customers 2/4, tokens 2, discrepancies 0, gateway requests 0: interrupted ([/]shutdown[red), resuming",
            "75 % customers 3/4, tokens 3, discrepancies 0, gateway requests 0: running",
            "100 % customers 4/4, tokens 4, discrepancies 0, gateway requests 0: completed",
        ];
        Assert.Equal(expected, Lines(error));
        Assert.DoesNotContain('\u001b', error.ToString());
    }

    [Fact]
    public async Task ReconcileProgress_TerminalWithoutAnsi_OneLinePerChangeOfState()
    {
        // Arrange: a terminal Spectre finds no ANSI on (its own fallback would print nothing).
        using var error = new TerminalWriter();

        // Act
        await WithTermAsync("dumb", () => ReconcileProgress.ShowAsync(error, show =>
        {
            show(Run(ReconciliationState.Running, 1, 4));
            show(Run(ReconciliationState.Completed, 4, 4));
            return Task.FromResult(0);
        }));

        // Assert
        Assert.Equal(
            [
                "25 % customers 1/4, tokens 1, discrepancies 0, gateway requests 0: running",
                "100 % customers 4/4, tokens 4, discrepancies 0, gateway requests 0: completed",
            ],
            Lines(error));
    }

    [Fact]
    public async Task ReconcileProgress_TerminalError_LiveBarWithTheLastStateAndMarkupAsWritten()
    {
        // Arrange: Spectre uses ANSI on a terminal whose TERM it knows (a real one sets it; the test host may not).
        using var error = new TerminalWriter();

        // Act: the last state shown carries a server-supplied reason that is not valid markup.
        await WithTermAsync("xterm", () => ReconcileProgress.ShowAsync(error, show =>
        {
            show(Run(ReconciliationState.Running, 1, 4));
            show(Run(ReconciliationState.Interrupted, 2, 4, "[/]shutdown[red"));
            return Task.FromResult(0);
        }));

        // Assert: drawn in place with escape sequences (cursor hidden and shown again), a bar, the reason as written.
        var text = error.ToString();
        Assert.Contains("\u001b[?25l", text, StringComparison.Ordinal);
        Assert.Contains("\u001b[?25h", text, StringComparison.Ordinal);
        Assert.Contains("━", text, StringComparison.Ordinal);
        Assert.Contains("50%", text, StringComparison.Ordinal);
        Assert.Contains("customers 2/4, tokens 2, discrepancies 0, gateway requests 0: interrupted ([/]shutdown[red), resuming", Unwrapped(text), StringComparison.Ordinal);
    }

    // Only this class's terminal tests read TERM (through Spectre's detection), and a class's tests run one at a time.
    private static async Task WithTermAsync(string value, Func<Task> act)
    {
        var term = Environment.GetEnvironmentVariable("TERM");
        Environment.SetEnvironmentVariable("TERM", value);
        try
        {
            await act();
        }
        finally
        {
            Environment.SetEnvironmentVariable("TERM", term);
        }
    }

    private static Token CardToken(string id, string customer) => new()
    {
        Token_ = id,
        Type = TokenType.Card,
        Status = TokenStatus.Active,
        CustomerReference = customer,
        GatewayCustomer = "cus_1",
        Card = new CardMetadata { Brand = "visa", Last4 = "4242", ExpMonth = 12, ExpYear = 2030, Funding = "credit", Country = "US", Fingerprint = "fp_1" },
        CreatedAt = Timestamp.FromDateTimeOffset(Created),
    };

    private static Reconciliation Run(ReconciliationState state, long done, long total, string reason = "") => new()
    {
        State = state,
        CustomersDone = done,
        CustomersTotal = total,
        ItemsTotal = done,
        ErrorReason = reason,
    };

    private static string[] Lines(StringWriter writer) =>
        writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

    // The live display's text without escape sequences, its lines joined: what a reader sees, wrapped lines read on.
    private static string Unwrapped(string text) =>
        string.Join(' ', Regex.Replace(text, @"\u001b\[[0-9;?]*[A-Za-z]", string.Empty).Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0));

    /// <summary>A buffer that says it is a terminal, as standard output is when nothing redirects it.</summary>
    private sealed class TerminalWriter : StringWriter, ITerminalWriter
    {
        public bool IsTerminal => true;
    }
}
