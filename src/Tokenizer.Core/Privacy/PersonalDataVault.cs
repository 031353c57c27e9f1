using System.Security.Cryptography;
using System.Text.Json;
using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Privacy;

/// <summary>
/// Holds billing details encrypted under their subject's own data key (crypto-shredding): the key is created on the
/// subject's first record, stored wrapped by <see cref="ISubjectKeyProtector"/> in the <see cref="ISubjectKeyStore"/>
/// (outside the ledger database by default), and destroyed on erasure, after which every copy of the subject's records,
/// database backups included, is unreadable. Thread-safe.
/// </summary>
public sealed class PersonalDataVault(IPrivacyStore store, ISubjectKeyStore keys, ISubjectKeyProtector protector, SubjectPseudonyms pseudonyms, TimeProvider timeProvider)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The subject pseudonym of a reference.</summary>
    public string SubjectOf(string customerReference) => pseudonyms.Of(customerReference);

    /// <summary>
    /// Encrypts and stores <paramref name="billing"/> as the record <paramref name="recordId"/> of the subject of
    /// <paramref name="customerReference"/>, replacing an earlier one. Empty billing details store nothing.
    /// </summary>
    public async Task SaveAsync(string customerReference, string recordId, BillingDetails billing, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(recordId);
        ArgumentNullException.ThrowIfNull(billing);
        if (IsEmpty(billing))
        {
            return;
        }

        var subject = pseudonyms.Of(customerReference);
        var key = await KeyAsync(subject, create: true, cancellationToken).ConfigureAwait(false);
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(billing, Json);
        try
        {
            var ciphertext = SubjectDataCipher.Encrypt(key!, subject, recordId, plaintext);
            await store.SavePersonalDataAsync(new PersonalDataRecord(subject, recordId, ciphertext, timeProvider.GetUtcNow()), cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The subject's records in clear, by record id; empty when the subject has no key (never had data, or erased).</summary>
    /// <exception cref="CryptographicException">A record or the wrapped key does not decrypt (damaged, or the key ring lost).</exception>
    public async Task<IReadOnlyDictionary<string, BillingDetails>> ReadAsync(string customerReference, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        var subject = pseudonyms.Of(customerReference);
        var result = new Dictionary<string, BillingDetails>(StringComparer.Ordinal);
        var key = await KeyAsync(subject, create: false, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return result;
        }

        try
        {
            foreach (var record in await store.ListPersonalDataAsync(subject, cancellationToken).ConfigureAwait(false))
            {
                var plaintext = SubjectDataCipher.Decrypt(key, subject, record.RecordId, record.Ciphertext);
                try
                {
                    result[record.RecordId] = JsonSerializer.Deserialize<BillingDetails>(plaintext, Json) ?? BillingDetails.Empty;
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(plaintext);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        return result;
    }

    /// <summary>True when no field of <paramref name="billing"/> holds a value.</summary>
    public static bool IsEmpty(BillingDetails billing)
    {
        ArgumentNullException.ThrowIfNull(billing);
        var a = billing.Address;
        return string.IsNullOrEmpty(billing.Name) && string.IsNullOrEmpty(billing.Email) && string.IsNullOrEmpty(billing.Phone)
            && (a is null || (string.IsNullOrEmpty(a.Line1) && string.IsNullOrEmpty(a.Line2) && string.IsNullOrEmpty(a.City)
                && string.IsNullOrEmpty(a.State) && string.IsNullOrEmpty(a.PostalCode) && string.IsNullOrEmpty(a.Country)));
    }

    private async Task<byte[]?> KeyAsync(string subject, bool create, CancellationToken cancellationToken)
    {
        var wrapped = await keys.FindAsync(subject, cancellationToken).ConfigureAwait(false);
        if (wrapped is null)
        {
            if (!create)
            {
                return null;
            }

            var fresh = SubjectDataCipher.NewKey();
            try
            {
                // Concurrent first records of one subject: the first stored key wins and every writer uses it.
                wrapped = await keys.AddAsync(subject, protector.Wrap(fresh), timeProvider.GetUtcNow(), cancellationToken)
                    .ConfigureAwait(false);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(fresh);
            }
        }

        return protector.Unwrap(wrapped);
    }
}
