namespace Tokenizer.Server.Hosting;

/// <summary>
/// A start-up failure whose message names its cause and the setting to change (never a secret or a setting's secret
/// value), fit to print as is: Program.cs prints it as one line and exits 1, without a stack trace.
/// </summary>
public sealed class StartupException : Exception
{
    public StartupException(string message)
        : base(message)
    {
    }

    public StartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StartupException()
    {
    }

    /// <summary>The first <see cref="StartupException"/> in <paramref name="error"/>'s chain (inner and aggregated), or null.</summary>
    public static StartupException? Find(Exception? error)
    {
        for (var depth = 0; error is not null && depth < 16; depth++)
        {
            switch (error)
            {
                case StartupException found:
                    return found;
                case AggregateException aggregate when aggregate.InnerExceptions.Count > 0:
                    foreach (var inner in aggregate.InnerExceptions)
                    {
                        if (Find(inner) is { } nested)
                        {
                            return nested;
                        }
                    }

                    return null;
                default:
                    error = error.InnerException;
                    break;
            }
        }

        return null;
    }
}
