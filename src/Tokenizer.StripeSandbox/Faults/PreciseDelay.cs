using System.Diagnostics;

namespace Tokenizer.StripeSandbox.Faults;

/// <summary>
/// A wait that ends within about a millisecond of its deadline, for the <c>latency</c> fault on the system clock.
/// </summary>
/// <remarks>
/// <c>Task.Delay</c> fires on the runtime's timer, which ticks every 4 ms on some Linux hosts (this project's VM among
/// them): a 100 ms latency fault answered after 100-104 ms, and the load benchmark counted the overshoot as the
/// service's own added latency. Here the bulk of the wait is a <c>Task.Delay</c> ending a few ticks early and the rest is
/// kept by one background thread that sleeps with <see cref="Thread.Sleep(int)"/> (about 1.1 ms) and completes every wait
/// that is due. The thread sleeps on a signal while no wait is pending.
/// </remarks>
internal static class PreciseDelay
{
    /// <summary>How much of a wait is left to the fine thread: more than the coarse timer's worst overshoot.</summary>
    private static readonly TimeSpan FineWindow = TimeSpan.FromMilliseconds(10);

    private static readonly PriorityQueue<TaskCompletionSource, long> Due = new();

    // A plain object, not System.Threading.Lock: the worker waits on it with Monitor.Wait.
    private static readonly object Gate = new();
    private static Thread? worker;

    /// <summary>Waits until <paramref name="deadline"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public static async Task UntilAsync(long deadline, CancellationToken cancellationToken)
    {
        var coarse = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline) - FineWindow;
        if (coarse > TimeSpan.Zero)
        {
            await Task.Delay(coarse, cancellationToken).ConfigureAwait(false);
        }

        if (Stopwatch.GetTimestamp() >= deadline)
        {
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            Due.Enqueue(done, deadline);
            if (worker is null)
            {
                worker = new Thread(Run) { IsBackground = true, Name = "sandbox precise delay" };
                worker.Start();
            }

            Monitor.Pulse(Gate);
        }

        // A cancelled wait stays queued until its deadline; completing it then is harmless.
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Run()
    {
        while (true)
        {
            lock (Gate)
            {
                while (Due.Count == 0)
                {
                    Monitor.Wait(Gate);
                }

                var now = Stopwatch.GetTimestamp();
                while (Due.TryPeek(out var done, out var deadline) && deadline <= now)
                {
                    Due.Dequeue();
                    done.TrySetResult();
                }
            }

            Thread.Sleep(1);
        }
    }
}
