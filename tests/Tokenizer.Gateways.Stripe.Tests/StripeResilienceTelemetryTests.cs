using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>The level at which Polly's own telemetry logs the Stripe client's timeouts (through the real DI registration).</summary>
public sealed class StripeResilienceTelemetryTests
{
    [Fact]
    public async Task StripeClient_StripeHangs_PollyLogsNothingAtWarningOrAbove()
    {
        // Arrange: the registered client over a handler that never answers; short attempts, one retry. The total timeout
        // is far away, so on a loaded machine the retry still happens (a total timeout first would leave no retry line).
        var provider = new CapturingProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(provider));
        var options = new StripeResilienceOptions
        {
            AttemptTimeout = TimeSpan.FromMilliseconds(100),
            TotalTimeout = TimeSpan.FromMinutes(1),
            MaxRetries = 1,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(5),
        };
        services.AddStripeHttpClient(_ => options).ConfigurePrimaryHttpMessageHandler(() => new HangingHandler());
        await using var serviceProvider = services.BuildServiceProvider();
        var http = serviceProvider.GetRequiredService<IHttpClientFactory>().CreateClient(StripeResilience.HttpClientName);

        // Act
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => http.GetAsync(new Uri("http://stripe.test/v1/payment_methods/pm_1")));

        // Assert: Polly reported the timeouts (the control: there is something to judge), nothing at Warning or above.
        var timeouts = provider.Lines.Where(l => l.Category.StartsWith("Polly", StringComparison.Ordinal) && l.Text.Contains("OnTimeout", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(timeouts);
        Assert.DoesNotContain(provider.Lines, l => l.Category.StartsWith("Polly", StringComparison.Ordinal) && l.Level >= LogLevel.Warning);

        // The service's own line for the retry stays a Warning, and nothing at all is an Error.
        Assert.Contains(provider.Lines, l => l.Category == typeof(StripeResilience).FullName && l.Level == LogLevel.Warning);
        Assert.DoesNotContain(provider.Lines, l => l.Level >= LogLevel.Error);
    }

    private sealed record Line(string Category, LogLevel Level, string Text);

    private sealed class HangingHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    private sealed class CapturingProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<Line> lines = new();

        public IReadOnlyList<Line> Lines => lines.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Line> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(new Line(category, logLevel, formatter(state, exception)));
        }
    }
}
