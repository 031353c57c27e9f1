using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Tokenizer.Core.Tokenization;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Security;

/// <summary>Maps a validated client certificate to a caller id and roles (Tokenizer:Callers), by exact subject or SHA-256 thumbprint.</summary>
public sealed class CallerDirectory(IOptionsMonitor<TokenizerOptions> options)
{
    /// <summary>The principal for <paramref name="certificate"/>, or null when no caller is configured for it.</summary>
    public ClaimsPrincipal? Resolve(X509Certificate2 certificate, string authenticationType)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
        foreach (var (id, caller) in options.CurrentValue.Callers)
        {
            var matches = !string.IsNullOrEmpty(caller.Thumbprint)
                ? string.Equals(caller.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase)
                : string.Equals(caller.Subject, certificate.Subject, StringComparison.Ordinal);
            if (matches)
            {
                return Principal(id, caller.Roles, authenticationType);
            }
        }

        return null;
    }

    /// <summary>A principal for caller <paramref name="callerId"/> with <paramref name="roles"/>.</summary>
    public static ClaimsPrincipal Principal(string callerId, IEnumerable<string> roles, string authenticationType)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, callerId), new(ClaimTypes.Name, callerId) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>The domain's view of an authenticated principal.</summary>
    public static CallerContext ToCaller(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var id = user.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw new InvalidOperationException("an authenticated caller has no id");
        return new CallerContext(id, user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToArray());
    }
}
