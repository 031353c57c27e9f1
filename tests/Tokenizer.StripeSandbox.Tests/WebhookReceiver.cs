using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>One webhook POST as the receiver got it: the raw body and headers, and when (Stopwatch ticks).</summary>
internal sealed record ReceivedWebhook(int Number, string Body, string? Signature, string? ContentType, string? UserAgent, long At);

/// <summary>
/// A real Kestrel listener on loopback (http, or https with the given certificate) at <c>/stripe/webhook</c> that records
/// every delivery and answers the status <see cref="Status"/> gives for the nth request (or waits on <see cref="Hold"/>).
/// </summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private int count;

    private WebhookReceiver(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    /// <summary>The status for the nth request (from 1); 200 unless set.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    /// <summary>When set, a request for which it returns a task waits for that task before answering.</summary>
    public Func<int, CancellationToken, Task>? Hold { get; set; }

    public static async Task<WebhookReceiver> StartAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/stripe/webhook", async context =>
        {
            var number = Interlocked.Increment(ref receiver!.count);
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            receiver.Received.Enqueue(new ReceivedWebhook(
                number, body, context.Request.Headers["Stripe-Signature"], context.Request.ContentType, context.Request.Headers.UserAgent, Stopwatch.GetTimestamp()));
            if (receiver.Hold is { } hold)
            {
                await hold(number, context.RequestAborted);
            }

            context.Response.StatusCode = receiver.Status(number);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        receiver = new WebhookReceiver(app, new Uri(address.TrimEnd('/') + "/stripe/webhook"));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>A throw-away CA and a server certificate it signed for 127.0.0.1 and localhost.</summary>
internal sealed class TestPki : IDisposable
{
    public TestPki(string name)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={name} test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        using var signed = serverRequest.Create(Ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(7), RandomNumberGenerator.GetBytes(12));
        using var withKey = signed.CopyWithPrivateKey(serverKey);
        Server = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        CaPemPath = Path.Combine(Path.GetTempPath(), $"sandbox-webhook-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(CaPemPath, Ca.ExportCertificatePem());
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public string CaPemPath { get; }

    public void Dispose()
    {
        File.Delete(CaPemPath);
        Ca.Dispose();
        Server.Dispose();
    }
}
