using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class CustomerPaymentMethodListTests : IAsyncLifetime
{
    private const int Attached = 25;
    private StripeSandboxServer server = null!;
    private StripeClient client = null!;
    private string customerId = null!;
    private List<string> newestFirst = null!;

    public async Task InitializeAsync()
    {
        server = await SandboxHarness.StartAsync();
        client = SandboxHarness.Client(server);
        customerId = (await client.V1.Customers.CreateAsync(new CustomerCreateOptions { Name = "Many cards" })).Id;
        var ids = new List<string>();
        for (var i = 0; i < Attached; i++)
        {
            var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card(i % 2 == 0 ? "4242424242424242" : "5555555555554444"));
            await client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customerId });
            ids.Add(created.Id);
        }

        var sepa = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Sepa());
        await client.V1.PaymentMethods.AttachAsync(sepa.Id, new PaymentMethodAttachOptions { Customer = customerId });
        ids.Add(sepa.Id);

        // Another customer's and an unattached PaymentMethod must never show up.
        var other = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var foreign = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        await client.V1.PaymentMethods.AttachAsync(foreign.Id, new PaymentMethodAttachOptions { Customer = other.Id });
        await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        ids.Reverse();
        newestFirst = ids;
    }

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task List_DefaultLimit_ReturnsTenNewestWithHasMore()
    {
        var page = await client.V1.Customers.PaymentMethods.ListAsync(customerId);

        Assert.Equal("list", page.Object);
        Assert.Equal($"/v1/customers/{customerId}/payment_methods", page.Url);
        Assert.True(page.HasMore);
        Assert.Equal(newestFirst.Take(10), page.Data.Select(p => p.Id));
        Assert.All(page.Data, p => Assert.Equal(customerId, p.CustomerId));
    }

    [Fact]
    public async Task List_StartingAfterCursor_WalksAllPagesOnce()
    {
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        StripeList<PaymentMethod> page;
        do
        {
            page = await client.V1.Customers.PaymentMethods.ListAsync(
                customerId, new CustomerPaymentMethodListOptions { Type = "card", Limit = 10, StartingAfter = cursor });
            seen.AddRange(page.Data.Select(p => p.Id));
            cursor = page.Data.LastOrDefault()?.Id;
            pages++;
        }
        while (page.HasMore);

        Assert.Equal(3, pages);
        Assert.Equal(newestFirst.Skip(1), seen);
        Assert.Equal(Attached, seen.Distinct().Count());
    }

    [Fact]
    public async Task ListAutoPaging_FollowsCursors_ReturnsEveryAttachedPaymentMethod()
    {
        var all = new List<string>();
        await foreach (var paymentMethod in client.V1.Customers.PaymentMethods.ListAutoPagingAsync(
            customerId, new CustomerPaymentMethodListOptions { Limit = 7 }))
        {
            all.Add(paymentMethod.Id);
        }

        Assert.Equal(newestFirst, all);
    }

    [Fact]
    public async Task List_TypeFilterAndMaxLimit_ReturnsOnlyThatTypeWithoutMore()
    {
        var sepa = await client.V1.Customers.PaymentMethods.ListAsync(customerId, new CustomerPaymentMethodListOptions { Type = "sepa_debit" });
        var all = await client.V1.Customers.PaymentMethods.ListAsync(customerId, new CustomerPaymentMethodListOptions { Limit = 100 });

        Assert.Equal("sepa_debit", Assert.Single(sepa.Data).Type);
        Assert.False(sepa.HasMore);
        Assert.Equal(Attached + 1, all.Data.Count);
        Assert.False(all.HasMore);
    }

    [Fact]
    public async Task List_EndingBeforeCursor_ReturnsThePreviousPage()
    {
        var page = await client.V1.Customers.PaymentMethods.ListAsync(
            customerId, new CustomerPaymentMethodListOptions { Limit = 5, EndingBefore = newestFirst[12] });

        Assert.Equal(newestFirst.Skip(7).Take(5), page.Data.Select(p => p.Id));
        Assert.True(page.HasMore);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task List_LimitOutOfRange_Returns400(long limit)
    {
        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.Customers.PaymentMethods.ListAsync(
            customerId, new CustomerPaymentMethodListOptions { Limit = limit }));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("limit", error.StripeError.Param);
    }

    [Fact]
    public async Task List_UnknownCustomer_Returns404()
    {
        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.Customers.PaymentMethods.ListAsync("cus_missing"));

        Assert.Equal(HttpStatusCode.NotFound, error.HttpStatusCode);
        Assert.Equal("resource_missing", error.StripeError.Code);
    }

    [Fact]
    public void Stats_AfterSetup_CountsEverything()
    {
        Assert.Equal(new SandboxStats(PaymentMethods: Attached + 3, Customers: 2, Attached: Attached + 2), server.GetStats());
    }
}
