using System.Collections.Concurrent;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.StripeSandbox;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The real server on real Kestrel (loopback, ephemeral port, HTTP/2) with the embedded sandbox that Stripe.net reaches
/// over real HTTP, and a real SQLite ledger in a temporary data directory. Logs are captured for leak checks.
/// </summary>
public sealed class TokenizerServerFixture : IAsyncLifetime
{
    private readonly string[] extraArgs;
    private readonly bool ownsDirectory;

    public TokenizerServerFixture()
        : this(null, [])
    {
    }

    internal TokenizerServerFixture(string? dataDirectory, params string[] extraArgs)
    {
        this.extraArgs = extraArgs;
        ownsDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("tokenizer-it-").FullName;
    }

    public string DataDirectory { get; }

    public WebApplication App { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    /// <summary>The billing service (role tokenize).</summary>
    public TokenizerService.TokenizerServiceClient Client { get; private set; } = null!;

    /// <summary>Finance staff (role finance).</summary>
    public TokenizerService.TokenizerServiceClient Finance { get; private set; } = null!;

    /// <summary>An administrator (role admin).</summary>
    public TokenizerService.TokenizerServiceClient Admin { get; private set; } = null!;

    public string PkiDirectory => Path.Combine(DataDirectory, "pki");

    private readonly List<GrpcChannel> channels = [];

    /// <summary>A channel presenting <c>{pki}/{name}.crt</c> (or no certificate), disposed with the fixture.</summary>
    public GrpcChannel ChannelFor(string? name)
    {
        var channel = TestChannels.Create(Address, PkiDirectory, name);
        channels.Add(channel);
        return channel;
    }

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>Adds services to the host before it is built (e.g. a tracer provider with an in-memory exporter).</summary>
    public Action<WebApplicationBuilder>? ConfigureHost { get; init; }

    public Uri Address { get; private set; } = null!;

    public StripeSandboxServer Sandbox => App.Services.GetRequiredService<EmbeddedSandbox>().Server
        ?? throw new InvalidOperationException("no embedded sandbox");

    public async Task InitializeAsync()
    {
        string[] args =
        [
            "--urls", "https://127.0.0.1:0",
            $"--Tokenizer:DataDirectory={DataDirectory}",
            "--environment", "Development",
            "--Logging:LogLevel:Default=Debug",
            .. extraArgs,
        ];
        App = TokenizerHost.Build(args, builder =>
        {
            builder.Logging.AddProvider(Logs);
            ConfigureHost?.Invoke(builder);
        });
        await App.StartAsync();
        var addresses = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!;
        Address = new Uri(addresses.Addresses.First());
        Channel = ChannelFor("billing");
        Client = new TokenizerService.TokenizerServiceClient(Channel);
        Finance = new TokenizerService.TokenizerServiceClient(ChannelFor("finance"));
        Admin = new TokenizerService.TokenizerServiceClient(ChannelFor("admin"));
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in channels)
        {
            channel.Dispose();
        }

        await App.StopAsync();
        await App.DisposeAsync();
        if (ownsDirectory)
        {
            TryDelete(DataDirectory);
        }
    }

    internal static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A test's leftovers in the temp folder are harmless; never fail a run over them.
        }
    }
}

/// <summary>Records every formatted log line, with its exception, for leak checks.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            lines.Enqueue($"{logLevel} {category} {eventId} {formatter(state, exception)} {structured} {exception}");
        }
    }
}
