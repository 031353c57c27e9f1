using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>
/// The system's Chromium, headless, driven over the DevTools protocol (the approach of Server.Tests' HeadlessChromium,
/// cut down to what a hosted page needs): open a URL in a tab, evaluate script in it, read where it ended up, collect
/// console errors. Not finding Chromium is a failure, never a skip (scripts/test.sh installs it).
/// </summary>
internal sealed class HeadlessBrowser : IAsyncDisposable
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
    private string? session;

    private HeadlessBrowser(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    /// <summary>
    /// Console errors, uncaught exceptions and error log entries seen so far, except the browser's own request for
    /// <c>/favicon.ico</c> (the sandbox has none; whether Chromium asks in time to log it varies from run to run).
    /// </summary>
    public IReadOnlyList<string> Problems => [.. events
        .Where(e => (string?)e["method"] is "Runtime.exceptionThrown" or "Log.entryAdded" or "Runtime.consoleAPICalled")
        .Where(e => (string?)e["params"]?["entry"]?["url"] is not { } url || !url.EndsWith("/favicon.ico", StringComparison.Ordinal))
        .Where(e => (string?)e["method"] == "Runtime.exceptionThrown"
            || (string?)e["params"]?["entry"]?["level"] == "error"
            || (string?)e["params"]?["type"] == "error")
        .Select(e => e.ToJsonString())];

    public static async Task<HeadlessBrowser> StartAsync()
    {
        var profile = Directory.CreateTempSubdirectory("sandbox-chromium-").FullName;
        var start = new ProcessStartInfo(FindExecutable()) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", $"--user-data-dir={profile}", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-default-apps", "--mute-audio", "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Chromium did not start");
        var browser = new HeadlessBrowser(process, profile);
        try
        {
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
            var target = await browser.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" });
            var attached = await browser.SendAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target!["targetId"]!.GetValue<string>(), ["flatten"] = true });
            browser.session = attached!["sessionId"]!.GetValue<string>();
            foreach (var domain in new[] { "Page", "Runtime", "Log" })
            {
                await browser.SendAsync(domain + ".enable", new JsonObject(), browser.session);
            }

            return browser;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    /// <summary>Navigates the tab and waits for its load event.</summary>
    public async Task OpenAsync(Uri url)
    {
        var before = events.Count;
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url.AbsoluteUri }, session);
        await WaitForAsync(() => events.Skip(before).Any(e => (string?)e["method"] == "Page.loadEventFired"));
    }

    /// <summary>Evaluates an expression in the page and returns its value as a string (null when undefined).</summary>
    public async Task<string?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true }, session);
        return result?["result"]?["value"]?.ToString();
    }

    /// <summary>Polls <c>location.href</c> until it satisfies the condition (the wait is bounded, the assertion is not timed).</summary>
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

        if (receiving is not null)
        {
            await receiving;
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

    private static string FindExecutable()
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

    private static Task WaitForAsync(Func<bool> condition) => WaitForAsync(() => Task.FromResult(condition()));

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var wait = new CancellationTokenSource(Timeout);
        while (!await condition())
        {
            await Task.Delay(50, wait.Token);
        }
    }

    private async Task<JsonNode?> SendAsync(string method, JsonObject parameters, string? sessionId = null)
    {
        var id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
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
