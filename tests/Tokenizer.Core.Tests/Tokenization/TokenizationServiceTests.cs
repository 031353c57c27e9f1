using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Tokenization;

/// <summary>The orchestration rules of the tokenisation path, with the ports substituted (one class under test).</summary>
public sealed class TokenizationServiceTests
{
    private static readonly CallerContext Caller = new("default", CallerRoles.Tokenize, CallerRoles.Admin);
    private static readonly CallerContext FinanceCaller = new("finance-staff", CallerRoles.Finance);
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly IClaimStore claimStore = Substitute.For<IClaimStore>();
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly TokenizationService service;

    public TokenizationServiceTests()
    {
        gateway.Name.Returns("stripe");
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(Ready("seti_1"));
        service = new TokenizationService(
            new RequestValidator(time),
            gateway,
            claimStore,
            customerRepository,
            tokenRepository,
            new RequestHasher(Secret),
            time,
            new TokenizationSettings { DuplicateWait = TimeSpan.Zero },
            NullLogger<TokenizationService>.Instance);
    }

    private static TokenizeCardCommand Card(string key = "key-1", string number = "4242424242424242", string? returnUrl = null) =>
        new(key, "cust-1", new CardInput(number, 12, 2030, "123"), null, returnUrl);

    private static GatewaySetup Ready(string id, string? mandate = null) => new(id, SetupStatus.Ready, null, null, mandate, "pm_1");

    private static TokenizeBankAccountCommand Sepa(string key = "key-b", bool offline = false) => new(
        key,
        "cust-1",
        new SepaDebitInput("AT611904300234573201"),
        new BillingDetails("Jenny Rosen", "jenny@example.com", null, null),
        new MandateAcceptanceInput(
            new DateTimeOffset(2026, 11, 29, 11, 0, 0, TimeSpan.Zero),
            offline ? null : new OnlineAcceptanceInput("203.0.113.7", "Mozilla/5.0"),
            offline));

