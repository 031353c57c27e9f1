using System.Text.RegularExpressions;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The CLI on the SetupIntent path, against a real Development server with its embedded sandbox:
/// <c>tokenize bank</c> reads the mandate acceptance from the same stdin JSON, <c>tokenize card --return-url</c>, and
/// <c>token get</c> shows the setup status, the next action's URL and the mandate.
/// </summary>
public sealed class CliSetupTests : IAsyncLifetime
{
    private const string Sepa = """
        {"sepa_debit":{"iban":"AT611904300234573201"},
         "billing_details":{"name":"Jenny Rosen","email":"jenny@example.com"},
         "mandate_acceptance":{"accepted_at":"2026-01-02T03:04:05Z","online":{"ip_address":"203.0.113.7","user_agent":"Mozilla/5.0 (CLI test)"}}}
        """;

    private const string Card3155 = """{"card":{"number":"4000002500003155","exp_month":12,"exp_year":2034,"cvc":"123"}}""";

    private CliServer server = null!;

    public async Task InitializeAsync() => server = await CliServer.StartAsync("tokenizer-cli-setup-");

    public async Task DisposeAsync() => await server.DisposeAsync();

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string stdin, params string[] args) => server.RunAsync(stdin, args);

    private static string Field(string output, string name) =>
        Regex.Match(output, $"^{Regex.Escape(name)}\\s+(?<value>\\S+)\\s*$", RegexOptions.Multiline) is { Success: true } match
            ? match.Groups["value"].Value
            : string.Empty;

    [Fact]
    public async Task TokenizeBank_MandateAcceptanceFromStdin_ShowsReadySetupAndTheMandate()
    {
        // Act
        var tokenized = await RunAsync(Sepa, "tokenize", "bank", "--customer", "cli-setup-1");
        var token = Field(tokenized.Output, "token");
        var read = await RunAsync(string.Empty, "token", "get", token);

        // Assert
        Assert.Equal((0, string.Empty), (tokenized.ExitCode, tokenized.Error));
        Assert.Equal("ready", Field(tokenized.Output, "setup_status"));
        Assert.StartsWith("cus_", Field(tokenized.Output, "gateway_customer"), StringComparison.Ordinal);
        Assert.StartsWith("seti_", Field(tokenized.Output, "setup_intent"), StringComparison.Ordinal);
        Assert.StartsWith("mandate_", Field(tokenized.Output, "mandate"), StringComparison.Ordinal);
        Assert.Equal(("active", "online"), (Field(tokenized.Output, "mandate_status"), Field(tokenized.Output, "mandate_type")));
        Assert.Equal(0, read.ExitCode);
        Assert.Equal(Field(tokenized.Output, "mandate"), Field(read.Output, "mandate"));
        Assert.Equal("ready", Field(read.Output, "setup_status"));
        // The acceptance's personal data went to the gateway once; the CLI never prints it back.
        Assert.DoesNotContain("203.0.113.7", tokenized.Output + read.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeBank_NoMandateAcceptance_RefusedNamingTheField()
    {
        var result = await RunAsync("""{"sepa_debit":{"iban":"AT611904300234573201"},"billing_details":{"name":"Jenny Rosen","email":"jenny@example.com"}}""", "tokenize", "bank", "--customer", "cli-setup-2");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("mandate_acceptance", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("AT611904300234573201", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeCard_ReturnUrl_RequiresActionWithTheUrlThenReadyOnceCompleted()
    {
        // Act: the card needs 3-D Secure at setup.
        var tokenized = await RunAsync(Card3155, "tokenize", "card", "--customer", "cli-setup-3", "--return-url", "https://billing.example.com/3ds/done");
        var token = Field(tokenized.Output, "token");
        var url = Field(tokenized.Output, "next_action_url");
        var pending = await RunAsync(string.Empty, "token", "get", token);

        // The cardholder completes the challenge on the page at the printed URL (its form posts the outcome).
        using (var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CheckCertificateRevocationList = true }))
        using (var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("outcome", "complete")]))
        {
            using var completed = await http.PostAsync(new Uri(url), form);
            Assert.True((int)completed.StatusCode is >= 300 and < 400, $"the page answered {(int)completed.StatusCode}");
        }

        var ready = await RunAsync(string.Empty, "token", "get", token);

        // Assert
        Assert.Equal((0, string.Empty), (tokenized.ExitCode, tokenized.Error));
        Assert.Equal("requires_action", Field(tokenized.Output, "setup_status"));
        Assert.Equal("redirect_to_url", Field(tokenized.Output, "next_action"));
        Assert.Contains("/_sandbox/authenticate/", url, StringComparison.Ordinal);
        Assert.Equal(("requires_action", url), (Field(pending.Output, "setup_status"), Field(pending.Output, "next_action_url")));
        Assert.Equal("ready", Field(ready.Output, "setup_status"));
        Assert.Equal(string.Empty, Field(ready.Output, "next_action_url"));
    }

    [Fact]
    public async Task TokenizeCard_NeedsAuthenticationWithoutReturnUrl_RefusedNamingReturnUrl()
    {
        var refused = await RunAsync(Card3155, "tokenize", "card", "--customer", "cli-setup-4");
        var plain = await RunAsync("""{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2034,"cvc":"123"}}""", "tokenize", "card", "--customer", "cli-setup-4");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("AUTHENTICATION_REQUIRED", refused.Error, StringComparison.Ordinal);
        Assert.Contains("return_url", refused.Error, StringComparison.Ordinal);
        // Control: a card that needs no authentication is set up without a return URL.
        Assert.Equal(0, plain.ExitCode);
        Assert.Equal("ready", Field(plain.Output, "setup_status"));
    }
}
