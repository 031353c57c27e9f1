using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// The start line (Information, event <c>TokenizerStarted</c>): the addresses served, the absolute data directory, and a
/// CLI command that reaches this server as started (its address, and the development PKI of this data directory or the
/// certificate options when the PKI is configured). Paths and addresses only: nothing secret.
/// </summary>
internal sealed partial class StartupBanner(
    IHostApplicationLifetime lifetime, IServer server, DataDirectory dataDirectory, TlsMaterial tls, ILogger<StartupBanner> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Addresses are known once Kestrel has bound them (port 0 becomes a real port).
        lifetime.ApplicationStarted.Register(() =>
        {
            if (!logger.IsEnabled(LogLevel.Information))
            {
                return;
            }

            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            var address = addresses.FirstOrDefault() ?? "https://127.0.0.1:5055";
            var cli = CliLine(address, dataDirectory.Root, tls.PkiDirectory);
            var served = string.Join(", ", addresses);
            LogStarted(logger, served, dataDirectory.Root, cli);
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A command line that lists tokens on this server with the CLI (scripts/tokenizer.sh).</summary>
    internal static string CliLine(string address, string dataDirectory, string? pkiDirectory)
    {
        if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return $"scripts/tokenizer.sh --server {address} tokens list";
        }

        return pkiDirectory is not null
            ? $"scripts/tokenizer.sh --server {address} --pki {Quote(pkiDirectory)} tokens list (or export TOKENIZER_SERVER={address} Tokenizer__DataDirectory={Quote(dataDirectory)})"
            : $"scripts/tokenizer.sh --server {address} --cert CLIENT.crt --key CLIENT.key --ca CA.crt tokens list";
    }

    // Single quotes for the shell when the path holds anything but plain path characters.
    private static string Quote(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '@' or ',')
            ? path
            : "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [LoggerMessage(
        EventId = 1010,
        EventName = "TokenizerStarted",
        Level = LogLevel.Information,
        Message = "Tokenizer started on {Addresses}; data directory {DataDirectory}; CLI: {CliLine}")]
    private static partial void LogStarted(ILogger logger, string addresses, string dataDirectory, string cliLine);
}
