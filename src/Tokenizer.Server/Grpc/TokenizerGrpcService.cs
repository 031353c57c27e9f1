using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Events;
using Tokenizer.Core.Tokenization;
using Tokenizer.Server.Events;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// tokenizer.v1.TokenizerService: maps the wire contract onto <see cref="TokenizationService"/> and the token event
/// feed (<see cref="TokenEventFeed"/>, <see cref="TokenEventWatch"/>). Errors are mapped to gRPC status by
/// <see cref="ErrorMappingInterceptor"/>; handlers never build RpcException themselves.
/// </summary>
internal sealed class TokenizerGrpcService(TokenizationService tokenization, TokenEventFeed tokenEvents, TokenEventWatch watch)
    : TokenizerService.TokenizerServiceBase
{
    public override async Task<TokenizeCardResponse> TokenizeCard(TokenizeCardRequest request, ServerCallContext context)
    {
        var result = await tokenization.TokenizeCardAsync(Caller(context), ProtoMapper.ToCommand(request), context.CancellationToken);
        return new TokenizeCardResponse { Token = ProtoMapper.ToProto(result.Token), Replayed = result.Replayed };
    }

    public override async Task<TokenizeBankAccountResponse> TokenizeBankAccount(TokenizeBankAccountRequest request, ServerCallContext context)
    {
        var result = await tokenization.TokenizeBankAccountAsync(Caller(context), ProtoMapper.ToCommand(request), context.CancellationToken);
        return new TokenizeBankAccountResponse { Token = ProtoMapper.ToProto(result.Token), Replayed = result.Replayed };
    }

    public override async Task<GetTokenResponse> GetToken(GetTokenRequest request, ServerCallContext context)
    {
        var token = await tokenization.GetTokenAsync(Caller(context), request.Token, context.CancellationToken);
        return new GetTokenResponse { Token = ProtoMapper.ToProto(token) };
    }

    public override async Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context)
    {
        var page = await tokenization.ListTokensAsync(Caller(context), ProtoMapper.ToCommand(request), context.CancellationToken);
        var response = new ListTokensResponse { NextPageToken = page.NextPageToken ?? string.Empty };
        response.Tokens.AddRange(page.Tokens.Select(ProtoMapper.ToProto));
        return response;
    }

    public override async Task<RevokeTokenResponse> RevokeToken(RevokeTokenRequest request, ServerCallContext context)
    {
        var token = await tokenization.RevokeTokenAsync(
            Caller(context),
            new RevokeTokenCommand(request.Token, request.IdempotencyKey, request.Reason),
            context.CancellationToken);
        return new RevokeTokenResponse { Token = ProtoMapper.ToProto(token) };
    }

    public override async Task<ListTokenEventsResponse> ListTokenEvents(ListTokenEventsRequest request, ServerCallContext context)
    {
        var page = await tokenEvents.ReadAsync(Caller(context), request.After, request.PageSize, context.CancellationToken);
        var response = new ListTokenEventsResponse { NextCursor = page.NextCursor };
        response.Events.AddRange(page.Events.Select(ProtoMapper.ToProto));
        return response;
    }

    public override Task WatchTokenEvents(WatchTokenEventsRequest request, IServerStreamWriter<TokenEvent> responseStream, ServerCallContext context) =>
        watch.RunAsync(
            Caller(context),
            request.After,
            (item, ct) => responseStream.WriteAsync(ProtoMapper.ToProto(item), ct),
            context.CancellationToken);

    private static CallerContext Caller(ServerCallContext context) => TokenizerCall.Of(context).Caller;
}
