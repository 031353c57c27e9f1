using Azure;
using Azure.Security.KeyVault.Secrets;

namespace Tokenizer.Server.Audit;

/// <summary>
/// Where the sealed audit anchor (the chain head, see <c>AuditKeyRing.Seal</c>) is kept, outside the ledger database.
/// The text is not secret (a sequence, a MAC and a seal), only its integrity matters, and the seal provides that.
/// </summary>
internal interface IAuditAnchorStore
{
    /// <summary>Where the anchor lives, for messages (a path or a Key Vault secret setting; never a value).</summary>
    string Description { get; }

    /// <summary>The stored anchor text; null when none was written yet.</summary>
    /// <exception cref="IOException">The store could not be read.</exception>
    Task<string?> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Replaces the stored anchor text, durably, all or nothing.</summary>
    /// <exception cref="IOException">The store could not be written.</exception>
    Task WriteAsync(string sealedAnchor, CancellationToken cancellationToken);
}

/// <summary>
/// The anchor in a file of its own (default <c>{DataDirectory}/anchor/audit-anchor.json</c>; directory 0700, file
/// 0600), replaced atomically: written to a temporary file in the same directory, flushed to disk, then renamed over the
/// old one, so a crash leaves the old anchor or the new one, never a torn one.
/// </summary>
internal sealed class FileAuditAnchorStore : IAuditAnchorStore
{
    private readonly string path;

    /// <param name="path">The anchor file; its directory is created owner-only when missing.</param>
    public FileAuditAnchorStore(string path)
    {
        this.path = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(this.path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Description => "file " + path;

    public async Task<string?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task WriteAsync(string sealedAnchor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sealedAnchor);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temporary, options))
            {
                await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(sealedAnchor), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}

/// <summary>
/// The anchor in an Azure Key Vault secret (<c>KeyVault:AuditAnchorSecretName</c>), each write a new version. Whoever
/// can edit the host's files and database cannot move it, as long as the service identity is the only writer.
/// </summary>
internal sealed class KeyVaultAuditAnchorStore(SecretClient client, string secretName) : IAuditAnchorStore
{
    public string Description => $"Key Vault secret '{secretName}' (KeyVault:AuditAnchorSecretName)";

    public async Task<string?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return (await client.GetSecretAsync(secretName, version: null, cancellationToken).ConfigureAwait(false)).Value.Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e)
        {
            throw new IOException($"KeyVault:AuditAnchorSecretName: the anchor could not be read ({Secrets.SecretRules.Describe(e)})", e);
        }
    }

    public async Task WriteAsync(string sealedAnchor, CancellationToken cancellationToken)
    {
        try
        {
            await client.SetSecretAsync(new KeyVaultSecret(secretName, sealedAnchor), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e)
        {
            throw new IOException($"KeyVault:AuditAnchorSecretName: the anchor could not be written ({Secrets.SecretRules.Describe(e)})", e);
        }
    }
}
