using System.Security.Cryptography;
using System.Text;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// How a local operator drives the embedded Stripe sandbox from another terminal (<c>tokenizer sandbox ...</c>), in
/// Development only: the sandbox's control token in <c>{DataDirectory}/secrets/sandbox-control.token</c> (random, made
/// once per data directory, owner read/write only) and its loopback address in
/// <c>{DataDirectory}/secrets/sandbox-control.url</c> (written at each start, removed at stop and whenever the server
/// starts without a controllable sandbox). Neither file holds the sandbox's API key, which stays in memory.
/// </summary>
internal static class SandboxControlFiles
{
    /// <summary>The token file's name under <c>{DataDirectory}/secrets</c>.</summary>
    public const string TokenFile = "sandbox-control.token";

    /// <summary>The address file's name under <c>{DataDirectory}/secrets</c>.</summary>
    public const string AddressFile = "sandbox-control.url";

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>The token from <c>{secrets}/sandbox-control.token</c>, generated (43 letters and digits, 0600) on first use.</summary>
    /// <exception cref="InvalidOperationException">The file holds something else than a token of 32 to 256 letters and digits.</exception>
    public static string LoadOrCreateToken(string secretsDirectory)
    {
        var path = Path.Combine(secretsDirectory, TokenFile);
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            return existing.Length is >= 32 and <= 256 && existing.All(c => Alphabet.Contains(c, StringComparison.Ordinal))
                ? existing
                : throw new InvalidOperationException($"secret file {TokenFile} is not a sandbox control token; delete it to have a new one made");
        }

        var token = RandomNumberGenerator.GetString(Alphabet, 43);
        return WriteOwnerOnly(path, token, overwrite: false) ? token : File.ReadAllText(path).Trim();
    }

    /// <summary>
    /// Writes the sandbox's base address (<c>http://127.0.0.1:port</c>, no trailing slash, so that a shell's
    /// <c>"$(cat sandbox-control.url)/_sandbox/faults"</c> is the endpoint's URL) to <c>{secrets}/sandbox-control.url</c> (0600).
    /// </summary>
    public static void WriteAddress(string secretsDirectory, Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        WriteOwnerOnly(Path.Combine(secretsDirectory, AddressFile), address.ToString().TrimEnd('/'), overwrite: true);
    }

    /// <summary>Removes the address file, so that the CLI does not reach for a sandbox that is gone or not controllable.</summary>
    public static void DeleteAddress(string secretsDirectory)
    {
        try
        {
            File.Delete(Path.Combine(secretsDirectory, AddressFile));
        }
        catch (IOException)
        {
            // Best effort at stop: a stale file only makes the CLI say it cannot reach the sandbox.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    // Written to a temporary file created 0600 and moved into place, so no reader ever sees a partial or wider file.
    // False when overwrite is off and another process made the file first.
    private static bool WriteOwnerOnly(string path, string content, bool overwrite)
    {
        var temp = path + "." + RandomNumberGenerator.GetHexString(8) + ".tmp";
        var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            streamOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temp, streamOptions))
        {
            stream.Write(Encoding.ASCII.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }

        try
        {
            File.Move(temp, path, overwrite);
            return true;
        }
        catch (IOException) when (!overwrite && File.Exists(path))
        {
            File.Delete(temp);
            return false;
        }
    }
}
