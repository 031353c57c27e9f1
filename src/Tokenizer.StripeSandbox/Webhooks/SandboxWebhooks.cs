using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Events;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Webhooks;

/// <summary>
/// Delivers the sandbox's events to its webhook endpoints as Stripe does (docs.stripe.com/webhooks): a POST of the Event
/// JSON with <c>Stripe-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "{t}.{body}" under the endpoint's
/// whsec_ secret&gt;</c>. Each endpoint has its own queue, so first attempts reach it in creation order; a failed attempt
/// (no 2xx, no answer, timeout) is retried in the background after <see cref="StripeSandboxOptions.WebhookRetryBaseDelay"/>,
/// then twice as long each time, up to <see cref="StripeSandboxOptions.WebhookMaxAttempts"/> attempts. Nothing here
/// blocks the API request that created the event. Bodies are never logged or recorded.
/// </summary>
public sealed partial class SandboxWebhooks : IEventSink, IHostedService, IDisposable
{
    /// <summary>The most delivery records kept (oldest dropped first).</summary>
    public const int MaxDeliveryRecords = 10_000;

    private readonly Lock gate = new();
    private readonly List<Endpoint> endpoints = [];
    private readonly List<Job> held = [];
    private readonly Lock deliveriesGate = new();
    private readonly Queue<SandboxWebhookDelivery> deliveries = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly SandboxStore store;
    private readonly StripeSandboxOptions settings;
    private readonly TimeProvider time;
    private readonly HttpClient http;
    private readonly ILogger logger;
    private SandboxWebhookMode mode = SandboxWebhookMode.Deliver;
    private long deliverySequence;
    private int disposed;

