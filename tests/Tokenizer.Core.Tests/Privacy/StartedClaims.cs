using NSubstitute;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Tests.Privacy;

/// <summary>
/// A claim store whose every claim is new and every fenced completion holds: the erasure's steps run on each call, as
/// the step tests expect (the claims themselves are proven by IdempotencyRunnerTests and the integration tests).
/// </summary>
internal static class StartedClaims
{
    public static IClaimStore Create()
    {
        var claims = Substitute.For<IClaimStore>();
        claims.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        claims.CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default).ReturnsForAnyArgs(true);
        return claims;
    }
}
