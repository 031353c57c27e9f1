using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;

namespace Tokenizer.Core.Tests.Privacy;

/// <summary>
/// The steps of an erasure (<see cref="PrivacyErasure"/>) with the gateway and key store substituted and the ledger's
/// tokens and the erasure's progress in a hand-written fake (one class under test): cancel pending setups, clear and
/// detach each token, detach what the Customer still holds, delete the Customer, destroy the key and replace the
/// reference, finish; and where each stops and resumes. The end-to-end proofs (the sandbox, a real ledger, a killed
/// process) are in IntegrationTests.PrivacyTests and ErasureCrashTests.
/// </summary>
public sealed class PrivacyErasureTests
{
    private const string Reference = "cust-erase-1";
    private const string Customer = "cus_1";
    private static readonly DateTimeOffset Created = new(2030, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly ISubjectKeyStore keys = Substitute.For<ISubjectKeyStore>();
    private readonly FakePrivacyStore store = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SubjectPseudonyms pseudonyms = new(new byte[32]);
    private readonly List<string> failPoints = [];
    private readonly PrivacySettings settings;
    private readonly PrivacyErasure erasure;
    private readonly string subject;
    private string? customer = Customer;

    public PrivacyErasureTests()
    {
        subject = pseudonyms.Of(Reference);
        gateway.Name.Returns("stripe");
        keys.FindAsync(default!, default).ReturnsForAnyArgs((byte[]?)null);
        gateway.ListCustomerPaymentMethodsAsync(default!, default, default, default).ReturnsForAnyArgs(new GatewayPaymentMethodPage([], null));
        customerRepository.FindCustomerAsync("stripe", Reference, Arg.Any<CancellationToken>()).Returns(_ => customer);
        tokenRepository.ListTokensAsync(default!, default).ReturnsForAnyArgs(call =>
        {
            var query = call.Arg<TokenQuery>();
            return new TokenPage(
                [.. store.Tokens.Values.Where(t => t.CustomerReference == query.CustomerReference && (query.Status is null || t.Status == query.Status))],
                null);
        });
        erasure = new PrivacyErasure(
            customerRepository,
            tokenRepository,
            gateway,
            store,
            keys,
            pseudonyms,
            time,
            settings = new PrivacySettings { FailPoint = failPoints.Add, InFlightWait = TimeSpan.FromMinutes(1), InFlightPollInterval = TimeSpan.Zero },
            NullLogger<PrivacyErasure>.Instance,
            StartedClaims.Create(),
            new Core.Tokenization.TokenizationSettings());
    }

    [Theory]
    [InlineData("", "erase-1", null, "customer_reference")]
    [InlineData(Reference, "", null, "idempotency_key")]
    [InlineData(Reference, "erase-1", "card 4242 4242 4242 4242", "reason")]
    public async Task EraseAsync_InvalidInput_RefusedNamingTheFieldBeforeAnyStep(string reference, string key, string? reason, string field)
    {
        // Act
        var refused = await Assert.ThrowsAsync<TokenizerException>(() => erasure.EraseAsync(new EraseSubjectCommand(reference, key, reason), CancellationToken.None));

        // Assert
        Assert.Equal(ErrorKind.InvalidArgument, refused.Kind);
        Assert.Equal([field], refused.Violations.Select(v => v.Field));
        Assert.Empty(store.Saved);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
    }

    [Fact]
    public async Task EraseAsync_AttachedTokensAndACustomer_RunsEveryStepInOrderAndCompletes()
    {
        // Arrange
        GivenToken("pm_1", TokenSetup.NotSetUp);
        GivenToken("pm_2", new TokenSetup(SetupStatus.Ready, "seti_2", null, null));

        // Act
        var view = await EraseAsync();

        // Assert: each token cleared then detached, the Customer's list walked, the Customer deleted, the key destroyed
        // before the records, the reference replaced by the erased one.
        Received.InOrder(() =>
        {
            gateway.UpdateBillingDetailsAsync("pm_1", Arg.Is<BillingDetails>(b => b.Name == string.Empty && b.Address!.Line1 == string.Empty), Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_1", Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.UpdateBillingDetailsAsync("pm_2", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_2", Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.ListCustomerPaymentMethodsAsync(Customer, null, 100, Arg.Any<CancellationToken>());
            gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>());
            keys.DestroyAsync(subject, Arg.Any<CancellationToken>());
        });
        await gateway.DidNotReceiveWithAnyArgs().CancelSetupIntentAsync(default!, default!, default);
        Assert.Equal(["pm_1", "pm_2"], store.Revoked);
        Assert.Equal([(subject, "stripe", Reference, SubjectPseudonyms.ErasedReference(subject))], store.Destroyed);
        Assert.Equal(
            [
                (ErasureStep.Detaching, 0),
                (ErasureStep.Detaching, 1),
                (ErasureStep.Detaching, 2),
                (ErasureStep.DeletingCustomer, 2),
                (ErasureStep.DestroyingKey, 2),
                (ErasureStep.Completed, 2),
            ],
            store.Saved.Select(e => (e.Step, e.PaymentMethodsDetached)));
        Assert.Equal((ErasureStep.Completed, 2, (DateTimeOffset?)time.GetUtcNow()), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached, view.Erasure.CompletedAt));
        Assert.Equal(subject, view.Subject);
        Assert.Equal([PrivacyFailPoints.ErasureAfterFirstDetach, PrivacyFailPoints.ErasureAfterFirstDetach], failPoints);
    }

