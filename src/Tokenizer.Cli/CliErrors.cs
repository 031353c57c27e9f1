using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Core;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>
/// Every failure the CLI reports, in one place: bad usage (exit 2), a server that cannot be reached or answered with an
/// error (exit 1), and anything unexpected (exit 1, the exception's type only). Text is one line on standard error
/// (server errors add indented detail lines); with <c>--json</c> it is one JSON object
/// <c>{"error":{"kind","exit_code","message",...}}</c>. No message carries a value the user typed, except the server
/// address when its host and port are plain ASCII (letters, digits, dots, dashes), file paths the user named (scrubbed), and an unknown option, subcommand or JSON key made only of letters
/// and dashes (or underscores), which can hold no number.
/// </summary>
public static partial class CliErrors
{
    private static readonly AsyncLocal<StrongBox<string?>?> GeneratedKey = new();

    /// <summary>Exit code for bad usage or input.</summary>
    public const int ExitUsage = 2;

    /// <summary>Exit code for a server error, an unreachable server, or an unexpected failure.</summary>
    public const int ExitFailure = 1;

    /// <summary>
    /// Runs a command's body: its exit code, or the failure reported on <paramref name="error"/> as text or JSON
    /// (<c>--json</c> on the command line of <paramref name="result"/>).
    /// </summary>
    public static async Task<int> RunAsync(ParseResult result, TextWriter error, Func<Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(body);
        // A box the body fills in (IdempotencyKey): an AsyncLocal set inside the body would not flow back out here.
        var generated = new StrongBox<string?>();
        GeneratedKey.Value = generated;
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception problem) when (problem is not OperationCanceledException)
        {
            return Report(problem, error, WantsJson(result), ServerOf(result), generated.Value);
        }
        finally
        {
            GeneratedKey.Value = null;
        }
    }

    /// <summary>
    /// The request's idempotency key: the value of <paramref name="option"/> (<c>--idempotency-key</c>), or a new GUID
    /// (<see cref="Guid.ToString(string)"/> with <paramref name="format"/>). A generated key is shown with a failure after
    /// which the request may have reached the server (<see cref="RunAsync"/>), so the user can retry that request rather
    /// than send a new one.
    /// </summary>
    public static string IdempotencyKey(ParseResult result, Option<string?> option, string format = "D")
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.GetValue(option) is { } given)
        {
            return given;
        }

        var key = Guid.NewGuid().ToString(format);
        if (GeneratedKey.Value is { } box)
        {
            box.Value = key;
        }

        return key;
    }

    /// <summary>
    /// Reports <paramref name="problem"/> and returns its exit code. <paramref name="generatedKey"/>, the idempotency key
    /// the CLI generated for the request (null when the user gave one, or the command sends none), is shown with every
    /// failure a retry could mend (the connection, UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, CANCELLED, UNKNOWN,
    /// INTERNAL, RESOURCE_EXHAUSTED): the request may have reached the server, and only the same key retries it.
    /// </summary>
    public static int Report(Exception problem, TextWriter error, bool json, string? server, string? generatedKey = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(error);
        switch (problem)
        {
            case CliInputException input:
                return Usage(error, json, input.Message);
            case RpcException rpc when IsConnectionFailure(rpc, out var why, out var lost):
                var address = Authority(server);
                var message = lost
                    ? $"the connection to {address} was lost during the call ({why}): the request may have been carried out or not"
                    : $"cannot connect to {address}: {why}";
                Write(error, json, "connection", ExitFailure, message, w =>
                {
                    w.WriteString("address", address);
                    w.WriteBoolean("lost_during_call", lost);
                    if (generatedKey is not null)
                    {
                        w.WriteString("idempotency_key", generatedKey);
                    }
                });
                if (!json && generatedKey is not null)
                {
                    error.WriteLine(RetryKeyLine(generatedKey));
                }

                return ExitFailure;
            case RpcException rpc:
                ServerError(rpc, error, json, IsRetryable(rpc.StatusCode) ? generatedKey : null);
                return ExitFailure;
            default:
                // A library's message can quote input: only the type is shown.
                Write(error, json, "internal", ExitFailure, $"unexpected failure in the CLI ({problem.GetType().Name}); nothing further was sent", null);
                return ExitFailure;
        }
    }

    /// <summary>
    /// A command that did what it could and left the rest to be run again (not a failure): <paramref name="message"/> as
    /// one line on <paramref name="error"/>, or with <c>--json</c> the JSON object of kind <c>not_finished</c>; returns
    /// <paramref name="exitCode"/>.
    /// </summary>
    public static int NotFinished(TextWriter error, bool json, int exitCode, string message)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (json)
        {
            Write(error, json, "not_finished", exitCode, OneLine(message), null);
        }
        else
        {
            error.WriteLine(SensitiveDataScrubber.Scrub(OneLine(message)));
        }

        return exitCode;
    }

    /// <summary>One usage line (or JSON object); returns <see cref="ExitUsage"/>.</summary>
    public static int Usage(TextWriter error, bool json, string message)
    {
        Write(error, json, "usage", ExitUsage, OneLine(message), null);
        return ExitUsage;
    }

    /// <summary>
    /// The parser's message for a bad command line, made safe and short: one line, prefixed with the option it concerns,
    /// and every quoted text replaced (the parser quotes unknown tokens, refused values and parts of an argument such as
    /// the value of <c>--json=value</c>), except a name the CLI defines and an unknown option made of letters and dashes,
    /// which is named so the user sees the typo. A command that needs a
    /// subcommand and got none or an unknown word is answered with the command and its valid subcommands.
    /// </summary>
    public static string ParseMessage(System.CommandLine.Parsing.ParseError problem, IReadOnlyCollection<string> args, RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(root);
        if (problem.SymbolResult is System.CommandLine.Parsing.CommandResult { Command.Subcommands.Count: > 0 } group)
        {
            return MissingCommand(group, args);
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        Collect(root, names);
        // Quoted text is shown only when it is a name the CLI defines or an option-shaped word (letters and dashes), never
        // because it "is not what the user typed": the parser quotes parts of an argument too (the value of
        // `--json=value`), and a part cannot be matched reliably against whole arguments.
        var message = Quoted().Replace(
            problem.Message,
            m => names.Contains(m.Groups[1].Value) || OptionLike().IsMatch(m.Groups[1].Value) ? m.Value : "(a value, not shown)");
        message = OneLine(message);
        var option = problem.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o.Option.Name,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o.Option.Name,
            _ => null,
        };
        return option is null || message.StartsWith(option, StringComparison.Ordinal) ? message : $"{option}: {message}";
    }

    /// <summary>True when <paramref name="result"/> asked for JSON output (the root's recursive <c>--json</c>).</summary>
    public static bool WantsJson(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        try
        {
            return result.RootCommandResult.Command.Options.OfType<Option<bool>>().FirstOrDefault(o => o.Name == "--json") is { } json
                && result.GetValue(json);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// A command that needs a subcommand got none, or a word that is none of them (<c>audit exprot</c>): names the
    /// command and its subcommands, and the word typed only when it is made of letters and dashes (a word with digits
    /// could be card data, so it is never echoed).
    /// </summary>
    private static string MissingCommand(System.CommandLine.Parsing.CommandResult group, IReadOnlyCollection<string> args)
    {
        var path = new List<System.CommandLine.Parsing.CommandResult>();
        for (System.CommandLine.Parsing.SymbolResult? at = group; at is not null; at = at.Parent)
        {
            if (at is System.CommandLine.Parsing.CommandResult command)
            {
                path.Insert(0, command);
            }
        }

        // The word after the command's own name, skipping options (and the value of each option that takes one).
        var valued = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in path)
        {
            foreach (var option in command.Command.Options.Where(o => o.Arity.MaximumNumberOfValues > 0))
            {
                valued.Add(option.Name);
                valued.UnionWith(option.Aliases);
            }
        }

        var list = args.ToList();
        var next = 0;
        foreach (var command in path.Skip(1))
        {
            next = list.IndexOf(command.Command.Name, next) + 1;
        }

        string? typed = null;
        for (var i = next; i < list.Count; i++)
        {
            if (list[i].StartsWith('-'))
            {
                i += valued.Contains(list[i]) ? 1 : 0;
                continue;
            }

            typed = list[i];
            break;
        }

        var name = path.Count > 1 ? string.Join(' ', path.Skip(1).Select(c => c.Command.Name)) : "tokenizer";
        var expected = string.Join(", ", group.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        var what = typed is null ? "a command is required"
            : CommandLike().IsMatch(typed) ? $"unknown command '{typed}'"
            : "unknown command (not shown)";
        return $"{name}: {what}; expected one of: {expected}";
    }

    private static string? ServerOf(ParseResult result)
    {
        try
        {
            return result.RootCommandResult.Command.Options.OfType<Option<string>>().FirstOrDefault(o => o.Name == "--server") is { } server
                ? result.GetValue(server)
                : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsRetryable(StatusCode code) => code is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Aborted or StatusCode.Cancelled or StatusCode.Unknown or StatusCode.Internal or StatusCode.ResourceExhausted;

    private static string RetryKeyLine(string key) =>
        $"  idempotency key: {key} (generated by the CLI: to retry this request rather than send a new one, pass --idempotency-key {key})";

    private static void ServerError(RpcException exception, TextWriter error, bool json, string? generatedKey)
    {
        var status = exception.GetRpcStatus();
        var info = status?.GetDetail<Google.Rpc.ErrorInfo>();
        var badRequest = status?.GetDetail<Google.Rpc.BadRequest>();
        var retry = status?.GetDetail<Google.Rpc.RetryInfo>();
        var retryAfter = retry?.RetryDelay is { } delay ? (long?)Math.Max(1, (long)Math.Ceiling(delay.ToTimeSpan().TotalSeconds)) : null;
        var hint = exception.StatusCode == StatusCode.Aborted
            ? retryAfter is { } seconds
                ? string.Create(CultureInfo.InvariantCulture, $"retry with the same --idempotency-key after {seconds} s (a key whose request died with its server is free again after Tokenizer:PendingLeaseSeconds, default 120 s)")
                : "retry with the same --idempotency-key after a few seconds; a key whose request died is free again after Tokenizer:PendingLeaseSeconds (default 120 s)"
            : null;
        if (json)
        {
            Write(error, json: true, "server", ExitFailure, OneLine(exception.Status.Detail), w =>
            {
                w.WriteString("status", CanonicalName(exception.StatusCode));
                if (info is not null)
                {
                    w.WriteString("reason", info.Reason);
                    w.WriteStartObject("metadata");
                    foreach (var (key, value) in info.Metadata)
                    {
                        w.WriteString(key, value);
                    }

                    w.WriteEndObject();
                }

                if (badRequest is not null)
                {
                    w.WriteStartArray("field_violations");
                    foreach (var violation in badRequest.FieldViolations)
                    {
                        w.WriteStartObject();
                        w.WriteString("field", violation.Field);
                        w.WriteString("description", violation.Description);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }

                if (retryAfter is { } after)
                {
                    w.WriteNumber("retry_after_seconds", after);
                }

                if (hint is not null)
                {
                    w.WriteString("hint", hint);
                }

                if (generatedKey is not null)
                {
                    w.WriteString("idempotency_key", generatedKey);
                }
            });
            return;
        }

        error.WriteLine($"error: {exception.StatusCode}: {SensitiveDataScrubber.Scrub(OneLine(exception.Status.Detail))}");
        if (info is not null)
        {
            error.WriteLine($"  reason: {info.Reason}");
            foreach (var (key, value) in info.Metadata)
            {
                error.WriteLine($"  {key}: {value}");
            }
        }

        foreach (var violation in badRequest?.FieldViolations ?? [])
        {
            error.WriteLine($"  {violation.Field}: {violation.Description}");
        }

        if (hint is not null)
        {
            error.WriteLine($"  {hint}");
        }

        if (generatedKey is not null)
        {
            error.WriteLine(RetryKeyLine(generatedKey));
        }
    }

    // The client's own failures to reach the server (no answer from it): refused, unresolvable, TLS refused, timed out.
    /// <summary>
    /// Whether the call failed on its connection: one never made (<paramref name="lostDuringCall"/> false: refused, no
    /// such host, TLS), or one lost after the request could have been sent (true: the stream reset, the response ended,
    /// the connection reset, as when the server process dies mid-call).
    /// </summary>
    private static bool IsConnectionFailure(RpcException exception, out string why, out bool lostDuringCall)
    {
        why = string.Empty;
        lostDuringCall = false;
        if (exception.StatusCode != StatusCode.Unavailable && exception.StatusCode != StatusCode.Internal)
        {
            return false;
        }

        for (var inner = exception.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown } reset:
                    why = "connection reset (" + reset.SocketErrorCode + ")";
                    lostDuringCall = true;
                    return true;
                case SocketException socket:
                    why = socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused (is the server running on this address?)",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                        SocketError.TimedOut => "timed out",
                        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "unreachable",
                        _ => "network error " + socket.SocketErrorCode,
                    };
                    return true;
                case AuthenticationException:
                    why = "TLS handshake failed (does --ca hold the CA of the server's certificate, and is this the Tokenizer server?)";
                    return true;
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded or HttpRequestError.HttpProtocolError } ended:
                    why = ended.HttpRequestError == HttpRequestError.ResponseEnded ? "the response ended early" : "the server reset the stream";
                    lostDuringCall = true;
                    return true;
                case HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }:
                    why = "the response ended early";
                    lostDuringCall = true;
                    return true;
                case HttpRequestException:
                    why = "no HTTP/2 connection could be made";
                    if (inner.InnerException is null)
                    {
                        return true;
                    }

                    break;
                default:
                    break;
            }
        }

        return why.Length > 0;
    }

    private static string Authority(string? server) =>
        Uri.TryCreate(server, UriKind.Absolute, out var uri) && AddressLike().IsMatch(uri.Authority)
            ? $"{uri.Scheme}://{uri.Authority}"
            : "(the --server address)";

    private static void Write(TextWriter error, bool json, string kind, int exitCode, string message, Action<Utf8JsonWriter>? more)
    {
        // A message may quote what the user typed (a path, an address): never a card or bank number inside it.
        message = SensitiveDataScrubber.Scrub(message) ?? string.Empty;
        if (!json)
        {
            error.WriteLine($"error: {message}");
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("kind", kind);
            writer.WriteNumber("exit_code", exitCode);
            writer.WriteString("message", message);
            more?.Invoke(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        error.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // PermissionDenied -> PERMISSION_DENIED, the canonical gRPC name.
    private static string CanonicalName(StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();

    private static string OneLine(string? message) => Whitespace().Replace(message ?? string.Empty, " ").Trim();

    private static void Collect(Command command, HashSet<string> names)
    {
        names.Add(command.Name);
        foreach (var alias in command.Aliases)
        {
            names.Add(alias);
        }

        foreach (var option in command.Options)
        {
            names.Add(option.Name);
            foreach (var alias in option.Aliases)
            {
                names.Add(alias);
            }

            // The values an option accepts (AcceptOnlyFromAmong, enums) are words the CLI defines: a refusal lists them.
            foreach (var choice in option.GetCompletions(System.CommandLine.Completions.CompletionContext.Empty))
            {
                names.Add(choice.Label);
            }
        }

        foreach (var child in command.Subcommands)
        {
            Collect(child, names);
        }
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();

    /// <summary>An unknown option as typed (<c>--colour</c>): letters and dashes only, so it can hold no number to hide.</summary>
    [GeneratedRegex("^-{1,2}[A-Za-z][A-Za-z-]{0,39}$")]
    private static partial Regex OptionLike();

    /// <summary>A subcommand as typed (<c>exprot</c>): letters and dashes only, so it can hold no number to hide.</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z-]{0,39}$")]
    private static partial Regex CommandLike();

    /// <summary>A host and port in ASCII letters, digits, dots, dashes (and an IPv6 literal's brackets and colons): shown.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9.\-\[\]:]{1,253}$")]
    private static partial Regex AddressLike();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
