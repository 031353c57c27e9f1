using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Security;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// A server (real Kestrel, TLS client certificates, the embedded sandbox, SQLite) with two more billing callers (one
/// only for the watch limit test), a fast watch poll and at most three watches per caller.
/// </summary>
public sealed class TokenEventServerFixture : IAsyncLifetime
{
    /// <summary>The second billing caller's certificate name (pki/billing-other.crt) and caller id.</summary>
    public const string OtherBilling = "billing-other";

    /// <summary>The billing caller the watch limit test uses alone.</summary>
    public const string LimitedBilling = "billing-limited";

    public TokenizerServerFixture Server { get; } = new(
        null,
        $"--Tokenizer:Callers:{OtherBilling}:Subject=CN={OtherBilling}",
        $"--Tokenizer:Callers:{OtherBilling}:Roles:0=tokenize",
        $"--Tokenizer:Callers:{LimitedBilling}:Subject=CN={LimitedBilling}",
        $"--Tokenizer:Callers:{LimitedBilling}:Roles:0=tokenize",
        "--Tokenizer:TokenEvents:WatchPollIntervalMilliseconds=100",
        "--Tokenizer:TokenEvents:MaxWatchesPerCaller=3");

    public TokenizerService.TokenizerServiceClient Other { get; private set; } = null!;

    public TokenizerService.TokenizerServiceClient Limited { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        DevelopmentPki.IssueClient(Server.PkiDirectory, OtherBilling, "CN=" + OtherBilling, TimeProvider.System);
        Other = new TokenizerService.TokenizerServiceClient(Server.ChannelFor(OtherBilling));
        DevelopmentPki.IssueClient(Server.PkiDirectory, LimitedBilling, "CN=" + LimitedBilling, TimeProvider.System);
        Limited = new TokenizerService.TokenizerServiceClient(Server.ChannelFor(LimitedBilling));
    }

    public Task DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// Token events over real gRPC: a revoke reaches the owner's watcher exactly once, other billing callers see nothing of
/// it and finance sees everything, a watcher that reconnects with its cursor gets nothing twice and misses nothing, and
/// a watch ends cleanly on cancel (its slot is freed) and on shutdown (UNAVAILABLE SHUTTING_DOWN). Every wait is bounded.
/// </summary>
public sealed class TokenEventTests(TokenEventServerFixture fixture) : IClassFixture<TokenEventServerFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private TokenizerServerFixture Server => fixture.Server;

    [Fact]
    public async Task Revoke_OwnersWatcher_ReceivesRevokedExactlyOnce()
    {
        // Arrange: the owner watches from now on.
        var token = await TokenizeAsync(Server.Client, "cust-events-once");
        var marker = await TokenizeAsync(Server.Client, "cust-events-once");
        using var bound = new CancellationTokenSource(Bound);
        using var watch = Server.Client.WatchTokenEvents(new WatchTokenEventsRequest { After = await EndCursorAsync(Server.Client) }, cancellationToken: bound.Token);

        // Act: revoke twice (another key: the token is already revoked), then a marker revoke that comes after both.
        await RevokeAsync(token);
        await RevokeAsync(token);
        await RevokeAsync(marker);
        var received = await ReadUntilAsync(watch, marker);

        // Assert: the marker proves the watcher was still reading when a duplicate would have arrived.
        var revoked = Assert.Single(received, e => e.Token == token);
        Assert.Equal(TokenEventKind.Revoked, revoked.Kind);
        Assert.NotNull(revoked.OccurredAt);
        Assert.Null(revoked.Card);
        Assert.Single(received, e => e.Token == marker && e.Kind == TokenEventKind.Revoked);
        Assert.Equal(received.Count, received.Select(e => e.Cursor).Distinct().Count());
    }

