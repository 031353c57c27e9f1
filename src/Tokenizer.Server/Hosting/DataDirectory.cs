using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Hosting;

/// <summary>The one directory that holds all of the service's state (Tokenizer:DataDirectory).</summary>
public sealed class DataDirectory(IOptions<TokenizerOptions> options)
{
    /// <summary>
    /// The absolute path of the data directory. When it does not exist it is created owner-only (0700): it holds personal
    /// data and secrets. An existing directory keeps its mode (it may be shared; its owner decides).
    /// </summary>
    public string Root { get; } = CreateOwnerOnly(Path.GetFullPath(options.Value.DataDirectory));

    /// <summary>The SQLite ledger file (<c>{Root}/ledger/tokenizer.db</c>); its <c>-wal</c> and <c>-shm</c> files sit beside it.</summary>
    public string LedgerFile => Path.Combine(Root, "ledger", "tokenizer.db");

    /// <summary>A subdirectory of the data directory, created if missing.</summary>
    public string Subdirectory(string name) => CreateOwnerOnly(Path.Combine(Root, name));

    private static string CreateOwnerOnly(string path)
    {
        // Only a folder this creates gets 0700; an existing one keeps the mode its owner chose.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
