using System.CommandLine;
using Google.Protobuf;
using Grpc.Net.Client;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli;

/// <summary>
/// The <c>tokenizer</c> command. Card and bank details are read from standard input (JSON) or an interactive prompt
/// with hidden input, never from arguments or environment variables (those end up in shell history and <c>ps</c>).
/// Exit codes: 0 success, 1 the server answered with an error, 2 bad usage or input.
/// </summary>
public static class CliApp
{
    /// <summary>The address <c>scripts/run.sh</c> serves on.</summary>
    public const string DefaultServer = "https://127.0.0.1:5055";

    /// <summary>Exit code for bad usage: an unknown option, a missing or malformed value, a file that cannot be used.</summary>
    public const int ExitUsage = CliErrors.ExitUsage;

    /// <summary>
    /// The environment variable the CLI takes the server's data directory from (the server's own
    /// <c>Tokenizer:DataDirectory</c> as an environment variable): the default <c>--pki</c> is its <c>pki</c> folder.
    /// </summary>
    public const string DataDirectoryVariable = "Tokenizer__DataDirectory";

    /// <summary>
    /// The environment variable the CLI takes the server's gRPC address from when <c>--server</c> is not given (e.g.
    /// <c>https://127.0.0.1:5255</c>); else <see cref="DefaultServer"/>. An address is not a secret.
    /// </summary>
    public const string ServerVariable = "TOKENIZER_SERVER";

