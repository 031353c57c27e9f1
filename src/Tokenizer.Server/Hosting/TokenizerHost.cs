using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;
using Tokenizer.Server.Health;
using Tokenizer.Server.Reconciliation;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Hosting;

/// <summary>Builds the Tokenizer web application; Program.cs and the integration tests share it.</summary>
public static class TokenizerHost
{
    /// <summary>
    /// Builds the app from command-line <paramref name="args"/> (ASP.NET Core conventions: <c>--urls</c>,
    /// <c>--Tokenizer:DataDirectory=...</c>). <paramref name="configure"/> lets tests add logging providers or services.
    /// </summary>
    /// <exception cref="StartupException">The data directory is in use by another process, the TLS files cannot be loaded, or Unicode normalisation is unavailable.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Content root is the app's own folder, so appsettings.json is found wherever the process starts.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        ForwardedHeadersPosture.EnsureOff(builder.Configuration, builder.Environment);
        if (!Core.Validation.FreeTextRule.CompatibilityFormAvailable)
        {
            // Fail closed in every environment: without NFKC, card numbers in compatibility characters pass free text.
            throw new StartupException(
                "Unicode normalisation (NFKC) is not available: the process runs globalization-invariant (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT) or without ICU (libicu), so free-text validation could not read card numbers written in compatibility characters; install ICU and unset the invariant switch");
        }

        // The framework puts host filtering outside the app's pipeline, before the call audit: a refused Host would leave
        // no record. MapTokenizer adds it back after UseCallAudit.
        for (var i = builder.Services.Count - 1; i >= 0; i--)
        {
            if (builder.Services[i].ServiceType == typeof(IStartupFilter)
                && builder.Services[i].ImplementationType?.FullName == "Microsoft.AspNetCore.HostFilteringStartupFilter")
            {
                builder.Services.RemoveAt(i);
            }
        }

        builder.AddTokenizer();
        configure?.Invoke(builder);
        var app = builder.Build();
        try
        {
            // Before the host starts anything: the data directory is ours alone, and the TLS material loads. A failure
            // here is a StartupException naming its cause, and no hosted service has begun (nothing to unwind or log).
            app.Services.GetRequiredService<DataDirectoryLock>();
            _ = app.Services.GetRequiredService<TlsMaterial>().ServerCertificate;
        }
        catch
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        app.MapTokenizer();
        return app;
    }

    /// <summary>Maps the gRPC services, the anonymous gRPC health service, and reflection in Development only.</summary>
    public static WebApplication MapTokenizer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Outermost: records every call the audit interceptor never saw (refused, oversized, unknown method).
        app.UseCallAudit();
        // AllowedHosts: a refused Host is answered 400 inside the audit (recorded as HTTP_400), before authentication.
        app.UseHostFiltering();
        app.UseTokenizerSecurity();
        // After authorisation: a broken gRPC frame is answered MALFORMED_REQUEST before grpc-dotnet reads it.
        app.UseMiddleware<Grpc.GrpcFrameGuard>();
        app.MapGrpcService<TokenizerGrpcService>().RequireRpcPolicies();
        app.MapGrpcService<AuditGrpcService>().RequireRpcPolicies();
        app.MapGrpcService<ReconciliationGrpcService>().RequireRpcPolicies();
        app.MapGrpcService<Privacy.PrivacyGrpcService>().RequireRpcPolicies();
        app.MapTokenizerHealth();
        if (app.Environment.IsDevelopment())
        {
            app.MapGrpcReflectionService().RequireRpcPolicies();
        }

        return app;
    }
}
