using System.Net;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;
using Tokenizer.StripeSandbox;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The README's walkthrough of a newcomer on embedded defaults, with real parts: the server as its own process in
/// Development with its webhook listener on (as scripts/run.sh starts it), the CLI's <c>tokens watch</c> and
/// <c>sandbox ...</c> commands driving it from "other terminals" over real gRPC and real loopback HTTP, and the
/// embedded sandbox delivering signed webhooks to the listener.
/// </summary>
public sealed class SandboxWalkthroughTests
{
    private const string ThreeDSecureCard = "4000002500003155";

    [Fact]
    public async Task Walkthrough_3dsCardUpdateDetachFromTheCli_WatcherSeesEachEventOnceInOrder()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-walkthrough-").FullName;
        try
        {
            await using var server = await ServerProcess.StartAsync(directory, "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0");
            var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(server.Address, Path.Combine(directory, "pki"), "finance"));
            var card = Requests.Card(ThreeDSecureCard, Requests.NewKey());
            card.ReturnUrl = "https://billing.example.com/3ds/done";
            var token = (await server.Client.TokenizeCardAsync(card)).Token;
            var becs = (await server.Client.TokenizeBankAccountAsync(Requests.Becs(Requests.NewKey()))).Token;
            Assert.Equal(SetupStatus.RequiresAction, token.Setup.Status);
            Assert.Equal(MandateStatus.Active, becs.Mandate.Status);

            // Terminal 2: the watcher, until the four events of this walkthrough arrived.
            var watchOutput = new StringWriter();
            var watchError = new StringWriter();
            var watch = Cli(server, watchOutput, watchError, "tokens", "watch", "--count", "4");

            // Terminal 3: each step waits until the ledger shows it, so the expected order is the order of the steps.
            var pm = token.Token_;
            var completed = await Cli(server, "sandbox", "complete-3ds", token.Setup.NextAction.Url);
            Assert.True(await Polling.EventuallyAsync(async () => (await GetAsync(finance, pm)).Setup.Status == SetupStatus.Ready), "3-D Secure never reached the ledger:\n" + server.Output);
            var updated = await Cli(server, "sandbox", "card-update", pm, "--exp", "04/2031", "--last4", "4444");
            Assert.True(await Polling.EventuallyAsync(async () => (await GetAsync(finance, pm)).Card.Last4 == "4444"), "the card update never reached the ledger:\n" + server.Output);
            var detached = await Cli(server, "sandbox", "detach", pm);
            Assert.True(await Polling.EventuallyAsync(async () => (await GetAsync(finance, pm)).Status == TokenStatus.Revoked), "the detach never reached the ledger:\n" + server.Output);

            // The last event, on another token: anything delivered twice before it would have taken a line of the four.
            var deactivated = await Cli(server, "sandbox", "deactivate-mandate", becs.Mandate.Id);
            var watched = await watch.WaitAsync(TimeSpan.FromSeconds(90));

            Assert.Equal((0, 0, 0, 0), (completed.Code, updated.Code, detached.Code, deactivated.Code));
            Assert.Contains("3-D Secure succeeded", completed.Output, StringComparison.Ordinal);
            Assert.Contains($"card updated at Stripe: {pm} visa 4444 04/2031", updated.Output, StringComparison.Ordinal);
            Assert.Contains($"detached at Stripe: {pm}", detached.Output, StringComparison.Ordinal);
            Assert.Contains("inactive", deactivated.Output, StringComparison.Ordinal);
            Assert.True(watched == 0, $"tokens watch exited {watched}: {watchError}");
            var lines = watchOutput.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.Equal(
                [$"setup_succeeded {pm}", $"card_updated {pm} visa 4444 04/2031", $"detached_at_gateway {pm}", $"mandate_inactive {becs.Token_}"],
                lines.Select(l => string.Join(' ', l.Split(' ').Skip(3))).ToArray());

