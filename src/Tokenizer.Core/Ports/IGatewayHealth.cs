namespace Tokenizer.Core.Ports;

/// <summary>The gateway's circuit as the resilience layer sees it. Values are stable: they are exported as a gauge.</summary>
public enum GatewayCircuitState
{
    /// <summary>Calls flow to the gateway (the default).</summary>
    Closed = 0,

    /// <summary>Trial calls flow after a break; readiness stays SERVING.</summary>
    HalfOpen = 1,

    /// <summary>Calls are refused without reaching the gateway; readiness reports NOT_SERVING.</summary>
    Open = 2,
}

/// <summary>
/// The gateway circuit's current state, shared by whoever breaks the circuit (the resilience pipeline around
/// <see cref="ITokenGateway"/>) and whoever reports it (the gRPC health service and the
/// <c>tokenizer.gateway.circuit_state</c> gauge). One singleton per process; thread-safe.
/// </summary>
/// <remarks>
/// Hook for the resilience pipeline: resolve <see cref="IGatewayHealth"/> and call <see cref="Report"/> from the
/// circuit breaker's state callbacks (opened: <see cref="GatewayCircuitState.Open"/>, half-opened:
/// <see cref="GatewayCircuitState.HalfOpen"/>, closed or reset: <see cref="GatewayCircuitState.Closed"/>). Until
/// then it stays <see cref="GatewayCircuitState.Closed"/> and the gateway counts as healthy.
/// </remarks>
public interface IGatewayHealth
{
    /// <summary>The state last reported; <see cref="GatewayCircuitState.Closed"/> until something reports.</summary>
    GatewayCircuitState CircuitState { get; }

    /// <summary>Records the circuit's new state.</summary>
    void Report(GatewayCircuitState state);
}

/// <summary>The default <see cref="IGatewayHealth"/>: the last reported state, nothing more.</summary>
public sealed class GatewayHealth : IGatewayHealth
{
    private int state = (int)GatewayCircuitState.Closed;

    /// <inheritdoc />
    public GatewayCircuitState CircuitState => (GatewayCircuitState)Volatile.Read(ref state);

    /// <inheritdoc />
    public void Report(GatewayCircuitState state)
    {
        if (!Enum.IsDefined(state))
        {
            throw new ArgumentOutOfRangeException(nameof(state));
        }

        Volatile.Write(ref this.state, (int)state);
    }
}
