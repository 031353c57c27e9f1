using Tokenizer.Core.Domain;

namespace Tokenizer.Cli;

/// <summary>
/// The text of a wire enum value, through the server's own maps (wire to domain, domain to the ledger's text), so the
/// command shows and accepts exactly the names the ledger stores and the README lists.
/// </summary>
internal static class WireText
{
    /// <summary>The text of <paramref name="value"/>, or <paramref name="fallback"/> for UNSPECIFIED and unknown values.</summary>
    public static string Of<TDomain, TWire>(EnumPairs<TDomain, TWire> pairs, EnumText<TDomain> texts, TWire value, string fallback)
        where TDomain : struct, Enum
        where TWire : struct, Enum =>
        pairs.ToDomain(value) is { } domain ? texts.TextOr(domain, fallback) : fallback;

    /// <summary>The wire value named <paramref name="text"/>; UNSPECIFIED for null or a text no value has.</summary>
    public static TWire Parse<TDomain, TWire>(EnumPairs<TDomain, TWire> pairs, EnumText<TDomain> texts, string? text)
        where TDomain : struct, Enum
        where TWire : struct, Enum =>
        texts.Find(text) is { } domain ? pairs.ToWire(domain) : default;
}
