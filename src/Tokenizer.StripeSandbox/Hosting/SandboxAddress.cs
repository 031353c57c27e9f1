using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>
/// The sandbox's own base address (the first address Kestrel listens on, e.g. <c>http://127.0.0.1:40123/</c>), for the
/// absolute URLs of its hosted pages in <c>next_action</c>. Read from the server, never from a request's Host header, so
/// a caller cannot point another customer's next action elsewhere.
/// </summary>
internal sealed class SandboxAddress(IServer server)
{
    private Uri? baseAddress;

    public Uri BaseAddress => baseAddress ??= new Uri(
        server.Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");

    /// <summary>The absolute URL of a sandbox page, e.g. <c>_sandbox/authenticate/seti_...</c>.</summary>
    public string Page(string relative) => new Uri(BaseAddress, relative).ToString();
}
