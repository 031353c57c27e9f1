using Tokenizer.Core.Domain;
using Domain = Tokenizer.Core.Domain;
using V1 = Tokenizer.Contracts.V1;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// Each domain enum with its tokenizer.v1 enum: one map per enum, used both ways by the gRPC services. A test checks
/// that every defined value of either side has its pair. The command (Tokenizer.Cli) compiles this file too.
/// </summary>
internal static class ProtoEnums
{
    public static readonly EnumPairs<Domain.TokenType, V1.TokenType> TokenType = new(
        (Domain.TokenType.Card, V1.TokenType.Card),
        (Domain.TokenType.AuBecsDebit, V1.TokenType.AuBecsDebit),
        (Domain.TokenType.SepaDebit, V1.TokenType.SepaDebit),
        (Domain.TokenType.BacsDebit, V1.TokenType.BacsDebit),
        (Domain.TokenType.UsBankAccount, V1.TokenType.UsBankAccount));

    public static readonly EnumPairs<Domain.TokenStatus, V1.TokenStatus> TokenStatus = new(
        (Domain.TokenStatus.Active, V1.TokenStatus.Active),
        (Domain.TokenStatus.Revoked, V1.TokenStatus.Revoked));

    public static readonly EnumPairs<Domain.SetupStatus, V1.SetupStatus> SetupStatus = new(
        (Domain.SetupStatus.Ready, V1.SetupStatus.Ready),
        (Domain.SetupStatus.RequiresAction, V1.SetupStatus.RequiresAction),
        (Domain.SetupStatus.Processing, V1.SetupStatus.Processing),
        (Domain.SetupStatus.Failed, V1.SetupStatus.Failed),
        (Domain.SetupStatus.NotSetUp, V1.SetupStatus.NotSetUp));

    public static readonly EnumPairs<Domain.NextActionKind, V1.NextActionKind> NextActionKind = new(
        (Domain.NextActionKind.RedirectToUrl, V1.NextActionKind.RedirectToUrl),
        (Domain.NextActionKind.VerifyWithMicrodeposits, V1.NextActionKind.VerifyWithMicrodeposits));

    public static readonly EnumPairs<Domain.MandateStatus, V1.MandateStatus> MandateStatus = new(
        (Domain.MandateStatus.Active, V1.MandateStatus.Active),
        (Domain.MandateStatus.Pending, V1.MandateStatus.Pending),
        (Domain.MandateStatus.Inactive, V1.MandateStatus.Inactive));

    public static readonly EnumPairs<Domain.MandateType, V1.MandateType> MandateType = new(
        (Domain.MandateType.Online, V1.MandateType.Online),
        (Domain.MandateType.Offline, V1.MandateType.Offline));

    public static readonly EnumPairs<Domain.AccountHolderType, V1.AccountHolderType> AccountHolderType = new(
        (Domain.AccountHolderType.Individual, V1.AccountHolderType.Individual),
        (Domain.AccountHolderType.Company, V1.AccountHolderType.Company));

    public static readonly EnumPairs<Domain.BankAccountKind, V1.AccountType> AccountType = new(
        (Domain.BankAccountKind.Checking, V1.AccountType.Checking),
        (Domain.BankAccountKind.Savings, V1.AccountType.Savings));

    public static readonly EnumPairs<Core.Ports.TokenEventKind, V1.TokenEventKind> TokenEventKind = new(
        (Core.Ports.TokenEventKind.SetupSucceeded, V1.TokenEventKind.SetupSucceeded),
        (Core.Ports.TokenEventKind.SetupFailed, V1.TokenEventKind.SetupFailed),
        (Core.Ports.TokenEventKind.RequiresAction, V1.TokenEventKind.RequiresAction),
        (Core.Ports.TokenEventKind.MandateInactive, V1.TokenEventKind.MandateInactive),
        (Core.Ports.TokenEventKind.CardUpdated, V1.TokenEventKind.CardUpdated),
        (Core.Ports.TokenEventKind.DetachedAtGateway, V1.TokenEventKind.DetachedAtGateway),
        (Core.Ports.TokenEventKind.CustomerDeleted, V1.TokenEventKind.CustomerDeleted),
        (Core.Ports.TokenEventKind.Revoked, V1.TokenEventKind.Revoked));

    public static readonly EnumPairs<Core.Privacy.CorrectionOutcome, V1.CorrectionOutcome> CorrectionOutcome = new(
        (Core.Privacy.CorrectionOutcome.Updated, V1.CorrectionOutcome.Updated),
        (Core.Privacy.CorrectionOutcome.GatewayRefused, V1.CorrectionOutcome.GatewayRefused),
        (Core.Privacy.CorrectionOutcome.GatewayUnavailable, V1.CorrectionOutcome.GatewayUnavailable));

    /// <summary>NONE is the wire's answer for a subject never erased: no step stands for it.</summary>
    public static readonly EnumPairs<Core.Privacy.ErasureStep, V1.ErasureState> ErasureState = new(
        [V1.ErasureState.None],
        (Core.Privacy.ErasureStep.Detaching, V1.ErasureState.Detaching),
        (Core.Privacy.ErasureStep.DeletingCustomer, V1.ErasureState.DeletingCustomer),
        (Core.Privacy.ErasureStep.DestroyingKey, V1.ErasureState.DestroyingKey),
        (Core.Privacy.ErasureStep.Completed, V1.ErasureState.Completed));

    public static readonly EnumPairs<Core.Reconciliation.ReconciliationState, V1.ReconciliationState> ReconciliationState = new(
        (Core.Reconciliation.ReconciliationState.Running, V1.ReconciliationState.Running),
        (Core.Reconciliation.ReconciliationState.Interrupted, V1.ReconciliationState.Interrupted),
        (Core.Reconciliation.ReconciliationState.Completed, V1.ReconciliationState.Completed),
        (Core.Reconciliation.ReconciliationState.Failed, V1.ReconciliationState.Failed));

    public static readonly EnumPairs<Core.Reconciliation.ReconciliationCategory, V1.ReconciliationCategory> ReconciliationCategory = new(
        (Core.Reconciliation.ReconciliationCategory.Matched, V1.ReconciliationCategory.Matched),
        (Core.Reconciliation.ReconciliationCategory.MissingAtGateway, V1.ReconciliationCategory.MissingAtGateway),
        (Core.Reconciliation.ReconciliationCategory.MissingInLedger, V1.ReconciliationCategory.MissingInLedger),
        (Core.Reconciliation.ReconciliationCategory.StatusMismatch, V1.ReconciliationCategory.StatusMismatch),
        (Core.Reconciliation.ReconciliationCategory.FieldMismatch, V1.ReconciliationCategory.FieldMismatch),
        (Core.Reconciliation.ReconciliationCategory.Pending, V1.ReconciliationCategory.Pending));
}
