namespace Tokenizer.Ledger.Schema;

/// <summary>Times as stored: 64-bit unix microseconds, UTC. Sub-microsecond ticks are truncated (floored).</summary>
internal static class UnixMicros
{
    /// <summary>Microseconds since 1970-01-01T00:00:00Z, floored.</summary>
    public static long From(DateTimeOffset value)
    {
        var ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var micros = ticks / TimeSpan.TicksPerMicrosecond;
        return ticks % TimeSpan.TicksPerMicrosecond < 0 ? micros - 1 : micros;
    }

    /// <summary>A stored time as a <see cref="DateTimeOffset"/> with offset zero.</summary>
    public static DateTimeOffset ToDateTimeOffset(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(checked(micros * TimeSpan.TicksPerMicrosecond));

    /// <summary>A duration in whole microseconds, truncated.</summary>
    public static long From(TimeSpan value) => value.Ticks / TimeSpan.TicksPerMicrosecond;
}
