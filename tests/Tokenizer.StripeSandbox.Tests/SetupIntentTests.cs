using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class SetupIntentTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly StripeClient client = fixture.Client;

    [Fact]
    public async Task Create_ConfirmPlainCard_SucceedsAndAttachesToCustomer()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));

        var intent = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, card, returnUrl: "https://merchant.example/back"));
        var fetched = await client.V1.SetupIntents.GetAsync(intent.Id);
        var attached = await client.V1.PaymentMethods.GetAsync(card.Id);

        Assert.StartsWith("seti_", intent.Id, StringComparison.Ordinal);
        Assert.Equal("setup_intent", intent.Object);
        Assert.Equal("succeeded", intent.Status);
        Assert.Equal(customer.Id, intent.CustomerId);
        Assert.Equal(card.Id, intent.PaymentMethodId);
        Assert.Equal(["card"], intent.PaymentMethodTypes);
        Assert.Equal("off_session", intent.Usage);
        Assert.StartsWith(intent.Id + "_secret_", intent.ClientSecret, StringComparison.Ordinal);
        Assert.Null(intent.NextAction);
        Assert.Null(intent.LastSetupError);
        Assert.Null(intent.MandateId);
        Assert.False(intent.Livemode);
        Assert.Equal("intent-1", intent.Metadata["tokenizer_intent"]);
        Assert.Equal("succeeded", fetched.Status);
        Assert.Equal(customer.Id, attached.CustomerId);
    }

    [Fact]
    public async Task Create_WithoutConfirm_RequiresConfirmationAndAttachesNothingUntilConfirmed()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("5555555555554444"));
        var options = SetupHarness.Setup(customer.Id, card);
        options.Confirm = false;

        var intent = await client.V1.SetupIntents.CreateAsync(options);
        var before = await client.V1.PaymentMethods.GetAsync(card.Id);
        var confirmed = await client.V1.SetupIntents.ConfirmAsync(intent.Id, new SetupIntentConfirmOptions());
        var after = await client.V1.PaymentMethods.GetAsync(card.Id);

        Assert.Equal("requires_confirmation", intent.Status);
        Assert.Null(before.CustomerId);
        Assert.Equal("succeeded", confirmed.Status);
        Assert.Equal(customer.Id, after.CustomerId);
    }

    [Theory]
    [InlineData("4000000000000002", "card_declined", "generic_decline")]
    [InlineData("4000000000009995", "card_declined", "insufficient_funds")]
    [InlineData("4000000000000069", "expired_card", "expired_card")]
    public async Task Create_DeclineCard_Returns402WithSetupIntentRequiringPaymentMethod(string number, string code, string declineCode)
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card(number));

        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, card)));
        var left = error.StripeError.SetupIntent;
        var fetched = await client.V1.SetupIntents.GetAsync(left.Id);
        var notAttached = await client.V1.PaymentMethods.GetAsync(card.Id);

        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("card_error", error.StripeError.Type);
        Assert.Equal(code, error.StripeError.Code);
        Assert.Equal(declineCode, error.StripeError.DeclineCode);
        Assert.Equal(card.Id, error.StripeError.PaymentMethod.Id);
        SandboxHarness.AssertNoDigits(error.StripeError.Message);
        Assert.Equal("requires_payment_method", left.Status);
        Assert.Equal("requires_payment_method", fetched.Status);
        Assert.Equal(code, fetched.LastSetupError.Code);
        Assert.Equal(declineCode, fetched.LastSetupError.DeclineCode);
        Assert.Equal("card_error", fetched.LastSetupError.Type);
        Assert.Null(notAttached.CustomerId);
    }

    [Theory]
    [InlineData("sepa_debit")]
    [InlineData("au_becs_debit")]
    public async Task Create_DebitWithOnlineMandateData_SucceedsWithActiveMandate(string type)
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var debit = await client.V1.PaymentMethods.CreateAsync(type == "sepa_debit" ? SandboxHarness.Sepa() : SandboxHarness.AuBecs());
        var acceptedAt = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        var intent = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(acceptedAt)));
        var mandate = await client.V1.Mandates.GetAsync(intent.MandateId);
        var attached = await client.V1.PaymentMethods.GetAsync(debit.Id);

        Assert.Equal("succeeded", intent.Status);
        Assert.StartsWith("mandate_", intent.MandateId, StringComparison.Ordinal);
        Assert.Equal("mandate", mandate.Object);
        Assert.Equal("active", mandate.Status);
        Assert.Equal("multi_use", mandate.Type);
        Assert.Equal(debit.Id, mandate.PaymentMethodId);
        Assert.Equal("online", mandate.CustomerAcceptance.Type);
        Assert.Equal(acceptedAt, mandate.CustomerAcceptance.AcceptedAt);
        Assert.Equal("203.0.113.7", mandate.CustomerAcceptance.Online.IpAddress);
        Assert.Equal("Mozilla/5.0 (sandbox test)", mandate.CustomerAcceptance.Online.UserAgent);
        Assert.Null(mandate.CustomerAcceptance.Offline);
        Assert.Equal(type, mandate.PaymentMethodDetails.Type);
        Assert.Equal(customer.Id, attached.CustomerId);
    }

    [Fact]
    public async Task MandateUrl_ServesTheMandateWithoutItsPersonalData()
    {
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa());
        var mandate = await client.V1.Mandates.GetAsync(intent.MandateId);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var page = await http.GetStringAsync(new Uri(mandate.PaymentMethodDetails.SepaDebit.Url));
        using var missing = await http.GetAsync(new Uri(fixture.Server.BaseAddress, "_sandbox/mandates/mandate_missing"));

        Assert.StartsWith(fixture.Server.BaseAddress.ToString(), mandate.PaymentMethodDetails.SepaDebit.Url, StringComparison.Ordinal);
        Assert.Equal(16, mandate.PaymentMethodDetails.SepaDebit.Reference.Length);
        Assert.Contains(mandate.Id, page, StringComparison.Ordinal);
        Assert.Contains(">active<", page, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.7", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Mozilla", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Create_DebitWithOfflineMandateData_RecordsOfflineAcceptance()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var debit = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Sepa());

        var intent = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, debit, SetupHarness.Offline()));
        var mandate = await client.V1.Mandates.GetAsync(intent.MandateId);

        Assert.Equal("succeeded", intent.Status);
        Assert.Equal("offline", mandate.CustomerAcceptance.Type);
        Assert.NotNull(mandate.CustomerAcceptance.Offline);
        Assert.Null(mandate.CustomerAcceptance.Online);
        Assert.InRange(mandate.CustomerAcceptance.AcceptedAt!.Value, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(5));
    }

    [Theory]
    [InlineData("sepa_debit")]
    [InlineData("au_becs_debit")]
    [InlineData("bacs_debit")]
    [InlineData("us_bank_account")]
    public async Task Create_DebitWithoutMandateData_Returns400AndAttachesNothing(string type)
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var debit = await client.V1.PaymentMethods.CreateAsync(SetupHarness.Debit(type));

        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, debit)));
        var after = await client.V1.PaymentMethods.GetAsync(debit.Id);

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.Equal("mandate_data", error.StripeError.Param);
        Assert.Null(after.CustomerId);
    }

    [Fact]
    public async Task Create_BadParameters_Return400NamingTheParameter()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var debit = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Sepa());
        var badType = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        badType.MandateData.CustomerAcceptance.Type = "paper";
        var badIp = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        badIp.MandateData.CustomerAcceptance.Online.IpAddress = "not-an-ip";
        var badUsage = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        badUsage.Usage = "sometimes";
        var badReturn = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        badReturn.ReturnUrl = "not a url";
        var wrongType = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        wrongType.AllowedPaymentMethodTypes = ["card"];

        var cases = new (SetupIntentCreateOptions Options, string Param)[]
        {
            (badType, "mandate_data[customer_acceptance][type]"),
            (badIp, "mandate_data[customer_acceptance][online][ip_address]"),
            (badUsage, "usage"),
            (badReturn, "return_url"),
            (wrongType, "payment_method"),
        };
        foreach (var (options, param) in cases)
        {
            var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(options));
            Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
            Assert.Equal("invalid_request_error", error.StripeError.Type);
            Assert.Equal(param, error.StripeError.Param);
        }

        var missing = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(
            new SetupIntentCreateOptions { Customer = "cus_missing", PaymentMethod = debit.Id, Confirm = true }));
        var unknownIntent = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.GetAsync("seti_missing"));
        var unknownMandate = await Assert.ThrowsAsync<StripeException>(() => client.V1.Mandates.GetAsync("mandate_missing"));
        Assert.Equal(HttpStatusCode.NotFound, missing.HttpStatusCode);
        Assert.Equal("customer", missing.StripeError.Param);
        Assert.Equal("resource_missing", unknownIntent.StripeError.Code);
        Assert.Equal("resource_missing", unknownMandate.StripeError.Code);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(debit.Id)).CustomerId);
    }

    [Fact]
    public async Task Create_SameIdempotencyKey_ReplaysOneSetupIntent()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var debit = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Sepa());
        var options = SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow));
        var request = new RequestOptions { IdempotencyKey = "seti-" + Guid.NewGuid().ToString("N") };

        var first = await client.V1.SetupIntents.CreateAsync(options, request);
        var second = await client.V1.SetupIntents.CreateAsync(options, request);
        var other = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, debit, SetupHarness.Online(DateTime.UtcNow)));

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.MandateId, second.MandateId);
        Assert.Equal("true", SandboxHarness.Header(second, "Idempotent-Replayed"));
        Assert.Null(SandboxHarness.Header(first, "Idempotent-Replayed"));
        Assert.NotEqual(first.Id, other.Id);
    }

    [Fact]
    public async Task Create_PaymentMethodTypes_RefusedAsNoLongerSupported_AllowedPaymentMethodTypesAccepted()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var legacy = SetupHarness.Setup(customer.Id, card);
        legacy.AllowedPaymentMethodTypes = null;
        legacy.AddExtraParam("payment_method_types[0]", "card");
        var legacyCharge = ThreeDSecureTests.Charge(customer.Id, card.Id);
        legacyCharge.AddExtraParam("payment_method_types[0]", "card");

        var refused = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(legacy));
        var refusedCharge = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(legacyCharge));
        var viaAllowed = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, card));
        var withoutTypes = SetupHarness.Setup(customer.Id, card);
        withoutTypes.AllowedPaymentMethodTypes = null;
        var defaulted = await client.V1.SetupIntents.CreateAsync(withoutTypes);

        Assert.Equal(HttpStatusCode.BadRequest, refused.HttpStatusCode);
        Assert.Equal("payment_method_types_no_longer_supported", refused.StripeError.Code);
        Assert.Equal("payment_method_types", refused.StripeError.Param);
        Assert.Equal("payment_method_types_no_longer_supported", refusedCharge.StripeError.Code);
        Assert.Equal(["card"], viaAllowed.AllowedPaymentMethodTypes);
        Assert.Equal(["card"], viaAllowed.PaymentMethodTypes);
        Assert.Null(defaulted.AllowedPaymentMethodTypes);
        Assert.Equal(["card"], defaulted.PaymentMethodTypes);
        Assert.Equal("succeeded", defaulted.Status);
    }

    [Fact]
    public async Task List_ByCustomerAndPaymentMethod_NewestFirstWithCursors()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var other = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var unconfirmed = SetupHarness.Setup(customer.Id, card);
        unconfirmed.Confirm = false;
        var first = await client.V1.SetupIntents.CreateAsync(unconfirmed);
        var second = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, card));
        var otherCard = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var foreign = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(other.Id, otherCard));

        var newest = await client.V1.SetupIntents.ListAsync(new SetupIntentListOptions { Customer = customer.Id, PaymentMethod = card.Id, Limit = 1 });
        var next = await client.V1.SetupIntents.ListAsync(
            new SetupIntentListOptions { Customer = customer.Id, PaymentMethod = card.Id, Limit = 1, StartingAfter = newest.Data[0].Id });
        var back = await client.V1.SetupIntents.ListAsync(new SetupIntentListOptions { Customer = customer.Id, EndingBefore = first.Id });
        var byCustomer = await client.V1.SetupIntents.ListAsync(new SetupIntentListOptions { Customer = customer.Id });
        var byPaymentMethod = await client.V1.SetupIntents.ListAsync(new SetupIntentListOptions { PaymentMethod = otherCard.Id });
        var badLimit = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.ListAsync(new SetupIntentListOptions { Limit = 101 }));

        Assert.Equal(second.Id, Assert.Single(newest.Data).Id);
        Assert.True(newest.HasMore);
        Assert.Equal("succeeded", newest.Data[0].Status);
        Assert.Equal(first.Id, Assert.Single(next.Data).Id);
        Assert.False(next.HasMore);
        Assert.Equal(second.Id, Assert.Single(back.Data).Id);
        Assert.Equal([second.Id, first.Id], byCustomer.Data.Select(s => s.Id));
        Assert.Equal(foreign.Id, Assert.Single(byPaymentMethod.Data).Id);
        Assert.Equal("limit", badLimit.StripeError.Param);
    }

    [Fact]
    public async Task Cancel_PendingSetup_CanceledAndMandateInactive_SucceededCannotBeCanceled()
    {
        var (_, account, pending) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        var (_, _, succeeded) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));

        var canceled = await client.V1.SetupIntents.CancelAsync(pending.Id, new SetupIntentCancelOptions { CancellationReason = "abandoned" });
        var mandate = await client.V1.Mandates.GetAsync(pending.MandateId);
        var refused = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CancelAsync(succeeded.Id));
        var verify = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(
            pending.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] }));

        Assert.Equal("canceled", canceled.Status);
        Assert.Equal("abandoned", canceled.CancellationReason);
        Assert.Null(canceled.NextAction);
        Assert.Equal("inactive", mandate.Status);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(account.Id)).CustomerId);
        Assert.Equal("setup_intent_unexpected_state", refused.StripeError.Code);
        Assert.Equal("succeeded", (await client.V1.SetupIntents.GetAsync(succeeded.Id)).Status);
        Assert.Equal("setup_intent_unexpected_state", verify.StripeError.Code);
    }

    [Fact]
    public async Task Confirm_AlreadySucceeded_Returns400UnexpectedState()
    {
        var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var intent = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(customer.Id, card));

        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.ConfirmAsync(intent.Id, new SetupIntentConfirmOptions()));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("setup_intent_unexpected_state", error.StripeError.Code);
    }

    [Fact]
    public async Task Create_PaymentMethodOfAnotherCustomer_Returns400()
    {
        var owner = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var other = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var card = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        await client.V1.PaymentMethods.AttachAsync(card.Id, new PaymentMethodAttachOptions { Customer = owner.Id });

        var error = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(other.Id, card)));
        var own = await client.V1.SetupIntents.CreateAsync(SetupHarness.Setup(owner.Id, card));

        Assert.Equal(HttpStatusCode.BadRequest, error.HttpStatusCode);
        Assert.Equal("payment_method", error.StripeError.Param);
        Assert.Equal("succeeded", own.Status);
    }
}
