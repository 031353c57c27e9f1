using System.Security.Cryptography;

namespace Tokenizer.Server.Hosting;

/// <summary>Loads or creates local secret files (embedded defaults only; production passes secrets by configuration).</summary>
internal static class SecretFiles
{
    private const int SecretBytes = 32;

    /// <summary>Decodes a base64 secret of at least 32 bytes.</summary>
    public static bool TryDecodeSecret(string value, out byte[] secret)
    {
        secret = [];
        var buffer = new byte[value.Length];
        if (!Convert.TryFromBase64String(value, buffer, out var written) || written < SecretBytes)
        {
            return false;
        }

        secret = buffer[..written];
        return true;
    }

    /// <summary>
    /// Reads 32+ random bytes from <paramref name="path"/>, creating the file (owner read/write only) on first use.
    /// Written to a temp file and moved, so a crash never leaves a short secret.
    /// </summary>
    public static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllBytes(path);
            if (existing.Length < SecretBytes)
            {
                throw new InvalidOperationException($"secret file {Path.GetFileName(path)} is too short");
            }

            return existing;
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var secret = RandomNumberGenerator.GetBytes(SecretBytes);
        var temp = path + ".tmp";
        var streamOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, streamOptions))
        {
            stream.Write(secret);
            stream.Flush(flushToDisk: true);
        }

        try
        {
            // Another process may have won the race: keep its secret.
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return File.ReadAllBytes(path);
        }

        return secret;
    }
}
