using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// A real Development server with its embedded sandbox on a temp data directory, and the CLI run as
/// <c>Program.cs</c> runs it against that server (its PKI found through <c>Tokenizer__DataDirectory</c>).
/// </summary>
public sealed class CliServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly string directory;
    private readonly Dictionary<string, string> environment;
    private readonly string address;

    private CliServer(WebApplication app, string directory)
    {
        this.app = app;
        this.directory = directory;
        environment = new Dictionary<string, string> { ["Tokenizer__DataDirectory"] = directory };
        address = app.Urls.First();
    }

    /// <summary>Starts a server on a new temp directory named from <paramref name="prefix"/>.</summary>
    public static async Task<CliServer> StartAsync(string prefix)
    {
        var directory = Directory.CreateTempSubdirectory(prefix).FullName;
        var app = TokenizerHost.Build(
            ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development"],
            builder => builder.Logging.ClearProviders());
        await app.StartAsync();
        return new CliServer(app, directory);
    }

    /// <summary>The CLI with <paramref name="args"/> and <c>--server</c> this server; exit code, standard output and error.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunAsync(string stdin, params string[] args) =>
        CliFixture.RunAsync(stdin, environment, [.. args, "--server", address]);

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        CliFixture.TryDelete(directory);
    }
}
