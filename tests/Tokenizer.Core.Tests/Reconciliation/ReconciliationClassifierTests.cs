using CsCheck;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Reconciliation;

namespace Tokenizer.Core.Tests.Reconciliation;

public sealed class ReconciliationClassifierTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 3, 10, 0, 0, TimeSpan.Zero);
    private static readonly CustomerMapping Customer = new("cust-1", "cus_1");

    private static readonly Gen<NextAction?> AnyNextAction = Gen.OneOf(
        Gen.Const((NextAction?)null),
        Gen.Enum<NextActionKind>().Select(kind => (NextAction?)new NextAction(kind, "https://hooks.stripe.com/next", null)));

    // A token of any type and status, any reference and id, with any setup the ledger can hold.
    private static readonly Gen<TokenRecord> LedgerWithAnySetup =
        Gen.Select(
            Gen.Enum<TokenStatus>(),
            Gen.Enum<TokenType>(),
            Gen.Enum<SetupStatus>(),
            AnyNextAction,
            Gen.String[Gen.Char.AlphaNumeric, 1, 20],
            Gen.String[Gen.Char.AlphaNumeric, 1, 24])
        .Select((status, type, setup, next, reference, id) => Ledger() with
        {
            Token = "pm_" + id,
            Status = status,
            Type = type,
            CustomerReference = "cust-" + reference,
            Setup = setup == SetupStatus.NotSetUp ? TokenSetup.NotSetUp : new TokenSetup(setup, "seti_" + id, setup == SetupStatus.RequiresAction ? next : null, setup == SetupStatus.Failed ? "card_declined" : null),
        });

    // What the gateway says of the token's SetupIntent now: not read, or any status for this or another PaymentMethod.
    private static readonly Gen<GatewaySetup?> GatewaySetupOrNull = Gen.OneOf(
        Gen.Const((GatewaySetup?)null),
        Gen.Select(Gen.Enum<SetupStatus>(), AnyNextAction, Gen.Bool)
            .Select((status, next, other) => (GatewaySetup?)new GatewaySetup("seti_1", status, status == SetupStatus.RequiresAction ? next : null, null, null, other ? "pm_other" : null)));

    [Fact]
    public void Attached_ActiveAndAllFieldsAgree_Matched()
    {
        var item = ReconciliationClassifier.Attached(Gateway(), Ledger(), Customer);

        Assert.Equal((ReconciliationCategory.Matched, "active", "attached", null), (item.Category, item.LedgerStatus, item.GatewayStatus, item.Detail));
        Assert.Equal(("visa", "4242", TokenType.Card, Created), (item.Brand, item.Last4, item.Type, item.CreatedAt));
    }

    [Fact]
    public void Attached_NoLedgerRecord_MissingInLedgerUnderOurCustomer()
    {
        var item = ReconciliationClassifier.Attached(Gateway(), null, Customer);

        Assert.Equal((ReconciliationCategory.MissingInLedger, "absent", "cust-1"), (item.Category, item.LedgerStatus, item.CustomerReference));
    }

    [Fact]
    public void Attached_RevokedHere_StatusMismatch()
    {
        var item = ReconciliationClassifier.Attached(Gateway(), Ledger() with { Status = TokenStatus.Revoked }, Customer);

        Assert.Equal((ReconciliationCategory.StatusMismatch, "revoked"), (item.Category, item.LedgerStatus));
    }

    [Fact]
    public void Attached_SeveralFieldsDiffer_FieldMismatchNamingEachFieldNeverAValue()
    {
        var gateway = Gateway() with
        {
            Card = new CardMetadata("mastercard", "4444", 1, 2031, "credit", "US", "fp_other"),
            CustomerId = "cus_2",
        };

        var item = ReconciliationClassifier.Attached(gateway, Ledger(), Customer);

        Assert.Equal(ReconciliationCategory.FieldMismatch, item.Category);
        Assert.Equal("customer differs; brand differs; last4 differs; exp_month differs; exp_year differs; fingerprint differs", item.Detail);
        Assert.DoesNotContain("4444", item.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("2031", item.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Attached_BankAccountIdentifierDiffers_FieldMismatch()
    {
        var bank = new BankAccountMetadata("3201", "19043", "AT", "fp_bank");
        var ledger = Ledger() with { Type = TokenType.SepaDebit, Card = null, BankAccount = bank };
        var gateway = new GatewayPaymentMethod("pm_1", TokenType.SepaDebit, null, bank with { BankIdentifier = "20041" }) { CustomerId = "cus_1" };

        var item = ReconciliationClassifier.Attached(gateway, ledger, Customer);

        Assert.Equal((ReconciliationCategory.FieldMismatch, "bank_identifier differs", "19043"), (item.Category, item.Detail, item.Brand));
    }

    [Theory]
    [InlineData(TokenStatus.Active, ReconciliationCategory.MissingAtGateway)]
    [InlineData(TokenStatus.Revoked, ReconciliationCategory.Matched)]
    public void NotAttached_ByLedgerStatus_MissingAtGatewayOrMatched(TokenStatus status, ReconciliationCategory expected)
    {
        var item = ReconciliationClassifier.NotAttached(Ledger() with { Status = status });

        Assert.Equal((expected, "not_attached"), (item.Category, item.GatewayStatus));
    }

    [Theory]
    [InlineData(SetupStatus.RequiresAction, ReconciliationCategory.StatusMismatch)]
    [InlineData(SetupStatus.Processing, ReconciliationCategory.StatusMismatch)]
    [InlineData(SetupStatus.Failed, ReconciliationCategory.Matched)]
    [InlineData(SetupStatus.Ready, ReconciliationCategory.Matched)]
    public void NotAttached_RevokedBySetupStatus_PendingSetupIsAMismatch(SetupStatus setup, ReconciliationCategory expected)
    {
        // A revoked token whose SetupIntent may still attach its PaymentMethod (or already did, to a Customer the walk no
        // longer lists) is not "matched"; a settled setup (the control) is.
        var ledger = Ledger() with { Status = TokenStatus.Revoked, Setup = new TokenSetup(setup, "seti_1", null, setup == SetupStatus.Failed ? "canceled" : null) };

        var item = ReconciliationClassifier.NotAttached(ledger);

        Assert.Equal((expected, "not_attached"), (item.Category, item.GatewayStatus));
    }

    [Theory]
    [InlineData(SetupStatus.RequiresAction, NextActionKind.RedirectToUrl, ReconciliationCategory.Pending, "waits for the customer's 3-D Secure authentication")]
    [InlineData(SetupStatus.RequiresAction, NextActionKind.VerifyWithMicrodeposits, ReconciliationCategory.Pending, "waits for the customer's microdeposit verification")]
    [InlineData(SetupStatus.Processing, null, ReconciliationCategory.Pending, "still processing at the gateway")]
    [InlineData(SetupStatus.Ready, null, ReconciliationCategory.MissingAtGateway, "not attached to our customer")] // control
    [InlineData(SetupStatus.Failed, null, ReconciliationCategory.MissingAtGateway, "not attached to our customer")] // control
    public void NotAttached_ActiveBySetupStatus_WaitingSetupIsPendingNotMissing(SetupStatus setup, NextActionKind? action, ReconciliationCategory expected, string detail)
    {
        // Stripe attaches a SetupIntent's PaymentMethod to the Customer only when the setup succeeds ("the SetupIntent's
        // payment method will be attached to the Customer on successful setup"): one waiting for the customer or still
        // processing is not attached yet, which is no discrepancy. A set-up token not attached is (the controls).
        var next = action is { } kind ? new NextAction(kind, "https://hooks.stripe.com/next", null) : null;
        var ledger = Ledger() with { Setup = new TokenSetup(setup, "seti_1", next, setup == SetupStatus.Failed ? "card_declined" : null) };

        var item = ReconciliationClassifier.NotAttached(ledger);

        Assert.Equal((expected, "active", "not_attached"), (item.Category, item.LedgerStatus, item.GatewayStatus));
        Assert.Contains(detail, item.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SetupStatus.RequiresAction, null, ReconciliationCategory.Pending, "waits for the customer's 3-D Secure authentication")] // control
    [InlineData(SetupStatus.Processing, null, ReconciliationCategory.Pending, "still processing at the gateway")] // control
    [InlineData(SetupStatus.Ready, null, ReconciliationCategory.MissingAtGateway, "setup succeeded at the gateway")]
    [InlineData(SetupStatus.Failed, null, ReconciliationCategory.MissingAtGateway, "failed or was canceled at the gateway")]
    [InlineData(SetupStatus.RequiresAction, "pm_other", ReconciliationCategory.MissingAtGateway, "sets up another PaymentMethod")]
    public void NotAttached_LedgerWaitingForThreeDSecure_GatewaySetupDecides(SetupStatus atGateway, string? paymentMethod, ReconciliationCategory expected, string detail)
    {
        // The ledger still says the setup waits for the customer (its webhook not processed yet); the SetupIntent as
        // Stripe reports it now says whether it does: succeeded (then detached), failed or canceled is missing.
        var redirect = new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/next", null);
        var ledger = Ledger() with { Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_1", redirect, null) };
        var gateway = new GatewaySetup(
            "seti_1",
            atGateway,
            atGateway == SetupStatus.RequiresAction ? redirect : null,
            atGateway == SetupStatus.Failed ? "canceled" : null,
            null,
            paymentMethod ?? ledger.Token);

        var item = ReconciliationClassifier.NotAttached(ledger, gateway);

        Assert.Equal((expected, "active", "not_attached"), (item.Category, item.LedgerStatus, item.GatewayStatus));
        Assert.Contains(detail, item.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NotAttached_CustomerDeletedAtGateway_ActiveNeverPendingMissingWithTheFixedDetailWhateverItsSetup()
    {
        // Stripe takes no further operations on a deleted Customer ("prevents any further operations to be performed"),
        // so a SetupIntent that still says requires_action can never attach the PaymentMethod: whatever the ledger's and
        // the gateway's setup say, an active token is missing at the gateway naming the cause, and a revoked one matches.
        // The detail is one fixed text: no token id, reference or other input in it.
        Gen.Select(LedgerWithAnySetup, GatewaySetupOrNull).Sample(
            (ledger, gatewaySetup) =>
            {
                var item = ReconciliationClassifier.NotAttached(ledger, gatewaySetup is null ? null : gatewaySetup with { PaymentMethodId = gatewaySetup.PaymentMethodId ?? ledger.Token }, customerDeleted: true);

                Assert.Equal("not_attached", item.GatewayStatus);
                if (ledger.Status == TokenStatus.Active)
                {
                    Assert.Equal((ReconciliationCategory.MissingAtGateway, ReconciliationClassifier.CustomerDeletedDetail), (item.Category, item.Detail));
                }
                else
                {
                    Assert.Equal((ReconciliationCategory.Matched, null), (item.Category, item.Detail));
                }
            },
            iter: 2000);
    }

    [Fact]
    public void NotAttached_CustomerLiveSetupStillWaitingAtGateway_Pending()
    {
        // Control for the property above: the same generated active tokens, their SetupIntent still waiting at the
        // gateway for this PaymentMethod and the Customer live, are pending, and the deleted-Customer detail never appears.
        Gen.Select(LedgerWithAnySetup.Where(l => l.Status == TokenStatus.Active), Gen.OneOfConst(SetupStatus.RequiresAction, SetupStatus.Processing)).Sample(
            (ledger, status) =>
            {
                var gatewaySetup = new GatewaySetup("seti_1", status, status == SetupStatus.RequiresAction ? new NextAction(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/next", null) : null, null, null, ledger.Token);

                var item = ReconciliationClassifier.NotAttached(ledger with { Setup = ledger.Setup with { Status = status } }, gatewaySetup, customerDeleted: false);

                Assert.Equal(ReconciliationCategory.Pending, item.Category);
                Assert.NotEqual(ReconciliationClassifier.CustomerDeletedDetail, item.Detail);
            },
            iter: 500);
    }

    [Theory]
    [InlineData(IntentState.Pending, "tokenize_card", TokenType.Card, "still pending")]
    [InlineData(IntentState.Failed, "tokenize_bank_account", null, "unknown gateway outcome")]
    [InlineData(IntentState.Detaching, "tokenize_card", TokenType.Card, "detach at the gateway not yet confirmed")]
    public void Unresolved_Intent_PendingKeyedByIntentId(IntentState state, string operation, TokenType? type, string detail)
    {
        var intent = new TokenIntent("tkz_abc_intent", "billing", "key-id", operation, "cust-1", new byte[32], state, null, Created, Created);

        var item = ReconciliationClassifier.Unresolved(intent);

        Assert.Equal((ReconciliationCategory.Pending, "tkz_abc_intent", type, "cust-1"), (item.Category, item.Token, item.Type, item.CustomerReference));
        Assert.Contains(detail, item.Detail, StringComparison.Ordinal);
    }

    private static TokenRecord Ledger() => new()
    {
        Token = "pm_1",
        Gateway = "stripe",
        Type = TokenType.Card,
        Status = TokenStatus.Active,
        CallerId = "billing",
        CustomerReference = "cust-1",
        GatewayCustomerId = "cus_1",
        Card = new CardMetadata("visa", "4242", 12, 2030, "credit", "US", "fp_1"),
        CreatedAt = Created,
    };

    private static GatewayPaymentMethod Gateway() =>
        new("pm_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2030, "credit", "US", "fp_1"), null)
        {
            CustomerId = "cus_1",
            CreatedAt = Created.AddSeconds(1),
        };
}