    [Fact]
    public async Task Revoke_AnotherBillingCaller_SeesNothingOfIt_FinanceSeesIt()
    {
        // Arrange
        var token = await TokenizeAsync(Server.Client, "cust-events-scope");
        var othersOwn = await TokenizeAsync(fixture.Other, "cust-events-scope-other");
        using var bound = new CancellationTokenSource(Bound);
        using var otherWatch = fixture.Other.WatchTokenEvents(new WatchTokenEventsRequest { After = await EndCursorAsync(fixture.Other) }, cancellationToken: bound.Token);

        // Act
        await RevokeAsync(token);
        await RevokeAsync(othersOwn);
        var otherWatched = await ReadUntilAsync(otherWatch, othersOwn);
        var otherListed = await ListAllAsync(fixture.Other);
        var ownerListed = await ListAllAsync(Server.Client);
        var financeListed = await ListAllAsync(Server.Finance);

        // Assert: the other billing caller gets its own token's event (control) and never the first caller's.
        Assert.Contains(otherWatched, e => e.Token == othersOwn);
        Assert.DoesNotContain(otherWatched, e => e.Token == token);
        Assert.Contains(otherListed, e => e.Token == othersOwn);
        Assert.DoesNotContain(otherListed, e => e.Token == token);
        Assert.Contains(ownerListed, e => e.Token == token);
        Assert.DoesNotContain(ownerListed, e => e.Token == othersOwn);
        Assert.Contains(financeListed, e => e.Token == token);
        Assert.Contains(financeListed, e => e.Token == othersOwn);

        // Each event names its owner: a billing caller only ever its own id, finance each event's owner.
        Assert.All(otherWatched.Concat(otherListed), e => Assert.Equal(TokenEventServerFixture.OtherBilling, e.CallerId));
        Assert.All(ownerListed, e => Assert.Equal("billing-service", e.CallerId));
        Assert.Equal("billing-service", Assert.Single(financeListed, e => e.Token == token).CallerId);
        Assert.Equal(TokenEventServerFixture.OtherBilling, Assert.Single(financeListed, e => e.Token == othersOwn).CallerId);
    }

    [Fact]
    public async Task Watch_ReconnectWithCursor_NothingTwiceNothingMissed()
    {
        // Arrange: a watcher sees the first revoke, keeps its cursor and goes away.
        var first = await TokenizeAsync(Server.Client, "cust-events-resume");
        var missed = await TokenizeAsync(Server.Client, "cust-events-resume");
        var last = await TokenizeAsync(Server.Client, "cust-events-resume");
        var start = await EndCursorAsync(Server.Client);
        string cursor;
        using (var bound = new CancellationTokenSource(Bound))
        using (var watch = Server.Client.WatchTokenEvents(new WatchTokenEventsRequest { After = start }, cancellationToken: bound.Token))
        {
            await RevokeAsync(first);
            cursor = (await ReadUntilAsync(watch, first))[^1].Cursor;
        }

        // Act: two events while disconnected, then reconnect after the cursor.
        await RevokeAsync(missed);
        await RevokeAsync(last);
        List<TokenEvent> resumed;
        using (var bound = new CancellationTokenSource(Bound))
        using (var watch = Server.Client.WatchTokenEvents(new WatchTokenEventsRequest { After = cursor }, cancellationToken: bound.Token))
        {
            resumed = await ReadUntilAsync(watch, last);
        }

        // Control: reconnecting from the earlier position does deliver the first event again, so a repeat would show.
        List<TokenEvent> replayed;
        using (var bound = new CancellationTokenSource(Bound))
        using (var watch = Server.Client.WatchTokenEvents(new WatchTokenEventsRequest { After = start }, cancellationToken: bound.Token))
        {
            replayed = await ReadUntilAsync(watch, last);
        }

        // Assert
        Assert.DoesNotContain(resumed, e => e.Token == first);
        Assert.Single(resumed, e => e.Token == missed);
        Assert.Single(resumed, e => e.Token == last);
        Assert.Single(replayed, e => e.Token == first);
    }

