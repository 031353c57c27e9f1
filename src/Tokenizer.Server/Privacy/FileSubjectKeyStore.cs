using Tokenizer.Core.Privacy;

namespace Tokenizer.Server.Privacy;

/// <summary>
/// The default <see cref="ISubjectKeyStore"/>: one file per subject, <c>{DataDirectory}/subject-keys/{pseudonym}.key</c>
/// (folder 0700, files 0600), holding the Data Protection payload that wraps the subject's data key. It lives next to the
/// key ring and outside the ledger database, so a copy of the database holds ciphertexts but no key: once a subject's file
/// is deleted, no copy of its records can be decrypted with the service's key ring. Thread-safe; first writer wins.
/// </summary>
/// <remarks>
/// Deleting a file does not scrub its blocks from the disk or from file-system snapshots and backups of the data
/// directory; the bytes left behind are still a Data Protection payload, readable only with the key ring (and its
/// certificate). Backups of this folder and of the key ring therefore bound how long an erased subject stays readable;
/// THREAT_MODEL.md says how.
/// </remarks>
internal sealed class FileSubjectKeyStore(string directory) : ISubjectKeyStore
{
    public async Task<byte[]?> FindAsync(string subject, CancellationToken cancellationToken)
    {
        var path = PathOf(subject);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public async Task<byte[]> AddAsync(string subject, byte[] wrappedKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wrappedKey);
        var path = PathOf(subject);
        var temporary = Path.Combine(directory, $".{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            await using (var stream = new FileStream(temporary, options))
            {
                await stream.WriteAsync(wrappedKey, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            // No overwrite: of two first writers exactly one key lands, and both read it back.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another writer stored the subject's key first.
        }
        finally
        {
            File.Delete(temporary);
        }

        return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
    }

    public Task DestroyAsync(string subject, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(subject));
        return Task.CompletedTask;
    }

    private string PathOf(string subject)
    {
        // Pseudonyms are "subj_" and lower-case letters: nothing else ever becomes a path.
        if (!subject.StartsWith(SubjectPseudonyms.Prefix, StringComparison.Ordinal)
            || subject.Length > 64
            || subject.Length == SubjectPseudonyms.Prefix.Length
            || subject.AsSpan(SubjectPseudonyms.Prefix.Length).ContainsAnyExceptInRange('a', 'z'))
        {
            throw new ArgumentException("not a subject pseudonym", nameof(subject));
        }

        return Path.Combine(directory, subject + ".key");
    }
}
