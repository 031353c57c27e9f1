using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests.Operations;

/// <summary>
/// The real server process and its data directory: the directory deleted under it, a second server on it, a TLS file
/// that cannot be loaded, and the shape of every line it logs.
/// </summary>
public sealed class DataDirectoryLifecycleTests
{
    [Theory]
    [InlineData("ledger")]
    [InlineData("")]
    public async Task DataDirectoryDeleted_WhileRunning_NotServingWritesRefusedAndNothingAcknowledgedLost(string deleted)
    {
        // Arrange: a running server with a token on record; the settings an operator would restore are copied aside.
        var root = Directory.CreateTempSubdirectory("tokenizer-deleted-").FullName;
        var data = Path.Combine(root, "data");
        var aside = Path.Combine(root, "aside");
        var acknowledged = new List<string>();
        try
        {
            await using (var server = await ServerProcess.StartAsync(data))
            {
                var before = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
                var health = new Health.HealthClient(server.Channel);
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
                foreach (var folder in new[] { "pki", "secrets", "keys" })
                {
                    CopyDirectory(Path.Combine(data, folder), Path.Combine(aside, folder));
                }

                // Act: the ledger's folder, or the whole data directory, removed under the running process.
                Directory.Delete(Path.Combine(data, deleted), recursive: true);
                var status = (await health.CheckAsync(new HealthCheckRequest())).Status;
                var errors = new List<RpcException>();
                for (var i = 0; i < 5; i++)
                {
                    try
                    {
                        acknowledged.Add((await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token.Token_);
                    }
                    catch (RpcException error)
                    {
                        errors.Add(error);
                    }
                }

                // Assert: NOT_SERVING, and every write refused as a ledger outage (retryable with the same key).
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, status);
                Assert.Empty(acknowledged);
                Assert.All(errors, error =>
                {
                    Assert.Equal(StatusCode.Unavailable, error.StatusCode);
                    Assert.Equal("LEDGER_UNAVAILABLE", error.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>()?.Reason);
                });
                Assert.NotEmpty(before.Token.Token_);
            }

            // After a restart on the same path (settings restored): whatever was acknowledged is there.
            foreach (var folder in new[] { "pki", "secrets", "keys" })
            {
                if (!Directory.Exists(Path.Combine(data, folder)))
                {
                    CopyDirectory(Path.Combine(aside, folder), Path.Combine(data, folder));
                }
            }

            if (deleted == "ledger")
            {
                // The audit anchor outside the ledger outlived it: the restart refuses the emptied trail until an
                // operator moves the anchor aside, accepting the loss.
                var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(data));
                Assert.Contains("Tokenizer:AuditAnchor: the audit trail is truncated", refused.Message, StringComparison.Ordinal);
                Directory.Delete(Path.Combine(data, "anchor"), recursive: true);
            }

            await using var restarted = await ServerProcess.StartAsync(data);
            foreach (var token in acknowledged)
            {
                var found = await restarted.Client.GetTokenAsync(new GetTokenRequest { Token = token });
                Assert.Equal(token, found.Token.Token_);
            }
        }
        finally
        {
            TryDelete(root);
        }
    }

    [Fact]
    public async Task Start_DataDirectoryInUseByAnotherServer_OneLineNamingTheCauseWithoutStackTrace()
    {
        // Arrange
        var data = Directory.CreateTempSubdirectory("tokenizer-inuse-").FullName;
        try
        {
            await using var first = await ServerProcess.StartAsync(data);

            // Act
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(data));

            // Assert: the failure line names the cause and the directory; the first server is unaffected.
            var output = refused.Message;
            Assert.Contains("tokenizer: failed to start: Tokenizer:DataDirectory: " + data + " is in use by another process", output, StringComparison.Ordinal);
            AssertNoStackTrace(output);
            var health = new Health.HealthClient(first.Channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        }
        finally
        {
            TryDelete(data);
        }
    }

    /// <summary>
    /// A ledger file cut to half its size (a failed copy, a full disk, tampering) ends start-up like every other refusal:
    /// one line naming the file and Tokenizer:DataDirectory, no stack trace, exit code 1 (not an abort, which could write
    /// a core file). The control: the same directory with the intact file starts and still answers for its token.
    /// </summary>
    [Fact]
    public async Task Start_LedgerFileTruncated_OneLineNamingTheFileWithoutStackTrace()
    {
        // Arrange: a ledger with a token in it, stopped cleanly, kept aside intact, then truncated to half.
        var data = Directory.CreateTempSubdirectory("tokenizer-truncated-").FullName;
        var intact = Directory.CreateTempSubdirectory("tokenizer-intact-").FullName;
        try
        {
            string token;
            await using (var server = await ServerProcess.StartAsync(data))
            {
                token = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token.Token_;
                await server.StopAsync();
            }

            var ledger = Path.Combine(data, "ledger", "tokenizer.db");
            CopyDirectory(Path.Combine(data, "ledger"), intact);
            var size = new FileInfo(ledger).Length;
            await using (var file = new FileStream(ledger, FileMode.Open, FileAccess.Write))
            {
                file.SetLength(size / 2);
            }

            // Act
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(data));

            // Assert
            Assert.Contains("server did not start (exit code 1)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("tokenizer: failed to start: Tokenizer:DataDirectory: the ledger file " + ledger + " ", refused.Message, StringComparison.Ordinal);
            // The host's own "failed to start" log line carries the same one-line cause, never a trace.
            Assert.DoesNotContain("   at ", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("SqliteException", refused.Message, StringComparison.Ordinal);

            // Control: the intact file starts and finds the token.
            Directory.Delete(Path.Combine(data, "ledger"), recursive: true);
            CopyDirectory(intact, Path.Combine(data, "ledger"));
            await using var restored = await ServerProcess.StartAsync(data);
            Assert.Equal(token, (await restored.Client.GetTokenAsync(new GetTokenRequest { Token = token })).Token.Token_);
        }
        finally
        {
            TryDelete(data);
            TryDelete(intact);
        }
    }

    [Theory]
    [InlineData("missing", "Tokenizer:Tls:CertificatePath and KeyPath: the file does not exist")]
    [InlineData("garbage", "Tokenizer:Tls:CertificatePath and KeyPath: not a PEM certificate")]
    [InlineData("directory", "Tokenizer:Tls:CertificatePath and KeyPath: the file cannot be read")]
    public async Task Start_TlsFileUnusable_OneLineNamingTheSettingWithoutStackTrace(string kind, string expected)
    {
        // Arrange: a certificate path that does not exist, holds no PEM, or is a directory (unreadable as a file).
        var data = Directory.CreateTempSubdirectory("tokenizer-tls-").FullName;
        var path = Path.Combine(data, "server.crt");
        switch (kind)
        {
            case "garbage":
                await File.WriteAllTextAsync(path, "not a certificate");
                break;
            case "directory":
                Directory.CreateDirectory(path);
                break;
        }

        try
        {
            // Act
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(
                data,
                $"--Tokenizer:Tls:CertificatePath={path}",
                $"--Tokenizer:Tls:KeyPath={path}",
                $"--Tokenizer:Tls:ClientCaPath={path}"));

            // Assert
            Assert.Contains("tokenizer: failed to start: " + expected, refused.Message, StringComparison.Ordinal);
            AssertNoStackTrace(refused.Message);
        }
        finally
        {
            TryDelete(data);
        }
    }

    [Fact]
    public async Task Logs_RealProcess_EveryLineUtcTimestampedAndNoMessageRepeatedInState()
    {
        // Arrange
        var data = Directory.CreateTempSubdirectory("tokenizer-logshape-").FullName;
        try
        {
            string output;
            await using (var server = await ServerProcess.StartAsync(data))
            {
                await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));

                // Act: a graceful stop flushes every line.
                await server.StopAsync();
                output = server.Output;
            }

            // Assert: every JSON line has a UTC ISO 8601 timestamp with Z, and State never repeats the message or template.
            var lines = output.Split('\n').Where(l => l.StartsWith('{')).ToList();
            Assert.True(lines.Count >= 5, "positive control: the server logged");
            Assert.Contains(lines, l => l.Contains("\"State\"", StringComparison.Ordinal));
            foreach (var line in lines)
            {
                using var json = JsonDocument.Parse(line);
                var root = json.RootElement;
                var timestamp = root.GetProperty("Timestamp").GetString()!;
                Assert.EndsWith("Z", timestamp, StringComparison.Ordinal);
                Assert.True(DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed), timestamp);
                Assert.Equal(TimeSpan.Zero, parsed.Offset);
                Assert.DoesNotContain("{OriginalFormat}", line, StringComparison.Ordinal);
                if (root.TryGetProperty("State", out var state))
                {
                    Assert.False(state.TryGetProperty("Message", out _), line);
                    var message = root.GetProperty("Message").GetString()!;
                    Assert.DoesNotContain(state.EnumerateObject(), p => p.Value.ValueKind == JsonValueKind.String && message.Length > 20 && p.Value.GetString() == message);
                }
            }
        }
        finally
        {
            TryDelete(data);
        }
    }

    private static void AssertNoStackTrace(string output)
    {
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Exception\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("while starting", output, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