    [Fact]
    public async Task Watch_TooManyOpen_ResourceExhausted_CancelFreesTheSlot()
    {
        // Arrange: a caller of its own opens the three watches the fixture allows, each proven live by an event.
        var client = fixture.Limited;
        var after = await EndCursorAsync(client);
        var warm = await TokenizeAsync(client, "cust-events-slots");
        using var cancelFirst = new CancellationTokenSource(Bound);
        using var bound = new CancellationTokenSource(Bound);
        var first = client.WatchTokenEvents(new WatchTokenEventsRequest { After = after }, cancellationToken: cancelFirst.Token);
        using var second = client.WatchTokenEvents(new WatchTokenEventsRequest { After = after }, cancellationToken: bound.Token);
        using var third = client.WatchTokenEvents(new WatchTokenEventsRequest { After = after }, cancellationToken: bound.Token);
        await RevokeAsync(warm);
        foreach (var open in new[] { first, second, third })
        {
            await ReadUntilAsync(open, warm);
        }

        // Act
        using var fourth = client.WatchTokenEvents(new WatchTokenEventsRequest { After = after }, cancellationToken: bound.Token);
        var refused = await Assert.ThrowsAsync<RpcException>(() => fourth.ResponseStream.MoveNext(CancellationToken.None));
        await cancelFirst.CancelAsync();
        var cancelled = await Assert.ThrowsAsync<RpcException>(() => first.ResponseStream.MoveNext(CancellationToken.None));
        first.Dispose();

        // Assert: refused while three were open; once the client cancelled one, the server freed its slot and a new
        // watch is served (it receives the next event).
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("TOO_MANY_WATCHES", TokenizeTests.ErrorInfoOf(refused).Reason);
        Assert.Equal(StatusCode.Cancelled, cancelled.StatusCode);
        var token = await TokenizeAsync(client, "cust-events-slots");
        await RevokeAsync(token);
        var received = await ReadFromFreedSlotAsync(client, after, token);
        Assert.Contains(received, e => e.Token == token);

        // Every watch call is audited when it ends, like every RPC: the refused one and the cancelled one.
        var audit = await WaitForAuditAsync(TokenEventServerFixture.LimitedBilling, events =>
            events.Any(e => e.Reason == "TOO_MANY_WATCHES") && events.Any(e => e.Reason == "CANCELLED"));
        Assert.All(audit, e => Assert.Equal("tokenizer.v1.TokenizerService/WatchTokenEvents", e.Action));
    }

    [Fact]
    public async Task Watch_MalformedCursor_InvalidArgumentNamingAfter()
    {
        using var bound = new CancellationTokenSource(Bound);
        using var watch = Server.Client.WatchTokenEvents(new WatchTokenEventsRequest { After = "not-a-cursor" }, cancellationToken: bound.Token);

        var error = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(bound.Token));
        var listed = await Server.Client.ListTokenEventsAsync(new ListTokenEventsRequest { After = string.Empty, PageSize = 1 });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("after", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("not-a-cursor", error.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(listed); // control: the empty cursor is valid
    }

    [Fact]
    public async Task Watch_ServerShutsDown_StreamEndsUnavailableShuttingDown()
    {
        // A server of its own, since this one stops.
        var server = new TokenizerServerFixture(null, "--Tokenizer:TokenEvents:WatchPollIntervalMilliseconds=100", "--Tokenizer:ShutdownTimeoutSeconds=120");
        await server.InitializeAsync();
        try
        {
            var token = await TokenizeAsync(server.Client, "cust-events-stop");
            using var bound = new CancellationTokenSource(Bound);
            using var watch = server.Client.WatchTokenEvents(new WatchTokenEventsRequest(), cancellationToken: bound.Token);
            await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });

            // Control: the stream is live.
            Assert.True(await watch.ResponseStream.MoveNext(bound.Token));
            Assert.Equal(token, watch.ResponseStream.Current.Token);

            // Act: the host stops (SIGTERM does the same); the stream must not hold it up for the 120 s drain.
            var stopping = server.App.StopAsync();
            var error = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(bound.Token));
            await stopping.WaitAsync(Bound);

