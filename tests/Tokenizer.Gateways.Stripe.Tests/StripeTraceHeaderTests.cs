using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>
/// No trace context leaves for Stripe: the registered Stripe client (its real socket handler, over loopback HTTP to a
/// listener that records headers) sends neither <c>traceparent</c>, <c>tracestate</c>, <c>baggage</c> nor
/// <c>Request-Id</c> while a call's trace, whose state holds card and bank data, is current.
/// </summary>
public sealed class StripeTraceHeaderTests
{
    private static readonly string[] TraceHeaders = ["traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context"];

    [Fact]
    public async Task StripeClient_CallersTraceCurrent_SendsNoTraceContextHeaders()
    {
        // Arrange: the caller's trace as the server would carry it, with hostile vendor state and baggage.
        using var listener = Listen(out var baseAddress);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripeHttpClient(_ => new StripeResilienceOptions());
        await using var provider = services.BuildServiceProvider();
        var stripe = provider.GetRequiredService<IHttpClientFactory>().CreateClient(StripeResilience.HttpClientName);
        using var plain = new HttpClient(new SocketsHttpHandler());
        using var trace = new Activity("caller")
            .SetParentId("00-41111111111111110000000000000000-5555555555554444-01")
            .AddBaggage("iban", "NL91ABNA0417164300");
        trace.TraceStateString = "pan=4242424242424242,cvc=123";
        trace.Start();

        // Act
        var stripeHeaders = await SendAsync(stripe, listener, baseAddress);
        var plainHeaders = await SendAsync(plain, listener, baseAddress);
        trace.Stop();

        // Assert: the control (a default handler) propagates the trace, so its absence below is the client's doing.
        Assert.Contains(plainHeaders.AllKeys, k => string.Equals(k, "traceparent", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("pan=4242424242424242,cvc=123", plainHeaders["tracestate"]);
        Assert.DoesNotContain(stripeHeaders.AllKeys, k => TraceHeaders.Contains(k, StringComparer.OrdinalIgnoreCase));
    }

    private static HttpListener Listen(out Uri baseAddress)
    {
        // A free loopback port, then HttpListener on it (it takes no port 0).
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var listener = new HttpListener();
        listener.Prefixes.Add(baseAddress.ToString());
        listener.Start();
        return listener;
    }

    private static async Task<System.Collections.Specialized.NameValueCollection> SendAsync(HttpClient client, HttpListener listener, Uri baseAddress)
    {
        var sent = client.PostAsync(new Uri(baseAddress, "v1/customers"), new FormUrlEncodedContent([new("description", "x")]));
        var context = await listener.GetContextAsync();
        var headers = new System.Collections.Specialized.NameValueCollection(context.Request.Headers);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.OutputStream.WriteAsync("{\"id\":\"cus_1\",\"object\":\"customer\"}"u8.ToArray());
        context.Response.Close();
        using var response = await sent;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return headers;
    }
}
