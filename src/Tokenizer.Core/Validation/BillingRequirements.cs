using System.Collections.Frozen;

namespace Tokenizer.Core.Validation;

/// <summary>Billing details fields a payment method type requires.</summary>
[Flags]
internal enum RequiredBillingFields
{
    None = 0,
    Name = 1,
    Email = 2,

    /// <summary>address line1, city, postal_code and country.</summary>
    Address = 4,
}

/// <summary>
/// What Stripe requires in billing_details to create each payment method type (Stripe API docs: card none;
/// au_becs_debit name and email; sepa_debit name and email, plus line1, city, postal_code and country for
/// non-EEA IBANs; bacs_debit name, email and full address; us_bank_account name).
/// </summary>
internal static class BillingRequirements
{
    /// <summary>
    /// The European Economic Area: the 27 EU members plus Iceland, Liechtenstein and Norway. SEPA also reaches
    /// non-EEA countries (GB, CH, AD, MC, SM, VA...), whose IBANs need the billing address.
    /// Update when EEA membership changes.
    /// </summary>
    public static FrozenSet<string> EeaCountries { get; } = new[]
    {
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
        "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Countries in the SEPA schemes' geographical scope (EPC list: the EEA plus AD, CH, GB, MC, SM, VA and the
    /// 2025 additions AL, MD, ME, MK). An IBAN from anywhere else cannot be a SEPA Direct Debit account.
    /// </summary>
    public static FrozenSet<string> SepaCountries { get; } = EeaCountries
        .Concat(["AD", "CH", "GB", "MC", "SM", "VA", "AL", "MD", "ME", "MK"])
        .ToFrozenSet(StringComparer.Ordinal);

    public const RequiredBillingFields Card = RequiredBillingFields.None;
    public const RequiredBillingFields AuBecsDebit = RequiredBillingFields.Name | RequiredBillingFields.Email;
    public const RequiredBillingFields BacsDebit = RequiredBillingFields.Name | RequiredBillingFields.Email | RequiredBillingFields.Address;
    public const RequiredBillingFields UsBankAccount = RequiredBillingFields.Name;

    /// <summary>SEPA: name and email; the address too when the IBAN's country is known and outside the EEA.</summary>
    /// <param name="ibanCountry">The IBAN's registry country, or null when the IBAN is unreadable.</param>
    public static RequiredBillingFields SepaDebit(string? ibanCountry) =>
        RequiredBillingFields.Name | RequiredBillingFields.Email
        | (ibanCountry is not null && !EeaCountries.Contains(ibanCountry) ? RequiredBillingFields.Address : RequiredBillingFields.None);
}
