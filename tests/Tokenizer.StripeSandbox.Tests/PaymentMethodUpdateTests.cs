using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>Stripe API POST /v1/payment_methods/{id} through Stripe.net: a card's expiry and metadata change, nothing else.</summary>
public sealed class PaymentMethodUpdateTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly PaymentMethodService paymentMethods = fixture.Client.V1.PaymentMethods;

    // As at Stripe, only a PaymentMethod attached to a Customer can be updated.
    private async Task<PaymentMethod> CreateAttachedAsync(PaymentMethodCreateOptions options)
    {
        var created = await paymentMethods.CreateAsync(options);
        var customer = await fixture.Client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        return await paymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
    }

    [Fact]
    public async Task Update_CardExpiryAndMetadata_ChangesThemKeepsNumberFacts()
    {
        // Arrange
        var created = await CreateAttachedAsync(SandboxHarness.Card("4242424242424242"));

        // Act
        var updated = await paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            Card = new PaymentMethodCardOptions { ExpMonth = 3, ExpYear = 2033 },
            Metadata = new Dictionary<string, string> { ["note"] = "reissued" },
        });
        var read = await paymentMethods.GetAsync(created.Id);

        // Assert
        Assert.Equal((3L, 2033L), (read.Card.ExpMonth, read.Card.ExpYear));
        Assert.Equal((created.Card.Last4, created.Card.Fingerprint, created.Card.Brand), (read.Card.Last4, read.Card.Fingerprint, read.Card.Brand));
        Assert.Equal("reissued", read.Metadata["note"]);
        Assert.Equal(updated.Card.ExpYear, read.Card.ExpYear);
    }

    [Fact]
    public async Task Update_ExpiredOrInvalidMonth_CardErrorAndUnchanged()
    {
        // Arrange
        var created = await CreateAttachedAsync(SandboxHarness.Card("4242424242424242"));

        // Act
        var month = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            Card = new PaymentMethodCardOptions { ExpMonth = 13 },
        }));
        var year = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            Card = new PaymentMethodCardOptions { ExpYear = 2001 },
        }));

        // Assert
        Assert.Equal(("invalid_expiry_month", "invalid_expiry_year"), (month.StripeError.Code, year.StripeError.Code));
        Assert.Equal(HttpStatusCode.PaymentRequired, month.HttpStatusCode);
        var read = await paymentMethods.GetAsync(created.Id);
        Assert.Equal((created.Card.ExpMonth, created.Card.ExpYear), (read.Card.ExpMonth, read.Card.ExpYear));
    }

    [Fact]
    public async Task Update_CardExpiryOnABankAccount_ParameterUnknown()
    {
        // Arrange
        var created = await CreateAttachedAsync(new PaymentMethodCreateOptions
        {
            Type = "au_becs_debit",
            AuBecsDebit = new PaymentMethodAuBecsDebitOptions { BsbNumber = "000000", AccountNumber = "000123456" },
            BillingDetails = new PaymentMethodBillingDetailsOptions { Name = "Jenny Rosen", Email = "jenny@example.com" },
        });

        // Act
        var error = await Assert.ThrowsAsync<StripeException>(() => paymentMethods.UpdateAsync(created.Id, new PaymentMethodUpdateOptions
        {
            Card = new PaymentMethodCardOptions { ExpYear = 2033 },
        }));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("parameter_unknown", error.StripeError.Code);
    }
}
