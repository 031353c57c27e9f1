namespace Tokenizer.IntegrationTests;

/// <summary>Bounded waits for what a real process does in its own time (a webhook delivered, a worker's pass).</summary>
internal static class Polling
{
    /// <summary>Polls every 100 ms until <paramref name="condition"/> holds, for at most 90 s; false when it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    /// <inheritdoc cref="EventuallyAsync(Func{Task{bool}})"/>
    public static Task<bool> EventuallyAsync(Func<bool> condition) => EventuallyAsync(() => Task.FromResult(condition()));
}