    [Fact]
    public async Task EraseAsync_SetupWaitingForTheCustomer_RevokeMarkedThenCancelledThenDetachedUncounted()
    {
        // Arrange: a 3-D Secure setup the cancel ends.
        GivenToken("pm_3ds", new TokenSetup(SetupStatus.RequiresAction, "seti_3ds", null, null));
        gateway.GetSetupIntentAsync("seti_3ds", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_3ds", SetupStatus.Failed, null, "canceled", null, "pm_3ds"));

        // Act
        var view = await EraseAsync();

        // Assert: marked before the cancel (so the canceled event is the erasure's own), the outcome stored on the token,
        // the detach a safety net with nothing to clear, and nothing counted: it never was attached.
        Received.InOrder(() =>
        {
            tokenRepository.MarkRevokeRequestedAsync("pm_3ds", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());
            gateway.CancelSetupIntentAsync("seti_3ds", pseudonyms.GatewayKey(subject, "pm_3ds", "erase_seti_cancel"), Arg.Any<CancellationToken>());
            gateway.GetSetupIntentAsync("seti_3ds", Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_3ds", pseudonyms.GatewayKey(subject, "pm_3ds", "erase_detach"), Arg.Any<CancellationToken>());
        });
        await gateway.DidNotReceiveWithAnyArgs().UpdateBillingDetailsAsync(default!, default!, default!, default);
        Assert.Equal([new TokenSetup(SetupStatus.Failed, "seti_3ds", null, "canceled")], store.Settled.Select(t => t.Setup));
        Assert.Equal((ErasureStep.Completed, 0), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_ASetupProcessingAmongAttachedTokens_DetachesTheOthersAndWaitsInDetaching()
    {
        // Arrange: one attached token, and a Bacs setup Stripe cannot cancel.
        GivenToken("pm_card", TokenSetup.NotSetUp);
        GivenToken("pm_bacs", new TokenSetup(SetupStatus.Processing, "seti_bacs", null, null));
        gateway.GetSetupIntentAsync("seti_bacs", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_bacs", SetupStatus.Processing, null, null, "mandate_b", "pm_bacs"));

        // Act
        var view = await EraseAsync();

        // Assert: the attached one detached and counted, both revoked here; the erasure stops in DETACHING with the
        // Customer (where a late success attaches) and the key kept.
        await gateway.Received(1).DetachAsync("pm_card", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.DidNotReceive().DetachAsync("pm_bacs", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal(["pm_card", "pm_bacs"], store.Revoked);
        Assert.Equal((ErasureStep.Detaching, 1, (DateTimeOffset?)null), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached, view.Erasure.CompletedAt));
        Assert.Equal(ErasureStep.Detaching, store.Erasure!.Step);
        await gateway.DidNotReceiveWithAnyArgs().DeleteCustomerAsync(default!, default);
        await keys.DidNotReceiveWithAnyArgs().DestroyAsync(default!, default);
        Assert.Empty(store.Destroyed);
    }

    [Fact]
    public async Task EraseAsync_CustomerStillHoldsPaymentMethods_ClearsDetachesAndCountsEachFromTheTop()
    {
        // Arrange: no token in the ledger, but the Customer lists one (recorded nowhere here) until it is detached.
        gateway.ListCustomerPaymentMethodsAsync(Customer, null, 100, Arg.Any<CancellationToken>())
            .Returns(new GatewayPaymentMethodPage([new GatewayPaymentMethod("pm_unrecorded", TokenType.Card, null, null)], "pm_unrecorded"), new GatewayPaymentMethodPage([], null));

        // Act
        var view = await EraseAsync();

        // Assert: after a page with detaches the walk starts again from the top (no cursor), and ends at the empty page.
        await gateway.Received(2).ListCustomerPaymentMethodsAsync(Customer, null, 100, Arg.Any<CancellationToken>());
        await gateway.DidNotReceive().ListCustomerPaymentMethodsAsync(Customer, "pm_unrecorded", Arg.Any<int>(), Arg.Any<CancellationToken>());
        Received.InOrder(() =>
        {
            gateway.UpdateBillingDetailsAsync("pm_unrecorded", Arg.Any<BillingDetails>(), pseudonyms.GatewayKey(subject, "pm_unrecorded", "erase_clear"), Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_unrecorded", pseudonyms.GatewayKey(subject, "pm_unrecorded", "erase_detach"), Arg.Any<CancellationToken>());
            gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>());
        });
        Assert.Equal(["pm_unrecorded"], store.Revoked);
        Assert.Equal((ErasureStep.Completed, 1), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached));
    }

    [Theory]
    [InlineData(ErrorReasons.PaymentMethodNotAttached)]
    [InlineData(ErrorReasons.GatewayRejectedRequest)]
    public async Task EraseAsync_GatewayRefusesToClear_DetachesAnywayCountedNotClearedNotDetached(string reason)
    {
        // Arrange: a refusal (not an outage) to clear the billing details, e.g. a PaymentMethod detached behind our back
        // (Stripe updates attached PaymentMethods only); a second token is cleared as usual (the control).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        GivenToken("pm_2", TokenSetup.NotSetUp);
        gateway.UpdateBillingDetailsAsync("pm_1", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new TokenizerException(ErrorKind.FailedPrecondition, reason, "refused"));

        // Act
        var view = await EraseAsync();

        // Assert: the gateway still holds pm_1's details, so it is not counted as cleared and detached.
        await gateway.Received(1).DetachAsync("pm_1", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal((ErasureStep.Completed, 1, 1), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached, view.Erasure.PaymentMethodsNotCleared));
    }

    [Fact]
    public async Task EraseAsync_FencesTheReferenceBeforeAnyGatewayCall()
    {
        // Arrange
        GivenToken("pm_1", TokenSetup.NotSetUp);
        store.OnFence = () => Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");

        // Act
        var view = await EraseAsync();

        // Assert
        Assert.Equal([Reference], store.Fenced);
        Assert.Equal(ErasureStep.Completed, view.Erasure!.Step);
    }

    [Fact]
    public async Task EraseAsync_TokenisationInFlightWhenFenced_WaitsForItThenDetachesItsToken()
    {
        // Arrange: one tokenisation claimed before the fence; it finishes (its token recorded) while the erasure waits.
        GivenToken("pm_1", TokenSetup.NotSetUp);
        var polls = 0;
        store.InFlight = () =>
        {
            if (++polls < 3)
            {
                return 1;
            }

            GivenToken("pm_late", TokenSetup.NotSetUp);
            return 0;
        };

        // Act
        var view = await EraseAsync();

        // Assert: the late token is detached too, and only after the wait (no gateway call while one was in flight).
        Assert.Equal(3, polls);
        await gateway.Received(1).DetachAsync("pm_late", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal((ErasureStep.Completed, 2), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_TokenisationStillInFlightPastTheWait_StaysDetachingWithNoGatewayCall()
    {
        // Arrange: a tokenisation cut off by a crash stays in flight until the recovery worker settles it.
        GivenToken("pm_1", TokenSetup.NotSetUp);
        settings.InFlightWait = TimeSpan.Zero;
        store.InFlight = () => 1;

        // Act
        var view = await EraseAsync();

        // Assert
        Assert.Equal(ErasureStep.Detaching, view.Erasure!.Step);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
        Assert.Empty(store.Revoked);

        // Control: once it has finished, the same erasure resumes and completes.
        store.InFlight = () => 0;
        Assert.Equal(ErasureStep.Completed, (await EraseAsync()).Erasure!.Step);
    }

    [Fact]
    public async Task EraseAsync_GatewayUnavailableWhileClearing_FailsBeforeTheDetach()
    {
        // Arrange: the control for the refusal above: an outage is not a refusal, so nothing is detached uncleared.
        GivenToken("pm_1", TokenSetup.NotSetUp);
        gateway.UpdateBillingDetailsAsync("pm_1", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(Unavailable());

        // Act
        var failed = await Assert.ThrowsAsync<TokenizerException>(EraseAsync);

        // Assert
        Assert.Equal(ErrorReasons.GatewayUnavailable, failed.Reason);
        await gateway.DidNotReceiveWithAnyArgs().DetachAsync(default!, default!, default);
        Assert.Empty(store.Revoked);
        Assert.Equal((ErasureStep.Detaching, 0), (store.Erasure!.Step, store.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_GatewayUnavailableMidway_StopsResumableThenResumesWithoutRepeatingADetach()
    {
        // Arrange: the second detach fails once (the gateway unreachable).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        GivenToken("pm_2", TokenSetup.NotSetUp);
        gateway.DetachAsync("pm_2", Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns(_ => throw Unavailable(), _ => Task.CompletedTask);

        // Act
        var failed = await Record.ExceptionAsync(EraseAsync);
        var stoppedAt = store.Erasure;
        var resumed = await EraseAsync();

        // Assert: the first call failed with the first token done and stored; nothing past the step ran. The second
        // resumed at pm_2 (pm_1 is revoked, so no longer open), sending the same keys, and completed with both counted.
        Assert.Equal(ErrorReasons.GatewayUnavailable, Assert.IsType<TokenizerException>(failed).Reason);
        Assert.Equal((ErasureStep.Detaching, 1), (stoppedAt!.Step, stoppedAt.PaymentMethodsDetached));
        await gateway.Received(1).DetachAsync("pm_1", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.Received(2).DetachAsync("pm_2", pseudonyms.GatewayKey(subject, "pm_2", "erase_detach"), Arg.Any<CancellationToken>());
        await gateway.Received(1).DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>());
        Assert.Equal(["pm_1", "pm_2"], store.Revoked);
        Assert.Equal((ErasureStep.Completed, 2), (resumed.Erasure!.Step, resumed.Erasure.PaymentMethodsDetached));
        Assert.Equal(stoppedAt.RequestedAt, resumed.Erasure.RequestedAt);
    }

    [Fact]
    public async Task EraseAsync_CustomerDeletionFails_ResumesDetachingAgainWithoutRepeatingADetach()
    {
        // Arrange
        GivenToken("pm_1", TokenSetup.NotSetUp);
        gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>()).Returns(_ => throw Unavailable(), _ => Task.CompletedTask);

        // Act
        await Assert.ThrowsAsync<TokenizerException>(EraseAsync);
        var stoppedAt = store.Erasure;
        var resumed = await EraseAsync();

        // Assert: the resume walks the Customer's list again (idempotent), but pm_1, revoked, is not detached twice.
        Assert.Equal((ErasureStep.DeletingCustomer, 1), (stoppedAt!.Step, stoppedAt.PaymentMethodsDetached));
        await gateway.Received(1).DetachAsync("pm_1", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.Received(2).ListCustomerPaymentMethodsAsync(Customer, Arg.Any<string?>(), Arg.Any<int>(), Arg.Any<CancellationToken>());
        await gateway.Received(2).DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>());
        Assert.Equal((ErasureStep.Completed, 1), (resumed.Erasure!.Step, resumed.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_KeyStoreFails_ResumesWithoutRepeatingADetachAndFinishes()
    {
        // Arrange
        GivenToken("pm_1", TokenSetup.NotSetUp);
        keys.DestroyAsync(subject, Arg.Any<CancellationToken>()).Returns(_ => throw new IOException("disk"), _ => Task.CompletedTask);

        // Act
        await Assert.ThrowsAsync<IOException>(EraseAsync);
        var stoppedAt = store.Erasure;
        var resumed = await EraseAsync();

        // Assert: the records and reference were not destroyed before the key; the second run detaches nothing again
        // (the Customer's delete is idempotent) and finishes.
        Assert.Equal(ErasureStep.DestroyingKey, stoppedAt!.Step);
        await gateway.Received(1).DetachAsync("pm_1", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Single(store.Destroyed);
        Assert.Equal((ErasureStep.Completed, 1), (resumed.Erasure!.Step, resumed.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_StoppedAtDeletingCustomerThenTokenisedForTheReference_NewTokenDetachedAndRevokedBeforeCompleting()
    {
        // Arrange: the Customer's delete fails (a Stripe 5xx); the billing service then tokenises for the reference.
        GivenToken("pm_1", TokenSetup.NotSetUp);
        gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>()).Returns(_ => throw Unavailable(), _ => Task.CompletedTask);
        await Assert.ThrowsAsync<TokenizerException>(EraseAsync);
        Assert.Equal(ErasureStep.DeletingCustomer, store.Erasure!.Step);
        GivenToken("pm_between", new TokenSetup(SetupStatus.Ready, "seti_b", null, null));
        gateway.ClearReceivedCalls();

        // Act
        var resumed = await EraseAsync();

        // Assert: the new token cleared, detached and revoked, before the Customer is deleted; then completed, counted.
        Received.InOrder(() =>
        {
            gateway.UpdateBillingDetailsAsync("pm_between", Arg.Is<BillingDetails>(b => b.Name == string.Empty && b.Email == string.Empty), pseudonyms.GatewayKey(subject, "pm_between", "erase_clear"), Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_between", pseudonyms.GatewayKey(subject, "pm_between", "erase_detach"), Arg.Any<CancellationToken>());
            gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>());
        });
        Assert.Equal(["pm_1", "pm_between"], store.Revoked);
        Assert.Equal(TokenStatus.Revoked, store.Tokens["pm_between"].Status);
        Assert.Equal(SubjectPseudonyms.ErasedReference(subject), store.Tokens["pm_between"].CustomerReference);
        Assert.Equal((ErasureStep.Completed, 2), (resumed.Erasure!.Step, resumed.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_StoppedAtDestroyingKeyThenTokenisedUnderANewCustomer_NewTokenDetachedAndRevokedNewCustomerDeletedBeforeCompleting()
    {
        // Arrange: the key store fails (an I/O error) after the Customer was deleted; the billing service then tokenises
        // for the reference, which gets a new Customer (the old one is deleted at Stripe).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        keys.DestroyAsync(subject, Arg.Any<CancellationToken>()).Returns(_ => throw new IOException("disk"), _ => Task.CompletedTask);
        await Assert.ThrowsAsync<IOException>(EraseAsync);
        Assert.Equal(ErasureStep.DestroyingKey, store.Erasure!.Step);
        customer = "cus_2";
        GivenToken("pm_between", TokenSetup.NotSetUp, gatewayCustomer: "cus_2");
        gateway.ClearReceivedCalls();
        keys.ClearReceivedCalls();

        // Act
        var resumed = await EraseAsync();

        // Assert: detached and revoked, the new Customer walked and deleted, and only then the key and the reference.
        Received.InOrder(() =>
        {
            gateway.UpdateBillingDetailsAsync("pm_between", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.DetachAsync("pm_between", Arg.Any<string>(), Arg.Any<CancellationToken>());
            gateway.ListCustomerPaymentMethodsAsync("cus_2", null, 100, Arg.Any<CancellationToken>());
            gateway.DeleteCustomerAsync("cus_2", Arg.Any<CancellationToken>());
            keys.DestroyAsync(subject, Arg.Any<CancellationToken>());
        });
        Assert.Equal(["pm_1", "pm_between"], store.Revoked);
        Assert.Equal(TokenStatus.Revoked, store.Tokens["pm_between"].Status);
        Assert.Single(store.Destroyed);
        Assert.Equal((ErasureStep.Completed, 2), (resumed.Erasure!.Step, resumed.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_TokenisedAfterTheDetachingStepOfTheSameRun_GoesBackToDetachingNeverRenamesAnActiveToken()
    {
        // Arrange: a tokenisation for the reference commits while this run deletes the Customer (after it detached).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>()).Returns(_ =>
        {
            if (!store.Tokens.ContainsKey("pm_race"))
            {
                GivenToken("pm_race", TokenSetup.NotSetUp);
            }

            return Task.CompletedTask;
        });

        // Act
        var view = await EraseAsync();

        // Assert: the completing step found the active token, went back to detaching, and completed only after it.
        Assert.Contains(store.Saved, e => e.Step == ErasureStep.Detaching && e.PaymentMethodsDetached == 1);
        await gateway.Received(1).DetachAsync("pm_race", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal(TokenStatus.Revoked, store.Tokens["pm_race"].Status);
        Assert.Single(store.Destroyed);
        Assert.Equal((ErasureStep.Completed, 2), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_ActiveTokensKeepArriving_StaysDetachingAndDestroysNothing()
    {
        // Arrange: every Customer delete is followed by a new token for the reference (tokenisations keep arriving).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        var issued = 0;
        gateway.DeleteCustomerAsync(Customer, Arg.Any<CancellationToken>()).Returns(_ =>
        {
            GivenToken("pm_more_" + ++issued, TokenSetup.NotSetUp);
            return Task.CompletedTask;
        });

        // Act
        var view = await EraseAsync();

        // Assert: not complete (DETACHING, the next call resumes), and no active token renamed, the key kept.
        Assert.Equal(ErasureStep.Detaching, view.Erasure!.Step);
        Assert.Null(view.Erasure.CompletedAt);
        Assert.Empty(store.Destroyed);
        await keys.DidNotReceiveWithAnyArgs().DestroyAsync(default!, default);
        Assert.All(store.Tokens.Values.Where(t => t.Status == TokenStatus.Active), t => Assert.Equal(Reference, t.CustomerReference));
    }

    [Fact]
    public async Task EraseAsync_CompletedButAnErasedTokenStillActive_RunsAgainAndDetachesIt()
    {
        // Arrange: what an older build's erasure left: an active token renamed to the erased reference.
        var erasedReference = SubjectPseudonyms.ErasedReference(subject);
        var done = new ErasureRecord(subject, ErasureStep.Completed, Created, Created, Created, 1);
        store.Erasure = done;
        customer = null;
        GivenToken("pm_left_active", TokenSetup.NotSetUp, TokenStatus.Active, erasedReference);

        // Act
        var again = await EraseAsync();

        // Assert: a new erasure, which cleared, detached and revoked it.
        await gateway.Received(1).UpdateBillingDetailsAsync("pm_left_active", Arg.Any<BillingDetails>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
        await gateway.Received(1).DetachAsync("pm_left_active", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal(TokenStatus.Revoked, store.Tokens["pm_left_active"].Status);
        Assert.Equal((ErasureStep.Completed, 1), (again.Erasure!.Step, again.Erasure.PaymentMethodsDetached));
        Assert.NotEqual(done, again.Erasure);
    }

    [Fact]
    public async Task EraseAsync_NoCustomerNoTokens_NoGatewayCallAndCompletes()
    {
        // Arrange: a reference never tokenised.
        customer = null;

        // Act
        var view = await EraseAsync();

        // Assert
        await gateway.DidNotReceiveWithAnyArgs().ListCustomerPaymentMethodsAsync(default!, default, default, default);
        await gateway.DidNotReceiveWithAnyArgs().DeleteCustomerAsync(default!, default);
        await keys.Received(1).DestroyAsync(subject, Arg.Any<CancellationToken>());
        Assert.Equal((ErasureStep.Completed, 0), (view.Erasure!.Step, view.Erasure.PaymentMethodsDetached));
    }

    [Fact]
    public async Task EraseAsync_CompletedAndNothingHeldSince_AnswersAsItIsWithoutAStep()
    {
        // Arrange: a completed erasure (the reference replaced, the Customer forgotten, the key gone).
        GivenToken("pm_1", TokenSetup.NotSetUp);
        var first = await EraseAsync();
        customer = null;
        var saves = store.Saved.Count;
        gateway.ClearReceivedCalls();

        // Act
        var again = await EraseAsync();

        // Assert
        Assert.Equal(first, again);
        Assert.Equal(saves, store.Saved.Count);
        Assert.DoesNotContain(gateway.ReceivedCalls(), c => c.GetMethodInfo().Name != "get_Name");
    }

    [Fact]
    public async Task EraseAsync_CompletedThenTokenisedAgain_StartsANewErasure()
    {
        // Arrange: the control for the answer above: a token recorded under the reference after the erasure completed.
        GivenToken("pm_1", TokenSetup.NotSetUp);
        var first = await EraseAsync();
        customer = null;
        GivenToken("pm_new", TokenSetup.NotSetUp);

        // Act
        var again = await EraseAsync();

        // Assert: a new erasure (requested now), which detached the new token.
        await gateway.Received(1).DetachAsync("pm_new", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal((ErasureStep.Completed, 1), (again.Erasure!.Step, again.Erasure.PaymentMethodsDetached));
        Assert.True(again.Erasure.RequestedAt > first.Erasure!.RequestedAt);
    }

    [Fact]
    public async Task EraseAsync_CompletedButAnErasedTokensSetupStillPending_RunsAgainAndCancelsIt()
    {
        // Arrange: an erased token (under the erased reference) whose setup an older erasure left pending.
        var erasedReference = SubjectPseudonyms.ErasedReference(subject);
        var done = new ErasureRecord(subject, ErasureStep.Completed, Created, Created, Created, 0);
        store.Erasure = done;
        customer = null;
        GivenToken("pm_left", new TokenSetup(SetupStatus.RequiresAction, "seti_left", null, null), TokenStatus.Revoked, erasedReference);
        gateway.GetSetupIntentAsync("seti_left", Arg.Any<CancellationToken>())
            .Returns(new GatewaySetup("seti_left", SetupStatus.Failed, null, "canceled", null, "pm_left"));

        // Act
        var again = await EraseAsync();

        // Assert
        await gateway.Received(1).CancelSetupIntentAsync("seti_left", Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.Equal(ErasureStep.Completed, again.Erasure!.Step);
        Assert.NotEqual(done, again.Erasure);
    }

    [Fact]
    public async Task GetErasureStatusAsync_NeverRequested_NullErasureUnderThePseudonym()
    {
        // Act
        var never = await erasure.GetErasureStatusAsync(Reference, CancellationToken.None);
        var invalid = await Record.ExceptionAsync(() => erasure.GetErasureStatusAsync(" ", CancellationToken.None));

        // Assert
        Assert.Equal(new ErasureView(subject, null), never);
        Assert.Equal(["customer_reference"], Assert.IsType<TokenizerException>(invalid).Violations.Select(v => v.Field));
    }

    private static TokenizerException Unavailable() =>
        new(ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, "the gateway is unavailable");

    private Task<ErasureView> EraseAsync()
    {
        // A later call is a later moment: the stored times tell the runs apart.
        time.Advance(TimeSpan.FromSeconds(1));
        return erasure.EraseAsync(new EraseSubjectCommand(Reference, "erase-1", "customer asked"), CancellationToken.None);
    }

    private void GivenToken(string token, TokenSetup setup, TokenStatus status = TokenStatus.Active, string reference = Reference, string gatewayCustomer = Customer) =>
        store.Tokens[token] = new TokenRecord
        {
            Token = token,
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = status,
            CallerId = "billing",
            CustomerReference = reference,
            GatewayCustomerId = gatewayCustomer,
            CreatedAt = Created,
            Setup = setup,
        };

    /// <summary>The erasure's progress and the ledger's tokens in memory, as the relational store keeps them.</summary>
    private sealed class FakePrivacyStore : IPrivacyStore
    {
        public Dictionary<string, TokenRecord> Tokens { get; } = new(StringComparer.Ordinal);

        public ErasureRecord? Erasure { get; set; }

        public List<ErasureRecord> Saved { get; } = [];

        public List<string> Revoked { get; } = [];

        public List<TokenRecord> Settled { get; } = [];

        public List<(string Subject, string Gateway, string Reference, string ErasedReference)> Destroyed { get; } = [];

        public List<string> Fenced { get; } = [];

        public Func<int> InFlight { get; set; } = () => 0;

        public Action? OnFence { get; set; }

        public Task<int> FenceReferenceAsync(string customerReference, string subject, DateTimeOffset now, DateTimeOffset claimsLiveSince, CancellationToken cancellationToken)
        {
            OnFence?.Invoke();
            if (!Fenced.Contains(customerReference))
            {
                Fenced.Add(customerReference);
            }

            return Task.FromResult(InFlight());
        }

        public Task<ErasureRecord?> FindErasureAsync(string subject, CancellationToken cancellationToken) =>
            Task.FromResult(Erasure is { } e && e.Subject == subject ? e : null);

        public Task SaveErasureAsync(ErasureRecord erasure, CancellationToken cancellationToken)
        {
            Erasure = erasure;
            Saved.Add(erasure);
            return Task.CompletedTask;
        }

        public Task MarkTokenRevokedAsync(string token, DateTimeOffset revokedAt, CancellationToken cancellationToken)
        {
            Revoked.Add(token);
            if (Tokens.TryGetValue(token, out var record) && record.Status == TokenStatus.Active)
            {
                Tokens[token] = record with { Status = TokenStatus.Revoked, RevokedAt = revokedAt };
            }

            return Task.CompletedTask;
        }

        public Task SettleSetupAsync(TokenRecord token, CancellationToken cancellationToken)
        {
            Settled.Add(token);
            if (Tokens.TryGetValue(token.Token, out var record) && record.Setup.IsPending)
            {
                Tokens[token.Token] = record with { Setup = token.Setup };
            }

            return Task.CompletedTask;
        }

        public Task<bool> DestroySubjectAsync(string subject, string gateway, string customerReference, string erasedReference, CancellationToken cancellationToken)
        {
            // As the relational store: nothing changes while an active token is under the reference.
            if (Tokens.Values.Any(t => t.CustomerReference == customerReference && t.Status == TokenStatus.Active))
            {
                return Task.FromResult(false);
            }

            Destroyed.Add((subject, gateway, customerReference, erasedReference));
            foreach (var record in Tokens.Values.Where(t => t.CustomerReference == customerReference).ToList())
            {
                Tokens[record.Token] = record with { CustomerReference = erasedReference };
            }

            return Task.FromResult(true);
        }

        public Task<DateTimeOffset?> FindHoldingStartAsync(string customerReference, CancellationToken cancellationToken) =>
            Task.FromResult(Tokens.Values.Where(t => t.CustomerReference == customerReference).Select(t => (DateTimeOffset?)t.CreatedAt).Min());

        public Task SavePersonalDataAsync(PersonalDataRecord record, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task DeletePersonalDataAsync(string subject, string recordId, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<PersonalDataRecord>> ListPersonalDataAsync(string subject, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<RetentionPurge> PurgeExpiredAsync(DateTimeOffset revokedTokensBefore, DateTimeOffset idempotencyBefore, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