    internal SandboxWebhooks(SandboxStore store, IOptions<StripeSandboxOptions> options, ILogger<SandboxWebhooks> logger)
    {
        this.store = store;
        settings = options.Value;
        time = settings.TimeProvider;
        this.logger = logger;
        http = new HttpClient(CreateHandler(settings.WebhookTrustedCaPath), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        foreach (var configured in settings.WebhookEndpoints)
        {
            Start(new Endpoint(NewEndpointId(), new Uri(configured.Url), configured.Secret, configured.EnabledEvents.Count == 0 ? ["*"] : [.. configured.EnabledEvents]));
        }

        foreach (var registered in store.Read(data => data.WebhookEndpoints.Values.ToList()))
        {
            Start(new Endpoint(registered.Id, new Uri(registered.Url), registered.Secret!, [.. registered.EnabledEvents]));
        }

        store.EventSink = this;
    }

    /// <summary>What happens to new events now.</summary>
    public SandboxWebhookMode Mode
    {
        get
        {
            lock (gate)
            {
                return mode;
            }
        }
    }

    /// <summary>How many deliveries (event and endpoint pairs) are held.</summary>
    public int HeldCount
    {
        get
        {
            lock (gate)
            {
                return held.Count;
            }
        }
    }

    /// <summary>
    /// Adds an endpoint for this run (not persisted; Stripe's <c>POST /v1/webhook_endpoints</c> persists with a DataDirectory).
    /// Returns its <c>we_</c> id. <paramref name="enabledEvents"/>: null or <c>*</c> for every type.
    /// </summary>
    /// <exception cref="ArgumentException">The URL is not an http(s) URL on a loopback host, the secret not <c>whsec_</c> + 16 to 250 characters, or an event name is malformed.</exception>
    public string AddEndpoint(string url, string secret, IEnumerable<string>? enabledEvents = null)
    {
        var events = enabledEvents?.ToList() ?? ["*"];
        if (!WebhookRules.IsUrlAllowed(url))
        {
            throw new ArgumentException("must be an absolute http(s) URL on a loopback host (127.0.0.1, [::1] or localhost)", nameof(url));
        }

        if (!WebhookRules.IsSecretAllowed(secret))
        {
            throw new ArgumentException("must be whsec_ followed by 16 to 250 printable ASCII characters without spaces", nameof(secret));
        }

        if (!WebhookRules.AreEventsAllowed(events))
        {
            throw new ArgumentException("must be * or event type names such as setup_intent.succeeded (at most 100)", nameof(enabledEvents));
        }

        var endpoint = new Endpoint(NewEndpointId(), new Uri(url), secret, [.. events]);
        Start(endpoint);
        return endpoint.Id;
    }

    /// <summary>Switches what happens to new events. Held events stay held until <see cref="Release"/>.</summary>
    public void SetMode(SandboxWebhookMode newMode)
    {
        lock (gate)
        {
            mode = newMode;
        }
    }

    /// <summary>
    /// Queues every held delivery, oldest event first (<see cref="SandboxReleaseOrder.Created"/>) or newest first, each
    /// endpoint receiving them in that order, and sets the mode to <see cref="SandboxWebhookMode.Deliver"/>. Returns how many
    /// deliveries were released. Returns at once; the deliveries run in the background.
    /// </summary>
    public int Release(SandboxReleaseOrder order)
    {
        lock (gate)
        {
            var jobs = order == SandboxReleaseOrder.Created
                ? held.OrderBy(j => j.Sequence).ToList()
                : held.OrderByDescending(j => j.Sequence).ToList();
            held.Clear();
            mode = SandboxWebhookMode.Deliver;
            foreach (var job in jobs)
            {
                job.Endpoint.Queue.Writer.TryWrite(job);
            }

            return jobs.Count;
        }
    }

    /// <summary>The delivery attempts and drops recorded so far, oldest first (the latest <see cref="MaxDeliveryRecords"/>).</summary>
    public IReadOnlyList<SandboxWebhookDelivery> Deliveries()
    {
        lock (deliveriesGate)
        {
            return [.. deliveries];
        }
    }

    /// <summary>Forgets the recorded deliveries (sequence numbers keep counting).</summary>
    public void ClearDeliveries()
    {
        lock (deliveriesGate)
        {
            deliveries.Clear();
        }
    }

    int IEventSink.Subscribers(string type)
    {
        lock (gate)
        {
            return endpoints.Count(e => !e.Removed && WebhookRules.Receives(e.EnabledEvents, type));
        }
    }

    void IEventSink.Publish(IReadOnlyList<StoredEvent> events)
    {
        lock (gate)
        {
            foreach (var stored in events)
            {
                string? body = null;
                foreach (var endpoint in endpoints.Where(e => !e.Removed && WebhookRules.Receives(e.EnabledEvents, stored.Type)))
                {
                    body ??= EventJson.Event(stored);
                    var job = new Job(stored.Id, stored.Type, stored.Sequence, body, endpoint, 1);
                    switch (mode)
                    {
                        case SandboxWebhookMode.Drop:
                            Record(job, null, "dropped", null, attempt: 0);
                            break;
                        case SandboxWebhookMode.Hold:
                            held.Add(job);
                            break;
                        default:
                            endpoint.Queue.Writer.TryWrite(job);
                            break;
                    }
                }
            }
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    async Task IHostedService.StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        Task[] workers;
        lock (gate)
        {
            workers = [.. endpoints.Select(e => e.Worker!)];
        }

        await Task.WhenAll(workers).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Stops deliveries and releases the HTTP client.</summary>
    public void Dispose()
    {
        // The container disposes it twice: as the singleton and as the hosted service.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        stopping.Cancel();
        http.Dispose();
        stopping.Dispose();
    }

    /// <summary>Adds an endpoint registered through the API (<c>POST /v1/webhook_endpoints</c>).</summary>
    internal void Register(WebhookEndpointObject registered) =>
        Start(new Endpoint(registered.Id, new Uri(registered.Url), registered.Secret!, [.. registered.EnabledEvents]));

    /// <summary>Removes an endpoint (<c>DELETE /v1/webhook_endpoints/{id}</c>): nothing more is delivered to it.</summary>
    internal void Unregister(string id)
    {
        lock (gate)
        {
            foreach (var endpoint in endpoints.Where(e => e.Id == id))
            {
                endpoint.Removed = true;
                endpoint.Queue.Writer.TryComplete();
            }

            held.RemoveAll(j => j.Endpoint.Id == id);
        }
    }

    /// <summary>The <c>Stripe-Signature</c> header value for a body at a time (unix seconds).</summary>
    internal static string Signature(string secret, long timestamp, string body)
    {
        var signed = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{timestamp}.{body}")));
        return string.Create(CultureInfo.InvariantCulture, $"t={timestamp},v1={Convert.ToHexStringLower(signed)}");
    }

    internal static string NewEndpointId() => "we_" + RandomNumberGenerator.GetString(Api.IdAlphabet.Chars, 24);

    private static SocketsHttpHandler CreateHandler(string? trustedCaPath)
    {
        var handler = new SocketsHttpHandler
        {
            // Stripe follows no redirects: a 3xx is a failed delivery. Loopback targets never go through a proxy.
            AllowAutoRedirect = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (trustedCaPath is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(trustedCaPath);
            var policy = new X509ChainPolicy
            {
                // Only the configured CA, not the system roots; a development CA publishes no revocation list.
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        return handler;
    }

    private void Start(Endpoint endpoint)
    {
        lock (gate)
        {
            endpoints.Add(endpoint);
            endpoint.Worker = Task.Run(() => RunAsync(endpoint));
        }
    }

    // First attempts in queue order; a failed one is retried on its own, so one slow endpoint's retries hold up nothing.
    private async Task RunAsync(Endpoint endpoint)
    {
        try
        {
            await foreach (var job in endpoint.Queue.Reader.ReadAllAsync(stopping.Token))
            {
                if (!await AttemptAsync(job) && job.Attempt < settings.WebhookMaxAttempts)
                {
                    _ = RetryAsync(job with { Attempt = job.Attempt + 1 });
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RetryAsync(Job job)
    {
        try
        {
            while (true)
            {
                var delay = settings.WebhookRetryBaseDelay * Math.Pow(2, job.Attempt - 2);
                await Task.Delay(delay, time, stopping.Token);
                if (await AttemptAsync(job) || job.Attempt >= settings.WebhookMaxAttempts)
                {
                    return;
                }

                job = job with { Attempt = job.Attempt + 1 };
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<bool> AttemptAsync(Job job)
    {
        if (job.Endpoint.Removed)
        {
            return true;
        }

        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, job.Endpoint.Url)
        {
            Content = new StringContent(job.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Signature(job.Endpoint.Secret, timestamp, job.Body));
        request.Headers.TryAddWithoutValidation("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)");
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        attempt.CancelAfter(settings.WebhookTimeout);
        int? status = null;
        string? error = null;
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            status = (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            error = "timeout";
        }
        catch (HttpRequestException e)
        {
            error = e.HttpRequestError == HttpRequestError.SecureConnectionError ? "tls" : "connection";
        }

        var succeeded = status is >= 200 and < 300;
        if (succeeded)
        {
            // Before the record: whoever sees a succeeded delivery sees the event's pending_webhooks already lowered.
            store.Adjust(data =>
            {
                if (data.EventLog.TryGet(job.EventId, out var stored) && stored.PendingWebhooks > 0)
                {
                    stored.PendingWebhooks--;
                }
            });
        }
        else
        {
            LogDeliveryFailed(logger, job.Type, job.EventId, job.Endpoint.Id, job.Attempt, status, error);
        }

        Record(job, status, succeeded ? "succeeded" : "failed", error, job.Attempt);
        return succeeded;
    }

    private void Record(Job job, int? status, string outcome, string? error, int attempt)
    {
        lock (deliveriesGate)
        {
            deliveries.Enqueue(new SandboxWebhookDelivery(
                ++deliverySequence, time.GetUtcNow(), job.EventId, job.Type, job.Endpoint.Id, job.Endpoint.Url.OriginalString, attempt, status, outcome, error));
            while (deliveries.Count > MaxDeliveryRecords)
            {
                deliveries.Dequeue();
            }
        }
    }

    [LoggerMessage(EventId = 9201, EventName = "WebhookDeliveryFailed", Level = LogLevel.Information,
        Message = "Stripe sandbox webhook delivery of {EventType} {EventId} to {EndpointId} failed (attempt {Attempt}, status {Status}, error {Error})")]
    private static partial void LogDeliveryFailed(ILogger logger, string eventType, string eventId, string endpointId, int attempt, int? status, string? error);

    private sealed class Endpoint(string id, Uri url, string secret, IReadOnlyCollection<string> enabledEvents)
    {
        public string Id { get; } = id;

        public Uri Url { get; } = url;

        public string Secret { get; } = secret;

        public IReadOnlyCollection<string> EnabledEvents { get; } = enabledEvents;

        public Channel<Job> Queue { get; } = Channel.CreateUnbounded<Job>(new UnboundedChannelOptions { SingleReader = true });

        private volatile bool removed;

        public Task? Worker { get; set; }

        public bool Removed
        {
            get => removed;
            set => removed = value;
        }
    }

    private sealed record Job(string EventId, string Type, long Sequence, string Body, Endpoint Endpoint, int Attempt);
}
