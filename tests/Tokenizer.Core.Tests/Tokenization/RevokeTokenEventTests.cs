using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Tokenization;

/// <summary>The revoke path tells the token's owner through the token event log (the ports substituted).</summary>
public sealed class RevokeTokenEventTests
{
    private static readonly CallerContext Admin = new("ops-admin", CallerRoles.Admin);
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly IClaimStore claimStore = Substitute.For<IClaimStore>();
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly ITokenEventLog events = Substitute.For<ITokenEventLog>();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly TokenizationService service;

    public RevokeTokenEventTests()
    {
        gateway.Name.Returns("stripe");
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        service = new TokenizationService(
            new RequestValidator(time),
            gateway,
            claimStore,
            customerRepository,
            tokenRepository,
            new RequestHasher(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            time,
            new TokenizationSettings { DuplicateWait = TimeSpan.Zero },
            NullLogger<TokenizationService>.Instance,
            personalData: null,
            tokenEvents: events);
    }

    private TokenRecord Active(string token) => new()
    {
        Token = token,
        Gateway = "stripe",
        Type = TokenType.Card,
        Status = TokenStatus.Active,
        CallerId = "billing-owner",
        CustomerReference = "cust-1",
        CreatedAt = time.GetUtcNow().AddDays(-1),
    };

    [Fact]
    public async Task RevokeToken_Active_AppendsRevokedForTheOwnerOnce()
    {
        tokenRepository.GetTokenAsync("pm_1", Arg.Any<CancellationToken>()).Returns(Active("pm_1"));

        await service.RevokeTokenAsync(Admin, new RevokeTokenCommand("pm_1", "rk-1", null), CancellationToken.None);

        // The owner (not the admin who revoked) gets the event; SourceId makes a second revoke of the token a no-op.
        await events.Received(1).AppendAsync(
            new TokenEventDraft("pm_1", "billing-owner", TokenEventKind.Revoked, "revoke:pm_1", time.GetUtcNow(), null),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RevokeToken_Replayed_AppendsAgainSoAFailedAppendIsCompleted()
    {
        var revoked = Active("pm_2") with { Status = TokenStatus.Revoked, RevokedAt = time.GetUtcNow().AddMinutes(-5) };
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Replay, TokenJson.Serialize(revoked)));

        await service.RevokeTokenAsync(Admin, new RevokeTokenCommand("pm_2", "rk-2", null), CancellationToken.None);

        await events.Received(1).AppendAsync(
            Arg.Is<TokenEventDraft>(d => d.SourceId == "revoke:pm_2" && d.OccurredAt == revoked.RevokedAt && d.CallerId == "billing-owner"),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task RevokeToken_Unknown_NoEvent()
    {
        // Control: a revoke that did not happen appends nothing.
        tokenRepository.GetTokenAsync(default!, default).ReturnsForAnyArgs((TokenRecord?)null);

        await Assert.ThrowsAsync<TokenizerException>(() =>
            service.RevokeTokenAsync(Admin, new RevokeTokenCommand("pm_missing", "rk-3", null), CancellationToken.None));

        await events.DidNotReceiveWithAnyArgs().AppendAsync(default!, default);
    }
}
