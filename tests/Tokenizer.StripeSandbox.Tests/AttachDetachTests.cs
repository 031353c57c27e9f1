using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class AttachDetachTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly PaymentMethodService paymentMethods = fixture.Client.V1.PaymentMethods;
    private readonly CustomerService customers = fixture.Client.V1.Customers;

    [Theory]
    [InlineData("4000000000000002", "card_declined", "generic_decline")]
    [InlineData("4000000000009995", "card_declined", "insufficient_funds")]
    [InlineData("4000000000009987", "card_declined", "lost_card")]
    [InlineData("4000000000009979", "card_declined", "stolen_card")]
    [InlineData("4000000000000069", "expired_card", "expired_card")]
    [InlineData("4000000000000127", "incorrect_cvc", "incorrect_cvc")]
    [InlineData("4000000000000119", "processing_error", "processing_error")]
    public async Task Attach_DeclineTestCard_Returns402CardErrorWithDeclineCode(string number, string code, string declineCode)
    {
        var customer = await customers.CreateAsync(new CustomerCreateOptions { Name = "Decline" });
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card(number));

        var error = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id }));
        var after = await paymentMethods.GetAsync(created.Id);

        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("card_error", error.StripeError.Type);
        Assert.Equal(code, error.StripeError.Code);
        Assert.Equal(declineCode, error.StripeError.DeclineCode);
        SandboxHarness.AssertNoDigits(error.StripeError.Message);
        Assert.Null(after.CustomerId);
    }

    [Fact]
    public async Task Attach_GoodCard_SetsCustomerAndIsIdempotentForSameCustomer()
    {
        var customer = await customers.CreateAsync(new CustomerCreateOptions { Name = "Jenny Rosen", Email = "jenny@example.com" });
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var attached = await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
        var again = await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
        var viaCustomer = await customers.PaymentMethods.GetAsync(customer.Id, created.Id);

        Assert.Equal(customer.Id, attached.CustomerId);
        Assert.Equal(customer.Id, again.CustomerId);
        Assert.Equal(created.Id, viaCustomer.Id);
        Assert.Equal(created.Card.Fingerprint, attached.Card.Fingerprint);
    }

    [Fact]
    public async Task Attach_WhileAttachedToAnotherCustomer_Returns400InvalidRequest()
    {
        var first = await customers.CreateAsync(new CustomerCreateOptions());
        var second = await customers.CreateAsync(new CustomerCreateOptions());
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("5555555555554444"));
        await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = first.Id });

        var error = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = second.Id }));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal(first.Id, (await paymentMethods.GetAsync(created.Id)).CustomerId);
    }

    [Fact]
    public async Task Detach_NotAttached_Returns400PaymentMethodUnexpectedState()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.DetachAsync(created.Id));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("payment_method_unexpected_state", error.StripeError.Code);
    }

    [Fact]
    public async Task Detach_Attached_ClearsCustomerAndCannotBeAttachedAgain()
    {
        var customer = await customers.CreateAsync(new CustomerCreateOptions());
        var created = await paymentMethods.CreateAsync(SandboxHarness.Sepa());
        await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });

        var detached = await paymentMethods.DetachAsync(created.Id);
        var list = await customers.PaymentMethods.ListAsync(customer.Id);
        var reattach = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id }));

        Assert.Null(detached.CustomerId);
        Assert.Empty(list.Data);
        Assert.Equal(HttpStatusCode.BadRequest, reattach.HttpStatusCode);
    }

    [Fact]
    public async Task Attach_UnknownIds_Return404ResourceMissing()
    {
        var customer = await customers.CreateAsync(new CustomerCreateOptions());
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var noPaymentMethod = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync("pm_missing", new PaymentMethodAttachOptions { Customer = customer.Id }));
        var noCustomer = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = "cus_missing" }));
        var noCustomerGet = await Assert.ThrowsAsync<StripeException>(() => customers.GetAsync("cus_missing"));
        var noDetach = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.DetachAsync("pm_missing"));

        foreach (var error in new[] { noPaymentMethod, noCustomer, noCustomerGet, noDetach })
        {
            Assert.Equal(HttpStatusCode.NotFound, error.HttpStatusCode);
            Assert.Equal("invalid_request_error", error.StripeError.Type);
            Assert.Equal("resource_missing", error.StripeError.Code);
        }

        Assert.Equal("customer", noCustomer.StripeError.Param);
    }

    [Fact]
    public async Task Attach_MissingCustomer_Returns400ParameterMissing()
    {
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions()));

        Assert.Equal("parameter_missing", error.StripeError.Code);
        Assert.Equal("customer", error.StripeError.Param);
    }

    [Fact]
    public async Task CustomerCreate_Fields_AreReturnedAndRetrievable()
    {
        var created = await customers.CreateAsync(new CustomerCreateOptions
        {
            Name = "Jenny Rosen",
            Email = "jenny@example.com",
            Description = "sandbox test",
            Metadata = new Dictionary<string, string> { ["tenant"] = "t-1" },
        });

        var fetched = await customers.GetAsync(created.Id);

        Assert.StartsWith("cus_", created.Id, StringComparison.Ordinal);
        Assert.Equal("customer", fetched.Object);
        Assert.Equal("Jenny Rosen", fetched.Name);
        Assert.Equal("jenny@example.com", fetched.Email);
        Assert.Equal("sandbox test", fetched.Description);
        Assert.Equal("t-1", fetched.Metadata["tenant"]);
        Assert.False(fetched.Livemode);
        Assert.InRange(fetched.Created, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
    }
}