            // Exactly once in the ledger too, once everything delivered was processed (the sentinel came after it).
            var recorded = await TokenEventsAsync(finance);
            Assert.Equal(
                [TokenEventKind.SetupSucceeded, TokenEventKind.CardUpdated, TokenEventKind.DetachedAtGateway],
                recorded.Where(e => e.Token == pm).Select(e => e.Kind).ToArray());
            Assert.Single(recorded, e => e.Token == becs.Token_);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task Walkthrough_MicrodepositsAndCustomerDeletedFromTheCli_LedgerAndEventsFollow()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-walkthrough-customer-").FullName;
        try
        {
            await using var server = await ServerProcess.StartAsync(directory, "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0");
            var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(server.Address, Path.Combine(directory, "pki"), "finance"));
            var ach = (await server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey(), customer: "cust-delete"))).Token;
            var card = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-delete"))).Token;
            var bystander = (await server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), customer: "cust-keep"))).Token;
            Assert.Equal(SetupStatus.RequiresAction, ach.Setup.Status);

            // Wrong amounts first (the control: the command can fail, and then nothing changes), then the test-mode ones.
            var wrong = await Cli(server, "sandbox", "verify-microdeposits", ach.Setup.NextAction.Url, "--amounts", "10,11");
            var stillWaiting = (await GetAsync(finance, ach.Token_)).Setup.Status;
            var verified = await Cli(server, "sandbox", "verify-microdeposits", ach.Setup.NextAction.Url);
            Assert.True(await Polling.EventuallyAsync(async () => (await GetAsync(finance, ach.Token_)).Setup.Status == SetupStatus.Ready), "the verification never reached the ledger:\n" + server.Output);

            var deleted = await Cli(server, "sandbox", "delete-customer", "--customer", "cust-delete");
            Assert.True(
                await Polling.EventuallyAsync(async () => (await GetAsync(finance, ach.Token_)).Status == TokenStatus.Revoked && (await GetAsync(finance, card.Token_)).Status == TokenStatus.Revoked),
                "the deletion never reached the ledger:\n" + server.Output);
            var again = await Cli(server, "sandbox", "delete-customer", "--customer", "cust-delete");

            Assert.Equal(1, wrong.Code);
            Assert.Single(wrong.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(SetupStatus.RequiresAction, stillWaiting);
            Assert.Equal(0, verified.Code);
            Assert.Contains($"microdeposits verified: {ach.Setup.SetupIntent}", verified.Output, StringComparison.Ordinal);
            Assert.Equal(0, deleted.Code);
            Assert.Matches("^deleted at Stripe: cus_[A-Za-z0-9]+ \\(customer.deleted\\)$", deleted.Output.Trim());
            Assert.Equal((1, "error: the sandbox answered 404: No such customer."), (again.Code, again.Error.Trim()));
            Assert.Equal(TokenStatus.Active, (await GetAsync(finance, bystander.Token_)).Status);
            var recorded = await TokenEventsAsync(finance);
            Assert.Equal([TokenEventKind.SetupSucceeded, TokenEventKind.CustomerDeleted], recorded.Where(e => e.Token == ach.Token_).Select(e => e.Kind).ToArray());
            Assert.Equal([TokenEventKind.CustomerDeleted], recorded.Where(e => e.Token == card.Token_).Select(e => e.Kind).ToArray());
            Assert.DoesNotContain(recorded, e => e.Token == bystander.Token_);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    [Fact]
    public async Task ControlEndpoints_WrongOrMissingToken_RefusedAndNothingChanges()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-walkthrough-token-").FullName;
        var forged = Directory.CreateTempSubdirectory("tokenizer-walkthrough-forged-").FullName;
        try
        {
            await using var server = await ServerProcess.StartAsync(directory, "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0");
            var finance = new TokenizerService.TokenizerServiceClient(TestChannels.Create(server.Address, Path.Combine(directory, "pki"), "finance"));
            var pm = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token.Token_;
            var secrets = Path.Combine(directory, "secrets");
            var address = new Uri(File.ReadAllText(Path.Combine(secrets, SandboxCommands.AddressFile)).Trim());
            var token = File.ReadAllText(Path.Combine(secrets, SandboxCommands.TokenFile)).Trim();

            // Another local process that knows the address but not the token; and the CLI given a data directory with a wrong token.
            using var http = new HttpClient { BaseAddress = address };
            var missing = await PostAsync(http, $"_sandbox/payment_methods/{pm}/detach", null);
            var wrong = await PostAsync(http, $"_sandbox/payment_methods/{pm}/detach", new string('A', token.Length));
            Directory.CreateDirectory(Path.Combine(forged, "secrets"));
            File.Copy(Path.Combine(secrets, SandboxCommands.AddressFile), Path.Combine(forged, "secrets", SandboxCommands.AddressFile));
            File.WriteAllText(Path.Combine(forged, "secrets", SandboxCommands.TokenFile), new string('B', token.Length));
            var cli = await Cli(server, "sandbox", "detach", pm, "--data-directory", forged);

            // The control: the right token is accepted (on a path that changes nothing).
            var right = await PostAsync(http, "_sandbox/payment_methods/pm_unknown/detach", token);

            Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (missing, wrong));
            Assert.Equal(1, cli.Code);
            Assert.Equal("error: the sandbox refused the control token (401): the server was restarted with another data directory? Use --data-directory", cli.Error.Trim());
            Assert.Equal(HttpStatusCode.NotFound, right);
            Assert.Equal(TokenStatus.Active, (await GetAsync(finance, pm)).Status);
            Assert.Empty(await TokenEventsAsync(finance));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(secrets, SandboxCommands.TokenFile)));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(secrets, SandboxCommands.AddressFile)));
            }
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
            TokenizerServerFixture.TryDelete(forged);
        }
    }

    [Fact]
    public async Task ServerNotOnEmbeddedDefaults_NoSandboxControl_CliRefusesInOneLine()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-walkthrough-real-").FullName;
        try
        {
            // A stale address file of an earlier Development run on embedded defaults.
            var stale = Path.Combine(directory, "secrets", SandboxCommands.AddressFile);
            Directory.CreateDirectory(Path.GetDirectoryName(stale)!);
            File.WriteAllText(stale, "http://127.0.0.1:9/");
            var existedBefore = File.Exists(stale);

            // "Real Stripe": a standalone sandbox with a key, as the README's standalone run does.
            await using var stripe = await StripeSandboxServer.StartAsync(new StripeSandboxOptions(), "Development");
            var variables = new Dictionary<string, string> { ["Stripe__ApiKey"] = "sk_test_walkthrough_real_stripe" };
            await using var server = await ServerProcess.StartAsync(directory, "Development", variables, $"--Stripe:ApiBase={stripe.BaseAddress.ToString().TrimEnd('/')}");
            var refused = await Cli(server, "sandbox", "detach", "pm_anything");

            Assert.True(existedBefore);
            Assert.False(File.Exists(stale), "the stale address file survived a start without sandbox control");
            Assert.False(File.Exists(Path.Combine(directory, "secrets", SandboxCommands.TokenFile)), "a control token was made for a server on real Stripe");
            Assert.Equal(1, refused.Code);
            Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("no server runs on embedded defaults in Development", refused.Error, StringComparison.Ordinal);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    private static Task<int> Cli(ServerProcess server, StringWriter output, StringWriter error, params string[] args) =>
        CliApp.RunAsync(
            ["--server", server.Address.ToString().TrimEnd('/'), "--pki", Path.Combine(server.DataDirectory, "pki"), .. args],
            TextReader.Null,
            output,
            error,
            _ => null);

    private static async Task<(int Code, string Output, string Error)> Cli(ServerProcess server, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await Cli(server, output, error, args);
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient http, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (token is not null)
        {
            request.Headers.Add("Sandbox-Control-Token", token);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<Token> GetAsync(TokenizerService.TokenizerServiceClient finance, string token) =>
        (await finance.GetTokenAsync(new GetTokenRequest { Token = token })).Token;

    private static async Task<List<TokenEvent>> TokenEventsAsync(TokenizerService.TokenizerServiceClient finance)
    {
        var events = new List<TokenEvent>();
        var cursor = string.Empty;
        while (true)
        {
            var page = await finance.ListTokenEventsAsync(new ListTokenEventsRequest { After = cursor, PageSize = 500 });
            events.AddRange(page.Events);
            if (page.Events.Count == 0 || string.IsNullOrEmpty(page.NextCursor))
            {
                return events;
            }

            cursor = page.NextCursor;
        }
    }
}
