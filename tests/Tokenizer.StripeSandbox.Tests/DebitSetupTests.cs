using System.Net;
using Microsoft.Extensions.Time.Testing;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// Bank debits: mandates from SetupIntents, ACH microdeposit verification (API and hosted page), the Bacs activation
/// delay on a fake clock, and the off-session debit PaymentIntent that needs an active mandate.
/// </summary>
public sealed class DebitSetupTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private readonly StripeClient client = fixture.Client;

    [Theory]
    [InlineData("sepa_debit", "eur")]
    [InlineData("au_becs_debit", "aud")]
    public async Task Debit_SetUpWithMandate_ChargesOffSession_AttachedOnlyIsRefused(string type, string currency)
    {
        var (customer, debit, _) = await SetupHarness.SetUpAsync(client, SetupHarness.Debit(type));

        var charge = await client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id, currency));
        var settled = await client.V1.PaymentIntents.GetAsync(charge.Id);

        // Control: the same account created and attached without a SetupIntent has no mandate.
        var oldCustomer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var oldDebit = await client.V1.PaymentMethods.CreateAsync(SetupHarness.Debit(type));
        await client.V1.PaymentMethods.AttachAsync(oldDebit.Id, new PaymentMethodAttachOptions { Customer = oldCustomer.Id });
        var refused = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(oldCustomer.Id, oldDebit.Id, currency)));

        Assert.Equal("processing", charge.Status);
        Assert.Equal("succeeded", settled.Status);
        Assert.Equal(1999, settled.AmountReceived);
        Assert.Equal(HttpStatusCode.BadRequest, refused.HttpStatusCode);
        Assert.Equal("invalid_request_error", refused.StripeError.Type);
        Assert.Equal("mandate_data", refused.StripeError.Param);
    }

    [Fact]
    public async Task Sepa_FailingTestAccount_SetsUpThenTheChargeFailsWhileProcessing()
    {
        var (customer, debit, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa("AT861904300235473202"));

        var charge = await client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id));
        var settled = await client.V1.PaymentIntents.GetAsync(charge.Id);

        Assert.Equal("succeeded", intent.Status);
        Assert.Equal("processing", charge.Status);
        Assert.Equal("requires_payment_method", settled.Status);
        Assert.NotNull(settled.LastPaymentError.Code);
        Assert.Equal(0, settled.AmountReceived);
    }

    [Fact]
    public async Task Charge_DetachedForeignOrWrongCurrency_IsRefused()
    {
        var (customer, debit, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa());
        var (cardCustomer, card, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("4242424242424242"));
        var stranger = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
        var (detachedCustomer, detached, _) = await SetupHarness.SetUpAsync(client, SandboxHarness.Card("5555555555554444"));
        await client.V1.PaymentMethods.DetachAsync(detached.Id);

        var foreign = await Assert.ThrowsAsync<StripeException>(() => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(stranger.Id, card.Id)));
        var gone = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(detachedCustomer.Id, detached.Id)));
        var currency = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id, "usd")));
        var own = await client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(cardCustomer.Id, card.Id));

        Assert.Equal(HttpStatusCode.BadRequest, foreign.HttpStatusCode);
        Assert.Equal("payment_method", foreign.StripeError.Param);
        Assert.Equal(HttpStatusCode.BadRequest, gone.HttpStatusCode);
        Assert.Equal("payment_method", gone.StripeError.Param);
        Assert.Equal("currency", currency.StripeError.Param);
        Assert.Equal("succeeded", own.Status);
    }

    [Fact]
    public async Task Ach_CustomerDeletedBeforeVerification_RefusedNothingAttachedMandateInactive()
    {
        // Stripe: a deleted Customer takes no further operations. The control is the next test: the same verification
        // with the Customer kept succeeds and attaches the account.
        var (customer, account, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        await client.V1.Customers.DeleteAsync(customer.Id);

        var refused = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] }));
        var after = await client.V1.SetupIntents.GetAsync(intent.Id);

        Assert.Equal((HttpStatusCode.BadRequest, "resource_missing"), (refused.HttpStatusCode, refused.StripeError.Code));
        Assert.Equal("requires_payment_method", after.Status);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(account.Id)).CustomerId);
        Assert.Equal("inactive", (await client.V1.Mandates.GetAsync(intent.MandateId)).Status);
    }

    [Fact]
    public async Task Ach_VerifiedWithAmounts_MandateActiveAndCharges_UnverifiedIsRefused()
    {
        var (customer, account, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        var pending = await client.V1.Mandates.GetAsync(intent.MandateId);
        var before = await client.V1.PaymentMethods.GetAsync(account.Id);
        var unverified = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, account.Id, "usd")));

        var verified = await client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] });
        var active = await client.V1.Mandates.GetAsync(intent.MandateId);
        var charge = await client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, account.Id, "usd"));

        Assert.Equal("requires_action", intent.Status);
        Assert.Equal("verify_with_microdeposits", intent.NextAction.Type);
        Assert.Equal(fixture.Server.BaseAddress + "_sandbox/verify/" + intent.Id, intent.NextAction.VerifyWithMicrodeposits.HostedVerificationUrl);
        Assert.Equal("amounts", intent.NextAction.VerifyWithMicrodeposits.MicrodepositType);
        Assert.True(intent.NextAction.VerifyWithMicrodeposits.ArrivalDate > DateTime.UtcNow);
        Assert.Equal("pending", pending.Status);
        Assert.Null(before.CustomerId);
        Assert.Equal("payment_intent_mandate_invalid", unverified.StripeError.Code);
        Assert.Equal("succeeded", verified.Status);
        Assert.Equal("active", active.Status);
        Assert.Equal("us_bank_account", active.PaymentMethodDetails.Type);
        Assert.Equal(customer.Id, (await client.V1.PaymentMethods.GetAsync(account.Id)).CustomerId);
        Assert.Equal("processing", charge.Status);
    }

    [Fact]
    public async Task Ach_DescriptorCode_Verifies()
    {
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());

        var wrong = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(
            intent.Id, new SetupIntentVerifyMicrodepositsOptions { DescriptorCode = "SM00ZZ" }));
        var verified = await client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, new SetupIntentVerifyMicrodepositsOptions { DescriptorCode = "SM11AA" });

        Assert.Equal("payment_method_microdeposit_verification_descriptor_code_mismatch", wrong.StripeError.Code);
        Assert.Equal("succeeded", verified.Status);
        Assert.Equal("active", (await client.V1.Mandates.GetAsync(intent.MandateId)).Status);
    }

    [Fact]
    public async Task Ach_WrongAmounts_StayUnverifiedThenAttemptsExceeded_CannotBeCharged()
    {
        var (customer, account, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        var wrong = new SetupIntentVerifyMicrodepositsOptions { Amounts = [10, 11] };

        var first = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, wrong));
        var afterFirst = await client.V1.SetupIntents.GetAsync(intent.Id);
        var second = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, wrong));
        var third = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(intent.Id, wrong));
        var afterThird = await client.V1.SetupIntents.GetAsync(intent.Id);
        var late = await Assert.ThrowsAsync<StripeException>(() => client.V1.SetupIntents.VerifyMicrodepositsAsync(
            intent.Id, new SetupIntentVerifyMicrodepositsOptions { Amounts = [32, 45] }));
        var charge = await Assert.ThrowsAsync<StripeException>(
            () => client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, account.Id, "usd")));

        Assert.Equal(HttpStatusCode.BadRequest, first.HttpStatusCode);
        Assert.Equal("invalid_request_error", first.StripeError.Type);
        Assert.Equal("payment_method_microdeposit_verification_amounts_mismatch", first.StripeError.Code);
        Assert.Contains("2 verification attempts remaining", first.StripeError.Message, StringComparison.Ordinal);
        Assert.Equal("requires_action", afterFirst.Status);
        Assert.Equal("payment_method_microdeposit_verification_amounts_mismatch", second.StripeError.Code);
        Assert.Equal("payment_method_microdeposit_verification_attempts_exceeded", third.StripeError.Code);
        Assert.Equal("requires_payment_method", afterThird.Status);
        Assert.Equal("payment_method_microdeposit_verification_attempts_exceeded", afterThird.LastSetupError.Code);
        Assert.Equal("inactive", (await client.V1.Mandates.GetAsync(intent.MandateId)).Status);
        Assert.Equal("setup_intent_unexpected_state", late.StripeError.Code);
        Assert.Null((await client.V1.PaymentMethods.GetAsync(account.Id)).CustomerId);
        Assert.Equal(HttpStatusCode.BadRequest, charge.HttpStatusCode);
    }

    [Fact]
    public async Task Ach_AmountsAsBracketList_Verify()
    {
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        using var http = SandboxHarness.Http(fixture.Server);

        using var wrong = await http.PostAsync(
            new Uri($"v1/setup_intents/{intent.Id}/verify_microdeposits", UriKind.Relative),
            new FormUrlEncodedContent([new("amounts[]", "1"), new("amounts[]", "2")]));
        using var right = await http.PostAsync(
            new Uri($"v1/setup_intents/{intent.Id}/verify_microdeposits", UriKind.Relative),
            new FormUrlEncodedContent([new("amounts[]", "32"), new("amounts[]", "45")]));

        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal("succeeded", (await client.V1.SetupIntents.GetAsync(intent.Id)).Status);
    }

    [Fact]
    public async Task Ach_HostedVerificationPage_WrongThenRightAmounts()
    {
        var (_, _, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
        var url = new Uri(intent.NextAction.VerifyWithMicrodeposits.HostedVerificationUrl);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var page = await http.GetStringAsync(url);
        using var wrong = await http.PostAsync(url, new FormUrlEncodedContent([new("amount1", "10"), new("amount2", "11")]));
        var stillPending = await client.V1.SetupIntents.GetAsync(intent.Id);
        using var right = await http.PostAsync(url, new FormUrlEncodedContent([new("amount1", "45"), new("amount2", "32")]));
        using var after = await http.GetAsync(url);

        Assert.Contains("id=\"amount1\"", page, StringComparison.Ordinal);
        Assert.Contains("id=\"descriptor_code\"", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("do not match", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("requires_action", stillPending.Status);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal("succeeded", (await client.V1.SetupIntents.GetAsync(intent.Id)).Status);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Bacs_DefaultDelay_ProcessingAtConfirmThenSucceededAtFirstRetrieve()
    {
        var (customer, debit, intent) = await SetupHarness.SetUpAsync(client, SandboxHarness.Bacs());
        var before = await client.V1.PaymentMethods.GetAsync(debit.Id);

        var fetched = await client.V1.SetupIntents.GetAsync(intent.Id);
        var mandate = await client.V1.Mandates.GetAsync(intent.MandateId);

        Assert.Equal("processing", intent.Status);
        Assert.Null(before.CustomerId);
        Assert.Equal("succeeded", fetched.Status);
        Assert.Equal("active", mandate.Status);
        Assert.Equal("accepted", mandate.PaymentMethodDetails.BacsDebit.NetworkStatus);
        Assert.Equal(customer.Id, (await client.V1.PaymentMethods.GetAsync(debit.Id)).CustomerId);
    }

    [Fact]
    public async Task Bacs_ConfiguredDelay_PendingUntilTheClockPassesIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SandboxHarness.StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.BacsMandateActivationDelay = TimeSpan.FromDays(3);
        });
        var stripe = SandboxHarness.Client(server);
        var (customer, debit, intent) = await SetupHarness.SetUpAsync(stripe, SandboxHarness.Bacs());

        clock.Advance(TimeSpan.FromDays(3) - TimeSpan.FromSeconds(1));
        var stillProcessing = await stripe.V1.SetupIntents.GetAsync(intent.Id);
        var pending = await stripe.V1.Mandates.GetAsync(intent.MandateId);
        var refused = await Assert.ThrowsAsync<StripeException>(
            () => stripe.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id, "gbp")));
        clock.Advance(TimeSpan.FromSeconds(1));
        var active = await stripe.V1.Mandates.GetAsync(intent.MandateId);
        var charge = await stripe.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id, "gbp"));

        Assert.Equal("processing", intent.Status);
        Assert.Equal("processing", stillProcessing.Status);
        Assert.Equal("pending", pending.Status);
        Assert.Equal("pending", pending.PaymentMethodDetails.BacsDebit.NetworkStatus);
        Assert.Equal("payment_intent_mandate_invalid", refused.StripeError.Code);
        Assert.Equal("active", active.Status);
        Assert.Equal("succeeded", (await stripe.V1.SetupIntents.GetAsync(intent.Id)).Status);
        Assert.Equal("processing", charge.Status);
    }

    [Fact]
    public async Task DebitProcessingDelay_ChargeStaysProcessingUntilTheClockPassesIt()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await SandboxHarness.StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.DebitProcessingDelay = TimeSpan.FromMinutes(3);
        });
        var stripe = SandboxHarness.Client(server);
        var (customer, debit, _) = await SetupHarness.SetUpAsync(stripe, SandboxHarness.Sepa());
        var charge = await stripe.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id));

        clock.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromSeconds(1));
        var processing = await stripe.V1.PaymentIntents.GetAsync(charge.Id);
        clock.Advance(TimeSpan.FromSeconds(1));
        var settled = await stripe.V1.PaymentIntents.GetAsync(charge.Id);

        Assert.Equal("processing", processing.Status);
        Assert.Equal("succeeded", settled.Status);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(31)]
    public async Task Start_DelayOutOfRange_RefusedNamingTheSetting(int days)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => SandboxHarness.StartAsync(o => o.BacsMandateActivationDelay = TimeSpan.FromDays(days)));
        var debit = await Assert.ThrowsAsync<InvalidOperationException>(
            () => SandboxHarness.StartAsync(o => o.DebitProcessingDelay = TimeSpan.FromDays(days)));

        Assert.Contains("BacsMandateActivationDelay", error.Message, StringComparison.Ordinal);
        Assert.Contains("DebitProcessingDelay", debit.Message, StringComparison.Ordinal);
    }
}
