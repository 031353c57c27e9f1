namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>Gateway span names: the Stripe API path template, never an id or a query.</summary>
public sealed class StripeTracingHandlerTests
{
    [Theory]
    [InlineData("/v1/payment_methods", "/v1/payment_methods")]
    [InlineData("/v1/customers", "/v1/customers")]
    [InlineData("/v1/setup_intents", "/v1/setup_intents")]
    [InlineData("/v1/payment_methods/pm_1Abc/attach", "/v1/payment_methods/{id}/attach")]
    [InlineData("/v1/payment_methods/pm_1Abc/detach", "/v1/payment_methods/{id}/detach")]
    [InlineData("/v1/payment_methods/pm_1Abc", "/v1/payment_methods/{id}")]
    [InlineData("/v1/setup_intents/seti_1Abc", "/v1/setup_intents/{id}")]
    [InlineData("/v1/setup_intents/seti_1Abc/cancel", "/v1/setup_intents/{id}/cancel")]
    [InlineData("/v1/customers/cus_1Abc/payment_methods", "/v1/customers/{id}/payment_methods")]
    [InlineData("/v1/mandates/mandate_1Abc", "/v1/mandates/{id}")]
    [InlineData("/v1/payment_methods/pm_1Abc/4242424242424242", "other")]
    [InlineData("/v1/4242424242424242", "other")]
    [InlineData("/v2/customers", "other")]
    [InlineData("/v1/customers/cus_1/payment_methods/pm_1", "other")]
    [InlineData("", "other")]
    [InlineData(null, "other")]
    public void Template_StripePath_FixedTemplate(string? path, string expected)
    {
        // Act
        var template = StripeTracingHandler.Template(path);

        // Assert
        Assert.Equal(expected, template);
    }
}
