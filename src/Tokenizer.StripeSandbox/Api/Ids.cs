using System.Security.Cryptography;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>Random Stripe-style object ids (<c>pm_</c> + 24, <c>cus_</c> + 14 alphanumerics), drawn from the OS CSPRNG.</summary>
internal static class IdAlphabet
{
    public const string Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string PaymentMethodId() => "pm_" + RandomNumberGenerator.GetString(Chars, 24);

    public static string CustomerId() => "cus_" + RandomNumberGenerator.GetString(Chars, 14);

    public static string SetupIntentId() => "seti_" + RandomNumberGenerator.GetString(Chars, 24);

    public static string MandateId() => "mandate_" + RandomNumberGenerator.GetString(Chars, 24);

    public static string PaymentIntentId() => "pi_" + RandomNumberGenerator.GetString(Chars, 24);

    public static string ChargeId(string prefix) => prefix + RandomNumberGenerator.GetString(Chars, 24);

    /// <summary>An intent's client secret: <c>{id}_secret_</c> + 25 alphanumerics.</summary>
    public static string ClientSecret(string intentId) => intentId + "_secret_" + RandomNumberGenerator.GetString(Chars, 25);

    public static string InvoicePrefix() => RandomNumberGenerator.GetString("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 8);
}
