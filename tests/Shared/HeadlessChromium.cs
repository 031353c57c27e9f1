using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tokenizer.Tests.Shared;

/// <summary>
/// The system's Chromium (Debian package <c>chromium</c>), headless, driven over the DevTools protocol on a WebSocket.
/// Two uses: <see cref="VisitAsync"/> opens a file in a fresh tab, records every console error, uncaught exception, log
/// error and network request, and takes a PNG screenshot (reports); <see cref="OpenAsync"/>,
/// <see cref="EvaluateAsync"/> and <see cref="WaitForLocationAsync"/> drive one tab through a page as a person would
/// (the hosted next-action pages). Not finding Chromium is a failure, never a skip (scripts/test.sh installs it). One
/// file, linked into every test project that needs a browser.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Process process;
    private readonly string profile;
    private readonly ClientWebSocket socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode?>> pending = new();
    private readonly ConcurrentQueue<JsonNode> events = new();
    private readonly CancellationTokenSource stop = new();
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private Task? receiving;
    private int nextId;
    private string? tab;

    private HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    /// <summary>The Chromium executable: <c>CHROMIUM_PATH</c>, else the first of chromium, chromium-browser, google-chrome on PATH.</summary>
    public static string FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        if (!string.IsNullOrEmpty(configured) && File.Exists(configured))
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException("Chromium not found (CHROMIUM_PATH, or chromium on PATH): scripts/test.sh installs it with `apt-get install -y chromium`");
    }

    /// <summary>Starts Chromium headless with a throwaway profile and connects to its DevTools endpoint.</summary>
    public static async Task<HeadlessChromium> StartAsync()
    {
        var profile = Directory.CreateTempSubdirectory("tokenizer-chromium-").FullName;
        var start = new ProcessStartInfo(FindExecutable())
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", $"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
            "--font-render-hinting=none", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start");
        var browser = new HeadlessChromium(process, profile);
        try
        {
            // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" on stderr.
            using var wait = new CancellationTokenSource(Timeout);
            string? endpoint = null;
            while (endpoint is null)
            {
                var line = await process.StandardError.ReadLineAsync(wait.Token) ?? throw new InvalidOperationException("Chromium exited before its DevTools endpoint was up");
                var at = line.IndexOf("ws://", StringComparison.Ordinal);
                if (line.StartsWith("DevTools listening on", StringComparison.Ordinal) && at >= 0)
                {
                    endpoint = line[at..].Trim();
                }
            }

            _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
            _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            await browser.socket.ConnectAsync(new Uri(endpoint), wait.Token);
            browser.receiving = browser.ReceiveAsync();
            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens <paramref name="file"/> in a new tab of <paramref name="width"/> CSS pixels, waits for its load event and a
    /// moment more, and returns what happened and a full-page PNG screenshot.
    /// </summary>
    public async Task<PageVisit> VisitAsync(string file, int width = 1280)
    {
        var url = new Uri(Path.GetFullPath(file)).AbsoluteUri;
        var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
        var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target!["targetId"]!.GetValue<string>(), ["flatten"] = true });
        var session = attached!["sessionId"]!.GetValue<string>();
        foreach (var domain in new[] { "Page", "Runtime", "Log", "Network" })
        {
            await SendAsync(domain + ".enable", new JsonObject(), session);
        }

        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = 900, ["deviceScaleFactor"] = 1, ["mobile"] = false }, session);
        await NavigateAsync(session, url);

        // Late errors and requests (a lazy image, a timer) get a moment to show.
        await Task.Delay(500);
        var metrics = await SendAsync("Page.getLayoutMetrics", new JsonObject(), session);
        var height = (int)Math.Ceiling(metrics!["cssContentSize"]!["height"]!.GetValue<double>());
        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject { ["width"] = width, ["height"] = Math.Clamp(height, 100, 6000), ["deviceScaleFactor"] = 1, ["mobile"] = false }, session);
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, session);
        var seen = events.Where(e => (string?)e["sessionId"] == session).ToList();

        var problems = new List<string>();
        var requests = new List<string>();
        foreach (var e in seen)
        {
            var parameters = e["params"];
            switch ((string?)e["method"])
            {
                case "Runtime.exceptionThrown":
                    problems.Add("exception: " + parameters?["exceptionDetails"]?.ToJsonString());
                    break;
                case "Runtime.consoleAPICalled" when Text(parameters?["type"]) is "error" or "assert":
                    problems.Add("console." + parameters?["type"] + ": " + parameters?["args"]?.ToJsonString());
                    break;
                case "Log.entryAdded" when Text(parameters?["entry"]?["level"]) == "error":
                    problems.Add("log: " + parameters?["entry"]?["text"]);
                    break;
                case "Network.requestWillBeSent":
                    var requested = Text(parameters?["request"]?["url"]) ?? string.Empty;
                    if (!string.Equals(requested, url, StringComparison.Ordinal))
                    {
                        requests.Add(requested);
                    }

                    break;
                case "Network.loadingFailed":
                    problems.Add("loading failed: " + parameters?["errorText"]);
                    break;
                default:
                    break;
            }
        }

        await SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = target!["targetId"]!.GetValue<string>() });
        return new PageVisit(problems, requests, Convert.FromBase64String(shot!["data"]!.GetValue<string>()));
    }

    /// <summary>
    /// Console errors, uncaught exceptions and error log entries seen so far in the tab of <see cref="OpenAsync"/>,
    /// except the browser's own request for <c>/favicon.ico</c> (whether Chromium asks in time to log it varies).
    /// </summary>
    public IReadOnlyList<string> Problems => [.. events
        .Where(e => tab is not null && (string?)e["sessionId"] == tab)
        .Where(e => (string?)e["method"] is "Runtime.exceptionThrown" or "Log.entryAdded" or "Runtime.consoleAPICalled")
        .Where(e => (string?)e["params"]?["entry"]?["url"] is not { } url || !url.EndsWith("/favicon.ico", StringComparison.Ordinal))
        .Where(e => (string?)e["method"] == "Runtime.exceptionThrown"
            || (string?)e["params"]?["entry"]?["level"] == "error"
            || (string?)e["params"]?["type"] == "error")
        .Select(e => e.ToJsonString())];

    /// <summary>Navigates the one driven tab (made on first use) to <paramref name="url"/> and waits for its load event.</summary>
    public async Task OpenAsync(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        await NavigateAsync(await TabAsync(), url.AbsoluteUri);
    }

    /// <summary>Evaluates an expression in the driven tab and returns its value as a string (null when undefined).</summary>
    public async Task<string?> EvaluateAsync(string expression)
    {
        return await EvaluateInAsync(await TabAsync(), expression);
    }

    /// <summary>Polls the driven tab's <c>location.href</c> until it satisfies the condition (a bounded wait, not a timed assertion).</summary>
    public async Task<string> WaitForLocationAsync(Func<string, bool> condition)
    {
        string? href = null;
        await WaitForAsync(async () => (href = await EvaluateAsync("location.href")) is { } value && condition(value));
        return href!;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await SendAsync("Browser.close", new JsonObject()).WaitAsync(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception problem) when (problem is TimeoutException or WebSocketException or OperationCanceledException or InvalidOperationException)
        {
            // Killed below.
        }

        if (!process.WaitForExit(5000))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }

        socket.Dispose();
        process.Dispose();
        stop.Dispose();
        sendLock.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // A profile left in the temp folder is harmless.
        }
    }

    /// <summary>
    /// Navigates a tab and waits until the new document has loaded. A new tab's own about:blank load event can arrive
    /// after the navigation was sent, so a load event alone is not enough: the document must also have left about:blank.
    /// </summary>
    private async Task NavigateAsync(string session, string url)
    {
        var before = events.Count;
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, session);
        await WaitForAsync(async () =>
            events.Skip(before).Any(e => Is(e, "Page.loadEventFired", session))
            && await EvaluateInAsync(session, "location.href !== 'about:blank' && document.readyState === 'complete' ? 'loaded' : 'not yet'") == "loaded");
    }

    private async Task<string?> EvaluateInAsync(string session, string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true }, session);
        return result?["result"]?["value"]?.ToString();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var wait = new CancellationTokenSource(Timeout);
        while (!await condition())
        {
            await Task.Delay(50, wait.Token);
        }
    }

    private async Task<string> TabAsync()
    {
        if (tab is null)
        {
            var target = await SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
            var attached = await SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target!["targetId"]!.GetValue<string>(), ["flatten"] = true });
            var session = attached!["sessionId"]!.GetValue<string>();
            foreach (var domain in new[] { "Page", "Runtime", "Log" })
            {
                await SendAsync(domain + ".enable", new JsonObject(), session);
            }

            tab = session;
        }

        return tab;
    }

    private static string? Text(JsonNode? node) => node?.GetValue<string>();

    private static bool Is(JsonNode e, string method, string session) =>
        (string?)e["method"] == method && (string?)e["sessionId"] == session;

    private async Task<JsonNode?> SendAsync(string method, JsonObject parameters, string? session = null)
    {
        var id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        if (session is not null)
        {
            message["sessionId"] = session;
        }

        await sendLock.WaitAsync();
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            sendLock.Release();
        }

        return await reply.Task.WaitAsync(Timeout);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var part = await socket.ReceiveAsync(buffer, stop.Token);
                if (part.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, part.Count);
                if (!part.EndOfMessage)
                {
                    continue;
                }

                var node = JsonNode.Parse(message.ToArray());
                message.SetLength(0);
                if (node?["id"] is { } idNode && pending.TryRemove(idNode.GetValue<int>(), out var reply))
                {
                    if (node["error"] is { } error)
                    {
                        reply.TrySetException(new InvalidOperationException("DevTools error: " + error.ToJsonString()));
                    }
                    else
                    {
                        reply.TrySetResult(node["result"]);
                    }
                }
                else if (node is not null)
                {
                    events.Enqueue(node);
                }
            }
        }
        catch (Exception problem) when (problem is OperationCanceledException or WebSocketException)
        {
            // Closed.
        }

        foreach (var reply in pending.Values)
        {
            reply.TrySetException(new InvalidOperationException("the DevTools connection closed"));
        }
    }
}

