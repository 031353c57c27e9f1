using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Privacy;
using Tokenizer.Server.Reconciliation;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Telemetry;
using Tokenizer.Server.Tests.Secrets;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.Server.Tests.Hosting;

/// <summary>
/// The start-up order, stated once (<see cref="StartupSequence.Steps"/>), and what it promises: every step has started
/// (ledger migrated, audit start-up checks passed) before any hosted service's StartAsync, so before Kestrel listens;
/// and the embedded sandbox is composed outside Production only.
/// </summary>
public sealed class StartupSequenceTests
{
    private static readonly Type[] DevelopmentOrder =
    [
        typeof(SecretsRefreshService),
        typeof(StartupBanner),
        typeof(EmbeddedSandbox),
        typeof(LedgerInitializer),
        typeof(AuditStartup),
        typeof(RefusedCallAudit),
        typeof(RecoveryWorker),
        typeof(ReconciliationWorker),
        typeof(RetentionWorker),
        typeof(WebhookRefusalAudit),
        typeof(WebhookListener),
        typeof(WebhookWorker),
        typeof(WebhookCatchUpWorker),
        typeof(MetricsEndpoint),
    ];

    [Fact]
    public void Build_Development_TheOrderIsTheSequencesAndNoStepIsAHostedServiceOfItsOwn()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-startup-").FullName;
        try
        {
            using var app = TokenizerHost.Build([$"--Tokenizer:DataDirectory={directory}", "--environment", "Development"], builder => builder.Logging.ClearProviders());
            var sequence = app.Services.GetRequiredService<StartupSequence>();

            Assert.Equal(DevelopmentOrder, sequence.Order);
            // One hosted service of ours: a step registered as a hosted service too would start twice, out of order.
            var hosted = app.Services.GetServices<IHostedService>().ToList();
            Assert.Single(hosted, h => h is StartupSequence);
            Assert.DoesNotContain(hosted, h => DevelopmentOrder.Contains(h.GetType()));
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    /// <summary>
    /// A real Development host: a hosted service placed first (as OpenTelemetry places its own) and Kestrel's start both
    /// see every step already started. Control: starting the steps in StartAsync instead of StartingAsync fails both.
    /// </summary>
    [Fact]
    public async Task Start_Development_EveryStepStartsBeforeAnyHostedServiceAndKestrel()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-startup-").FullName;
        try
        {
            var probe = new FirstHostedService();
            IReadOnlyList<Type>? atListen = null;
            StartupSequence? sequence = null;
            await using var app = TokenizerHost.Build(
                ["--urls", "https://127.0.0.1:0", $"--Tokenizer:DataDirectory={directory}", "--environment", "Development", "--Tokenizer:Metrics:Urls=http://127.0.0.1:0"],
                builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp =>
                    {
                        probe.Sequence = sp.GetRequiredService<StartupSequence>();
                        return probe;
                    }));
                    var kestrel = builder.Services.Last(d => d.ServiceType == typeof(IServer));
                    builder.Services.Replace(ServiceDescriptor.Singleton<IServer>(sp =>
                    {
                        sequence = sp.GetRequiredService<StartupSequence>();
                        var inner = (IServer)ActivatorUtilities.CreateInstance(sp, kestrel.ImplementationType!);
                        return new ListenProbe(inner, () => atListen = sequence.Started);
                    }));
                });

            await app.StartAsync();
            try
            {
                Assert.Equal(DevelopmentOrder, probe.StartedBefore);
                Assert.Equal(DevelopmentOrder, atListen);
            }
            finally
            {
                await app.StopAsync();
            }
        }
        finally
        {
            SecretsHarness.TryDelete(directory);
        }
    }

    /// <summary>Production composes no sandbox: no registration, no step. Control: Development composes both.</summary>
    [Theory]
    [InlineData("Production", false)]
    [InlineData("Staging", true)]
    [InlineData("Development", true)]
    public void Build_Environment_SandboxComposedOutsideProductionOnly(string environment, bool composed)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // Outside Development the TLS settings are required; nothing listens here, so the paths are never read.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tokenizer:Tls:CertificatePath"] = "/nonexistent/server.crt",
            ["Tokenizer:Tls:KeyPath"] = "/nonexistent/server.key",
            ["Tokenizer:Tls:ClientCaPath"] = "/nonexistent/ca.crt",
        });
        builder.AddTokenizer();
        using var app = builder.Build();

        var order = app.Services.GetRequiredService<StartupSequence>().Order;

        Assert.Equal(composed, builder.Services.Any(d => d.ServiceType == typeof(EmbeddedSandbox) || d.ServiceType == typeof(IEmbeddedSandbox)));
        Assert.Equal(composed, order.Contains(typeof(EmbeddedSandbox)));
        Assert.Equal(composed ? DevelopmentOrder : DevelopmentOrder.Where(t => t != typeof(EmbeddedSandbox)), order);
    }

    private sealed class FirstHostedService : IHostedService
    {
        public StartupSequence? Sequence { get; set; }

        public IReadOnlyList<Type>? StartedBefore { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            StartedBefore = Sequence!.Started;
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class ListenProbe(IServer inner, Action onStart) : IServer
    {
        public IFeatureCollection Features => inner.Features;

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull
        {
            onStart();
            return inner.StartAsync(application, cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

        public void Dispose() => inner.Dispose();
    }
}
