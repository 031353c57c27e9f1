using System.Text.Json;
using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.SecurityTests.Logging;

/// <summary>The real server process: everything it prints goes through the one scrubbing JSON sink.</summary>
public sealed class ServerLogOutputTests
{
    [Fact]
    public async Task ServerProcess_EveryOutputLine_OneJsonObjectFromTheScrubbingFormatter()
    {
        // Arrange
        var dataDirectory = Directory.CreateTempSubdirectory("tokenizer-logs-").FullName;
        string output;
        try
        {
            await using (var server = await ServerProcess.StartAsync(dataDirectory, "--Logging:LogLevel:Default=Trace"))
            {
                // Act: a successful call (embedded sandbox included) and a failing one, at Trace level.
                await server.Client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "logs-ok",
                    CustomerReference = "logs-customer",
                    Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2031, Cvc = "123" },
                });
                await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "logs-bad",
                    CustomerReference = "logs-customer",
                    Card = new Card { Number = "4242424242424241", ExpMonth = 12, ExpYear = 2031, Cvc = "123" },
                }).ResponseAsync);
                await server.StopAsync();
                output = server.Output;
            }
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }

        // Assert: the sandbox's own lines too (it logs through the host's setup), so no plain "info: ..." lines.
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.Contains(lines, l => l.Contains("Stripe sandbox listening", StringComparison.Ordinal));
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.True(json.RootElement.TryGetProperty("EventId", out _), line);
            Assert.True(json.RootElement.TryGetProperty("Category", out _), line);
        }
    }
}
