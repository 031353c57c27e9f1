using Microsoft.Extensions.Options;
using Tokenizer.Server.Logging;
using Tokenizer.StripeSandbox;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// Runs the Stripe sandbox in-process on a loopback port when no Stripe key is configured, neither Stripe:ApiKey nor
/// Key Vault (<see cref="Secrets.ITokenizerSecrets.UsesEmbeddedSandbox"/>; the embedded default).
/// Stripe.net still talks to it over real HTTP. Its state lives under <c>{DataDirectory}/sandbox</c>. In Development its
/// control endpoints are on, behind a token that only the data directory's owner can read (<see cref="SandboxControlFiles"/>).
/// Composed outside Production only (<see cref="EmbeddedSandboxComposition"/>); a start-up step of <see cref="StartupSequence"/>.
/// </summary>
public sealed class EmbeddedSandbox(
    IOptions<StripeSettings> settings, Secrets.ITokenizerSecrets secrets, Gateways.Stripe.IStripeApiKeyProvider apiKeys, DataDirectory dataDirectory, IHostEnvironment environment, Security.TlsMaterial tls)
    : IHostedService, IEmbeddedSandbox, IAsyncDisposable
{
    private StripeSandboxServer? server;

    /// <summary>
    /// The one key the running sandbox accepts (random per start, the same the Stripe client sends), for code in this
    /// process such as tests that inspect the sandbox; null when the sandbox is not running. Never logged or written.
    /// </summary>
    public string? ApiKey { get; private set; }

    /// <summary>The sandbox's base address; only valid once started.</summary>
    public Uri BaseAddress => server?.BaseAddress ?? throw new InvalidOperationException("the embedded Stripe sandbox is not running");

    /// <summary>The running sandbox, for tests that count what it holds; null when a real gateway is configured.</summary>
    public StripeSandboxServer? Server => server;

    /// <inheritdoc />
    Uri? IEmbeddedSandbox.Address => server?.BaseAddress;

    /// <inheritdoc />
    string IEmbeddedSandbox.AddWebhookEndpoint(string url, string secret, IEnumerable<string> eventTypes) =>
        (server ?? throw new InvalidOperationException("the embedded Stripe sandbox is not running")).Webhooks.AddEndpoint(url, secret, eventTypes);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // A file left by an earlier Development run must not send the CLI to a sandbox that this run does not offer.
        // (Only looked for: a server with Key Vault or a Stripe key creates no secrets folder.)
        SandboxControlFiles.DeleteAddress(Path.Combine(dataDirectory.Root, "secrets"));
        if (!secrets.UsesEmbeddedSandbox)
        {
            return;
        }

        // Random per start (see TokenizerSecrets.EmbeddedSandboxApiKey): a fixed key would let any local process read
        // the billing details the sandbox holds.
        var apiKey = apiKeys.CurrentApiKey;
        var options = new StripeSandboxOptions
        {
            DataDirectory = dataDirectory.Subdirectory("sandbox"),
            ApiKey = apiKey,
            RawCardDataEnabled = settings.Value.SandboxRawCardDataEnabled,
            Urls = "http://127.0.0.1:0",

            // Its log lines reach this process's console: through the same redacting, scrubbing sink.
            ConfigureLogging = logging => logging.AddTokenizerLogging(),

            // SIGTERM is this host's to handle: the sandbox keeps answering while in-flight calls drain.
            HostedInProcess = true,

            // Its webhook deliveries reach this host's own HTTPS listener, whose certificate the development CA issued.
            WebhookTrustedCaPath = tls.PkiDirectory is { } pki ? Path.Combine(pki, "ca.crt") : null,

            // Development only: lets the operator fire what Stripe does behind our back (tokenizer sandbox ...).
            ControlToken = environment.IsDevelopment() ? SandboxControlFiles.LoadOrCreateToken(dataDirectory.Subdirectory("secrets")) : null,
        };
        server = await StripeSandboxServer.StartAsync(options, environment.EnvironmentName, cancellationToken).ConfigureAwait(false);
        ApiKey = apiKey;
        if (options.ControlToken is not null)
        {
            SandboxControlFiles.WriteAddress(dataDirectory.Subdirectory("secrets"), server.BaseAddress);
        }

        if (settings.Value.SandboxLatencyMs > 0 && environment.IsDevelopment())
        {
            // A standing latency rule (Development only, validated): keeps calls in flight for shutdown tests and demos.
            server.Faults.Add("*", SandboxFault.Latency(TimeSpan.FromMilliseconds(settings.Value.SandboxLatencyMs)), count: SandboxFaultRule.Unlimited);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            SandboxControlFiles.DeleteAddress(Path.Combine(dataDirectory.Root, "secrets"));
            await server.DisposeAsync().ConfigureAwait(false);
            server = null;
        }
    }
}

/// <summary>
/// Applies ledger migrations before the server takes calls. A SQLite ledger file that cannot be used (damaged,
/// truncated, not a database, unreadable) stops start-up with a <see cref="StartupException"/> naming the file and
/// <c>Tokenizer:DataDirectory</c>, like every other refusal, instead of an unhandled exception and an abort.
/// </summary>
internal sealed class LedgerInitializer(Tokenizer.Core.Ports.ILedgerSchema ledger, DataDirectory dataDirectory) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ledger.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (ledger is Tokenizer.Ledger.SqliteTokenLedger && Describe(error) is { } cause)
        {
            throw new StartupException(
                $"Tokenizer:DataDirectory: the ledger file {dataDirectory.LedgerFile} cannot be used ({cause}); restore it from a backup, or start with another Tokenizer:DataDirectory",
                error);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>SQLite's own codes only (its messages are fixed texts, but codes are all an operator needs); null for anything else.</summary>
    private static string? Describe(Exception error) => error switch
    {
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 11 } => "SQLite error 11: the file is damaged or truncated",
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 26 } => "SQLite error 26: not a database file",
        Microsoft.Data.Sqlite.SqliteException sqlite => $"SQLite error {sqlite.SqliteErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        Tokenizer.Core.Errors.TokenizerException { Reason: Tokenizer.Core.Errors.ErrorReasons.LedgerUnavailable } => "it cannot be read or written",
        _ => null,
    };
}
