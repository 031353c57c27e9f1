using Stripe;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Removes the <c>Stripe-Notice</c> response header before Stripe.net sees it. Stripe.net 53.1.0 writes that header
/// to <see cref="Console.Error"/>, and <c>STRIPE_SUPPRESS_NOTICES=true</c> is ignored whenever one of its "AI agent"
/// environment variables (CLAUDECODE, CURSOR_AGENT, CODEX_SANDBOX, ...) is set; dropping the header works always and
/// needs no process-wide environment change.
/// </summary>
internal sealed class NoticeSuppressingHttpClient(IHttpClient inner) : IHttpClient
{
    internal const string NoticeHeader = "Stripe-Notice";

    public async Task<StripeResponse> MakeRequestAsync(StripeRequest request, CancellationToken cancellationToken = default)
    {
        var response = await inner.MakeRequestAsync(request, cancellationToken).ConfigureAwait(false);
        response?.Headers?.Remove(NoticeHeader);
        return response!;
    }

    public async Task<StripeStreamedResponse> MakeStreamingRequestAsync(StripeRequest request, CancellationToken cancellationToken = default)
    {
        var response = await inner.MakeStreamingRequestAsync(request, cancellationToken).ConfigureAwait(false);
        response?.Headers?.Remove(NoticeHeader);
        return response!;
    }
}
