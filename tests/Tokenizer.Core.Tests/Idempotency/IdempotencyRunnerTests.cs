using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Idempotency;
using Tokenizer.Core.Ports;

namespace Tokenizer.Core.Tests.Idempotency;

/// <summary>
/// The one idempotency runner (<see cref="IdempotencyRunner"/>) with the claim store substituted: each claim state
/// (new, replay, in progress, conflict, erasure fence, resource busy), release on failure, an answer not kept, and a
/// fenced completion that was lost.
/// </summary>
public sealed class IdempotencyRunnerTests
{
    private static readonly DateTimeOffset Start = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly IClaimStore claims = Substitute.For<IClaimStore>();
    private readonly FakeTimeProvider time = new(Start);
    private readonly IdempotencyClaim claim = new("caller-1", "key-id-1", "op", new byte[32], DateTimeOffset.MinValue, TimeSpan.FromMinutes(2));
    private readonly IdempotentOperation<string> operation = IdempotentOperation.JsonAnswer<string>() with
    {
        ReadAnswer = json => "read:" + json,
        Keep = answer => answer != "unfinished",
        ReleaseAs = _ => IntentState.Failed,
        ResourceBusy = TokenizerErrors.CorrectionInProgress,
    };

    private int runs;

    private IdempotencyRunner Runner(TimeSpan wait = default) => new(claims, time, wait, TimeSpan.FromMilliseconds(50));

    private Task<IdempotentResult<string>> RunAsync(IdempotencyRunner runner, string answer = "done") =>
        runner.RunAsync(claim, operation, (_, _) => { runs++; return Task.FromResult(answer); }, CancellationToken.None);

    private void Claims(params IdempotencyOutcome[] outcomes) =>
        claims.ClaimAsync(default!, default).ReturnsForAnyArgs(outcomes[0], outcomes[1..]);

    [Fact]
    public async Task RunAsync_NewClaim_RunsAndCompletesFencedOnTheClaimTime()
    {
        // Arrange
        Claims(new IdempotencyOutcome(IdempotencyState.Started));
        claims.CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default).ReturnsForAnyArgs(true);

        // Act
        var result = await RunAsync(Runner());

        // Assert
        Assert.Equal(new IdempotentResult<string>("done", Replayed: false, Kept: true), result);
        Assert.Equal(1, runs);
        await claims.Received(1).ClaimAsync(Arg.Is<IdempotencyClaim>(c => c.Now == Start && c.Key == "key-id-1"), Arg.Any<CancellationToken>());
        await claims.Received(1).CompleteOwnedWithoutTokenAsync("caller-1", "key-id-1", Start, "\"done\"", CancellationToken.None);
        await claims.DidNotReceiveWithAnyArgs().ReleaseOwnedAsync(default!, default!, default, default, default);
    }

    [Fact]
    public async Task RunAsync_Completed_ReplaysTheStoredAnswerWithoutRunning()
    {
        // Arrange
        Claims(new IdempotencyOutcome(IdempotencyState.Replay, "first"));

        // Act
        var result = await RunAsync(Runner());

        // Assert
        Assert.Equal(new IdempotentResult<string>("read:first", Replayed: true), result);
        Assert.Equal(0, runs);
        await claims.DidNotReceiveWithAnyArgs().CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default);
    }

    [Fact]
    public async Task RunAsync_InProgressThenCompleted_WaitsAndReplays()
    {
        // Arrange: the first request is still running at the first look, done at the second.
        Claims(new IdempotencyOutcome(IdempotencyState.InFlight), new IdempotencyOutcome(IdempotencyState.Replay, "first"));

        // Act
        var running = RunAsync(Runner(TimeSpan.FromSeconds(10)));
        while (!running.IsCompleted)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Yield();
        }

        // Assert
        Assert.Equal(new IdempotentResult<string>("read:first", Replayed: true), await running);
        Assert.Equal(0, runs);
    }

    [Fact]
    public async Task RunAsync_InProgressPastTheWait_AbortedInFlight()
    {
        // Arrange
        Claims(new IdempotencyOutcome(IdempotencyState.InFlight));

        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => RunAsync(Runner()));

        // Assert
        Assert.Equal((ErrorKind.Aborted, ErrorReasons.IdempotencyKeyInFlight), (error.Kind, error.Reason));
        Assert.Equal(0, runs);
    }

    [Theory]
    [InlineData(IdempotencyState.Conflict, ErrorKind.AlreadyExists, ErrorReasons.IdempotencyKeyReused)]
    [InlineData(IdempotencyState.ErasureInProgress, ErrorKind.FailedPrecondition, ErrorReasons.ErasureInProgress)]
    [InlineData(IdempotencyState.ResourceBusy, ErrorKind.Aborted, ErrorReasons.CorrectionInProgress)]
    public async Task RunAsync_Refused_ThrowsItsErrorWithoutRunningOrWriting(IdempotencyState state, ErrorKind kind, string reason)
    {
        // Arrange
        Claims(new IdempotencyOutcome(state));

        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => RunAsync(Runner()));

        // Assert
        Assert.Equal((kind, reason), (error.Kind, error.Reason));
        Assert.Equal(0, runs);
        Assert.Single(claims.ReceivedCalls());
    }

    [Fact]
    public async Task RunAsync_WorkFails_ReleasesFencedWithTheOperationsOutcomeAndRethrows()
    {
        // Arrange
        Claims(new IdempotencyOutcome(IdempotencyState.Started));
        var failure = new TimeoutException("gateway");

        // Act
        var thrown = await Assert.ThrowsAsync<TimeoutException>(() =>
            Runner().RunAsync<string>(claim, operation, (_, _) => throw failure, CancellationToken.None));

        // Assert
        Assert.Same(failure, thrown);
        await claims.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Start, IntentState.Failed, CancellationToken.None);
        await claims.DidNotReceiveWithAnyArgs().CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default);
    }

    [Fact]
    public async Task RunAsync_AnswerNotKept_ReleasesSoTheSameKeyRunsAgain()
    {
        // Arrange
        Claims(new IdempotencyOutcome(IdempotencyState.Started));

        // Act
        var result = await RunAsync(Runner(), "unfinished");

        // Assert
        Assert.Equal(new IdempotentResult<string>("unfinished", Replayed: false, Kept: false), result);
        await claims.Received(1).ReleaseOwnedAsync("caller-1", "key-id-1", Start, IntentState.Closed, CancellationToken.None);
        await claims.DidNotReceiveWithAnyArgs().CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default);
    }

    [Fact]
    public async Task RunAsync_FencedCompletionLost_AnswersNotKeptAndReleasesNothing()
    {
        // Arrange: the lease ran out during the work and another attempt took the claim over (the fenced write says no).
        Claims(new IdempotencyOutcome(IdempotencyState.Started));
        claims.CompleteOwnedWithoutTokenAsync(default!, default!, default, default!, default).ReturnsForAnyArgs(false);

        // Act
        var result = await RunAsync(Runner());

        // Assert
        Assert.Equal(new IdempotentResult<string>("done", Replayed: false, Kept: false), result);
        await claims.DidNotReceiveWithAnyArgs().ReleaseOwnedAsync(default!, default!, default, default, default);
    }
}