            // Assert
            Assert.Equal(StatusCode.Unavailable, error.StatusCode);
            Assert.Equal("SHUTTING_DOWN", TokenizeTests.ErrorInfoOf(error).Reason);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>Bounded wait until the audit records of <paramref name="caller"/>'s watch calls satisfy <paramref name="done"/>.</summary>
    private async Task<List<AuditEvent>> WaitForAuditAsync(string caller, Func<List<AuditEvent>, bool> done)
    {
        var audit = new AuditService.AuditServiceClient(Server.ChannelFor("admin"));
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var events = new List<AuditEvent>();
            using (var export = audit.ExportAuditEvents(new ExportAuditEventsRequest()))
            {
                while (await export.ResponseStream.MoveNext(CancellationToken.None))
                {
                    var e = export.ResponseStream.Current.Event;
                    if (e.CallerId == caller && e.Action.EndsWith("/WatchTokenEvents", StringComparison.Ordinal))
                    {
                        events.Add(e);
                    }
                }
            }

            if (done(events))
            {
                return events;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException("the watch calls were not audited");
    }

    private static async Task<string> TokenizeAsync(TokenizerService.TokenizerServiceClient client, string customer) =>
        (await client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer))).Token.Token_;

    private async Task RevokeAsync(string token) =>
        await Server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });

    /// <summary>The cursor after every event the caller can see now (pages through ListTokenEvents).</summary>
    private static async Task<string> EndCursorAsync(TokenizerService.TokenizerServiceClient client)
    {
        var cursor = string.Empty;
        while (true)
        {
            var page = await client.ListTokenEventsAsync(new ListTokenEventsRequest { After = cursor, PageSize = 500 });
            cursor = page.NextCursor;
            if (page.Events.Count < 500)
            {
                return cursor;
            }
        }
    }

    private static async Task<List<TokenEvent>> ListAllAsync(TokenizerService.TokenizerServiceClient client)
    {
        var events = new List<TokenEvent>();
        var cursor = string.Empty;
        while (true)
        {
            var page = await client.ListTokenEventsAsync(new ListTokenEventsRequest { After = cursor, PageSize = 100 });
            events.AddRange(page.Events);
            cursor = page.NextCursor;
            if (page.Events.Count < 100)
            {
                return events;
            }
        }
    }

    /// <summary>Reads the stream until the Revoked event of <paramref name="token"/> (bounded by the call's deadline).</summary>
    private static async Task<List<TokenEvent>> ReadUntilAsync(AsyncServerStreamingCall<TokenEvent> watch, string token)
    {
        var events = new List<TokenEvent>();
        while (await watch.ResponseStream.MoveNext(CancellationToken.None))
        {
            events.Add(watch.ResponseStream.Current);
            if (watch.ResponseStream.Current.Token == token && watch.ResponseStream.Current.Kind == TokenEventKind.Revoked)
            {
                return events;
            }
        }

        throw new InvalidOperationException("the stream ended before the expected event");
    }

    /// <summary>Bounded retries (the server frees a slot just after the cancel) of a new watch until it delivers <paramref name="token"/>.</summary>
    private static async Task<List<TokenEvent>> ReadFromFreedSlotAsync(TokenizerService.TokenizerServiceClient client, string after, string token)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var bound = new CancellationTokenSource(Bound);
            using var watch = client.WatchTokenEvents(new WatchTokenEventsRequest { After = after }, cancellationToken: bound.Token);
            try
            {
                return await ReadUntilAsync(watch, token);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
            {
                await Task.Delay(50);
            }
        }

        throw new InvalidOperationException("the cancelled watch's slot was never freed");
    }
}

