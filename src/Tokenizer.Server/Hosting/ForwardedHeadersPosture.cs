namespace Tokenizer.Server.Hosting;

/// <summary>
/// The audit trail records the connection's peer address as a call's origin (PCI DSS 10.2), and the rate limit of
/// unauthenticated callers is keyed on it. ASP.NET Core's <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c> installs the
/// forwarded-headers middleware trusting <c>X-Forwarded-For</c> from any peer, which would let a caller choose both.
/// </summary>
internal static class ForwardedHeadersPosture
{
    /// <summary>The configuration key the framework reads (from the <c>ASPNETCORE_</c> variable, or any other source).</summary>
    public const string Key = "FORWARDEDHEADERS_ENABLED";

    /// <summary>Outside Development, refuses to start when the framework would trust forwarded headers.</summary>
    /// <exception cref="StartupException">Outside Development with <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c> true.</exception>
    public static void EnsureOff(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);

        // The framework's own test (ForwardedHeadersStartupFilter): "true", any case.
        if (!environment.IsDevelopment() && string.Equals("true", configuration[Key], StringComparison.OrdinalIgnoreCase))
        {
            throw new StartupException(
                $"ASPNETCORE_FORWARDEDHEADERS_ENABLED ({Key}) must not be true outside Development: the audit trail records the connection's peer address, and forwarded headers would let any caller choose it");
        }
    }
}
