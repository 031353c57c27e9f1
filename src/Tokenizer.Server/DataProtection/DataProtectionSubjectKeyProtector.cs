using Microsoft.AspNetCore.DataProtection;
using Tokenizer.Core.Privacy;

namespace Tokenizer.Server.DataProtection;

/// <summary>
/// Wraps subject data keys with ASP.NET Core Data Protection under <see cref="Purpose"/>: the key ring (encrypted with
/// the Data Protection certificate; in the database on PostgreSQL) protects them, and a wrapped key unprotects only under
/// this purpose and application. Every failure to unwrap is a <see cref="System.Security.Cryptography.CryptographicException"/>.
/// </summary>
internal sealed class DataProtectionSubjectKeyProtector(IDataProtectionProvider provider) : ISubjectKeyProtector
{
    /// <summary>The Data Protection purpose of subject data keys.</summary>
    public const string Purpose = "Tokenizer.Privacy.SubjectKey.v1";

    private readonly IDataProtector protector = provider.CreateProtector(Purpose);

    public byte[] Wrap(byte[] dataKey) => protector.Protect(dataKey);

    public byte[] Unwrap(byte[] wrappedKey) => protector.Unprotect(wrappedKey);
}
