using Microsoft.Extensions.Options;
using Stripe;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Audit;
using Tokenizer.Server.Audit;
using Tokenizer.Server.DataProtection;
using Tokenizer.Server.Events;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Health;
using Tokenizer.Server.Telemetry;
using Tokenizer.Core.Telemetry;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Security;
using Tokenizer.Server.Logging;
using Tokenizer.Server.Reconciliation;
using Tokenizer.Server.Privacy;
using Tokenizer.Server.Webhooks;

namespace Tokenizer.Server.Hosting;

/// <summary>Wires the tokenisation path into the host.</summary>
public static class TokenizerServiceCollectionExtensions
{
    /// <summary>Adds options, logging, gRPC, the gateway, the ledger and the tokenisation service.</summary>
    public static WebApplicationBuilder AddTokenizer(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        builder.Logging.AddTokenizerLogging();

        services.AddOptions<TokenizerOptions>().BindConfiguration(TokenizerOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenizerOptions>, TokenizerOptionsValidator>();
        services.AddOptions<StripeSettings>().BindConfiguration(StripeSettings.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StripeSettings>, StripeSettingsValidator>();

        // Secrets first: their hosted service loads them (or stops start-up) before anything else starts.
        services.AddTokenizerSecrets(builder.Configuration, builder.Environment);
        services.AddTokenizerDataProtection();

        // TLS, authentication, authorisation and limits. Request bodies are never logged (no HttpLogging is added).
        builder.AddTokenizerSecurity();

        services.AddSingleton(TimeProvider.System);
        var limits = builder.Configuration.GetSection(TokenizerOptions.Section).Get<TokenizerOptions>()?.Limits ?? new LimitSettings();
        services.AddGrpc(grpc =>
        {
            // Opens each call's context (caller, resource, reason, the capped cancellation) that the others act on.
            grpc.Interceptors.Add<CallContextInterceptor>();
            // The call's span outside the rest, so the audit, the error mapping and the handler run inside it.
            grpc.Interceptors.Add<TracingInterceptor>();
            // Audit next (outermost of the rest), so it records the status the error mapping produced.
            grpc.Interceptors.Add<AuditInterceptor>();
            // Metrics next: it sees the status the error mapping produced, and health probes the audit skips.
            grpc.Interceptors.Add<MetricsInterceptor>();
            // Refuses requests that did not deserialize (INVALID_ARGUMENT MALFORMED_REQUEST), inside the audit.
            grpc.Interceptors.Add<MalformedRequestInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.EnableDetailedErrors = false;
            grpc.MaxReceiveMessageSize = limits.MaxReceiveMessageBytes;
            grpc.MaxSendMessageSize = limits.MaxSendMessageBytes;
        });
        services.AddGrpcReflection();

        services.AddSingleton<DataDirectory>();
        services.AddSingleton<DataDirectoryLock>();
        services.AddSingleton<StartupBanner>();
        // Outside Production only: the Production host neither holds nor loads the sandbox (EmbeddedSandboxComposition).
        var sandboxStep = EmbeddedSandboxComposition.Composes(builder.Environment) ? EmbeddedSandboxComposition.Add(services) : null;
        services.AddStripeHttpClient(sp => sp.GetRequiredService<IOptions<StripeSettings>>().Value.Resilience);
        services.AddSingleton<IStripeClient>(CreateStripeClient);
        services.AddSingleton<StripeTokenGateway>();
        // Metered outermost: one metered call per gateway operation; its retries happen below, in the Stripe
        // HttpClient's resilience handler.
        services.AddSingleton<ITokenGateway>(sp => new MeteredTokenGateway(
            sp.GetRequiredService<StripeTokenGateway>(),
            sp.GetRequiredService<TokenizerMetrics>(),
            sp.GetRequiredService<TimeProvider>()));

        // The ledger, its audit trail and (PostgreSQL) the Data Protection key ring: Ledger:Provider chooses.
        services.AddTokenizerLedger(
            builder.Configuration,
            sp => new SqliteLedgerOptions
            {
                DatabasePath = sp.GetRequiredService<DataDirectory>().LedgerFile,
                BusyTimeout = TimeSpan.FromMilliseconds(sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.LedgerBusyTimeoutMilliseconds),
            },
            sp =>
            {
                var secrets = sp.GetRequiredService<ITokenizerSecrets>();
                return new AuditKeyRing(
                    secrets.AuditHmacSecret.ToArray(),
                    secrets.PreviousAuditHmacSecrets.Select(k => k.ToArray()),
                    TimeSpan.FromMinutes(sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.AuditKeyRotationGraceMinutes));
            });
        services.AddSingleton<LedgerInitializer>();
        services.AddTokenizerAudit();
        services.AddTokenizerAuditAnchor();

        services.AddSingleton(sp =>
        {
            var secrets = sp.GetRequiredService<ITokenizerSecrets>();
            return new RequestHasher(secrets.RequestHmacSecret.Span, secrets.PreviousRequestHmacSecrets);
        });
        services.AddSingleton(sp => new TokenizationSettings
        {
            DuplicateWait = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.DuplicateWaitSeconds),
            PendingLease = TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.PendingLeaseSeconds),
            FailPoint = CrashTestFailPoint(sp),
        });
        services.AddSingleton<RequestValidator>();
        services.AddSingleton<TokenizationService>();
        services.AddSingleton(sp =>
        {
            var recovery = sp.GetRequiredService<IOptions<TokenizerOptions>>().Value.Recovery;
            return new RecoverySettings
            {
                GracePeriod = TimeSpan.FromSeconds(recovery.GracePeriodSeconds),
                BatchSize = recovery.BatchSize,
            };
        });
        services.AddSingleton<RecoveryService>();
        services.AddSingleton<RecoveryWorker>();

        // Finance reconciliation: runs in the ledger, a paced background worker, an optional daily schedule.
        services.AddTokenizerReconciliation();
        // Privacy: per-subject keys, access/correction/erasure, retention purge.
        services.AddTokenizerPrivacy();
        // Token events for the billing service: ListTokenEvents, WatchTokenEvents (the store comes with the ledger).
        services.AddTokenizerTokenEvents();
        // Stripe webhooks: the signed listener (its own HTTPS port), the durable inbox, its worker and the catch-up.
        services.AddTokenizerWebhooks();

        // Readiness (grpc.health.v1), metrics (OpenTelemetry, Prometheus on its own loopback port), graceful shutdown.
        services.AddTokenizerHealth();
        services.AddTokenizerTelemetry();
        // Traces: our sources only, exported over OTLP when the OTEL_* variables ask for it (off by default).
        services.AddTokenizerTracing(builder.Configuration);
        services.AddOptions<HostOptions>().Configure<IOptions<TokenizerOptions>>((host, tokenizer) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(tokenizer.Value.ShutdownTimeoutSeconds));

        // The start-up order, in one place (StartupSequence.Steps): the host's only hosted service of ours.
        services.AddSingleton(sp => new StartupSequence(
            sp, StartupSequence.Steps(sandboxStep), sp.GetRequiredService<IHostApplicationLifetime>(), sp.GetRequiredService<ILogger<StartupSequence>>()));
        services.AddHostedService(sp => sp.GetRequiredService<StartupSequence>());

        // Last: every AddGrpc above (health, reflection) re-adds the framework's binder this replaces.
        MalformedRequestGuard.Add(services);
        return builder;
    }

