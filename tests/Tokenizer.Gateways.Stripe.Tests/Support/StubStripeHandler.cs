using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Tokenizer.Gateways.Stripe.Tests.Support;

/// <summary>One request as it went on the wire.</summary>
internal sealed record WireRequest(
    HttpMethod Method,
    string PathAndQuery,
    IReadOnlyDictionary<string, string> Headers,
    string Body)
{
    /// <summary>The form body as decoded (key, value) pairs in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Form { get; } = ParseForm(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public string? FormValue(string key) => Form.Where(p => p.Key == key).Select(p => p.Value).SingleOrDefault();

    private static List<KeyValuePair<string, string>> ParseForm(string body) =>
        body.Length == 0
            ? []
            : body.Split('&').Select(pair =>
            {
                var parts = pair.Split('=', 2);
                return new KeyValuePair<string, string>(
                    Uri.UnescapeDataString(parts[0].Replace('+', ' ')),
                    parts.Length > 1 ? Uri.UnescapeDataString(parts[1].Replace('+', ' ')) : string.Empty);
            }).ToList();
}

/// <summary>
/// An HttpMessageHandler that answers from a queue of responders and records every request, so tests run a real
/// StripeClient and assert what goes on the wire.
/// </summary>
internal sealed class StubStripeHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>> responders = new();
    private readonly ConcurrentQueue<WireRequest> requests = new();

    public IReadOnlyList<WireRequest> Requests => requests.ToArray();

    public StubStripeHandler Respond(HttpStatusCode status, string body, params (string Name, string Value)[] headers)
    {
        responders.Enqueue((_, _) => Task.FromResult(Json(status, body, headers)));
        return this;
    }

    public StubStripeHandler Respond(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> responder)
    {
        responders.Enqueue(responder);
        return this;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string body, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        response.Headers.TryAddWithoutValidation("Request-Id", "req_test123");
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        requests.Enqueue(new WireRequest(request.Method, request.RequestUri!.PathAndQuery, headers, body));
        if (!responders.TryDequeue(out var responder))
        {
            throw new InvalidOperationException("no canned response left");
        }

        return await responder(request, cancellationToken);
    }
}
