using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;
using Tokenizer.Core.Errors;
using Tokenizer.Server.Grpc;
using AuditEventMessage = Tokenizer.Contracts.V1.AuditEvent;

namespace Tokenizer.Server.Audit;

/// <summary>
/// tokenizer.v1.AuditService over <see cref="IAuditTrailReader"/>: verifies the chain and exports records. Meant for
/// the admin role only (the authorization policy is applied where the service is mapped). Its own calls are audited
/// by <see cref="AuditInterceptor"/> like any other (PCI DSS 10.2.1.3: access to audit logs). Errors are mapped by
/// <see cref="ErrorMappingInterceptor"/>.
/// </summary>
/// <remarks>
/// Without an anchor in the request, verification compares the chain with the service's own stored anchor (see
/// <see cref="AuditGuard"/>), when the host has one.
/// </remarks>
internal sealed class AuditGrpcService(IAuditTrailReader reader, AuditGuard? guard = null) : AuditService.AuditServiceBase
{
    private const int MacLength = 32;

    // google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
    private const long MinTimestampSeconds = -62_135_596_800;
    private const long MaxTimestampSeconds = 253_402_300_799;

    public override async Task<VerifyAuditTrailResponse> VerifyAuditTrail(VerifyAuditTrailRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var violations = new List<FieldViolation>();
        if (request.AnchorSequence < 0)
        {
            violations.Add(new("anchor_sequence", "must not be negative"));
        }

        if (request.AnchorSequence > 0 && request.AnchorMac.Length != MacLength)
        {
            violations.Add(new("anchor_mac", "must be 32 bytes when anchor_sequence is set"));
        }

        if (request.AnchorSequence == 0 && !request.AnchorMac.IsEmpty)
        {
            violations.Add(new("anchor_mac", "must be empty when anchor_sequence is 0"));
        }

        if (violations.Count > 0)
        {
            throw TokenizerException.Invalid(violations);
        }

        var anchor = request.AnchorSequence > 0 ? new AuditAnchor(request.AnchorSequence, request.AnchorMac.ToByteArray()) : null;
        if (anchor is null && guard is not null)
        {
            try
            {
                anchor = await guard.ReadAnchorAsync(context.CancellationToken);
            }
            catch (InvalidOperationException)
            {
                return AuditVerificationResponses.AnchorInvalid(await reader.VerifyAsync(null, context.CancellationToken));
            }
        }

        return AuditVerificationResponses.From(await reader.VerifyAsync(anchor, context.CancellationToken), anchor);
    }

    public override async Task ExportAuditEvents(
        ExportAuditEventsRequest request,
        IServerStreamWriter<ExportAuditEventsResponse> responseStream,
        ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var violations = new List<FieldViolation>();
        var from = ToTime(request.From, "from", violations);
        var to = ToTime(request.To, "to", violations);
        if (from is { } f && to is { } t && f > t)
        {
            violations.Add(new("to", "must not be before from"));
        }

        if (violations.Count > 0)
        {
            throw TokenizerException.Invalid(violations);
        }

        await foreach (var record in reader.ReadAsync(from, to, context.CancellationToken))
        {
            await responseStream.WriteAsync(new ExportAuditEventsResponse { Event = ToProto(record) }, context.CancellationToken);
        }
    }

    /// <summary>One stored record as the wire message; absent optional fields become empty strings.</summary>
    internal static AuditEventMessage ToProto(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var e = record.Event;
        return new AuditEventMessage
        {
            Sequence = record.Sequence,
            Time = Timestamp.FromDateTimeOffset(e.Time),
            CallerId = e.CallerId,
            SourceAddress = e.SourceAddress ?? string.Empty,
            Action = e.Action,
            Resource = e.Resource ?? string.Empty,
            Outcome = System.Enum.IsDefined(e.Outcome) ? AuditTexts.Outcome.Text(e.Outcome) : "unknown",
            Reason = e.ReasonCode ?? string.Empty,
            CorrelationId = e.CorrelationId,
        };
    }

    private static DateTimeOffset? ToTime(Timestamp? value, string field, List<FieldViolation> violations)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Seconds is < MinTimestampSeconds or > MaxTimestampSeconds || value.Nanos is < 0 or > 999_999_999)
        {
            violations.Add(new(field, "must be a valid timestamp"));
            return null;
        }

        return value.ToDateTimeOffset();
    }
}
