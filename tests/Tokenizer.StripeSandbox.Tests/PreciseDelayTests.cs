using System.Diagnostics;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class PreciseDelayTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(25)]
    public async Task UntilAsync_AnyDeadline_DoesNotEndBeforeIt(int milliseconds)
    {
        // Arrange
        var deadline = Stopwatch.GetTimestamp() + (milliseconds * Stopwatch.Frequency / 1000);

        // Act
        await PreciseDelay.UntilAsync(deadline, CancellationToken.None);

        // Assert: a lower bound only (how close it comes is for the benchmark, not for a timed test).
        Assert.True(Stopwatch.GetTimestamp() >= deadline);
    }

    [Fact]
    public async Task UntilAsync_ManyConcurrentWaits_EachEndsAtOrAfterItsOwnDeadline()
    {
        // Arrange: deadlines out of order, so the queue must order them.
        var start = Stopwatch.GetTimestamp();
        var deadlines = Enumerable.Range(0, 50).Select(i => start + ((i * 7 % 50) * Stopwatch.Frequency / 1000)).ToArray();

        // Act
        var ended = await Task.WhenAll(deadlines.Select(async deadline =>
        {
            await PreciseDelay.UntilAsync(deadline, CancellationToken.None);
            return Stopwatch.GetTimestamp();
        }));

        // Assert
        Assert.All(deadlines.Zip(ended), pair => Assert.True(pair.Second >= pair.First));
    }

    [Fact]
    public async Task UntilAsync_Cancelled_ThrowsOperationCanceled()
    {
        // Arrange
        using var cancel = new CancellationTokenSource();
        var wait = PreciseDelay.UntilAsync(Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency), cancel.Token);

        // Act
        await cancel.CancelAsync();

        // Assert
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }
}
