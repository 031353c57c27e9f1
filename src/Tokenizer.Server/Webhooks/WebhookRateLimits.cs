using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Tokenizer.Server.Webhooks;

/// <summary>
/// The listener's two token buckets (<see cref="WebhookOptions.PermitsPerSecond"/>, <see cref="WebhookOptions.Burst"/>
/// each). Every request is charged first to its peer's bucket, before its body is read (<see cref="PeerKey"/>: the peer's
/// IPv4 address, or its IPv6 /64), so one host's junk only ever slows that host. A delivery whose signature matched is
/// then charged to one bucket shared by all peers (<see cref="Signed"/>), which bounds the inbox's write rate; unsigned or
/// badly signed requests never touch it, so junk cannot make Stripe's signed deliveries wait.
/// </summary>
internal sealed class WebhookRateLimits : IDisposable
{
    public WebhookRateLimits(IOptions<WebhookOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        Signed = new TokenBucketRateLimiter(Bucket(settings));
        PerPeer = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            RateLimitPartition.GetTokenBucketLimiter(PeerKey(context.Connection.RemoteIpAddress), _ => Bucket(settings)));
    }

    /// <summary>The bucket of signed deliveries, all peers together.</summary>
    public TokenBucketRateLimiter Signed { get; }

    /// <summary>The per-peer limiter of the listener's rate-limiting middleware (idle partitions are dropped by it).</summary>
    public PartitionedRateLimiter<HttpContext> PerPeer { get; }

    /// <summary>
    /// The partition of a peer: an IPv4 address as it is (also when mapped into IPv6), an IPv6 address by its /64 (one
    /// host usually holds a whole /64), "unknown" when there is none.
    /// </summary>
    internal static string PeerKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose()
    {
        Signed.Dispose();
        PerPeer.Dispose();
    }

    private static TokenBucketRateLimiterOptions Bucket(WebhookOptions settings) => new()
    {
        TokenLimit = settings.Burst,
        TokensPerPeriod = settings.PermitsPerSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