    /// <summary>As <see cref="RunAsync(string[], TextReader, TextWriter, TextWriter, Func{string, string?})"/> with the process environment.</summary>
    public static Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error) =>
        RunAsync(args, input, output, error, Environment.GetEnvironmentVariable);

    /// <summary>
    /// Parses and runs <paramref name="args"/>. Bad usage prints one line (the first problem, naming the option and the
    /// rule, never the value) and exits <see cref="ExitUsage"/> (2) before anything is sent; otherwise the command's
    /// own exit code. <paramref name="environment"/> reads environment variables (<see cref="DataDirectoryVariable"/>).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        var json = args.Contains("--json", StringComparer.Ordinal);
        try
        {
            var root = BuildRootCommand(input, output, error, environment);

            // No response files: "@x" is a value like any other (a customer reference may start with @), and no argument
            // can make the CLI read a file into its command line.
            var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parse.Errors.Count > 0)
            {
                return CliErrors.Usage(error, json, CliErrors.ParseMessage(parse.Errors[0], args, root));
            }

            // The commands report their own failures; anything that still escapes is reported here without a stack trace.
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception problem) when (problem is not OperationCanceledException)
        {
            return CliErrors.Report(problem, error, json, server: null);
        }
    }

    /// <summary>The command tree with the process environment; I/O is injected so tests can drive it.</summary>
    public static RootCommand BuildRootCommand(TextReader input, TextWriter output, TextWriter error) =>
        BuildRootCommand(input, output, error, Environment.GetEnvironmentVariable);

    /// <summary>The command tree; I/O and the environment are injected so tests can drive it.</summary>
    public static RootCommand BuildRootCommand(TextReader input, TextWriter output, TextWriter error, Func<string, string?> environment)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table", Recursive = true };
        var customer = new Option<string>("--customer") { Description = "customer_reference of the billing service's customer", Required = true };
        var key = new Option<string?>("--idempotency-key") { Description = "Idempotency key (default: a new random key, shown when a call fails in a way a retry could mend; reuse it to retry safely)" };

        var root = new RootCommand("Tokenizer: swap card and bank details for gateway tokens.");
        var channel = CliChannel.AddTo(root, environment);
        root.Options.Add(json);

        var console = new CliConsole(input, output, error);

        var tokenize = new Command("tokenize", "Tokenise a card or a bank account (details from stdin JSON or a hidden prompt)");
        var card = new Command("card", "Tokenise a card. stdin JSON: {\"card\":{\"number\",\"exp_month\",\"exp_year\",\"cvc\"},\"billing_details\":{...}}");
        var returnUrl = new Option<string?>("--return-url")
        {
            Description = "https URL 3-D Secure sends the cardholder back to; without it a card that needs authentication is refused",
        };
        card.Options.Add(customer);
        card.Options.Add(key);
        card.Options.Add(returnUrl);
        card.SetAction((result, ct) => Run(result, console, () => channel.Open(result, "billing"), result.GetValue(json), async client =>
        {
            var request = console.ReadCardRequest();
            request.CustomerReference = result.GetValue(customer)!;
            if (result.GetValue(returnUrl) is { Length: > 0 } url)
            {
                request.ReturnUrl = url;
            }

            request.IdempotencyKey = CliErrors.IdempotencyKey(result, key);
            var response = await client.TokenizeCardAsync(request, cancellationToken: ct);
            return (response.Token, response.Replayed);
        }));
        var bank = new Command(
            "bank",
            "Tokenise a bank account. stdin JSON: {\"au_becs_debit\"|\"sepa_debit\"|\"bacs_debit\"|\"us_bank_account\":{...},\"billing_details\":{...},"
            + "\"mandate_acceptance\":{\"accepted_at\":\"2026-12-01T10:00:00Z\",\"online\":{\"ip_address\",\"user_agent\"}|\"offline\":{}}}");
        bank.Options.Add(customer);
        bank.Options.Add(key);
        bank.SetAction((result, ct) => Run(result, console, () => channel.Open(result, "billing"), result.GetValue(json), async client =>
        {
            var request = console.ReadBankRequest();
            request.CustomerReference = result.GetValue(customer)!;
            request.IdempotencyKey = CliErrors.IdempotencyKey(result, key);
            var response = await client.TokenizeBankAccountAsync(request, cancellationToken: ct);
            return (response.Token, response.Replayed);
        }));
        tokenize.Subcommands.Add(card);
        tokenize.Subcommands.Add(bank);

        var tokenArgument = new Argument<string>("token") { Description = "The token (pm_...)" };
        var token = new Command("token", "Read or revoke one token");
        var get = new Command("get", "Show one token");
        get.Arguments.Add(tokenArgument);
        get.SetAction((result, ct) => Run(result, console, () => channel.Open(result, "finance"), result.GetValue(json), async client =>
        {
            var response = await client.GetTokenAsync(new GetTokenRequest { Token = result.GetValue(tokenArgument) }, cancellationToken: ct);
            return (response.Token, (bool?)null);
        }));
        var reason = new Option<string?>("--reason") { Description = "Why, at most 200 characters (part of the idempotent request; not stored)" };
        var revoke = new Command("revoke", "Detach the token at the gateway and mark it revoked");
        revoke.Arguments.Add(tokenArgument);
        revoke.Options.Add(reason);
        revoke.Options.Add(key);
        revoke.SetAction((result, ct) => Run(result, console, () => channel.Open(result, "admin"), result.GetValue(json), async client =>
        {
            var response = await client.RevokeTokenAsync(
                new RevokeTokenRequest
                {
                    Token = result.GetValue(tokenArgument),
                    Reason = result.GetValue(reason) ?? string.Empty,
                    IdempotencyKey = CliErrors.IdempotencyKey(result, key),
                },
                cancellationToken: ct);
            return (response.Token, (bool?)null);
        }));
        token.Subcommands.Add(get);
        token.Subcommands.Add(revoke);

        var tokens = new Command("tokens", "List tokens; list or watch token events");
        var list = new Command("list", "List tokens, newest first");
        var listCustomer = new Option<string?>("--customer") { Description = "Only this customer_reference" };
        var status = new Option<string?>("--status") { Description = "active or revoked" };
        status.AcceptOnlyFromAmong("active", "revoked");
        var pageSize = new Option<int>("--page-size")
        {
            Description = "1-100 (default 50)",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= 100)
                {
                    return size;
                }

                result.AddError("--page-size: must be a whole number from 1 to 100");
                return 0;
            },
        };
        var pageToken = new Option<string?>("--page-token") { Description = "next_page_token from the previous page" };
        list.Options.Add(listCustomer);
        list.Options.Add(status);
        list.Options.Add(pageSize);
        list.Options.Add(pageToken);
        list.SetAction((result, ct) => RunList(result, console, () => channel.Open(result, "finance"), result.GetValue(json), async client =>
            await client.ListTokensAsync(
                new ListTokensRequest
                {
                    CustomerReference = result.GetValue(listCustomer) ?? string.Empty,
                    Status = WireText.Parse(Server.Grpc.ProtoEnums.TokenStatus, Core.Domain.TokenTexts.Status, result.GetValue(status)),
                    PageSize = result.GetValue(pageSize),
                    PageToken = result.GetValue(pageToken) ?? string.Empty,
                },
                cancellationToken: ct)));
        tokens.Subcommands.Add(list);
        tokens.Subcommands.Add(WatchCommand.Build(channel, json, output, error));
        tokens.Subcommands.Add(WatchCommand.BuildList(channel, json, output, error));

        root.Subcommands.Add(tokenize);
        root.Subcommands.Add(token);
        root.Subcommands.Add(tokens);
        root.Subcommands.Add(AuditCommands.Build(channel, json, output, error, environment));
        root.Subcommands.Add(ReconcileCommand.Build(channel, output, error));
        root.Subcommands.Add(PrivacyCommands.Build(channel, json, input, output, error));
        root.Subcommands.Add(SandboxCommands.Build(channel, json, output, error));
        return root;
    }

    private static Task<int> Run(
        ParseResult result,
        CliConsole console,
        Func<GrpcChannel> open,
        bool json,
        Func<TokenizerService.TokenizerServiceClient, Task<(Token Token, bool? Replayed)>> call) =>
        Call(result, console, open, call, response => console.PrintToken(response.Token, response.Replayed, json));

    private static Task<int> RunList(
        ParseResult result,
        CliConsole console,
        Func<GrpcChannel> open,
        bool json,
        Func<TokenizerService.TokenizerServiceClient, Task<ListTokensResponse>> call) =>
        Call(result, console, open, call, response => console.PrintList(response, json));

    /// <summary>Opens the channel, makes the call, prints the result; exit 0, 1 for a server error, 2 for bad input.</summary>
    private static Task<int> Call<TResult>(
        ParseResult result,
        CliConsole console,
        Func<GrpcChannel> open,
        Func<TokenizerService.TokenizerServiceClient, Task<TResult>> call,
        Action<TResult> print) =>
        CliErrors.RunAsync(result, console.Error, async () =>
        {
            using var channel = open();
            print(await call(new TokenizerService.TokenizerServiceClient(channel)));
            return 0;
        });
}

/// <summary>Bad input on stdin or at the prompt; the message never contains the input.</summary>
public sealed class CliInputException(string message) : Exception(message)
{
}
