using System.Net;
using System.Net.Sockets;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// <c>tokens watch</c> with no server: it waits to reconnect (one line on standard error per attempt) and gives up after
/// <see cref="Tokenizer.Cli.WatchCommand.MaxReconnects"/> attempts in a row (exit 1); an interrupt (Ctrl+C, the
/// invocation's cancellation) while it waits ends it with exit 0, never an unhandled exception.
/// </summary>
public sealed class CliWatchReconnectTests
{
    [Fact]
    public async Task TokensWatch_InterruptedWhileWaitingToReconnect_ExitZeroWithoutAStackTrace()
    {
        // A port nobody listens on: every attempt is refused (UNAVAILABLE), so the command waits to reconnect.
        var port = ClosedPort();
        using var interrupt = new CancellationTokenSource();
        using var output = new StringWriter();
        using var error = new CancelOnLineWriter("reconnecting", interrupt);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var either = CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token, bound.Token);

        var code = await Tokenizer.Cli.CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse(["tokens", "watch", "--server", $"http://127.0.0.1:{port}"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, either.Token);

        // The control: the interrupt came while it waited to reconnect (after its first reconnect line), not the bound.
        Assert.True(interrupt.IsCancellationRequested, error.ToString());
        Assert.False(bound.IsCancellationRequested);
        Assert.Equal(0, code);
        Assert.Equal("stream ended (UNAVAILABLE); reconnecting", error.ToString().Trim());
        Assert.Empty(output.ToString());
    }

    [Fact]
    public async Task TokensWatch_NoServer_GivesUpAfterFiveReconnectsExitOne()
    {
        // About 31 s of back-off (1 + 2 + 4 + 8 + 16): the bound the README promises, so a supervisor sees a server that stays down.
        var port = ClosedPort();
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        var code = await Tokenizer.Cli.CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse(["tokens", "watch", "--server", $"http://127.0.0.1:{port}"])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, bound.Token);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        Assert.False(bound.IsCancellationRequested);
        Assert.Equal(1, code);
        Assert.Equal(Tokenizer.Cli.WatchCommand.MaxReconnects + 1, lines.Length);
        Assert.All(lines[..^1], l => Assert.Equal("stream ended (UNAVAILABLE); reconnecting", l));
        Assert.Contains("connection refused", lines[^1], StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Cancels <paramref name="source"/> when a line holding <paramref name="text"/> is written (the user's Ctrl+C then).</summary>
    private sealed class CancelOnLineWriter(string text, CancellationTokenSource source) : StringWriter
    {
        public override Task WriteLineAsync(string? value)
        {
            var written = base.WriteLineAsync(value);
            if (value?.Contains(text, StringComparison.Ordinal) == true)
            {
                source.Cancel();
            }

            return written;
        }
    }
}
