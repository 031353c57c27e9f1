using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Core.Reconciliation;

/// <summary>
/// Classifies one token from what the ledger and the gateway each know of it. Pure; details name fields and rules,
/// never a value (so a report or log can carry them).
/// </summary>
public static class ReconciliationClassifier
{
    /// <summary>The detail of an active token whose gateway Customer is deleted (a fixed text: no id, reference or input).</summary>
    public const string CustomerDeletedDetail =
        "active in the ledger, its Customer is deleted at the gateway: not attached there and never chargeable, whatever its setup says";

    /// <summary>
    /// A PaymentMethod the gateway lists under one of our Customers (<paramref name="customer"/>), with the ledger's
    /// record of it or null.
    /// </summary>
    public static ReconciliationItem Attached(GatewayPaymentMethod gateway, TokenRecord? ledger, CustomerMapping customer)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(customer);
        if (ledger is null)
        {
            return Item(gateway.Id, null, gateway, customer.CustomerReference, ReconciliationCategory.MissingInLedger, "no ledger record for a PaymentMethod attached to our customer");
        }

        if (ledger.Status == TokenStatus.Revoked)
        {
            return Item(gateway.Id, ledger, gateway, ledger.CustomerReference, ReconciliationCategory.StatusMismatch, "revoked in the ledger, still attached at the gateway");
        }

