using System.Net;
using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using BillingDetails = Tokenizer.Core.Domain.BillingDetails;

namespace Tokenizer.Gateways.Stripe.Tests.Support;

/// <summary>Test data (Stripe's documented test numbers) and canned Stripe responses.</summary>
internal static class Samples
{
    public const string Pan = "4242424242424242";
    public const string Key = "tkz_0123456789abcdef0123456789abcdef01234567_pm";

    public static readonly IReadOnlyDictionary<string, string> Intent =
        new Dictionary<string, string> { ["tokenizer_intent"] = "tkz_intent_1" };

    public static PaymentMethodRequest CardRequest(BillingDetails? billing = null, string pan = Pan) =>
        new(new CardDetails(pan, 12, 2034, "123", CardBrand.Visa), null, billing ?? BillingDetails.Empty, Intent);

    public static PaymentMethodRequest BankRequest(BankAccountDetails account, BillingDetails? billing = null) =>
        new(null, account, billing ?? new BillingDetails("Jenny Rosen", "jenny@example.com", null, null), Intent);

    public static AuBecsDebitDetails AuBecs => new("000000", "000123456");

    public static SepaDebitDetails Sepa => new("AT611904300234573201");

    public static BacsDebitDetails Bacs => new("108800", "00012345");

    public static UsBankAccountDetails Us => new("110000000", "000123456789", AccountHolderType.Company, BankAccountKind.Savings);

    public const string CardJson = """
        {"id":"pm_card_1","object":"payment_method","type":"card",
         "card":{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2034,"funding":"credit","country":"US","fingerprint":"fpCard"},
         "billing_details":{"name":null,"email":null,"phone":null,"address":null},"metadata":{}}
        """;

    public const string AuBecsJson = """
        {"id":"pm_au_1","object":"payment_method","type":"au_becs_debit",
         "au_becs_debit":{"bsb_number":"000000","last4":"3456","fingerprint":"fpAu"}}
        """;

    public const string SepaJson = """
        {"id":"pm_sepa_1","object":"payment_method","type":"sepa_debit",
         "sepa_debit":{"bank_code":"19043","branch_code":"","country":"AT","last4":"3201","fingerprint":"fpSepa"}}
        """;

    public const string BacsJson = """
        {"id":"pm_bacs_1","object":"payment_method","type":"bacs_debit",
         "bacs_debit":{"sort_code":"108800","last4":"2345","fingerprint":"fpBacs"}}
        """;

    public const string UsJson = """
        {"id":"pm_us_1","object":"payment_method","type":"us_bank_account",
         "us_bank_account":{"routing_number":"110000000","last4":"6789","fingerprint":"fpUs","account_holder_type":"company","account_type":"savings","bank_name":"STRIPE TEST BANK"}}
        """;

    public const string CustomerJson = """{"id":"cus_1","object":"customer","metadata":{"tokenizer_customer_reference":"ref-1"}}""";

    public static string ErrorJson(string type, string? code = null, string? message = null, string? param = null, string? declineCode = null)
    {
        var error = new Dictionary<string, string?> { ["type"] = type, ["code"] = code, ["message"] = message, ["param"] = param, ["decline_code"] = declineCode }
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        return System.Text.Json.JsonSerializer.Serialize(new { error });
    }

    /// <summary>A StripeException as Stripe.net builds it from an error response.</summary>
    public static StripeException StripeError(
        int status,
        string? type,
        string? code = null,
        string? message = null,
        string? param = null,
        string? declineCode = null,
        string requestId = "req_abc")
    {
        using var http = new HttpResponseMessage((HttpStatusCode)status);
        http.Headers.TryAddWithoutValidation("Request-Id", requestId);
        var response = new StripeResponse((HttpStatusCode)status, http.Headers, "{}");
        var error = type is null
            ? null
            : new StripeError { Type = type, Code = code, Message = message, Param = param, DeclineCode = declineCode, StripeResponse = response };
        return new StripeException((HttpStatusCode)status, error, message ?? "error") { StripeResponse = response };
    }
}
