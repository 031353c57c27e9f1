using System.Reflection;
using Stripe;

namespace Tokenizer.Gateways.Stripe.Tests;

public sealed class StripeOptionsReflectionTests
{
    [Fact]
    public void Count_OptionsWeSend_HoldsEveryPropertyOfThemAndTheirNestedOptions()
    {
        // Arrange: the card details and billing address are nested options two and three levels down.
        var expectedAtLeast = new[]
        {
            typeof(PaymentMethodCreateOptions),
            typeof(PaymentMethodCardOptions),
            typeof(PaymentMethodBillingDetailsOptions),
            typeof(AddressOptions),
            typeof(PaymentMethodAttachOptions),
            typeof(CustomerCreateOptions),
        }.Sum(t => t.GetRuntimeProperties().Count());

        // Act
        var count = StripeOptionsReflection.Count;

        // Assert
        Assert.True(count >= expectedAtLeast, $"held {count} properties, expected at least {expectedAtLeast}");
    }
}
