using System.Diagnostics;
using System.Net;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class HostingTests
{
    [Theory]
    [InlineData("Production")]
    [InlineData("production")]
    public async Task StartAsync_ProductionEnvironment_Throws(string environment)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => StripeSandboxServer.StartAsync(new StripeSandboxOptions(), environment));

        Assert.Contains("Production", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:12111")]
    [InlineData("http://+:12111")]
    [InlineData("http://10.1.2.3:12111")]
    [InlineData("http://example.com:12111")]
    [InlineData("https://127.0.0.1:0")]
    [InlineData("http://127.0.0.1:0;http://0.0.0.0:0")]
    public async Task StartAsync_NonLoopbackUrl_Throws(string urls)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => StripeSandboxServer.StartAsync(new StripeSandboxOptions { Urls = urls }, SandboxHarness.Environment));

        Assert.Contains("Urls", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_LiveApiKey_ThrowsNamingTheSettingNotTheValue()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => StripeSandboxServer.StartAsync(new StripeSandboxOptions { ApiKey = "sk_live_secret" }, SandboxHarness.Environment));

        Assert.Contains("ApiKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_live_secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_Defaults_ListensOnLoopbackWithTrailingSlash()
    {
        await using var server = await SandboxHarness.StartAsync();

        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(server.BaseAddress.Host)));
        Assert.NotEqual(0, server.BaseAddress.Port);
        Assert.EndsWith("/", server.BaseAddress.ToString(), StringComparison.Ordinal);
        Assert.Equal(new SandboxStats(0, 0, 0), server.GetStats());
    }

    [Fact]
    public async Task Create_RawCardDataDisabled_Returns402InvalidRequestWithStripeText()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.RawCardDataEnabled = false);
        var service = SandboxHarness.Client(server).V1.PaymentMethods;

        var error = await Assert.ThrowsAsync<StripeException>(() => service.CreateAsync(SandboxHarness.Card("4242424242424242")));
        var bank = await service.CreateAsync(SandboxHarness.Sepa());

        Assert.Equal(HttpStatusCode.PaymentRequired, error.HttpStatusCode);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
        Assert.StartsWith(
            "Sending credit card numbers directly to the Stripe API is generally unsafe", error.StripeError.Message, StringComparison.Ordinal);
        Assert.Equal("sepa_debit", bank.Type);
        Assert.Equal(1, server.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task Program_ProductionEnvironment_ExitsNonZeroWithMessage()
    {
        var assembly = typeof(StripeSandboxServer).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment.Remove("DOTNET_ENVIRONMENT");

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("Production", await stderr, StringComparison.Ordinal);
    }
}
