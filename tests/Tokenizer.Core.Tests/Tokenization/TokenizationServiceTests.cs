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
    private readonly ITokenLedger ledger = Substitute.For<ITokenLedger>();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly TokenizationService service;

    public TokenizationServiceTests()
    {
        gateway.Name.Returns("stripe");
        service = new TokenizationService(
            new RequestValidator(time),
            gateway,
            ledger,
            new RequestHasher(Secret),
            time,
            new TokenizationSettings { DuplicateWait = TimeSpan.Zero },
            NullLogger<TokenizationService>.Instance);
    }

    private static TokenizeCardCommand Card(string key = "key-1", string number = "4242424242424242") =>
        new(key, "cust-1", new CardInput(number, 12, 2030, "123"), null);

    [Fact]
    public async Task TokenizeCard_NewKey_CreatesCustomerPaymentMethodAttachesAndCompletes()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.FindCustomerAsync("stripe", "cust-1", default).ReturnsForAnyArgs((string?)null);
        gateway.CreateCustomerAsync("cust-1", default!, default).ReturnsForAnyArgs("cus_1");
        ledger.SaveCustomerAsync("stripe", "cust-1", "cus_1", default, default).ReturnsForAnyArgs("cus_1");
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
        await gateway.Received(1).AttachAsync("pm_1", "cus_1", Arg.Is<string>(k => k.EndsWith("_attach", StringComparison.Ordinal)), Arg.Any<CancellationToken>());
        await ledger.Received(1).CompleteAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), Arg.Is<string>(j => j.Contains("pm_1", StringComparison.Ordinal)), Arg.Is<TokenRecord>(t => t.Token == "pm_1"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_KnownCustomer_DoesNotCreateCustomer()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.FindCustomerAsync("stripe", "cust-1", Arg.Any<CancellationToken>()).Returns("cus_known");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_2", TokenType.Card, new CardMetadata("visa", "4242", 12, 2030, null, null, null), null));

        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        await gateway.DidNotReceiveWithAnyArgs().CreateCustomerAsync(default!, default!, default);
        await gateway.Received(1).AttachAsync("pm_2", "cus_known", Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_Replay_ReturnsStoredResponseWithoutGatewayCall()
    {
        const string stored = """{"token":"pm_old","gateway":"stripe","type":"Card","status":"Active","callerId":"default","customerReference":"cust-1","createdAt":"2026-11-01T00:00:00+00:00"}""";
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Replay, stored));

        var result = await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        Assert.True(result.Replayed);
        Assert.Equal("pm_old", result.Token.Token);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
    }

    [Fact]
    public async Task TokenizeCard_Conflict_AlreadyExistsIdempotencyKeyReused()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Conflict));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(ErrorReasons.IdempotencyKeyReused, error.Reason);
    }

    [Fact]
    public async Task TokenizeCard_InFlightPastWait_Aborted()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.InFlight));

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Equal(ErrorKind.Aborted, error.Kind);
        Assert.Equal(ErrorReasons.IdempotencyKeyInFlight, error.Reason);
    }

    [Fact]
    public async Task TokenizeCard_GatewayFails_ReleasesClaimAndRethrows()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        var unavailable = new TokenizerException(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "gateway unavailable");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ThrowsAsyncForAnyArgs(unavailable);

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        Assert.Same(unavailable, error);
        // Unavailable: the gateway may have attached it anyway, so the intent is left failed for the orphan sweep.
        await ledger.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), time.GetUtcNow(), IntentState.Failed, Arg.Any<CancellationToken>());
        await ledger.DidNotReceiveWithAnyArgs().CompleteAsync(default!, default!, default!, default!, default);
    }

    [Fact]
    public async Task TokenizeCard_GatewayDeclines_ReleasesClaimWithIntentClosed()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(new GatewayPaymentMethod("pm_1", TokenType.Card, null, null));
        var declined = new TokenizerException(ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, "card declined");
        gateway.AttachAsync(default!, default!, default!, default).ThrowsAsyncForAnyArgs(declined);

        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));

        // A refusal attached nothing: no sweep needed.
        await ledger.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("key-1"), time.GetUtcNow(), IntentState.Closed, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_ClaimCarriesTheIntentSentAsPaymentMethodMetadata()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.FindCustomerAsync(default!, default!, default).ReturnsForAnyArgs("cus_1");
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2034, null, null, null), null));

        await service.TokenizeCardAsync(Caller, Card(), CancellationToken.None);

        var claim = (IdempotencyClaim)ledger.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(ITokenLedger.BeginAsync)).GetArguments()[0]!;
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
        Assert.Empty(ledger.ReceivedCalls());
    }

    [Fact]
    public async Task TokenizeCard_SameKeyDifferentCard_DifferentRequestHmac()
    {
        var claims = new List<IdempotencyClaim>();
        ledger.BeginAsync(Arg.Do<IdempotencyClaim>(claims.Add), Arg.Any<CancellationToken>()).Returns(new IdempotencyOutcome(IdempotencyState.Conflict));

        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(number: "4242 4242 4242 4242"), CancellationToken.None));
        await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card(number: "5555555555554444"), CancellationToken.None));

        Assert.Equal(claims[0].RequestHmac, claims[1].RequestHmac);
        Assert.NotEqual(claims[0].RequestHmac, claims[2].RequestHmac);
    }

    [Fact]
    public async Task RevokeToken_AlreadyRevoked_NoDetach()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
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
        ledger.GetTokenAsync("pm_r", Arg.Any<CancellationToken>()).Returns(revoked);

        var result = await service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_r", "rk-1", null), CancellationToken.None);

        Assert.Equal(revoked, result);
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
    }

    [Fact]
    public async Task RevokeToken_Unknown_NotFoundAndReleased()
    {
        ledger.BeginAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        ledger.GetTokenAsync(default!, default).ReturnsForAnyArgs((TokenRecord?)null);

        var error = await Assert.ThrowsAsync<TokenizerException>(() =>
            service.RevokeTokenAsync(Caller, new RevokeTokenCommand("pm_missing", "rk-2", null), CancellationToken.None));

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        await ledger.Received(1).ReleaseOwnedAsync("default", new RequestHasher(Secret).IdempotencyKeyId("rk-2"), time.GetUtcNow(), IntentState.Closed, Arg.Any<CancellationToken>());
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
        Assert.Empty(ledger.ReceivedCalls());
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
        ledger.GetTokenAsync("pm_other", Arg.Any<CancellationToken>()).Returns(token);

        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.GetTokenAsync(Caller, "pm_other", CancellationToken.None));
        var asFinance = await service.GetTokenAsync(FinanceCaller, "pm_other", CancellationToken.None);

        Assert.Equal(ErrorKind.NotFound, error.Kind);
        Assert.Equal(token, asFinance);
    }

    [Fact]
    public async Task ListTokens_ZeroPageSize_DefaultsToFifty()
    {
        ledger.ListTokensAsync(default!, default).ReturnsForAnyArgs(new TokenPage([], null));

        await service.ListTokensAsync(FinanceCaller, new ListTokensCommand(null, null, null, null, 0, null), CancellationToken.None);

        await ledger.Received(1).ListTokensAsync(Arg.Is<TokenQuery>(q => q.PageSize == 50), Arg.Any<CancellationToken>());
    }
}
