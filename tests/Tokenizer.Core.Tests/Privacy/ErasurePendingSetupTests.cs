using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;

namespace Tokenizer.Core.Tests.Privacy;

/// <summary>
/// The erasure against a setup Stripe cannot cancel (a Bacs SetupIntent processing): it must not report the subject
/// erased, nor delete the Customer a later success would attach to, until a later run finds the setup settled.
/// </summary>
public sealed class ErasurePendingSetupTests
{
    private const string Reference = "cust-bacs-1";
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly IPrivacyStore store = Substitute.For<IPrivacyStore>();
    private readonly ISubjectKeyStore keys = Substitute.For<ISubjectKeyStore>();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly PrivacyErasure service;
    private ErasureRecord? saved;
    private TokenRecord token = new()
    {
        Token = "pm_bacs",
        Gateway = "stripe",
        Type = TokenType.BacsDebit,
        Status = TokenStatus.Active,
        CallerId = "billing",
        CustomerReference = Reference,
        GatewayCustomerId = "cus_1",
        CreatedAt = new DateTimeOffset(2030, 5, 1, 0, 0, 0, TimeSpan.Zero),
        Setup = new TokenSetup(SetupStatus.Processing, "seti_bacs", null, null),
    };

    public ErasurePendingSetupTests()
    {
        var pseudonyms = new SubjectPseudonyms(new byte[32]);
        gateway.Name.Returns("stripe");
        gateway.ListCustomerPaymentMethodsAsync(default!, default, default, default).ReturnsForAnyArgs(new GatewayPaymentMethodPage([], null));
        customerRepository.FindCustomerAsync("stripe", Reference, Arg.Any<CancellationToken>()).Returns("cus_1");
        tokenRepository.ListTokensAsync(default!, default).ReturnsForAnyArgs(call =>
            new TokenPage(call.Arg<TokenQuery>().CustomerReference == Reference ? [token] : [], null));
        store.FindErasureAsync(default!, default).ReturnsForAnyArgs(_ => saved);
        store.DestroySubjectAsync(default!, default!, default!, default!, default).ReturnsForAnyArgs(true);
        store.When(s => s.SaveErasureAsync(Arg.Any<ErasureRecord>(), Arg.Any<CancellationToken>())).Do(call => saved = call.Arg<ErasureRecord>());
        store.When(s => s.MarkTokenRevokedAsync("pm_bacs", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()))
            .Do(_ => token = token with { Status = TokenStatus.Revoked });
        service = new PrivacyErasure(customerRepository, tokenRepository, gateway, store, keys, pseudonyms, time, new PrivacySettings(), NullLogger<PrivacyErasure>.Instance, StartedClaims.Create(), new Core.Tokenization.TokenizationSettings());
    }

    [Fact]
    public async Task EraseAsync_SetupProcessing_WaitsDetachingKeepsTheCustomerThenFinishesOnceSettled()
    {
        // Arrange: the cancel is refused by Stripe (the gateway counts that as done), and the read says processing.
        gateway.GetSetupIntentAsync("seti_bacs", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_bacs", SetupStatus.Processing, null, null, "mandate_b", "pm_bacs"));

        // Act
        var first = await service.EraseAsync(new EraseSubjectCommand(Reference, "erase-1", null), CancellationToken.None);

        // Assert: not complete, nothing counted, the Customer kept, the token revoked here, no detach pretended.
        Assert.Equal((ErasureStep.Detaching, 0, (DateTimeOffset?)null), (first.Erasure!.Step, first.Erasure.PaymentMethodsDetached, first.Erasure.CompletedAt));
        await gateway.Received(1).CancelSetupIntentAsync("seti_bacs", Arg.Is<string>(k => k.Length > 0), Arg.Any<CancellationToken>());
        await gateway.DidNotReceiveWithAnyArgs().DeleteCustomerAsync(default!, default);
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
        await keys.DidNotReceiveWithAnyArgs().DestroyAsync(default!, default);
        Assert.Equal(TokenStatus.Revoked, token.Status);

        // Arrange: the setup has since succeeded (the PaymentMethod is attached to the kept Customer).
        gateway.GetSetupIntentAsync("seti_bacs", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_bacs", SetupStatus.Ready, null, null, "mandate_b", "pm_bacs"));

        // Act: the erasure run again.
        var second = await service.EraseAsync(new EraseSubjectCommand(Reference, "erase-2", null), CancellationToken.None);

        // Assert: cleared, detached and counted; the outcome stored on the token; the Customer deleted; complete.
        Assert.Equal((ErasureStep.Completed, 1), (second.Erasure!.Step, second.Erasure.PaymentMethodsDetached));
        await gateway.Received(1).UpdateBillingDetailsAsync("pm_bacs", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.Received(1).DetachAsync("pm_bacs", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await store.Received(1).SettleSetupAsync(Arg.Is<TokenRecord>(t => t.Setup.Status == SetupStatus.Ready), Arg.Any<CancellationToken>());
        await gateway.Received(1).DeleteCustomerAsync("cus_1", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task EraseAsync_SetupWaitingForTheCustomer_CanceledNotCountedAndCompletes()
    {
        // Arrange: a 3-D Secure setup the cancel ends (the control for the wait above: a cancellable one does not wait).
        token = token with { Type = TokenType.Card, Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_bacs", null, null) };
        gateway.GetSetupIntentAsync("seti_bacs", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_bacs", SetupStatus.Failed, null, "canceled", null, "pm_bacs"));

        // Act
        var erased = await service.EraseAsync(new EraseSubjectCommand(Reference, "erase-1", null), CancellationToken.None);

        // Assert: complete, nothing counted as detached (it never was attached), nothing cleared, the outcome stored.
        Assert.Equal((ErasureStep.Completed, 0), (erased.Erasure!.Step, erased.Erasure.PaymentMethodsDetached));
        await gateway.DidNotReceiveWithAnyArgs().UpdateBillingDetailsAsync(default!, default!, default!, default);
        await store.Received(1).SettleSetupAsync(Arg.Is<TokenRecord>(t => t.Setup == new TokenSetup(SetupStatus.Failed, "seti_bacs", null, "canceled")), Arg.Any<CancellationToken>());
        await gateway.Received(1).DeleteCustomerAsync("cus_1", Arg.Any<CancellationToken>());
    }
}
