using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The gateway requests of one tokenisation, counted by kind from the sandbox's request log: Customers created
/// (<c>POST /v1/customers</c>), Customers read (<c>GET /v1/customers/{id}</c>), PaymentMethods created and SetupIntents
/// created. Tests compare them across rounds to show the work of a tokenisation does not grow.
/// </summary>
internal readonly record struct TokenisationRequests(int CreateCustomer, int ReadCustomer, int CreatePaymentMethod, int CreateSetupIntent)
{
    public static TokenisationRequests Of(IReadOnlyList<SandboxRecordedRequest> requests) => new(
        requests.Count(r => r is { Method: "POST", Path: "/v1/customers" }),
        requests.Count(r => r.Method == "GET" && r.Path.StartsWith("/v1/customers/", StringComparison.Ordinal) && r.Path.Count(c => c == '/') == 3),
        requests.Count(r => r is { Method: "POST", Path: "/v1/payment_methods" }),
        requests.Count(r => r is { Method: "POST", Path: "/v1/setup_intents" }));
}