        var differences = Differences(ledger, gateway);
        return differences.Count == 0
            ? Item(gateway.Id, ledger, gateway, ledger.CustomerReference, ReconciliationCategory.Matched, null)
            : Item(gateway.Id, ledger, gateway, ledger.CustomerReference, ReconciliationCategory.FieldMismatch, string.Join("; ", differences));
    }

    /// <summary>
    /// <paramref name="item"/> with <paramref name="setupDifferences"/> (a READY token whose SetupIntent is not succeeded
    /// or whose mandate is not active at the gateway: "setup_status differs", "mandate_status differs") added: a matched
    /// item becomes a field mismatch, a field mismatch lists them after its own. Other categories are returned as they are.
    /// </summary>
    public static ReconciliationItem WithSetup(ReconciliationItem item, IReadOnlyList<string> setupDifferences)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(setupDifferences);
        if (setupDifferences.Count == 0 || item.Category is not (ReconciliationCategory.Matched or ReconciliationCategory.FieldMismatch))
        {
            return item;
        }

        var detail = string.Join("; ", setupDifferences);
        return item with
        {
            Category = ReconciliationCategory.FieldMismatch,
            Detail = item.Category == ReconciliationCategory.FieldMismatch ? item.Detail + "; " + detail : detail,
        };
    }

    /// <summary>
    /// A ledger token the gateway walk did not meet under any of our Customers. A revoked token matches, unless its setup
    /// is still pending (requires_action or processing) as far as the ledger knows: its SetupIntent could yet attach the
    /// PaymentMethod (or already has, to a Customer the walk no longer lists, such as a deleted one), so that is a
    /// status mismatch, never "matched". An active token whose setup is pending is not attached yet (Stripe attaches a
    /// SetupIntent's PaymentMethod to the Customer on successful setup only): pending, its detail naming what it waits
    /// for (the customer's 3-D Secure authentication or microdeposit verification, or the gateway's processing). The
    /// ledger's setup state can be stale (its webhook not processed yet), so <paramref name="gatewaySetup"/>, the token's
    /// SetupIntent as the gateway reports it now, decides: pending only while it still waits (requires_action or
    /// processing) for this PaymentMethod; succeeded, failed or canceled (or setting up another PaymentMethod), the token
    /// is missing at the gateway. Null: not read (no SetupIntent recorded), the ledger's state decides.
    /// <para>
    /// <paramref name="customerDeleted"/>: the gateway says the token's Customer no longer exists (its PaymentMethod list
    /// answered "no such Customer", or a read of the Customer says deleted). Stripe takes no further operations on a
    /// deleted Customer, so nothing can attach to it whatever the token's setup says: an active token is missing at the
    /// gateway with <see cref="CustomerDeletedDetail"/> (never pending, which needs a live Customer), and a revoked one
    /// matches (its pending setup can no longer attach anything).
    /// </para>
    /// </summary>
    public static ReconciliationItem NotAttached(TokenRecord ledger, GatewaySetup? gatewaySetup = null, bool customerDeleted = false)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        if (customerDeleted)
        {
            return ledger.Status == TokenStatus.Revoked
                ? Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.Matched, null)
                : Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.MissingAtGateway, CustomerDeletedDetail);
        }

        if (ledger.Status == TokenStatus.Revoked && ledger.Setup.IsPending)
        {
            return Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.StatusMismatch, "revoked in the ledger, its setup still pending at the gateway (it may attach the PaymentMethod)");
        }

        if (ledger.Status == TokenStatus.Active && ledger.Setup.IsPending)
        {
            if (gatewaySetup is null)
            {
                return Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.Pending, WaitingFor(ledger.Setup));
            }

            if (gatewaySetup.PaymentMethodId is { } setUp && !string.Equals(setUp, ledger.Token, StringComparison.Ordinal))
            {
                return Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.MissingAtGateway, "active in the ledger, not attached to our customer at the gateway, and its SetupIntent sets up another PaymentMethod");
            }

            return gatewaySetup.Status switch
            {
                SetupStatus.RequiresAction or SetupStatus.Processing => Item(
                    ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.Pending, WaitingFor(TokenizationService.ToSetup(gatewaySetup))),
                SetupStatus.Ready => Item(
                    ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.MissingAtGateway, "active in the ledger, its setup succeeded at the gateway but the PaymentMethod is not attached to our customer there (detached)"),
                _ => Item(
                    ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.MissingAtGateway, "active in the ledger, its setup failed or was canceled at the gateway, so the PaymentMethod is not attached to our customer there"),
            };
        }

        return ledger.Status == TokenStatus.Revoked
            ? Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.Matched, null)
            : Item(ledger.Token, ledger, null, ledger.CustomerReference, ReconciliationCategory.MissingAtGateway, "active in the ledger, not attached to our customer at the gateway (detached or unknown)");
    }

    /// <summary>
    /// A tokenisation intent still unresolved (pending; failed with an unknown gateway outcome; or an orphan whose detach
    /// is not yet confirmed) past the grace period.
    /// Its row is keyed by the intent id (no PaymentMethod is known); the type is known for cards only.
    /// </summary>
    public static ReconciliationItem Unresolved(TokenIntent intent)
    {
        ArgumentNullException.ThrowIfNull(intent);
        return new ReconciliationItem
        {
            Token = intent.IntentId,
            Type = string.Equals(intent.Operation, Tokenization.TokenizationOperations.TokenizeCard, StringComparison.Ordinal) ? TokenType.Card : null,
            CustomerReference = intent.CustomerReference,
            CreatedAt = intent.CreatedAt,
            LedgerStatus = ReconciliationStatuses.Absent,
            GatewayStatus = ReconciliationStatuses.NotChecked,
            Category = ReconciliationCategory.Pending,
            Detail = intent.State switch
            {
                IntentState.Pending => "tokenisation intent still pending past the grace period",
                IntentState.Detaching => "orphan recorded revoked, its detach at the gateway not yet confirmed",
                _ => "tokenisation intent failed with an unknown gateway outcome and not yet checked by the orphan sweep",
            },
        };
    }

    /// <summary>The fields that differ, each as "<c>name</c> differs"; empty when all agree.</summary>
    public static IReadOnlyList<string> Differences(TokenRecord ledger, GatewayPaymentMethod gateway)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(gateway);
        var differences = new List<string>();
        void Compare<T>(string field, T ours, T theirs)
        {
            if (!EqualityComparer<T>.Default.Equals(ours, theirs))
            {
                differences.Add(field + " differs");
            }
        }

        // A listed last4 is masked for the scheme's shortest number (the gateway does not say the length), ours for the
        // number sent: they agree when every position both show is equal.
        void CompareLast4(string ours, string theirs)
        {
            if (!VisibleDigits.Agree(ours, theirs))
            {
                differences.Add("last4 differs");
            }
        }

        Compare("type", ledger.Type, gateway.Type);
        if (gateway.CustomerId is not null && ledger.GatewayCustomerId is not null)
        {
            Compare("customer", ledger.GatewayCustomerId, gateway.CustomerId);
        }

        if (ledger.Card is { } ours && gateway.Card is { } theirs)
        {
            Compare("brand", ours.Brand, theirs.Brand);
            CompareLast4(ours.Last4, theirs.Last4);
            Compare("exp_month", ours.ExpMonth, theirs.ExpMonth);
            Compare("exp_year", ours.ExpYear, theirs.ExpYear);
            Compare("fingerprint", ours.Fingerprint, theirs.Fingerprint);
        }
        else if (ledger.BankAccount is { } ourBank && gateway.BankAccount is { } theirBank)
        {
            Compare("bank_identifier", ourBank.BankIdentifier, theirBank.BankIdentifier);
            CompareLast4(ourBank.Last4, theirBank.Last4);
            Compare("fingerprint", ourBank.Fingerprint, theirBank.Fingerprint);
        }
        else if ((ledger.Card is null) != (gateway.Card is null) || (ledger.BankAccount is null) != (gateway.BankAccount is null))
        {
            differences.Add("metadata missing on one side");
        }

        return differences;
    }

    private static string WaitingFor(TokenSetup setup) => (setup.Status, setup.NextAction?.Kind) switch
    {
        (SetupStatus.RequiresAction, NextActionKind.RedirectToUrl) =>
            "active in the ledger, its setup waits for the customer's 3-D Secure authentication: not attached at the gateway until it succeeds",
        (SetupStatus.RequiresAction, NextActionKind.VerifyWithMicrodeposits) =>
            "active in the ledger, its setup waits for the customer's microdeposit verification: not attached at the gateway until it succeeds",
        (SetupStatus.RequiresAction, _) =>
            "active in the ledger, its setup waits for the customer's action: not attached at the gateway until it succeeds",
        _ => "active in the ledger, its setup still processing at the gateway (a mandate being registered): not attached until it succeeds",
    };

    private static ReconciliationItem Item(
        string token,
        TokenRecord? ledger,
        GatewayPaymentMethod? gateway,
        string? customerReference,
        ReconciliationCategory category,
        string? detail)
    {
        var card = ledger?.Card ?? gateway?.Card;
        var bank = ledger?.BankAccount ?? gateway?.BankAccount;
        return new ReconciliationItem
        {
            Token = token,
            Type = ledger?.Type ?? gateway?.Type,
            Brand = card?.Brand ?? bank?.BankIdentifier,
            Last4 = card?.Last4 ?? bank?.Last4,
            CustomerReference = customerReference,
            CreatedAt = ledger?.CreatedAt ?? gateway?.CreatedAt ?? DateTimeOffset.UnixEpoch,
            LedgerStatus = ledger is null ? ReconciliationStatuses.Absent : ReconciliationStatuses.Of(ledger.Status),
            GatewayStatus = gateway is null ? ReconciliationStatuses.NotAttached : ReconciliationStatuses.Attached,
            Category = category,
            Detail = detail,
        };
    }
}
