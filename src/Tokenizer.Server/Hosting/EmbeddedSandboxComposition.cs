using System.Runtime.CompilerServices;

namespace Tokenizer.Server.Hosting;

/// <summary>
/// What the rest of the server knows of the embedded Stripe sandbox: its address and its webhook endpoints. No type of
/// the sandbox's assembly (Tokenizer.StripeSandbox) appears here, so code that holds this interface loads nothing of it.
/// </summary>
internal interface IEmbeddedSandbox
{
    /// <summary>The sandbox's base address once started; null when it is not running (a Stripe key is configured).</summary>
    Uri? Address { get; }

    /// <summary>
    /// Registers a webhook endpoint with the running sandbox, as an operator registers one in Stripe's Dashboard: it
    /// delivers <paramref name="eventTypes"/> to <paramref name="url"/> (loopback only) signed with <paramref name="secret"/>.
    /// </summary>
    /// <returns>The endpoint's id (<c>we_...</c>).</returns>
    /// <exception cref="InvalidOperationException">The sandbox is not running.</exception>
    string AddWebhookEndpoint(string url, string secret, IEnumerable<string> eventTypes);
}

/// <summary>
/// The one place that composes the embedded Stripe sandbox into the host: outside Production only. The Production host
/// has no <see cref="EmbeddedSandbox"/> registration and no start-up step for it, and never loads the assembly
/// Tokenizer.StripeSandbox (the file still ships, for Development and the embedded default outside Production).
/// </summary>
/// <remarks>
/// The runtime loads an assembly when code that uses one of its types is first compiled. So only the members below name
/// <see cref="EmbeddedSandbox"/>, and they are not inlined into their callers; everything else holds
/// <see cref="IEmbeddedSandbox"/>. SecurityTests <c>ProductionPostureTests.ProductionServer_DiagnosticsOff_NoDiagnosticsSocketAndNoReflection</c>
/// reads the Production process's mapped files to hold this (the control, <c>.DevelopmentServer_EmbeddedDefault_LoadsTheSandboxAssembly</c>: a Development server maps it).
/// </remarks>
internal static class EmbeddedSandboxComposition
{
    /// <summary>The sandbox's assembly name, as the tests look for it.</summary>
    public const string AssemblyName = "Tokenizer.StripeSandbox";

    /// <summary>
    /// Whether <paramref name="environment"/> composes the sandbox: every environment but Production (where the server
    /// refuses to start without a Stripe key, and the sandbox itself refuses to start).
    /// </summary>
    public static bool Composes(IHostEnvironment environment) => !environment.IsProduction();

    /// <summary>Registers the sandbox and <see cref="IEmbeddedSandbox"/>; returns its start-up step.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static Type Add(IServiceCollection services)
    {
        services.AddSingleton<EmbeddedSandbox>();
        services.AddSingleton<IEmbeddedSandbox>(sp => sp.GetRequiredService<EmbeddedSandbox>());
        return typeof(EmbeddedSandbox);
    }
}
