using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger.Audit;
using Tokenizer.Server.Audit;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer audit verify --offline</c>: the walk <c>audit verify</c> asks the server for, run on a stopped server's
/// SQLite ledger opened read-only, for the case where start-up refuses a broken trail and no server can answer.
/// </summary>
/// <remarks>
/// Reads <c>{data}/ledger/tokenizer.db</c> (SQLite <c>SQLITE_OPEN_READONLY</c>: no migration, no checkpoint, no write),
/// the audit keys as the server reads them from configuration (<c>Tokenizer__AuditHmacSecret</c> and
/// <c>Tokenizer__AuditHmacPreviousSecrets__0</c>, <c>__1</c>, ..., base64) or else the development key file
/// <c>{data}/secrets/audit-hmac.key</c>, and the File anchor store's <c>{data}/anchor/audit-anchor.json</c> (or
/// <c>--anchor-file</c>, or an <c>--anchor</c> given by hand). A Key Vault anchor or key is not read: export it into
/// the variables or a file first. The report is the server's <see cref="VerifyAuditTrailResponse"/>, so the CLI prints
/// it as it prints the online one.
/// </remarks>
internal static class OfflineAuditVerification
{
    /// <summary>The configuration key of the current audit key, as an environment variable.</summary>
    public const string AuditSecretVariable = "Tokenizer__AuditHmacSecret";

    /// <summary>The prefix of the previous audit keys' variables (then 0, 1, ...).</summary>
    public const string PreviousSecretsPrefix = "Tokenizer__AuditHmacPreviousSecrets__";

    /// <summary>The server's rotation grace setting, as an environment variable (minutes, 1 to 10080; default 15).</summary>
    public const string RotationGraceVariable = "Tokenizer__AuditKeyRotationGraceMinutes";

    private const int MaxPreviousKeys = 64;

    /// <summary>Verifies the trail of the data directory; see the class remarks.</summary>
    /// <param name="dataDirectory">The server's data directory; null: the environment's, else <c>data</c>.</param>
    /// <param name="anchorFile">The anchor file; null: the File store's default place (absent there: no anchor).</param>
    /// <param name="given">An anchor given by hand (<c>--anchor</c>); replaces the stored one.</param>
    /// <param name="environment">Reads environment variables.</param>
    /// <param name="cancellationToken">Stops the walk.</param>
    /// <returns>The report: intact or not, every broken record (the first 1000), the head.</returns>
    /// <exception cref="CliInputException">No ledger, no key, a key that is not base64 of at least 32 bytes, a missing named anchor file.</exception>
    public static async Task<VerifyAuditTrailResponse> VerifyAsync(
        string? dataDirectory,
        string? anchorFile,
        AuditCommands.AnchorValue? given,
        Func<string, string?> environment,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var directory = !string.IsNullOrWhiteSpace(dataDirectory) ? dataDirectory
            : environment(CliApp.DataDirectoryVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : "data";
        var ledger = Path.Combine(directory, "ledger", "tokenizer.db");
        if (!File.Exists(ledger))
        {
            throw new CliInputException("--data-directory: no SQLite ledger in it (ledger/tokenizer.db; offline verification reads a stopped server's SQLite ledger)");
        }

        var keys = ReadKeys(directory, environment);
        await using var trail = SqliteAuditTrail.OpenReadOnly(ledger, keys, NullLogger<SqliteAuditTrail>.Instance);
        AuditAnchor? anchor = given is null ? null : new AuditAnchor(given.Sequence, given.Mac);
        if (anchor is null)
        {
            var path = anchorFile ?? Path.Combine(directory, "anchor", "audit-anchor.json");
            if (File.Exists(path))
            {
                anchor = keys.Open(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
                if (anchor is null)
                {
                    return AuditVerificationResponses.AnchorInvalid(await trail.VerifyAsync(null, cancellationToken).ConfigureAwait(false));
                }
            }
            else if (anchorFile is not null)
            {
                throw new CliInputException("--anchor-file: no such file");
            }
        }

        return AuditVerificationResponses.From(await trail.VerifyAsync(anchor, cancellationToken).ConfigureAwait(false), anchor);
    }

    /// <summary>The configured keys (variables), else the development key file; messages name the setting, never a value.</summary>
    private static AuditKeyRing ReadKeys(string directory, Func<string, string?> environment)
    {
        byte[] current;
        if (environment(AuditSecretVariable) is { Length: > 0 } configured)
        {
            current = Decode(configured, AuditSecretVariable);
        }
        else
        {
            var file = Path.Combine(directory, "secrets", "audit-hmac.key");
            if (!File.Exists(file))
            {
                throw new CliInputException($"no audit key: set {AuditSecretVariable} (base64, as the server is configured) or keep the key file secrets/audit-hmac.key in the data directory");
            }

            current = File.ReadAllBytes(file);
        }

        var previous = new List<byte[]>();
        for (var i = 0; i < MaxPreviousKeys; i++)
        {
            var name = PreviousSecretsPrefix + i.ToString(CultureInfo.InvariantCulture);
            if (environment(name) is not { Length: > 0 } value)
            {
                break;
            }

            previous.Add(Decode(value, name));
        }

        var grace = AuditKeyRing.DefaultRotationGrace;
        if (environment(RotationGraceVariable) is { Length: > 0 } minutes)
        {
            grace = int.TryParse(minutes.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= 10080
                ? TimeSpan.FromMinutes(value)
                : throw new CliInputException($"{RotationGraceVariable} must be a whole number of minutes between 1 and 10080");
        }

        try
        {
            return new AuditKeyRing(current, previous, grace);
        }
        catch (ArgumentException)
        {
            throw new CliInputException($"an audit key ({AuditSecretVariable} or {PreviousSecretsPrefix}N, or the key file) is shorter than 32 bytes");
        }
    }

    private static byte[] Decode(string value, string name)
    {
        try
        {
            return Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new CliInputException($"{name} is not base64");
        }
    }
}
