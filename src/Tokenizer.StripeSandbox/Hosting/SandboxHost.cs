using System.Text.Json;
using Microsoft.Extensions.Options;
using Tokenizer.StripeSandbox.Api;
using Tokenizer.StripeSandbox.Events;
using Tokenizer.StripeSandbox.Faults;
using Tokenizer.StripeSandbox.State;
using Tokenizer.StripeSandbox.Webhooks;

namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>Builds the sandbox's <see cref="WebApplication"/>: services, Kestrel on loopback, logging without bodies, routes.</summary>
internal static class SandboxHost
{
    public static WebApplication Build(StripeSandboxOptions options, string environmentName)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            EnvironmentName = environmentName,
            ApplicationName = typeof(SandboxHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Everything comes from StripeSandboxOptions: no appsettings or environment variable can widen the listen
        // addresses or turn on request logging.
        builder.Configuration.Sources.Clear();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            foreach (var endpoint in LoopbackUrls.Parse(options.Urls).Endpoints)
            {
                if (endpoint.Address is null)
                {
                    kestrel.ListenLocalhost(endpoint.Port);
                }
                else
                {
                    kestrel.Listen(endpoint.Address, endpoint.Port);
                }
            }
        });

        // No HttpLogging middleware is added, and its category is off in case someone adds it: request bodies carry PANs.
        builder.Logging.ClearProviders();
        if (options.ConfigureLogging is { } configureLogging)
        {
            configureLogging(builder.Logging);
        }
        else
        {
#pragma warning disable RS0030 // Standalone sandbox only: it holds test data, and its host's logging is not the server's.
            builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
#pragma warning restore RS0030
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.HttpLogging", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        builder.Services.Configure<ConsoleLifetimeOptions>(lifetime => lifetime.SuppressStatusMessages = true);
        if (options.HostedInProcess)
        {
            // The owning host handles the process's signals and disposes this sandbox after draining its own calls.
            builder.Services.AddSingleton<IHostLifetime, OwnedLifetime>();
        }

        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton(options.DataDirectory is null
            ? SandboxSecret.CreateRandom()
            : SandboxSecret.LoadOrCreate(SandboxStore.CreatePrivateDirectory(options.DataDirectory).FullName));
        builder.Services.AddSingleton(_ => SandboxStore.Open(options.DataDirectory, options.TimeProvider));
        builder.Services.AddSingleton<RequestPipeline>();
        builder.Services.AddSingleton<SandboxFaultPlan>();
        builder.Services.AddSingleton(new SandboxRequestLog(options.RecordedRequestLimit, options.TimeProvider));
        builder.Services.AddSingleton<FaultInjector>();
        builder.Services.AddSingleton<PaymentMethodsApi>();
        builder.Services.AddSingleton<CustomersApi>();
        builder.Services.AddSingleton<SandboxAddress>();
        builder.Services.AddSingleton<SetupIntentsApi>();
        builder.Services.AddSingleton<PaymentIntentsApi>();
        builder.Services.AddSingleton<EventsApi>();
        builder.Services.AddSingleton(services => new SandboxWebhooks(
            services.GetRequiredService<SandboxStore>(),
            services.GetRequiredService<IOptions<StripeSandboxOptions>>(),
            services.GetRequiredService<ILogger<SandboxWebhooks>>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<SandboxWebhooks>());
        builder.Services.AddSingleton<WebhookEndpointsApi>();
        builder.Services.AddSingleton<SandboxControl>();

        var app = builder.Build();
        try
        {
            // Resolving the pipeline opens the store: a locked or unreadable data directory fails here.
            var pipeline = app.Services.GetRequiredService<RequestPipeline>();

            // The dispatcher subscribes to the store's events before any request can change state.
            _ = app.Services.GetRequiredService<SandboxWebhooks>();
            var faults = app.Services.GetRequiredService<FaultInjector>();
            app.Use(faults.RecordAsync);
            app.Use(pipeline.AuthenticateAsync);
            app.Use(faults.InjectAsync);
            MapRoutes(app);
            return app;
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }
    }

    private static void MapRoutes(WebApplication app)
    {
        var paymentMethods = app.Services.GetRequiredService<PaymentMethodsApi>();
        var customers = app.Services.GetRequiredService<CustomersApi>();
        var pipeline = app.Services.GetRequiredService<RequestPipeline>();

        RequestDelegate Handle(Func<HttpContext, StripeParams, ApiResult> handler) =>
            context => pipeline.RunAsync(context, parameters => handler(context, parameters));

        static string Id(HttpContext context, string name) => (string)context.GetRouteValue(name)!;

        app.MapPost("/v1/payment_methods", Handle((_, p) => paymentMethods.Create(p)));
        app.MapGet("/v1/payment_methods/{id}", Handle((c, p) => paymentMethods.Get(Id(c, "id"), p)));
        app.MapPost("/v1/payment_methods/{id}", Handle((c, p) => paymentMethods.Update(Id(c, "id"), p)));
        app.MapPost("/v1/payment_methods/{id}/attach", Handle((c, p) => paymentMethods.Attach(Id(c, "id"), p)));
        app.MapPost("/v1/payment_methods/{id}/detach", Handle((c, p) => paymentMethods.Detach(Id(c, "id"), p)));
        app.MapPost("/v1/customers", Handle((_, p) => customers.Create(p)));
        app.MapGet("/v1/customers/{id}", Handle((c, p) => customers.Get(Id(c, "id"), p)));
        app.MapDelete("/v1/customers/{id}", Handle((c, p) => customers.Delete(Id(c, "id"), p)));
        app.MapGet("/v1/customers/{id}/payment_methods", Handle((c, p) => paymentMethods.ListForCustomer(Id(c, "id"), p)));
        app.MapGet("/v1/customers/{id}/payment_methods/{pm}", Handle((c, p) => paymentMethods.GetForCustomer(Id(c, "id"), Id(c, "pm"), p)));
        var setupIntents = app.Services.GetRequiredService<SetupIntentsApi>();
        app.MapPost("/v1/setup_intents", Handle((_, p) => setupIntents.Create(p)));
        app.MapGet("/v1/setup_intents", Handle((_, p) => setupIntents.List(p)));
        app.MapGet("/v1/setup_intents/{id}", Handle((c, p) => setupIntents.Get(Id(c, "id"), p)));
        app.MapPost("/v1/setup_intents/{id}/cancel", Handle((c, p) => setupIntents.Cancel(Id(c, "id"), p)));
        app.MapPost("/v1/setup_intents/{id}/confirm", Handle((c, p) => setupIntents.ConfirmExisting(Id(c, "id"), p)));
        app.MapPost("/v1/setup_intents/{id}/verify_microdeposits", Handle((c, p) => setupIntents.VerifyMicrodeposits(Id(c, "id"), p)));
        app.MapGet("/v1/mandates/{id}", Handle((c, p) => setupIntents.GetMandate(Id(c, "id"), p)));
        var paymentIntents = app.Services.GetRequiredService<PaymentIntentsApi>();
        app.MapPost("/v1/payment_intents", Handle((_, p) => paymentIntents.Create(p)));
        app.MapGet("/v1/payment_intents/{id}", Handle((c, p) => paymentIntents.Get(Id(c, "id"), p)));
        var events = app.Services.GetRequiredService<EventsApi>();
        app.MapGet("/v1/events", Handle((_, p) => events.List(p)));
        app.MapGet("/v1/events/{id}", Handle((c, p) => events.Get(Id(c, "id"), p)));
        var webhookEndpoints = app.Services.GetRequiredService<WebhookEndpointsApi>();
        app.MapPost("/v1/webhook_endpoints", Handle((_, p) => webhookEndpoints.Create(p)));
        app.MapGet("/v1/webhook_endpoints", Handle((_, p) => webhookEndpoints.List(p)));
        app.MapGet("/v1/webhook_endpoints/{id}", Handle((c, p) => webhookEndpoints.Get(Id(c, "id"), p)));
        app.MapDelete("/v1/webhook_endpoints/{id}", Handle((c, p) => webhookEndpoints.Delete(Id(c, "id"), p)));

        // The hosted pages a customer's browser opens at a next_action URL (not Stripe API paths: no API key, as at Stripe).
        HostedPages.Map(app, setupIntents);

        // Sandbox-only counters for tests and load runs; not a Stripe endpoint, so no API key.
        var store = app.Services.GetRequiredService<SandboxStore>();
        app.MapGet("/_sandbox/stats", context =>
        {
            var stats = Stats(store);
            var body = JsonSerializer.Serialize(new StatsObject(stats.PaymentMethods, stats.Customers, stats.Attached), SandboxJson.Default.StatsObject);
            return RequestPipeline.WriteAsync(context, ApiResult.Ok(body));
        });

        // Fault and request-log control for other processes: only with a control token, and only outside Production
        // (StripeSandboxServer.StartAsync refuses Production before anything is built).
        if (app.Services.GetRequiredService<IOptions<StripeSandboxOptions>>().Value.ControlToken is { } controlToken && !app.Environment.IsProduction())
        {
            ControlEndpoints.Map(
                app,
                controlToken,
                app.Services.GetRequiredService<SandboxFaultPlan>(),
                app.Services.GetRequiredService<SandboxRequestLog>(),
                app.Services.GetRequiredService<SandboxWebhooks>(),
                app.Services.GetRequiredService<SandboxControl>());
        }

        app.MapFallback(context => RequestPipeline.WriteAsync(context, ApiResult.From(StripeErrors.UnrecognizedUrl())));
    }

    public static SandboxStats Stats(SandboxStore store) => store.Read(data => new SandboxStats(
        data.PaymentMethods.Count,
        data.Customers.Count,
        data.PaymentMethods.Values.Count(p => p.View.Customer is not null)));

    /// <summary>No signal handling: the owner of the process stops the sandbox.</summary>
    private sealed class OwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
