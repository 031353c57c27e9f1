using System.Collections.Frozen;

namespace Tokenizer.Core.Domain;

/// <summary>
/// The fixed texts of an enum's values, both ways: what a ledger column stores or a wire field carries (lower_snake
/// names such as <c>requires_action</c>), never the number, so reordering the enum cannot change what a stored row
/// means. Each enum has one map, declared beside the enum; a test checks every map for a text per defined value, unique
/// texts and round trips, so a new value cannot be forgotten.
/// </summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class EnumText<TEnum>
    where TEnum : struct, Enum
{
    private readonly FrozenDictionary<TEnum, string> texts;
    private readonly FrozenDictionary<string, TEnum> values;
    private readonly string known;

    /// <summary>Builds the map.</summary>
    /// <param name="what">What a value is, for error messages, e.g. <c>token status</c>.</param>
    /// <param name="pairs">Each value with its text (ordinal, case-sensitive).</param>
    /// <exception cref="ArgumentException">A value or a text appears twice, or a text is empty.</exception>
    public EnumText(string what, params (TEnum Value, string Text)[] pairs)
    {
        ArgumentException.ThrowIfNullOrEmpty(what);
        ArgumentNullException.ThrowIfNull(pairs);
        var byValue = new Dictionary<TEnum, string>(pairs.Length);
        var byText = new Dictionary<string, TEnum>(pairs.Length, StringComparer.Ordinal);
        foreach (var (value, text) in pairs)
        {
            ArgumentException.ThrowIfNullOrEmpty(text, nameof(pairs));
            if (!byValue.TryAdd(value, text) || !byText.TryAdd(text, value))
            {
                throw new ArgumentException($"{what}: a value or a text is listed twice", nameof(pairs));
            }
        }

        What = what;
        Pairs = pairs.ToArray();
        texts = byValue.ToFrozenDictionary();
        values = byText.ToFrozenDictionary(StringComparer.Ordinal);
        known = string.Join(", ", pairs.Select(p => p.Text));
    }

    /// <summary>What a value is, e.g. <c>token status</c>.</summary>
    public string What { get; }

    /// <summary>Every value with its text, in declaration order.</summary>
    public IReadOnlyList<(TEnum Value, string Text)> Pairs { get; }

    /// <summary>The text of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value has no text (not a defined value of the enum).</exception>
    public string Text(TEnum value) =>
        texts.TryGetValue(value, out var text)
            ? text
            : throw new ArgumentOutOfRangeException(nameof(value), $"not a {What} with a text (one of: {known})");

    /// <summary>The text of <paramref name="value"/>, or <paramref name="fallback"/> for a value without one.</summary>
    public string TextOr(TEnum value, string fallback) => texts.TryGetValue(value, out var text) ? text : fallback;

    /// <summary>The value of a stored or received <paramref name="text"/>.</summary>
    /// <param name="text">The text (ordinal comparison).</param>
    /// <param name="field">Where it was read, for the error, e.g. <c>tokens.status</c>.</param>
    /// <exception cref="InvalidOperationException">Not a text of this map; the message names the field, never the text.</exception>
    public TEnum Parse(string text, string field) =>
        values.TryGetValue(text, out var value)
            ? value
            : throw new InvalidOperationException($"{field} holds a text that is not a {What} this build knows (one of: {known})");

    /// <summary>The value of <paramref name="text"/>, or null for null or a text this map does not hold.</summary>
    public TEnum? Find(string? text) => text is not null && values.TryGetValue(text, out var value) ? value : null;
}
