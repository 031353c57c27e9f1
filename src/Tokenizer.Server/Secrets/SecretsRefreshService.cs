using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Secrets;

/// <summary>
/// Loads the secrets when the host starts (a failure stops start-up, before the embedded sandbox, the ledger or
/// Kestrel start) and, with Key Vault, re-reads the Stripe API key every <c>KeyVault:RefreshSeconds</c>.
/// </summary>
internal sealed class SecretsRefreshService(TokenizerSecrets secrets, IOptions<KeyVaultOptions> options, TimeProvider timeProvider)
    : BackgroundService
{
    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A secret is missing, malformed or unreachable.</exception>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        secrets.EnsureLoaded();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!secrets.CanRefresh)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RefreshSeconds), timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await secrets.RefreshAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }
}
