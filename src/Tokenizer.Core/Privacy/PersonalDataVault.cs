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

        await SaveBytesAsync(customerReference, recordId, JsonSerializer.SerializeToUtf8Bytes(billing, Json), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The suffix of the record id that holds a token's online mandate acceptance (<c>{token}.mandate</c>).</summary>
    public const string MandateRecordSuffix = ".mandate";

    /// <summary>
    /// Encrypts and stores a direct-debit mandate's online acceptance (IP address and user agent) given for
    /// <paramref name="token"/>, as the subject's record <c>{token}.mandate</c>, under the same subject key as the billing
    /// details: exported with them, unreadable once the key is destroyed on erasure.
    /// </summary>
    public async Task SaveMandateAcceptanceAsync(string customerReference, string token, OnlineAcceptance acceptance, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(acceptance);
        await SaveBytesAsync(customerReference, token + MandateRecordSuffix, JsonSerializer.SerializeToUtf8Bytes(acceptance, Json), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>The subject's online mandate acceptances in clear, by token id; empty when the subject has no key.</summary>
    /// <exception cref="CryptographicException">A record or the wrapped key does not decrypt.</exception>
    public async Task<IReadOnlyDictionary<string, OnlineAcceptance>> ReadMandateAcceptancesAsync(string customerReference, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, OnlineAcceptance>(StringComparer.Ordinal);
        await DecryptEachAsync(
            customerReference,
            static id => id.EndsWith(MandateRecordSuffix, StringComparison.Ordinal),
            (id, plaintext) => result[id[..^MandateRecordSuffix.Length]] = JsonSerializer.Deserialize<OnlineAcceptance>(plaintext, Json)
                ?? throw new CryptographicException("an empty mandate acceptance record"),
            cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The suffix of the record that holds a correction under way for a token (<c>{token}.correcting</c>): the billing
    /// details a correction sends to the gateway, written before it sends them and deleted once the ledger holds them
    /// (<see cref="CommitCorrectionAsync"/>). One left behind is a correction cut off (a crash, a lost call) after which
    /// the gateway may hold those details and the ledger still the earlier ones.
    /// </summary>
    public const string CorrectionRecordSuffix = ".correcting";

    /// <summary>Stores <paramref name="details"/> as the correction under way for <paramref name="token"/>, encrypted as any record.</summary>
    public Task SaveCorrectionUnderWayAsync(string customerReference, string token, BillingDetails details, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(details);
        return SaveBytesAsync(customerReference, token + CorrectionRecordSuffix, JsonSerializer.SerializeToUtf8Bytes(details, Json), cancellationToken);
    }

    /// <summary>The subject's corrections under way (or cut off) in clear, by token id; empty when the subject has no key.</summary>
    /// <exception cref="CryptographicException">A record or the wrapped key does not decrypt.</exception>
    public async Task<IReadOnlyDictionary<string, BillingDetails>> ReadCorrectionsUnderWayAsync(string customerReference, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, BillingDetails>(StringComparer.Ordinal);
        await DecryptEachAsync(
            customerReference,
            static id => id.EndsWith(CorrectionRecordSuffix, StringComparison.Ordinal),
            (id, plaintext) => result[id[..^CorrectionRecordSuffix.Length]] = JsonSerializer.Deserialize<BillingDetails>(plaintext, Json) ?? BillingDetails.Empty,
            cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The ledger takes <paramref name="details"/> as the token's billing details, and its correction under way is
    /// deleted. A crash between the two leaves the record under way holding the same details: sending them again changes
    /// nothing at the gateway.
    /// </summary>
    public async Task CommitCorrectionAsync(string customerReference, string token, BillingDetails details, CancellationToken cancellationToken)
    {
        await SaveAsync(customerReference, token, details, cancellationToken).ConfigureAwait(false);
        await DiscardCorrectionAsync(customerReference, token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the token's correction under way, if any.</summary>
    public Task DiscardCorrectionAsync(string customerReference, string token, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        ArgumentException.ThrowIfNullOrEmpty(token);
        return store.DeletePersonalDataAsync(pseudonyms.Of(customerReference), token + CorrectionRecordSuffix, cancellationToken);
    }

    /// <summary>The subject's billing records in clear, by record id; empty when the subject has no key (never had data, or erased).</summary>
    /// <exception cref="CryptographicException">A record or the wrapped key does not decrypt (damaged, or the key ring lost).</exception>
    public async Task<IReadOnlyDictionary<string, BillingDetails>> ReadAsync(string customerReference, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, BillingDetails>(StringComparer.Ordinal);
        await DecryptEachAsync(
            customerReference,
            static id => !id.EndsWith(MandateRecordSuffix, StringComparison.Ordinal) && !id.EndsWith(CorrectionRecordSuffix, StringComparison.Ordinal),
            (id, plaintext) => result[id] = JsonSerializer.Deserialize<BillingDetails>(plaintext, Json) ?? BillingDetails.Empty,
            cancellationToken).ConfigureAwait(false);
        return result;
    }

    private async Task DecryptEachAsync(
        string customerReference,
        Func<string, bool> include,
        Action<string, byte[]> read,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerReference);
        var subject = pseudonyms.Of(customerReference);
        var key = await KeyAsync(subject, create: false, cancellationToken).ConfigureAwait(false);
        if (key is null)
        {
            return;
        }

        try
        {
            foreach (var record in await store.ListPersonalDataAsync(subject, cancellationToken).ConfigureAwait(false))
            {
                if (!include(record.RecordId))
                {
                    continue;
                }

                var plaintext = SubjectDataCipher.Decrypt(key, subject, record.RecordId, record.Ciphertext);
                try
                {
                    read(record.RecordId, plaintext);
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
    }

    private async Task SaveBytesAsync(string customerReference, string recordId, byte[] plaintext, CancellationToken cancellationToken)
    {
        var subject = pseudonyms.Of(customerReference);
        var key = await KeyAsync(subject, create: true, cancellationToken).ConfigureAwait(false);
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