    /// <summary>
    /// Development only (the options validator refuses it elsewhere): SIGKILL this process at the named point, so crash
    /// tests leave exactly the state a power cut would.
    /// </summary>
    private static Action<string>? CrashTestFailPoint(IServiceProvider services)
    {
        var configured = services.GetRequiredService<IOptions<TokenizerOptions>>().Value.FailPoint;
        var killAt = configured switch
        {
            "kill-after-gateway-success" => FailPoints.AfterGatewaySuccess,
            "kill-after-setup-intent" => FailPoints.AfterSetupIntent,
            _ => null,
        };
        if (killAt is null || !services.GetRequiredService<IHostEnvironment>().IsDevelopment())
        {
            return null;
        }

        return point =>
        {
            if (point == killAt)
            {
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }
        };
    }

    private static IStripeClient CreateStripeClient(IServiceProvider services)
    {
        var settings = services.GetRequiredService<IOptions<StripeSettings>>().Value;
        var secrets = services.GetRequiredService<ITokenizerSecrets>();
        var options = new StripeGatewayOptions
        {
            // The client's default only: StripeTokenGateway sends IStripeApiKeyProvider's current key on every request.
            ApiKey = services.GetRequiredService<IStripeApiKeyProvider>().CurrentApiKey,
            // The sandbox's step starts before any step that builds this client (StartupSequence.Steps).
            ApiBase = secrets.UsesEmbeddedSandbox ? EmbeddedSandboxAddress(services).ToString().TrimEnd('/') : settings.ApiBase,
            // The resilience pipeline owns time and retries: HttpClient.Timeout is only a backstop above its total, and
            // Stripe.net's own retries are off so there is one retry layer.
            RequestTimeout = StripeResilience.HttpClientTimeout(settings.Resilience),
            MaxNetworkRetries = 0,
        };
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(StripeResilience.HttpClientName);
        return StripeClientFactory.Create(options, http);
    }

    private static Uri EmbeddedSandboxAddress(IServiceProvider services) =>
        services.GetService<IEmbeddedSandbox>()?.Address
            ?? throw new InvalidOperationException("the embedded Stripe sandbox is not running (it is not composed in Production, and starts before the Stripe client is built)");
}
