using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// The gateway calls privacy needs, with Stripe's semantics, through Stripe.net over real HTTP:
/// <c>POST /v1/payment_methods/{id}</c> (billing details; attached PaymentMethods only; a field sent empty is unset) and
/// <c>DELETE /v1/customers/{id}</c> (permanent; its PaymentMethods detached; read back: <c>deleted: true</c>; again: 404 resource_missing).
/// </summary>
public sealed class PrivacyEndpointTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly PaymentMethodService paymentMethods = fixture.Client.V1.PaymentMethods;
    private readonly CustomerService customers = fixture.Client.V1.Customers;

    [Fact]
    public async Task Update_AttachedPaymentMethod_ChangesTheFieldsSentUnsetsEmptyOnesKeepsTheRest()
    {
        // Arrange
        var customer = await customers.CreateAsync(new CustomerCreateOptions());
        var created = await paymentMethods.CreateAsync(WithBilling(SandboxHarness.Card("4242424242424242")));
        await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });

        // Act
        var updated = await paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            BillingDetails = new PaymentMethodBillingDetailsOptions
            {
                Email = "new.address@example.org",
                Phone = string.Empty,
                Address = new AddressOptions { City = "Newtown" },
            },
        });
        var read = await paymentMethods.GetAsync(created.Id);

        // Assert
        Assert.Equal("new.address@example.org", read.BillingDetails.Email);
        Assert.Null(read.BillingDetails.Phone);
        Assert.Equal("Jenny Rosen", read.BillingDetails.Name);
        Assert.Equal("Newtown", read.BillingDetails.Address.City);
        Assert.Equal("1 Test Street", read.BillingDetails.Address.Line1);
        Assert.Equal(read.BillingDetails.Email, updated.BillingDetails.Email);
        Assert.Equal(customer.Id, read.CustomerId);
    }

    [Fact]
    public async Task Update_DetachedPaymentMethod_Returns400AndChangesNothing()
    {
        // Arrange
        var created = await paymentMethods.CreateAsync(WithBilling(SandboxHarness.Card("4242424242424242")));

        // Act
        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Someone Else" },
        }));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("Jenny Rosen", (await paymentMethods.GetAsync(created.Id)).BillingDetails.Name);
    }

    [Fact]
    public async Task Update_UnknownPaymentMethodOrParameter_Returns404Or400()
    {
        var missing = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync("pm_missing", new PaymentMethodUpdateOptions
        {
            BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "X" },
        }));
        var unknown = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync("pm_missing", new PaymentMethodUpdateOptions
        {
            BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "X" },
            ExtraParams = new Dictionary<string, object> { ["card[number]"] = "4242424242424242" },
        }));

        Assert.Equal(("resource_missing", HttpStatusCode.NotFound), (missing.StripeError.Code, missing.HttpStatusCode));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.HttpStatusCode);
    }

    [Fact]
    public async Task DeleteCustomer_WithAttachedPaymentMethod_DeletedItsPaymentMethodsDetachedReadsAsDeletedAndAgain404()
    {
        // Arrange
        var customer = await customers.CreateAsync(new CustomerCreateOptions());
        var created = await paymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });

        // Act
        var deleted = await customers.DeleteAsync(customer.Id);
        var again = await Assert.ThrowsAsync<StripeException>(() => customers.DeleteAsync(customer.Id));
        var read = await customers.GetAsync(customer.Id);

        // Assert
        Assert.Equal(customer.Id, deleted.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(("resource_missing", HttpStatusCode.NotFound), (again.StripeError.Code, again.HttpStatusCode));
        Assert.Equal((customer.Id, true), (read.Id, read.Deleted == true));
        Assert.Null((await paymentMethods.GetAsync(created.Id)).CustomerId);
        var reattach = await Assert.ThrowsAsync<StripeException>(
            () => paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id }));
        Assert.Equal(HttpStatusCode.NotFound, reattach.HttpStatusCode);
    }

    private static PaymentMethodCreateOptions WithBilling(PaymentMethodCreateOptions options)
    {
        options.BillingDetails = new PaymentMethodBillingDetailsOptions
        {
            Name = "Jenny Rosen",
            Email = "jenny.rosen@example.com",
            Phone = "+442079460000",
            Address = new AddressOptions { Line1 = "1 Test Street", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
        };
        return options;
    }
}
