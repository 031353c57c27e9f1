using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Tokenization;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Grpc;

/// <summary>
/// tokenizer.v1.TokenizerService: maps the wire contract onto <see cref="TokenizationService"/>. Errors are mapped to
/// gRPC status by <see cref="ErrorMappingInterceptor"/>; handlers never build RpcException themselves.
/// </summary>
internal sealed class TokenizerGrpcService(TokenizationService tokenization) : TokenizerService.TokenizerServiceBase
{
    public override async Task<TokenizeCardResponse> TokenizeCard(TokenizeCardRequest request, ServerCallContext context)
    {
        var result = await tokenization.TokenizeCardAsync(Caller(context), ProtoMapper.ToCommand(request), context.CallCancellation());
        return new TokenizeCardResponse { Token = ProtoMapper.ToProto(result.Token), Replayed = result.Replayed };
    }

    public override async Task<TokenizeBankAccountResponse> TokenizeBankAccount(TokenizeBankAccountRequest request, ServerCallContext context)
    {
        var result = await tokenization.TokenizeBankAccountAsync(Caller(context), ProtoMapper.ToCommand(request), context.CallCancellation());
        return new TokenizeBankAccountResponse { Token = ProtoMapper.ToProto(result.Token), Replayed = result.Replayed };
    }

    public override async Task<GetTokenResponse> GetToken(GetTokenRequest request, ServerCallContext context)
    {
        var token = await tokenization.GetTokenAsync(Caller(context), request.Token, context.CallCancellation());
        return new GetTokenResponse { Token = ProtoMapper.ToProto(token) };
    }

    public override async Task<ListTokensResponse> ListTokens(ListTokensRequest request, ServerCallContext context)
    {
        var page = await tokenization.ListTokensAsync(Caller(context), ProtoMapper.ToCommand(request), context.CallCancellation());
        var response = new ListTokensResponse { NextPageToken = page.NextPageToken ?? string.Empty };
        response.Tokens.AddRange(page.Tokens.Select(ProtoMapper.ToProto));
        return response;
    }

    public override async Task<RevokeTokenResponse> RevokeToken(RevokeTokenRequest request, ServerCallContext context)
    {
        var token = await tokenization.RevokeTokenAsync(
            Caller(context),
            new RevokeTokenCommand(request.Token, request.IdempotencyKey, request.Reason),
            context.CallCancellation());
        return new RevokeTokenResponse { Token = ProtoMapper.ToProto(token) };
    }

    private static CallerContext Caller(ServerCallContext context) => CallerDirectory.ToCaller(context.GetHttpContext().User);
}
