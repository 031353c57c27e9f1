using System.Text;

namespace Tokenizer.Server.Secrets;

/// <summary>The local Data Protection certificate file: created once, owner-only, never half-written.</summary>
internal static class LocalCertificateFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerReadWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Reads the PEM at <paramref name="path"/>, or writes the one <paramref name="create"/> makes: to a 0600 temp file,
    /// flushed, then moved into place (directory 0700), so a crash never leaves a partial key. If another process wins
    /// the race, its file is kept.
    /// </summary>
    public static string LoadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, OwnerOnlyDirectory);
        }

        var content = create();
        var temp = $"{path}.{Path.GetRandomFileName()}.tmp";
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = OwnerReadWrite;
        }

        using (var stream = new FileStream(temp, streamOptions))
        {
            stream.Write(Encoding.ASCII.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }

        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return File.ReadAllText(path);
        }

        return content;
    }
}
