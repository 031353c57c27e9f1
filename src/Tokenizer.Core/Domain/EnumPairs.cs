using System.Collections.Frozen;

namespace Tokenizer.Core.Domain;

/// <summary>
/// A domain enum and its wire (protobuf) enum, both ways (the server's and the command's maps, declared in the server's
/// <c>ProtoEnums</c>). The wire's zero value is its <c>_UNSPECIFIED</c>: a domain
/// value without a pair goes out as it, and an unspecified or unknown wire value comes in as null. A test checks every
/// map for a pair per defined value on both sides, so a value added to either enum cannot be forgotten.
/// </summary>
/// <typeparam name="TDomain">The domain enum.</typeparam>
/// <typeparam name="TWire">The generated protobuf enum.</typeparam>
public sealed class EnumPairs<TDomain, TWire>
    where TDomain : struct, Enum
    where TWire : struct, Enum
{
    private readonly FrozenDictionary<TDomain, TWire> toWire;
    private readonly FrozenDictionary<TWire, TDomain> toDomain;

    /// <summary>Builds the map.</summary>
    /// <param name="wireOnly">Wire values that deliberately have no domain value (besides the unspecified zero).</param>
    /// <param name="pairs">Each domain value with its wire value.</param>
    /// <exception cref="ArgumentException">A value appears twice, or a pair uses the wire's unspecified zero.</exception>
    public EnumPairs(TWire[] wireOnly, params (TDomain Domain, TWire Wire)[] pairs)
    {
        ArgumentNullException.ThrowIfNull(wireOnly);
        ArgumentNullException.ThrowIfNull(pairs);
        var forward = new Dictionary<TDomain, TWire>(pairs.Length);
        var backward = new Dictionary<TWire, TDomain>(pairs.Length);
        foreach (var (domain, wire) in pairs)
        {
            if (wire.Equals(default(TWire)) || !forward.TryAdd(domain, wire) || !backward.TryAdd(wire, domain))
            {
                throw new ArgumentException($"{typeof(TDomain).Name}: a value is listed twice or paired with UNSPECIFIED", nameof(pairs));
            }
        }

        WireOnly = wireOnly.ToArray();
        Pairs = pairs.ToArray();
        toWire = forward.ToFrozenDictionary();
        toDomain = backward.ToFrozenDictionary();
    }

    /// <summary>Builds a map where every wire value but the unspecified zero has a domain value.</summary>
    /// <param name="pairs">Each domain value with its wire value.</param>
    public EnumPairs(params (TDomain Domain, TWire Wire)[] pairs)
        : this([], pairs)
    {
    }

    /// <summary>Every pair, in declaration order.</summary>
    public IReadOnlyList<(TDomain Domain, TWire Wire)> Pairs { get; }

    /// <summary>Wire values with no domain value on purpose.</summary>
    public IReadOnlyList<TWire> WireOnly { get; }

    /// <summary>The wire value of <paramref name="value"/>; UNSPECIFIED (zero) for a value without a pair.</summary>
    public TWire ToWire(TDomain value) => toWire.TryGetValue(value, out var wire) ? wire : default;

    /// <summary>The domain value of <paramref name="value"/>; null for UNSPECIFIED and values without a pair.</summary>
    public TDomain? ToDomain(TWire value) => toDomain.TryGetValue(value, out var domain) ? domain : null;
}
