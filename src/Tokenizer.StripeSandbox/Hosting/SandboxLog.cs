namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>The sandbox host's log events. Nothing here carries request data.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 9000, EventName = "SandboxStarted", Level = LogLevel.Information,
        Message = "Stripe sandbox listening on {BaseAddress} ({Mode})")]
    public static partial void Started(ILogger logger, Uri baseAddress, string mode);
}
