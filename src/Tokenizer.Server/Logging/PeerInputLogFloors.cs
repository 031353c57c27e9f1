using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Logging;

/// <summary>
/// Framework log categories whose events quote what an unauthenticated peer sent (a client certificate's subject and
/// issuer, the request path, authority, content type and gRPC headers), each with the lowest level that still reaches
/// the sink. Below it those events never leave the logger, whatever <c>Logging:LogLevel</c> says: the scrubber is the last
/// line, not the first, and it cannot recognise personal data or a PAN written in a form it does not know.
/// </summary>
/// <remarks>
/// Events at or above each floor carry no peer input (checked against the framework's message templates and proved by
/// <c>SecurityTests: PeerInputLogTests</c>). The certificate handler logs a refused certificate's subject at Warning, so
/// it is silenced completely; the server logs the refused certificate's SHA-256 thumbprint itself.
/// </remarks>
public static class PeerInputLogFloors
{
    /// <summary>Category prefix and the lowest level let through.</summary>
    public static readonly IReadOnlyList<(string Category, LogLevel Floor)> Floors =
    [
        ("Microsoft.AspNetCore.Authentication.Certificate", LogLevel.None),
        ("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Information),
        ("Microsoft.AspNetCore.Hosting", LogLevel.Warning),
        // With AllowedHosts set, a refused request's Host is quoted at Information (and Debug).
        ("Microsoft.AspNetCore.HostFiltering", LogLevel.Warning),
        ("Microsoft.AspNetCore.Routing", LogLevel.Information),
        ("Grpc.AspNetCore.Server", LogLevel.Warning),
    ];

    /// <summary>Whether an event of <paramref name="level"/> in <paramref name="category"/> may reach a provider.</summary>
    public static bool Allows(string? category, LogLevel level)
    {
        if (category is null)
        {
            return true;
        }

        foreach (var (prefix, floor) in Floors)
        {
            if (category.StartsWith(prefix, StringComparison.Ordinal) && (category.Length == prefix.Length || category[prefix.Length] == '.'))
            {
                return floor != LogLevel.None && level >= floor;
            }
        }

        return true;
    }

    /// <summary>
    /// Applies the floors after every other filter configuration (appsettings, command line, code): each rule keeps its
    /// level and filter and gains this one, and a catch-all rule covers categories no rule matches.
    /// </summary>
    internal sealed class Enforce : IPostConfigureOptions<LoggerFilterOptions>
    {
        public void PostConfigure(string? name, LoggerFilterOptions options)
        {
            var rules = options.Rules.Select(rule => new LoggerFilterRule(
                rule.ProviderName,
                rule.CategoryName,
                rule.LogLevel,
                (provider, category, level) => Allows(category, level) && (rule.Filter?.Invoke(provider, category, level) ?? true))).ToList();
            options.Rules.Clear();

            // First, so that any configured rule of the same specificity wins on level (the last match wins).
            options.Rules.Add(new LoggerFilterRule(null, null, options.MinLevel, (_, category, level) => Allows(category, level)));
            foreach (var rule in rules)
            {
                options.Rules.Add(rule);
            }
        }
    }
}
