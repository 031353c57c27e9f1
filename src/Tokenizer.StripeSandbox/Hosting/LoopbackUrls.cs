using System.Net;

namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>One listen address: a loopback IP, or "localhost" (both loopbacks), and a port (0: any free port; IPs only).</summary>
internal sealed record LoopbackEndpoint(IPAddress? Address, int Port);

/// <summary>Parses <see cref="StripeSandboxOptions.Urls"/>, accepting http URLs on loopback hosts only.</summary>
internal static class LoopbackUrls
{
    /// <summary>The endpoints, or an error message that names the setting (never its value).</summary>
    public static (IReadOnlyList<LoopbackEndpoint> Endpoints, string? Error) Parse(string? urls)
    {
        var endpoints = new List<LoopbackEndpoint>();
        foreach (var url in (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards (*, +) are not URIs host names; Uri rejects them, which is the answer we want.
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp
                || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
            {
                return ([], "StripeSandbox Urls must be http://host:port URLs separated by ';'.");
            }

            var port = uri.Port;
            if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                if (port == 0)
                {
                    return ([], "StripeSandbox Urls: localhost needs a fixed port; use 127.0.0.1:0 for a free port.");
                }

                endpoints.Add(new LoopbackEndpoint(null, port));
                continue;
            }

            if (!IPAddress.TryParse(uri.Host, out var address) || !IPAddress.IsLoopback(address))
            {
                return ([], "StripeSandbox Urls must use a loopback host (127.0.0.1, [::1] or localhost): the sandbox accepts raw card data.");
            }

            endpoints.Add(new LoopbackEndpoint(address, port));
        }

        return endpoints.Count == 0 ? ([], "StripeSandbox Urls must name at least one loopback URL.") : (endpoints, null);
    }
}
