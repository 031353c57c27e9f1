using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Security;
using Domain = Tokenizer.Core.Reconciliation;
using V1 = Tokenizer.Contracts.V1;

namespace Tokenizer.Server.Reconciliation;

/// <summary>
/// tokenizer.v1.ReconciliationService over <see cref="ReconciliationRuns"/> (finance role only, by RpcPolicies; audited
/// by <see cref="Audit.AuditInterceptor"/> with the run id as the resource). A started run is handed to the
/// <see cref="ReconciliationWorker"/>, which carries it out in the background. Errors are mapped by
/// <see cref="ErrorMappingInterceptor"/>.
/// </summary>
internal sealed class ReconciliationGrpcService(ReconciliationRuns runs, ReconciliationWorker worker) : V1.ReconciliationService.ReconciliationServiceBase
{
    public override async Task<V1.StartReconciliationResponse> StartReconciliation(V1.StartReconciliationRequest request, ServerCallContext context)
    {
        var filter = request.Filter ?? new V1.ReconciliationFilter();
        var caller = TokenizerCall.Of(context).Caller;
        var (run, replayed) = await runs.StartAsync(
            caller.CallerId,
            new StartReconciliationCommand(
                ProtoMapper.ToTime(filter.From, "filter.from"),
                ProtoMapper.ToTime(filter.To, "filter.to"),
                string.IsNullOrEmpty(filter.CustomerReference) ? null : filter.CustomerReference,
                ProtoMapper.ToDomain(filter.Type),
                request.IdempotencyKey),
            context.CancellationToken);
        worker.Wake();
        return new V1.StartReconciliationResponse { RunId = run.RunId, Replayed = replayed };
    }

    public override async Task<V1.GetReconciliationResponse> GetReconciliation(V1.GetReconciliationRequest request, ServerCallContext context)
    {
        var report = await runs.GetAsync(request.RunId, context.CancellationToken);
        var response = new V1.GetReconciliationResponse { Reconciliation = ToProto(report.Run) };
        response.Counts.AddRange(report.Counts.Select(c => new V1.ReconciliationCount
        {
            Category = ProtoEnums.ReconciliationCategory.ToWire(c.Category),
            Type = c.Type is { } type ? ProtoMapper.ToProto(type) : V1.TokenType.Unspecified,
            Brand = c.Brand ?? string.Empty,
            Count = c.Count,
        }));
        response.DailyCounts.AddRange(report.DailyCounts.Select(d => new V1.ReconciliationDailyCount
        {
            Day = d.Day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            Category = ProtoEnums.ReconciliationCategory.ToWire(d.Category),
            Count = d.Count,
        }));
        return response;
    }

    public override async Task<V1.ListReconciliationItemsResponse> ListReconciliationItems(V1.ListReconciliationItemsRequest request, ServerCallContext context)
    {
        var page = await runs.ListItemsAsync(request.RunId, ProtoEnums.ReconciliationCategory.ToDomain(request.Category), request.PageSize, request.PageToken, context.CancellationToken);
        var response = new V1.ListReconciliationItemsResponse { NextPageToken = page.NextPageToken ?? string.Empty };
        response.Items.AddRange(page.Items.Select(ToProto));
        return response;
    }

    public override async Task<V1.ListReconciliationsResponse> ListReconciliations(V1.ListReconciliationsRequest request, ServerCallContext context)
    {
        var page = await runs.ListAsync(request.PageSize, request.PageToken, context.CancellationToken);
        var response = new V1.ListReconciliationsResponse { NextPageToken = page.NextPageToken ?? string.Empty };
        response.Reconciliations.AddRange(page.Runs.Select(ToProto));
        return response;
    }

    internal static V1.Reconciliation ToProto(ReconciliationRun run) => new()
    {
        RunId = run.RunId,
        Filter = new V1.ReconciliationFilter
        {
            From = Timestamp.FromDateTimeOffset(run.Filter.From),
            To = Timestamp.FromDateTimeOffset(run.Filter.To),
            CustomerReference = run.Filter.CustomerReference ?? string.Empty,
            Type = run.Filter.Type is { } type ? ProtoMapper.ToProto(type) : V1.TokenType.Unspecified,
        },
        State = ProtoEnums.ReconciliationState.ToWire(run.State),
        StartedBy = run.StartedBy,
        CreatedAt = Timestamp.FromDateTimeOffset(run.CreatedAt),
        UpdatedAt = Timestamp.FromDateTimeOffset(run.UpdatedAt),
        CompletedAt = run.CompletedAt is { } completed ? Timestamp.FromDateTimeOffset(completed) : null,
        ErrorReason = run.ErrorReason ?? string.Empty,
        CustomersDone = run.CustomersDone,
        CustomersTotal = run.CustomersTotal,
        ItemsTotal = run.ItemsTotal,
        Discrepancies = run.Discrepancies,
        GatewayRequests = run.GatewayRequests,
    };

    private static V1.ReconciliationItem ToProto(Domain.ReconciliationItem item) => new()
    {
        Token = item.Token,
        Type = item.Type is { } type ? ProtoMapper.ToProto(type) : V1.TokenType.Unspecified,
        Brand = item.Brand ?? string.Empty,
        Last4 = item.Last4 ?? string.Empty,
        CustomerReference = item.CustomerReference ?? string.Empty,
        CreatedAt = Timestamp.FromDateTimeOffset(item.CreatedAt),
        LedgerStatus = item.LedgerStatus,
        GatewayStatus = item.GatewayStatus,
        Category = ProtoEnums.ReconciliationCategory.ToWire(item.Category),
        Detail = item.Detail ?? string.Empty,
    };
}
