using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>
/// Stripe API Customers: <c>POST /v1/customers</c> (name, email, description, phone, metadata), <c>GET /v1/customers/{id}</c>
/// and <c>DELETE /v1/customers/{id}</c>.
/// </summary>
internal sealed class CustomersApi(SandboxStore store, IOptions<StripeSandboxOptions> options)
{
    private static readonly FrozenSet<string> CreateParams =
        FrozenSet.Create(StringComparer.Ordinal, "name", "email", "description", "phone");

    /// <summary>Stripe API POST /v1/customers.</summary>
    public ApiResult Create(StripeParams parameters)
    {
        parameters.RejectUnknown(CreateParams, "metadata[");
        var email = parameters.Get("email");
        if (email is not null && (email.Length > 512 || !email.Contains('@', StringComparison.Ordinal)))
        {
            throw StripeErrors.ParameterInvalid("email", "Invalid email address.", "email_invalid");
        }

        var customer = new CustomerObject
        {
            Id = IdAlphabet.CustomerId(),
            Created = options.Value.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            Description = parameters.Get("description"),
            Email = email,
            InvoicePrefix = IdAlphabet.InvoicePrefix(),
            Metadata = parameters.Metadata(),
            Name = parameters.Get("name"),
            Phone = parameters.Get("phone"),
        };
        store.Write(data => data.Customers[customer.Id] = customer);
        return Ok(customer);
    }

    /// <summary>
    /// Stripe API GET /v1/customers/{id}. A deleted Customer answers 200 <c>{"id": ..., "object": "customer",
    /// "deleted": true}</c> (Stripe: "If it's for a deleted Customer, a subset of the customer's information is returned,
    /// including a deleted property that's set to true"); an unknown id 404 <c>resource_missing</c>.
    /// </summary>
    public ApiResult Get(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        var customer = store.Read<CustomerObject?>(data =>
            data.Customers.TryGetValue(id, out var found) ? found
            : data.DeletedCustomers.Contains(id) ? null
            : throw StripeErrors.ResourceMissing("customer", "customer"));
        return customer is null
            ? ApiResult.Ok(JsonSerializer.Serialize(new DeletedObject(id, "customer", true), SandboxJson.Default.DeletedObject))
            : Ok(customer);
    }

    /// <summary>
    /// Stripe API DELETE /v1/customers/{id}: deletes the Customer permanently and answers
    /// <c>{"id": ..., "object": "customer", "deleted": true}</c>; its PaymentMethods are detached with it. An unknown or
    /// already deleted Customer answers 404 <c>resource_missing</c>, as does any other use of it (a SetupIntent, an attach,
    /// a list of its PaymentMethods); only <see cref="Get"/> still shows it, as deleted.
    /// </summary>
    public ApiResult Delete(string id, StripeParams parameters)
    {
        parameters.RejectUnknown(FrozenSet<string>.Empty);
        store.Write(data =>
        {
            if (!data.Customers.Remove(id))
            {
                throw StripeErrors.ResourceMissing("customer", "customer");
            }

            data.DeletedCustomers.Add(id);

            foreach (var (pmId, stored) in data.PaymentMethods.ToList())
            {
                if (stored.View.Customer == id)
                {
                    data.PaymentMethods[pmId] = stored with { View = stored.View with { Customer = null }, Detached = true };
                }
            }

            return true;
        });
        return ApiResult.Ok(JsonSerializer.Serialize(new DeletedObject(id, "customer", true), SandboxJson.Default.DeletedObject));
    }

    private static ApiResult Ok(CustomerObject customer) =>
        ApiResult.Ok(JsonSerializer.Serialize(customer, SandboxJson.Default.CustomerObject));
}