    private void StartedWithPaymentMethod(TokenType type = TokenType.Card)
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(type == TokenType.Card
            ? new GatewayPaymentMethod("pm_1", TokenType.Card, new CardMetadata("visa", "3155", 12, 2030, "credit", "US", "fp"), null)
            : new GatewayPaymentMethod("pm_1", type, null, new BankAccountMetadata("3201", "19043", "AT", "fp")));
    }

    [Fact]
    public async Task TokenizeCard_NewKey_CreatesCustomerPaymentMethodSetsUpThroughSetupIntentAndCompletes()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync("stripe", "cust-1", default).ReturnsForAnyArgs((string?)null);
        gateway.CreateCustomerAsync("cust-1", default!, default).ReturnsForAnyArgs("cus_1");
        customerRepository.SaveCustomerAsync("stripe", "cust-1", "cus_1", default, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2030, "credit", "US", "fp"), null));

        var result = await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        Assert.False(result.Replayed);
        Assert.Equal("pm_1", result.Token.Token);
        Assert.Equal("cus_1", result.Token.GatewayCustomerId);
        await gateway.Received(1).CreatePaymentMethodAsync(
            Arg.Is<PaymentMethodRequest>(r => r.Card!.Pan == "4242424242424242" && r.Metadata.ContainsKey("tokenizer_intent")),
            Arg.Is<string>(k => k.StartsWith("tkz_", StringComparison.Ordinal) && k.EndsWith("_pm", StringComparison.Ordinal)),
            Arg.Any<CancellationToken>());
        // The SetupIntent (not /attach) attaches it: same customer, same PaymentMethod, the intent id, its own derived key.
        await gateway.Received(1).CreateSetupIntentAsync(
            Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_1" && r.PaymentMethodId == "pm_1" && r.Type == TokenType.Card
                && r.Metadata.ContainsKey("tokenizer_intent") && r.ReturnUrl == null && r.MandateAcceptance == null),
            Arg.Is<string>(k => k == new RequestHasher(Secret).SetupIntentKey("default", "key-1", "cus_1")),
            Arg.Any<CancellationToken>());
        await gateway.DidNotReceiveWithAnyArgs().AttachAsync(default!, default!, default!, default);
        Assert.Equal(new TokenSetup(SetupStatus.Ready, "seti_1", null, null), result.Token.Setup);
        await claimStore.Received(1).CompleteWithTokenAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), Arg.Is<string>(j => j.Contains("pm_1", StringComparison.Ordinal) && j.Contains("seti_1", StringComparison.Ordinal)), Arg.Is<TokenRecord>(t => t.Token == "pm_1" && t.Setup.Status == SetupStatus.Ready), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_MappedCustomerDeletedAtGateway_ReplacedUnderTheDeletedCustomersKeyAndSetUpAgain()
    {
        // Arrange: the ledger maps the reference to cus_1, which Stripe deleted (customer.deleted not processed yet).
        StartedWithPaymentMethod();
        var hasher = new RequestHasher(Secret);
        gateway.CreateSetupIntentAsync(Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_1"), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Throws(new TokenizerException(ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, "the gateway does not know the customer"));
        gateway.CreateSetupIntentAsync(Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_2"), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns(Ready("seti_2"));
        gateway.IsCustomerDeletedAsync("cus_1", Arg.Any<CancellationToken>()).Returns(true);
        gateway.IsCustomerDeletedAsync("cus_2", Arg.Any<CancellationToken>()).Returns(false);
        gateway.CreateCustomerAsync("cust-1", Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns("cus_2");
        customerRepository.ReplaceCustomerAsync("stripe", "cust-1", "cus_1", "cus_2", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns("cus_2");

        // Act
        var result = await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        // Assert: a new Customer under a key derived from the deleted one (not from this request, so concurrent requests
        // meeting cus_1 get one replacement), mapped in place of the deleted one, set up under a key of its own (the
        // first key's 404 stays at the gateway).
        Assert.Equal(("cus_2", "seti_2"), (result.Token.GatewayCustomerId, result.Token.Setup.SetupIntentId));
        await gateway.Received(1).CreateCustomerAsync("cust-1", hasher.ReplacementCustomerKey("stripe", "cust-1", "cus_1"), Arg.Any<CancellationToken>());
        Assert.NotEqual(hasher.ReplacementCustomerKey("stripe", "cust-1", "cus_1"), hasher.ReplacementCustomerKey("stripe", "cust-1", "cus_2"));
        Assert.NotEqual(hasher.ReplacementCustomerKey("stripe", "cust-1", "cus_1"), hasher.CustomerKey("stripe", "cust-1"));
        await customerRepository.Received(1).ReplaceCustomerAsync("stripe", "cust-1", "cus_1", "cus_2", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
        await gateway.Received(1).CreateSetupIntentAsync(
            Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_2"), hasher.SetupIntentKey("default", "key-1", "cus_2"), Arg.Any<CancellationToken>());
        Assert.NotEqual(hasher.SetupIntentKey("default", "key-1", "cus_1"), hasher.SetupIntentKey("default", "key-1", "cus_2"));
        await claimStore.Received(1).CompleteWithTokenAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>(), Arg.Is<TokenRecord>(t => t.GatewayCustomerId == "cus_2"), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(false, false)] // Stripe says the Customer exists: not ours to replace.
    [InlineData(true, true)] // the replacement's key gives back a Customer that is deleted too: never mapped.
    public async Task TokenizeCard_CustomerMissingButNotReplaceable_FailsGatewayCustomerMissingMapsNothing(bool missingDeleted, bool newDeleted)
    {
        // Arrange
        StartedWithPaymentMethod();
        gateway.CreateSetupIntentAsync(default!, default!, default)
            .ThrowsForAnyArgs(new TokenizerException(ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, "the gateway does not know the customer"));
        gateway.IsCustomerDeletedAsync("cus_1", Arg.Any<CancellationToken>()).Returns(missingDeleted);
        gateway.IsCustomerDeletedAsync("cus_2", Arg.Any<CancellationToken>()).Returns(newDeleted);
        gateway.CreateCustomerAsync("cust-1", Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns("cus_2");

        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        // Assert
        Assert.Equal(ErrorReasons.GatewayCustomerMissing, error.Reason);
        await customerRepository.DidNotReceiveWithAnyArgs().ReplaceCustomerAsync(default!, default!, default!, default!, default, default);
        await gateway.ReceivedWithAnyArgs(1).CreateSetupIntentAsync(default!, default!, default);
    }

    [Fact]
    public async Task TokenizeCard_SameKeyAgain_SameGatewayKeysEveryAttempt()
    {
        StartedWithPaymentMethod();

        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);
        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);
        await service.TokenizeCardAsync(Caller, Card(key: "key-2"), CancellationToken.None);

        var keys = gateway.ReceivedCalls().Where(c => c.GetMethodInfo().Name == nameof(ITokenGateway.CreateSetupIntentAsync))
            .Select(c => (string)c.GetArguments()[1]!).ToList();
        Assert.Equal(3, keys.Count);
        Assert.Equal(keys[0], keys[1]);
        Assert.NotEqual(keys[0], keys[2]);
    }

    [Fact]
    public async Task TokenizeCard_RequiresActionWithReturnUrl_ReturnsTokenWithNextAction()
    {
        StartedWithPaymentMethod();
        var next = new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/3d_secure/seti_2", null);
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(new GatewaySetup("seti_2", SetupStatus.RequiresAction, next, null, null, "pm_1"));

        var result = await service.TokenizeCardAsync(Caller, Card(returnUrl: "https://billing.example.com/done"), CancellationToken.None);

        Assert.Equal(new TokenSetup(SetupStatus.RequiresAction, "seti_2", next, null), result.Token.Setup);
        await gateway.Received(1).CreateSetupIntentAsync(
            Arg.Is<SetupIntentRequest>(r => r.ReturnUrl == "https://billing.example.com/done"), Arg.Any<string>(), Arg.Any<CancellationToken>());
        await claimStore.Received(1).CompleteWithTokenAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<string>(), Arg.Is<TokenRecord>(t => t.Setup.NextAction == next), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_RequiresActionWithoutReturnUrl_FailedPreconditionNamingReturnUrlAndIntentClosed()
    {
        StartedWithPaymentMethod();
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(new GatewaySetup("seti_3", SetupStatus.RequiresAction, null, null, null, "pm_1"));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Equal(ErrorReasons.AuthenticationRequired, error.Reason);
        Assert.Equal("return_url", Assert.Single(error.Violations).Field);
        // The SetupIntent did not succeed and is cancelled, so nothing is or can be attached: no token, the intent closed.
        await gateway.Received(1).CancelSetupIntentAsync("seti_3", Arg.Is<string>(k => k.EndsWith("_seti_cancel", StringComparison.Ordinal)), Arg.Any<CancellationToken>());
        await claimStore.DidNotReceiveWithAnyArgs().CompleteWithTokenAsync(default!, default!, default!, default!, default);
        await claimStore.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), time.GetUtcNow(), IntentState.Closed, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_Processing_ReturnsTokenProcessing()
    {
        StartedWithPaymentMethod();
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(new GatewaySetup("seti_4", SetupStatus.Processing, null, null, null, "pm_1"));

        var result = await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        Assert.Equal(SetupStatus.Processing, result.Token.Setup.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TokenizeBankAccount_Succeeded_SendsMandateDataAndRecordsTheMandate(bool offline)
    {
        StartedWithPaymentMethod(TokenType.SepaDebit);
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(Ready("seti_5", "mandate_1"));
        var mandate = new Mandate("mandate_1", MandateStatus.Active, offline ? MandateType.Offline : MandateType.Online, new DateTimeOffset(2026, 11, 29, 11, 0, 0, TimeSpan.Zero));
        gateway.GetMandateAsync("mandate_1", Arg.Any<CancellationToken>()).Returns(mandate);

        var result = await service.TokenizeBankAccountAsync(Caller, Sepa(offline: offline), CancellationToken.None);

        Assert.Equal(mandate, result.Token.Mandate);
        Assert.Equal(SetupStatus.Ready, result.Token.Setup.Status);
        await gateway.Received(1).CreateSetupIntentAsync(
            Arg.Is<SetupIntentRequest>(r => r.Type == TokenType.SepaDebit && r.ReturnUrl == null
                && r.MandateAcceptance!.AcceptedAt == new DateTimeOffset(2026, 11, 29, 11, 0, 0, TimeSpan.Zero)
                && (offline ? r.MandateAcceptance.Online == null : r.MandateAcceptance.Online!.IpAddress == "203.0.113.7")),
            Arg.Is<string>(k => k.Contains("_seti_", StringComparison.Ordinal)),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeBankAccount_OtherMandateAcceptanceSameKey_DifferentRequestHmac()
    {
        var claims = new List<IdempotencyClaim>();
        claimStore.ClaimAsync(Arg.Do<IdempotencyClaim>(claims.Add), Arg.Any<CancellationToken>()).Returns(new IdempotencyOutcome(IdempotencyState.Conflict));

        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeBankAccountAsync(Caller, Sepa(), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeBankAccountAsync(Caller, Sepa(), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeBankAccountAsync(Caller, Sepa(offline: true), CancellationToken.None));

        Assert.Equal(claims[0].RequestHmac, claims[1].RequestHmac);
        Assert.NotEqual(claims[0].RequestHmac, claims[2].RequestHmac);
    }

    [Fact]
    public async Task GetToken_PendingSetup_RefreshedFromGatewayAndStored()
    {
        var pending = new TokenRecord
        {
            Token = "pm_1",
            Gateway = "stripe",
            Type = TokenType.UsBankAccount,
            Status = TokenStatus.Active,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_6", new NextAction(NextActionKind.VerifyWithMicrodeposits, "https://payments.stripe.com/microdeposit/x", null), null),
        };
        tokenRepository.GetTokenAsync("pm_1", Arg.Any<CancellationToken>()).Returns(pending);
        tokenRepository.UpdateSetupAsync(default!, default).ReturnsForAnyArgs(true);
        gateway.GetSetupIntentAsync("seti_6", Arg.Any<CancellationToken>()).Returns(Ready("seti_6", "mandate_6"));
        var mandate = new Mandate("mandate_6", MandateStatus.Active, MandateType.Online, null);
        gateway.GetMandateAsync("mandate_6", Arg.Any<CancellationToken>()).Returns(mandate);

        var result = await service.GetTokenAsync(Caller, "pm_1", CancellationToken.None);

        Assert.Equal(new TokenSetup(SetupStatus.Ready, "seti_6", null, null), result.Setup);
        Assert.Equal(mandate, result.Mandate);
        await tokenRepository.Received(1).UpdateSetupAsync(Arg.Is<TokenRecord>(t => t.Setup.Status == SetupStatus.Ready && t.Mandate == mandate), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(SetupStatus.Ready)]
    [InlineData(SetupStatus.NotSetUp)]
    [InlineData(SetupStatus.Failed)]
    public async Task GetToken_SettledSetup_NoGatewayCall(SetupStatus status)
    {
        var settled = new TokenRecord
        {
            Token = "pm_1",
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = TokenStatus.Active,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            Setup = new TokenSetup(status, status == SetupStatus.NotSetUp ? null : "seti_7", null, null),
        };
        tokenRepository.GetTokenAsync("pm_1", Arg.Any<CancellationToken>()).Returns(settled);

        var result = await service.GetTokenAsync(Caller, "pm_1", CancellationToken.None);

        Assert.Same(settled, result);
        await gateway.DidNotReceiveWithAnyArgs().GetSetupIntentAsync(default!, default);
        await tokenRepository.DidNotReceiveWithAnyArgs().UpdateSetupAsync(default!, default);
    }

    [Fact]
    public async Task GetToken_PendingSetupGatewayUnavailable_StoredStateAnswered()
    {
        var pending = new TokenRecord
        {
            Token = "pm_1",
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = TokenStatus.Active,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            Setup = new TokenSetup(SetupStatus.Processing, "seti_8", null, null),
        };
        tokenRepository.GetTokenAsync("pm_1", Arg.Any<CancellationToken>()).Returns(pending);
        gateway.GetSetupIntentAsync(default!, default).ThrowsAsyncForAnyArgs(new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable"));

        var result = await service.GetTokenAsync(Caller, "pm_1", CancellationToken.None);

        Assert.Same(pending, result);
        await tokenRepository.DidNotReceiveWithAnyArgs().UpdateSetupAsync(default!, default);
    }

    [Fact]
    public async Task TokenizeCard_KnownCustomer_DoesNotCreateCustomer()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync("stripe", "cust-1", Arg.Any<CancellationToken>()).Returns("cus_known");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_2", TokenType.Card, new CardMetadata("visa", "4242", 12, 2030, null, null, null), null));

        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        await gateway.DidNotReceiveWithAnyArgs().CreateCustomerAsync(default!, default!, default);
        await gateway.Received(1).CreateSetupIntentAsync(
            Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_known" && r.PaymentMethodId == "pm_2"), Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_Replay_ReturnsStoredResponseWithoutGatewayCall()
    {
        const string stored = """{"token":"pm_old","gateway":"stripe","type":"Card","status":"Active","callerId":"default","customerReference":"cust-1","createdAt":"2026-11-01T00:00:00+00:00"}""";
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Replay, stored));

        var result = await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        Assert.True(result.Replayed);
        Assert.Equal("pm_old", result.Token.Token);
        // A response stored before SetupIntents carries no setup: it replays as NOT_SET_UP, as its token reads.
        Assert.Equal(TokenSetup.NotSetUp, result.Token.Setup);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
    }

    [Fact]
    public async Task TokenizeCard_Conflict_AlreadyExistsIdempotencyKeyReused()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Conflict));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(ErrorReasons.IdempotencyKeyReused, error.Reason);
    }

    [Fact]
    public async Task TokenizeCard_InFlightPastWait_Aborted()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.InFlight));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Equal(ErrorKind.Aborted, error.Kind);
        Assert.Equal(ErrorReasons.IdempotencyKeyInFlight, error.Reason);
    }

    [Fact]
    public async Task TokenizeCard_GatewayFails_ReleasesClaimAndRethrows()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        var unavailable = new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ThrowsAsyncForAnyArgs(unavailable);

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Same(unavailable, error);
        // Unavailable: the gateway may have attached it anyway, so the intent is left failed for the orphan sweep.
        await claimStore.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), time.GetUtcNow(), IntentState.Failed, Arg.Any<CancellationToken>());
        await claimStore.DidNotReceiveWithAnyArgs().CompleteWithTokenAsync(default!, default!, default!, default!, default);
    }

    [Fact]
    public async Task TokenizeCard_GatewayDeclines_ReleasesClaimWithIntentClosed()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(new GatewayPaymentMethod("pm_1", TokenType.Card, null, null));
        var declined = new TokenizerException(ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, "card declined");
        gateway.CreateSetupIntentAsync(default!, default!, default).ThrowsAsyncForAnyArgs(declined);

        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        // A refusal attached nothing: no sweep needed.
        await claimStore.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), time.GetUtcNow(), IntentState.Closed, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_ClaimCarriesTheIntentSentAsPaymentMethodMetadata()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2034, null, null, null), null));

        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        var claim = (IdempotencyClaim)claimStore.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(IClaimStore.ClaimAsync)).GetArguments()[0]!;
        var request = (PaymentMethodRequest)gateway.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(ITokenGateway.CreatePaymentMethodAsync)).GetArguments()[0]!;
        Assert.NotNull(claim.Intent);
        Assert.Matches("^tkz_[0-9a-f]{40}_intent$", claim.Intent.IntentId);
        Assert.Equal(claim.Intent.IntentId, request.Metadata["tokenizer_intent"]);
        Assert.Equal(Card().CustomerReference, claim.Intent.CustomerReference);
    }

    [Fact]
    public async Task TokenizeCard_Invalid_NoLedgerOrGatewayCall()
    {
        var error = await Assert.ThrowsAsync<TokenizerException>(() =>
            service.TokenizeCardAsync(Caller, Card(number: "4242424242424241"), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Empty(claimStore.ReceivedCalls());
        Assert.Empty(customerRepository.ReceivedCalls());
        Assert.Empty(tokenRepository.ReceivedCalls());
    }

    [Fact]
    public async Task TokenizeCard_SameKeyDifferentCard_DifferentRequestHmac()
    {
        var claims = new List<IdempotencyClaim>();
        claimStore.ClaimAsync(Arg.Do<IdempotencyClaim>(claims.Add), Arg.Any<CancellationToken>()).Returns(new IdempotencyOutcome(IdempotencyState.Conflict));

        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(number: "4242 4242 4242 4242"), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(number: "5555555555554444"), CancellationToken.None));

        Assert.Equal(claims[0].RequestHmac, claims[1].RequestHmac);
        Assert.NotEqual(claims[0].RequestHmac, claims[2].RequestHmac);
    }

    [Fact]
    public async Task RevokeToken_AlreadyRevoked_NoDetach()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        var revoked = new TokenRecord
        {
            Token = "pm_r",
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = TokenStatus.Revoked,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            RevokedAt = time.GetUtcNow(),
        };
        tokenRepository.GetTokenAsync("pm_r", Arg.Any<CancellationToken>()).Returns(revoked);

        var result = await service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_r", "rk-1", null), CancellationToken.None);

        Assert.Equal(revoked, result);
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
    }

    [Theory]
    [InlineData(SetupStatus.RequiresAction, true)]
    [InlineData(SetupStatus.Processing, true)]
    [InlineData(SetupStatus.Ready, false)]
    public async Task RevokeToken_SetupStillPending_CancelsTheSetupIntentBeforeDetaching(SetupStatus status, bool cancels)
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        gateway.GetSetupIntentAsync("seti_p", Arg.Any<CancellationToken>()).Returns(new GatewaySetup("seti_p", SetupStatus.Failed, null, "canceled", null, "pm_p"));
        tokenRepository.GetTokenAsync("pm_p", Arg.Any<CancellationToken>()).Returns(new TokenRecord
        {
            Token = "pm_p",
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = TokenStatus.Active,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            Setup = new TokenSetup(status, "seti_p", null, null),
        });

        var result = await service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_p", "rk-p", null), CancellationToken.None);

        Assert.Equal(TokenStatus.Revoked, result.Status);
        if (cancels)
        {
            Received.InOrder(() =>
            {
                gateway.CancelSetupIntentAsync("seti_p", Arg.Any<string>(), Arg.Any<CancellationToken>());
                gateway.GetSetupIntentAsync("seti_p", Arg.Any<CancellationToken>());
                gateway.DetachAsync("pm_p", Arg.Any<string>(), Arg.Any<CancellationToken>());
            });

            // The revoked token says what the gateway holds after the cancel (canceled), not that it still waits.
            Assert.Equal(new TokenSetup(SetupStatus.Failed, "seti_p", null, "canceled"), result.Setup);
        }
        else
        {
            Assert.Equal(status, result.Setup.Status);
            await gateway.DidNotReceiveWithAnyArgs().CancelSetupIntentAsync(default!, default!, default);
            await gateway.Received(1).DetachAsync("pm_p", Arg.Any<string>(), Arg.Any<CancellationToken>());
        }
    }

    [Fact]
    public async Task RevokeToken_SetupProcessingThatStripeCannotCancel_RecordsItStillProcessing()
    {
        // Stripe cancels no processing SetupIntent: the revoked token keeps the outcome the gateway reports, rather than
        // claiming a cancellation that did not happen.
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        tokenRepository.GetTokenAsync("pm_q", Arg.Any<CancellationToken>()).Returns(new TokenRecord
        {
            Token = "pm_q",
            Gateway = "stripe",
            Type = TokenType.BacsDebit,
            Status = TokenStatus.Active,
            CallerId = "default",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
            Setup = new TokenSetup(SetupStatus.Processing, "seti_q", null, null),
        });
        gateway.GetSetupIntentAsync("seti_q", Arg.Any<CancellationToken>()).Returns(new GatewaySetup("seti_q", SetupStatus.Processing, null, null, "mandate_q", "pm_q"));

        var result = await service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_q", "rk-q", null), CancellationToken.None);

        Assert.Equal((TokenStatus.Revoked, new TokenSetup(SetupStatus.Processing, "seti_q", null, null)), (result.Status, result.Setup));
        await gateway.Received(1).CancelSetupIntentAsync("seti_q", Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RevokeToken_Unknown_NotFoundAndReleased()
    {
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        tokenRepository.GetTokenAsync(default!, default).ReturnsForAnyArgs((TokenRecord?)null);

        var error = await Assert.ThrowsAsync<TokenizerException>(() =>
            service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_missing", "rk-2", null), CancellationToken.None));

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        await claimStore.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("rk-2"), time.GetUtcNow(), IntentState.Closed, Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public async Task ListTokens_PageSizeOutOfRange_InvalidArgument(int pageSize)
    {
        var error = await Assert.ThrowsAsync<TokenizerException>(() =>
            service.ListTokensAsync(FinanceCaller, new ListTokensCommand(null, null, null, null, pageSize, null), CancellationToken.None));

        Assert.Contains(error.Violations, v => v.Field == "page_size");
    }

    [Fact]
    public async Task ListTokens_WithoutFinanceRole_PermissionDenied()
    {
        var error = await Assert.ThrowsAsync<TokenizerException>(() =>
            service.ListTokensAsync(Caller, new ListTokensCommand(null, null, null, null, 0, null), CancellationToken.None));

        Assert.Equal(ErrorKind.PermissionDenied, error.Kind);
        Assert.Empty(claimStore.ReceivedCalls());
        Assert.Empty(customerRepository.ReceivedCalls());
        Assert.Empty(tokenRepository.ReceivedCalls());
    }

    [Fact]
    public async Task GetToken_AnotherCallersTokenWithoutFinance_NotFound()
    {
        var token = new TokenRecord
        {
            Token = "pm_other",
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = TokenStatus.Active,
            CallerId = "someone-else",
            CustomerReference = "cust-1",
            CreatedAt = time.GetUtcNow(),
        };
        tokenRepository.GetTokenAsync("pm_other", Arg.Any<CancellationToken>()).Returns(token);

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.GetTokenAsync(Caller, "pm_other", CancellationToken.None));
        var asFinance = await service.GetTokenAsync(FinanceCaller, "pm_other", CancellationToken.None);

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Equal(token, asFinance);
    }

    [Fact]
    public async Task ListTokens_ZeroPageSize_DefaultsToFifty()
    {
        tokenRepository.ListTokensAsync(default!, default).ReturnsForAnyArgs(new TokenPage([], null));

        await service.ListTokensAsync(FinanceCaller, new ListTokensCommand(null, null, null, null, 0, null), CancellationToken.None);

        await tokenRepository.Received(1).ListTokensAsync(Arg.Is<TokenQuery>(q => q.PageSize == 50), Arg.Any<CancellationToken>());
    }
}