/// <summary>What a page did: console errors and exceptions, requests other than the page itself, and its screenshot.</summary>
internal sealed record PageVisit(IReadOnlyList<string> Problems, IReadOnlyList<string> Requests, byte[] Png);

/// <summary>A minimal PNG reader (8-bit RGB or RGBA, not interlaced, as Chromium writes): size and pixels.</summary>
internal static class Png
{
    /// <summary>Width, height and the pixels as 0xRRGGBB values, row by row.</summary>
    public static (int Width, int Height, int[] Pixels) Decode(byte[] png)
    {
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (!png.AsSpan(0, 8).SequenceEqual(signature))
        {
            throw new InvalidDataException("not a PNG");
        }

        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data);
                height = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                if (data[8] != 8 || data[12] != 0 || data[10] != 0)
                {
                    throw new InvalidDataException("only 8-bit, non-interlaced PNG is read here");
                }

                channels = data[9] switch
                {
                    2 => 3,
                    6 => 4,
                    _ => throw new InvalidDataException("only RGB and RGBA PNG are read here"),
                };
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            at += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var raw = inflated.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var row = new byte[stride];
        var pixels = new int[width * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var line = raw.AsSpan((y * (stride + 1)) + 1, stride);
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? row[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                row[x] = (byte)(line[x] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException("unknown PNG filter"),
                });
            }

            for (var x = 0; x < width; x++)
            {
                pixels[(y * width) + x] = (row[x * channels] << 16) | (row[(x * channels) + 1] << 8) | row[(x * channels) + 2];
            }

            (previous, row) = (row, previous);
        }

        return (width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
