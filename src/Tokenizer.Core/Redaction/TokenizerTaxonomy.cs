using Microsoft.Extensions.Compliance.Classification;

namespace Tokenizer.Core.Redaction;

/// <summary>
/// The data classes of Tokenizer (taxonomy <c>Tokenizer</c>), for <see cref="DataClassificationAttribute"/>s on
/// <c>[LoggerMessage]</c> parameters and for the redactors the server registers per class
/// (<c>Microsoft.Extensions.Compliance.Redaction</c>).
/// </summary>
/// <remarks>
/// A parameter that can carry caller input is classified; the logging pipeline (with redaction enabled) replaces
/// every classified value by its redactor's output before any sink sees it. <see cref="PublicData"/> values pass
/// unchanged: token ids, reason codes, event types, Stripe request ids, operation names.
/// </remarks>
public static class TokenizerTaxonomy
{
    /// <summary>The taxonomy name shared by every class here.</summary>
    public const string TaxonomyName = "Tokenizer";

    /// <summary>Cardholder data and sensitive authentication data: PAN, CVC, track data (PCI DSS 3). Erased.</summary>
    public static DataClassification CardData { get; } = new(TaxonomyName, nameof(CardData));

    /// <summary>Bank data: full account numbers and IBANs. Erased.</summary>
    public static DataClassification BankData { get; } = new(TaxonomyName, nameof(BankData));

    /// <summary>
    /// Personal data: billing name, email, phone, address, and caller-chosen strings that can identify a person,
    /// such as a customer reference or a free-text reason. Erased.
    /// </summary>
    public static DataClassification PersonalData { get; } = new(TaxonomyName, nameof(PersonalData));

    /// <summary>Secrets: API keys, HMAC secrets, idempotency keys as the caller sent them. Erased.</summary>
    public static DataClassification SecretData { get; } = new(TaxonomyName, nameof(SecretData));

    /// <summary>Not sensitive: token ids, brands, last4, reason codes, event types, request ids. Logged as is.</summary>
    public static DataClassification PublicData { get; } = new(TaxonomyName, nameof(PublicData));

    /// <summary>The classes whose values are erased; everything but <see cref="PublicData"/>.</summary>
    public static IReadOnlyList<DataClassification> Sensitive { get; } = [CardData, BankData, PersonalData, SecretData];
}

/// <summary>Marks a value as <see cref="TokenizerTaxonomy.CardData"/> (PAN, CVC): erased from logs.</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class CardDataAttribute() : DataClassificationAttribute(TokenizerTaxonomy.CardData);

/// <summary>Marks a value as <see cref="TokenizerTaxonomy.BankData"/> (account number, IBAN): erased from logs.</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class BankDataAttribute() : DataClassificationAttribute(TokenizerTaxonomy.BankData);

/// <summary>
/// Marks a value as <see cref="TokenizerTaxonomy.PersonalData"/> (name, email, phone, address, customer reference,
/// free text from a caller): erased from logs.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class PersonalDataAttribute() : DataClassificationAttribute(TokenizerTaxonomy.PersonalData);

/// <summary>Marks a value as <see cref="TokenizerTaxonomy.SecretData"/> (keys, secrets, raw idempotency keys): erased from logs.</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class SecretDataAttribute() : DataClassificationAttribute(TokenizerTaxonomy.SecretData);

/// <summary>
/// Marks a value as <see cref="TokenizerTaxonomy.PublicData"/>: reviewed, not sensitive, logged as is (token ids,
/// reason codes, event types, request ids, exception type names).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.ReturnValue)]
public sealed class PublicDataAttribute() : DataClassificationAttribute(TokenizerTaxonomy.PublicData);
