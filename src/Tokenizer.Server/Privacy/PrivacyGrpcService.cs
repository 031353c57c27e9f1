using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Privacy;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using Domain = Tokenizer.Core.Domain;

namespace Tokenizer.Server.Privacy;

/// <summary>
/// tokenizer.v1.PrivacyService (admin role only, by <c>RpcPolicies</c>), each RPC over its own use case:
/// ExportSubjectData over <see cref="PrivacyExport"/>, CorrectSubjectData over <see cref="PrivacyCorrection"/>,
/// EraseSubject and GetErasureStatus over <see cref="PrivacyErasure"/>. Each handler first hands the subject's keyed
/// pseudonym to the audit record (<see cref="TokenizerCall.SubjectPseudonym"/>), so the call is audited with the pseudonym and
/// never the reference. Errors are mapped by <see cref="ErrorMappingInterceptor"/>.
/// </summary>
internal sealed class PrivacyGrpcService(
    PrivacyExport exporter,
    PrivacyCorrection corrector,
    PrivacyErasure eraser,
    SubjectPseudonyms pseudonyms) : Contracts.V1.PrivacyService.PrivacyServiceBase
{
    public override async Task<ExportSubjectDataResponse> ExportSubjectData(ExportSubjectDataRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        TokenizerCall.Of(context).SubjectPseudonym = PrivacyRequest.TrySubjectOf(pseudonyms, request.CustomerReference);
        var export = await exporter.ExportAsync(request.CustomerReference, context.CancellationToken);
        var response = new ExportSubjectDataResponse
        {
            SubjectPseudonym = export.Subject,
            Erasure = ToProto(export.Erasure),
            ExportedAt = Timestamp.FromDateTimeOffset(export.ExportedAt),
        };
        response.Tokens.AddRange(export.Tokens.Select(t => new SubjectToken
        {
            Token = ProtoMapper.ToProto(t.Token),
            BillingDetails = t.BillingDetails is null ? null : ToProto(t.BillingDetails),
            CorrectionUnderWay = t.CorrectionUnderWay is null ? null : ToProto(t.CorrectionUnderWay),
            MandateAcceptance = t.MandateAcceptance is null
                ? null
                : new OnlineMandateAcceptance { IpAddress = t.MandateAcceptance.IpAddress, UserAgent = t.MandateAcceptance.UserAgent },
        }));
        response.GatewayCustomerIds.AddRange(export.GatewayCustomerIds);
        response.AuditEvents.AddRange(export.AuditEvents.Select(AuditGrpcService.ToProto));
        return response;
    }

    public override async Task<CorrectSubjectDataResponse> CorrectSubjectData(CorrectSubjectDataRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        TokenizerCall.Of(context).SubjectPseudonym = PrivacyRequest.TrySubjectOf(pseudonyms, request.CustomerReference);
        var correction = await corrector.CorrectAsync(
            new CorrectSubjectCommand(request.IdempotencyKey, request.CustomerReference, ProtoMapper.ToDomain(request.BillingDetails)),
            context.CancellationToken);
        var response = new CorrectSubjectDataResponse { SubjectPseudonym = correction.Subject };
        response.Results.AddRange(correction.Results.Select(r => new Contracts.V1.TokenCorrection
        {
            Token = r.Token,
            Outcome = ProtoEnums.CorrectionOutcome.ToWire(r.Outcome),
            Reason = r.Reason ?? string.Empty,
        }));
        return response;
    }

    public override async Task<EraseSubjectResponse> EraseSubject(EraseSubjectRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        TokenizerCall.Of(context).SubjectPseudonym = PrivacyRequest.TrySubjectOf(pseudonyms, request.CustomerReference);
        var view = await eraser.EraseAsync(
            new EraseSubjectCommand(request.CustomerReference, request.IdempotencyKey, request.Reason),
            context.CancellationToken);
        return new EraseSubjectResponse { SubjectPseudonym = view.Subject, Status = ToProto(view.Erasure) };
    }

    public override async Task<GetErasureStatusResponse> GetErasureStatus(GetErasureStatusRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        TokenizerCall.Of(context).SubjectPseudonym = PrivacyRequest.TrySubjectOf(pseudonyms, request.CustomerReference);
        var view = await eraser.GetErasureStatusAsync(request.CustomerReference, context.CancellationToken);
        var status = ToProto(view.Erasure);
        status.UsedAgainAt = view.UsedAgainAt is { } usedAgain ? Timestamp.FromDateTimeOffset(usedAgain) : null;
        return new GetErasureStatusResponse { SubjectPseudonym = view.Subject, Status = status };
    }

    /// <summary>An erasure as the wire message; never requested: state NONE and nothing else (the same shape for anyone).</summary>
    internal static ErasureStatus ToProto(ErasureRecord? erasure) => erasure is null
        ? new ErasureStatus { State = ErasureState.None }
        : new ErasureStatus
        {
            State = ProtoEnums.ErasureState.ToWire(erasure.Step),
            RequestedAt = Timestamp.FromDateTimeOffset(erasure.RequestedAt),
            UpdatedAt = Timestamp.FromDateTimeOffset(erasure.UpdatedAt),
            CompletedAt = erasure.CompletedAt is { } completed ? Timestamp.FromDateTimeOffset(completed) : null,
            PaymentMethodsDetached = erasure.PaymentMethodsDetached,
            PaymentMethodsNotCleared = erasure.PaymentMethodsNotCleared,
        };

    private static BillingDetails ToProto(Domain.BillingDetails billing)
    {
        var proto = new BillingDetails
        {
            Name = billing.Name ?? string.Empty,
            Email = billing.Email ?? string.Empty,
            Phone = billing.Phone ?? string.Empty,
        };
        if (billing.Address is { } a)
        {
            proto.Address = new Address
            {
                Line1 = a.Line1 ?? string.Empty,
                Line2 = a.Line2 ?? string.Empty,
                City = a.City ?? string.Empty,
                State = a.State ?? string.Empty,
                PostalCode = a.PostalCode ?? string.Empty,
                Country = a.Country ?? string.Empty,
            };
        }

        return proto;
    }
}
