using Microsoft.Extensions.Options;
using Tokenizer.Core.Events;

namespace Tokenizer.Server.Events;

/// <summary>Wires the token event RPCs: options (validated at start), the feed and the watch.</summary>
internal static class TokenEventServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="TokenEventOptions"/>, <see cref="TokenEventFeed"/> and <see cref="TokenEventWatch"/>. Needs the
    /// ledger (its <c>ITokenEventReader</c>); the retention purge reads <see cref="TokenEventOptions.Retention"/>.
    /// </summary>
    public static IServiceCollection AddTokenizerTokenEvents(this IServiceCollection services)
    {
        services.AddOptions<TokenEventOptions>().BindConfiguration(TokenEventOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenEventOptions>, TokenEventOptionsValidator>();
        services.AddSingleton<TokenEventFeed>();
        services.AddSingleton<TokenEventWatch>();
        return services;
    }
}
