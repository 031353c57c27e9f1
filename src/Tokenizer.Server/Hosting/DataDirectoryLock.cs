namespace Tokenizer.Server.Hosting;

/// <summary>
/// One server per data directory: an exclusive lock on <c>{DataDirectory}/.lock</c> (owner-only, kept after exit; the
/// lock, not the file, is what counts), taken before anything else touches the directory and held until the host is
/// disposed. The operating system releases it when the process ends, however it ends.
/// </summary>
/// <remarks>
/// A byte-range lock (<see cref="FileStream.Lock"/>: <c>fcntl</c> on Unix) on a file opened shared, so scanners and backups
/// can still open and read every file of the directory; it excludes other processes only (another host in this process
/// would not be refused).
/// </remarks>
public sealed class DataDirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside the data directory.</summary>
    public const string FileName = ".lock";

    private readonly FileStream stream;

    /// <exception cref="StartupException">Another process holds the lock, or the file cannot be opened.</exception>
    public DataDirectoryLock(DataDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var path = Path.Combine(directory.Root, FileName);
        var options = new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            stream = new FileStream(path, options);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"Tokenizer:DataDirectory: cannot open the lock file {path} ({error.GetType().Name}); check the directory's owner and mode", error);
        }

        try
        {
            // Not on macOS (FileStream.Lock is unsupported there): one server per directory is then the operator's rule.
            if (!OperatingSystem.IsMacOS())
            {
                stream.Lock(0, 1);
            }
        }
        catch (IOException error)
        {
            stream.Dispose();
            throw new StartupException(
                $"Tokenizer:DataDirectory: {directory.Root} is in use by another process (another Tokenizer server holds {path}); stop it or start this one with another data directory",
                error);
        }
    }

    /// <summary>The absolute path of the lock file.</summary>
    public string LockPath => stream.Name;

    /// <summary>Releases the lock.</summary>
    public void Dispose() => stream.Dispose();
}
