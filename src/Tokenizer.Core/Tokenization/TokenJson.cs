using System.Text.Json;
using System.Text.Json.Serialization;
using Tokenizer.Core.Domain;

namespace Tokenizer.Core.Tokenization;

/// <summary>
/// The JSON form of a <see cref="TokenRecord"/> kept with a completed idempotency record and replayed to a retry. One
/// definition, so a response completed by the recovery worker replays exactly like one completed by the request.
/// </summary>
internal static class TokenJson
{
    /// <summary>Web defaults (camelCase) with enums as names.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The stored response for <paramref name="token"/>.</summary>
    public static string Serialize(TokenRecord token) => JsonSerializer.Serialize(token, Options);

    /// <summary>The token of a stored response.</summary>
    /// <exception cref="InvalidOperationException">No response was stored (a completed record always has one).</exception>
    public static TokenRecord Deserialize(string? json) =>
        JsonSerializer.Deserialize<TokenRecord>(json ?? throw new InvalidOperationException("replay without response"), Options)
        ?? throw new InvalidOperationException("replay without response");
}