/// <summary><c>tokenizer tokens watch</c> against a real server: one line per event, resumed from <c>--after</c>.</summary>
public sealed class TokenWatchCliTests(TokenEventServerFixture fixture) : IClassFixture<TokenEventServerFixture>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TokensWatch_RevokeThenResumeFromPrintedCursor_EachEventPrintedOnce()
    {
        // Arrange: two tokens of the other billing caller (its events only come from this test).
        var server = fixture.Server;
        var first = (await fixture.Other.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-cli-watch"))).Token.Token_;
        var second = (await fixture.Other.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey(), "cust-cli-watch"))).Token.Token_;
        var start = (await fixture.Other.ListTokenEventsAsync(new ListTokenEventsRequest { PageSize = 500 })).NextCursor;
        await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = first, IdempotencyKey = Requests.NewKey() });

        // Act: the first line, then a resume from its cursor after the second revoke.
        var (code, output, error) = await RunAsync("tokens", "watch", "--after", start, "--count", "1", "--cert", Cert("crt"), "--key", Cert("key"));
        var cursor = output.Split(' ')[0];
        await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = second, IdempotencyKey = Requests.NewKey() });
        var (resumedCode, resumed, _) = await RunAsync("tokens", "watch", "--after", cursor, "--count", "1", "--cert", Cert("crt"), "--key", Cert("key"));

        // Control: from the start again the first event is printed again, so a repeat after the cursor would show.
        var (_, again, _) = await RunAsync("tokens", "watch", "--after", start, "--count", "1", "--cert", Cert("crt"), "--key", Cert("key"));

        // Assert
        Assert.True(code == 0, error);
        Assert.Matches($"^[A-Za-z0-9_-]{{12}} \\d{{4}}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ revoked {first}\\r?\\n$", output);
        Assert.Equal(0, resumedCode);
        Assert.Contains($" revoked {second}", resumed, StringComparison.Ordinal);
        Assert.DoesNotContain(first, resumed, StringComparison.Ordinal);
        Assert.Contains($" revoked {first}", again, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensEvents_PagedWithAfterAndPageSize_EachEventOnceInOrder()
    {
        // Arrange: three revokes of the other billing caller (its events only come from these tests).
        var server = fixture.Server;
        var start = (await fixture.Other.ListTokenEventsAsync(new ListTokenEventsRequest { PageSize = 500 })).NextCursor;
        var tokens = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var token = (await fixture.Other.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), "cust-cli-events"))).Token.Token_;
            await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = token, IdempotencyKey = Requests.NewKey() });
            tokens.Add(token);
        }

        // Act: a page of two, then the next page from the last line's cursor.
        var (code, first, firstError) = await RunAsync("tokens", "events", "--after", start, "--page-size", "2", "--cert", Cert("crt"), "--key", Cert("key"));
        var lines = first.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var (nextCode, next, nextError) = await RunAsync("tokens", "events", "--after", lines[^1].Split(' ')[0], "--page-size", "2", "--cert", Cert("crt"), "--key", Cert("key"));
        var (jsonCode, json, _) = await RunAsync("tokens", "events", "--after", start, "--page-size", "2", "--cert", Cert("crt"), "--key", Cert("key"), "--json");

        // Assert: two lines and a hint naming the next page, then the third alone (no hint: the page is not full).
        Assert.True(code == 0, firstError);
        Assert.Equal([$"revoked {tokens[0]}", $"revoked {tokens[1]}"], lines.Select(l => string.Join(' ', l.Split(' ')[3..])));
        Assert.Contains($"tokens events --after {lines[^1].Split(' ')[0]}", firstError, StringComparison.Ordinal);
        Assert.Equal(0, nextCode);
        Assert.Matches($"^[A-Za-z0-9_-]{{12}} \\d{{4}}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ revoked {tokens[2]}\\r?\\n$", next);
        Assert.Empty(nextError);

        // --json: the page as one object on one line, ending with a newline like every other output.
        Assert.Equal(0, jsonCode);
        Assert.Matches("^\\{[^\\n]*\\}\\r?\\n$", json);
        Assert.Matches("\"caller_?[iI]d\": ?\"" + TokenEventServerFixture.OtherBilling + "\"", json);
    }

    [Fact]
    public async Task TokensWatch_MalformedAfter_ExitOneNamingTheField()
    {
        var (code, output, error) = await RunAsync("tokens", "watch", "--after", "zz-not-a-cursor");

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("after", error, StringComparison.Ordinal);
        Assert.DoesNotContain("zz-not-a-cursor", error, StringComparison.Ordinal);
    }

    private string Cert(string extension) => Path.Combine(fixture.Server.PkiDirectory, $"{TokenEventServerFixture.OtherBilling}.{extension}");

    private async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var bound = new CancellationTokenSource(Bound);
        var code = await Tokenizer.Cli.CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse([.. args, "--server", fixture.Server.Address.ToString().TrimEnd('/'), "--pki", fixture.Server.PkiDirectory])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, bound.Token);
        return (code, output.ToString(), error.ToString());
    }
}
