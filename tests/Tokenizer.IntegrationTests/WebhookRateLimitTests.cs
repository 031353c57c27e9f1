using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// The listener's rate limits over real HTTPS from several loopback source addresses (127.0.0.x are distinct peers):
/// one peer's unsigned junk empties only its own bucket, and signed deliveries share one bucket that junk never touches.
/// </summary>
public sealed class WebhookRateLimitTests
{
    [Fact]
    public async Task UnsignedFloodFromOnePeer_SignedDeliveryFromAnotherPeerStillAccepted()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:PermitsPerSecond=1", "--Tokenizer:Webhooks:Burst=5");
        await server.InitializeAsync();
        try
        {
            using var junk = Client(server, "127.0.0.2");
            var flooded = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                flooded.Add(await PostAsync(junk, server, "{}"));
            }

            // Junk keeps coming while the signed delivery is made, so it would take every permit a shared bucket regains.
            using var stop = new CancellationTokenSource();
            var flood = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await PostAsync(junk, server, "{}");
                }
            });
            var signed = await server.PostSignedAsync(WebhookServer.Event(WebhookServer.NewEventId(), "charge.succeeded", "{\"id\":\"ch_ordinary\"}"));
            await stop.CancelAsync();
            await flood;

            // The control: the flood did run into its limit.
            Assert.Contains(HttpStatusCode.TooManyRequests, flooded);
            Assert.Contains(HttpStatusCode.BadRequest, flooded);
            Assert.Equal(HttpStatusCode.OK, signed);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task SignedDeliveriesFromFourPeers_ShareOneBucket_PastItTooManyRequests()
    {
        var server = new WebhookServer("--Tokenizer:Webhooks:PermitsPerSecond=1", "--Tokenizer:Webhooks:Burst=5");
        await server.InitializeAsync();
        try
        {
            var statuses = new List<HttpStatusCode>();
            foreach (var peer in new[] { "127.0.0.1", "127.0.0.3", "127.0.0.4", "127.0.0.5" })
            {
                using var client = Client(server, peer);

                // Four each: within every peer's own bucket of five.
                for (var i = 0; i < 4; i++)
                {
                    var body = WebhookServer.Event(WebhookServer.NewEventId(), "charge.succeeded", "{\"id\":\"ch_ordinary\"}");
                    statuses.Add(await PostAsync(client, server, body, WebhookServer.Sign(body, server.Secret)));
                }
            }

            // The first five take the shared bucket; sixteen signed deliveries would need eleven seconds of refills.
            Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5), statuses.Take(5));
            Assert.Contains(HttpStatusCode.TooManyRequests, statuses.Skip(5));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>An HTTPS client whose connections leave from <paramref name="source"/>, trusting the development CA.</summary>
    private static HttpClient Client(WebhookServer server, string source)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions =
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    CustomTrustStore = { X509CertificateLoader.LoadCertificateFromFile(Path.Combine(server.Server.PkiDirectory, "ca.crt")) },
                    RevocationMode = X509RevocationMode.NoCheck,
                },
            },
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    private static async Task<HttpStatusCode> PostAsync(HttpClient client, WebhookServer server, string body, string? signature = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
