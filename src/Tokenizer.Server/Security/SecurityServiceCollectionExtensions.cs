using System.Net;
using System.Security.Authentication;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

namespace Tokenizer.Server.Security;

/// <summary>
/// Transport and caller security: TLS 1.2+ with client certificates, certificate authentication mapped to callers and
/// roles, per-method authorisation, per-caller rate limits, gRPC message limits and Kestrel HTTP/2 limits.
/// </summary>
public static partial class SecurityServiceCollectionExtensions
{
    internal const string SelectorScheme = "Tokenizer";
    internal const string InsecureLoopbackScheme = "InsecureLoopback";
    internal const string InsecureLoopbackCallerId = "insecure-loopback";
    internal const string ClientCertificateLogCategory = "Tokenizer.Server.Security.ClientCertificates";
    private const string UnmappedCertificate = "the client certificate is not mapped to a caller";

    /// <summary>Adds TLS, authentication, authorisation and limits.</summary>
    public static WebApplicationBuilder AddTokenizerSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var settings = builder.Configuration.GetSection(TokenizerOptions.Section).Get<TokenizerOptions>() ?? new TokenizerOptions();
        ValidateListenAddresses(builder.Configuration, builder.Environment, settings.AllowInsecureLoopback);

        services.AddSingleton<TlsMaterial>();
        services.AddSingleton<CallerDirectory>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            var limits = settings.Limits;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 50;
            // gRPC enforces the message limit itself and answers RESOURCE_EXHAUSTED; Kestrel's body cap sits above it so
            // an oversized message gets that answer rather than a reset stream.
            kestrel.Limits.MaxRequestBodySize = Math.Max(1024 * 1024, limits.MaxReceiveMessageBytes * 4L);
            kestrel.Limits.Http2.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
            kestrel.Limits.Http2.MaxRequestHeaderFieldSize = 8 * 1024;
            kestrel.Limits.Http2.HeaderTableSize = 4096;
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromMinutes(2);
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);

            // gRPC is HTTP/2; over plaintext loopback that means prior knowledge, which Kestrel serves only when HTTP/2 is the sole protocol.
            kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                var material = kestrel.ApplicationServices.GetRequiredService<TlsMaterial>();
                https.ServerCertificate = material.ServerCertificate;
                // Pinned rather than left to the OS (CA5398): PCI DSS 4.2.1 needs TLS 1.0/1.1 refused whatever the host's
                // OpenSSL policy says; TransportTests.OpensslHandshake_ProtocolVersion_OnlyModernAccepted proves it.
#pragma warning disable CA5398
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
#pragma warning restore CA5398
                // Asked for, not required at the handshake: a caller without one gets a gRPC UNAUTHENTICATED (audited)
                // instead of a bare connection failure. The authentication handler checks the chain.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
                https.CheckCertificateRevocation = false;
            });
        });

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "TLS client certificate, or the development plaintext loopback caller", policy =>
                policy.ForwardDefaultSelector = context => context.Request.IsHttps ? CertificateAuthenticationDefaults.AuthenticationScheme : InsecureLoopbackScheme)
            .AddCertificate(options =>
            {
                options.AllowedCertificateTypes = CertificateTypes.Chained;
                options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
                options.RevocationMode = X509RevocationMode.NoCheck;
                options.ValidateCertificateUse = true;
                options.ValidateValidityPeriod = true;
                options.Events = new CertificateAuthenticationEvents
                {
                    OnCertificateValidated = context =>
                    {
                        var principal = context.HttpContext.RequestServices.GetRequiredService<CallerDirectory>()
                            .Resolve(context.ClientCertificate, context.Scheme.Name);
                        if (principal is null)
                        {
                            context.Fail(UnmappedCertificate);
                        }
                        else
                        {
                            context.Principal = principal;
                            context.Success();
                        }

                        return Task.CompletedTask;
                    },
                    // The handler's own log lines quote the certificate's subject (peer input) and are silenced
                    // (PeerInputLogFloors): a refused certificate is logged here by its SHA-256 thumbprint only.
                    OnAuthenticationFailed = context =>
                    {
                        var thumbprint = context.HttpContext.Connection.ClientCertificate?.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) ?? "none";
                        var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(ClientCertificateLogCategory);
                        LogClientCertificateRefused(logger, thumbprint, RefusalReason(context.Exception));
                        return Task.CompletedTask;
                    },

                    // The handler's default challenge is 403, which gRPC clients read as PERMISSION_DENIED.
                    OnChallenge = context =>
                    {
                        context.HandleResponse();
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        return Task.CompletedTask;
                    },
                };
            })
            .AddScheme<AuthenticationSchemeOptions, InsecureLoopbackHandler>(InsecureLoopbackScheme, null);
        services.AddSingleton<IPostConfigureOptions<CertificateAuthenticationOptions>, TrustClientCa>();
        services.AddSingleton<ICertificateValidationCache, CertificateValidationResultCache>();

        services.AddAuthorization(options =>
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var caller = context.User.FindFirstValue(ClaimTypes.NameIdentifier)
                    ?? "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = settings.Limits.Burst,
                    TokensPerPeriod = settings.Limits.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            // The default rejection (503) reaches gRPC clients as UNAVAILABLE, which they retry: answer RESOURCE_EXHAUSTED.
            options.OnRejected = (context, _) =>
            {
                // Recorded by CallAuditMiddleware, aggregated per caller and second (a flood must not flood the trail).
                Audit.CallAuditMiddleware.MarkRefused(context.HttpContext, Core.Audit.AuditOutcome.Failure, Core.Errors.ErrorReasons.RateLimited);
                var response = context.HttpContext.Response;
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "application/grpc";
                response.Headers["grpc-status"] = "8";
                response.Headers["grpc-message"] = "rate limit exceeded";
                return ValueTask.CompletedTask;
            };
        });
        return builder;
    }

    /// <summary>Adds authentication, rate limiting and authorisation to the pipeline, in that order.</summary>
    public static WebApplication UseTokenizerSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Requires, per gRPC method, one of the roles <see cref="RpcPolicies"/> lists, or allows it anonymously when it is in
    /// <see cref="RpcPolicies.Anonymous"/>; a method without a policy stops start-up.
    /// </summary>
    public static TBuilder RequireRpcPolicies<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(endpoint =>
        {
            var method = endpoint.Metadata.OfType<GrpcMethodMetadata>().FirstOrDefault();
            if (method is null)
            {
                return;
            }

            // An explicit anonymous entry, never an empty role list (which would mean "any authenticated caller").
            if (RpcPolicies.IsAnonymous(method.Method.FullName))
            {
                endpoint.Metadata.Add(new AllowAnonymousAttribute());
                return;
            }

            endpoint.Metadata.Add(new AuthorizeAttribute { Roles = string.Join(',', RpcPolicies.For(method.Method.FullName)) });
        });
        return builder;
    }

    /// <summary>
    /// Refuses plaintext listen addresses unless <c>Tokenizer:AllowInsecureLoopback</c> is set in Development and every
    /// plaintext address is loopback. The same rule covers <c>Kestrel:Endpoints:{name}:Url</c>, which Kestrel binds
    /// instead of <c>Urls</c>; outside Development <c>Kestrel:Endpoints</c>, <c>Kestrel:EndpointDefaults</c> and
    /// <c>Kestrel:Certificates</c> are refused outright, and in Development an endpoint may set only its Url (its own
    /// TLS protocols, certificate or client-certificate mode would replace the pinned ones). Plaintext ports
    /// (<c>HTTP_PORTS</c>, bound only without Urls) are refused then. Messages name the setting, never the address.
    /// </summary>
    internal static void ValidateListenAddresses(IConfiguration configuration, IHostEnvironment environment, bool allowInsecureLoopback)
    {
        var urls = (configuration["urls"] ?? configuration["Urls"] ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var url in urls)
        {
            ValidateListenAddress("Urls", url, environment, allowInsecureLoopback);
        }

        // Kestrel binds HTTP_PORTS only when no Urls are set (container images set it by default).
        if (urls.Length == 0 && !string.IsNullOrWhiteSpace(configuration["http_ports"]))
        {
            throw new InvalidOperationException("Urls: HTTP_PORTS (plaintext on every interface) is refused; use Urls with https:// addresses");
        }

        var kestrel = configuration.GetSection("Kestrel");
        string[] overrides = ["Endpoints", "EndpointDefaults", "Certificates"];
        if (!environment.IsDevelopment() && overrides.Any(name => kestrel.GetSection(name).GetChildren().Any()))
        {
            throw new InvalidOperationException("Kestrel:Endpoints, Kestrel:EndpointDefaults and Kestrel:Certificates are refused outside Development: they bypass the TLS and address checks; use Urls and Tokenizer:Tls");
        }

        if (kestrel.GetSection("EndpointDefaults").GetChildren().Any() || kestrel.GetSection("Certificates").GetChildren().Any())
        {
            throw new InvalidOperationException("Kestrel:EndpointDefaults and Kestrel:Certificates are refused: they replace the pinned TLS settings; use Tokenizer:Tls");
        }

        foreach (var endpoint in kestrel.GetSection("Endpoints").GetChildren())
        {
            var setting = $"Kestrel:Endpoints:{endpoint.Key}";
            if (endpoint.GetChildren().Any(child => !string.Equals(child.Key, "Url", StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException($"{setting} may set only Url: its own protocols, TLS versions, certificate or client-certificate mode would replace the pinned ones");
            }

            ValidateListenAddress(setting + ":Url", endpoint["Url"] ?? string.Empty, environment, allowInsecureLoopback);
        }
    }

    private static void ValidateListenAddress(string setting, string url, IHostEnvironment environment, bool allowInsecureLoopback)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            throw new InvalidOperationException($"{setting}: every address must be an absolute URL");
        }

        if (uri.Scheme == Uri.UriSchemeHttps)
        {
            return;
        }

        if (!allowInsecureLoopback || !environment.IsDevelopment())
        {
            throw new InvalidOperationException($"{setting}: plaintext (http://) addresses need Tokenizer:AllowInsecureLoopback=true, which is allowed only in Development; use https://");
        }

        if (!(uri.IsLoopback && (uri.Host == "localhost" || IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip))))
        {
            throw new InvalidOperationException($"{setting}: Tokenizer:AllowInsecureLoopback serves plaintext on loopback addresses only");
        }
    }

    /// <summary>A fixed reason for a refused certificate; never the exception's text, which could quote the certificate.</summary>
    private static string RefusalReason(Exception? failure) => failure?.Message switch
    {
        UnmappedCertificate => "not mapped to a caller",
        "Client certificate failed validation." => "chain, validity or usage check failed",
        "Options do not allow self signed certificates." => "self-signed",
        "Options do not allow chained certificates." => "chained certificates not allowed",
        _ => failure?.GetType().Name ?? "unknown",
    };

    [LoggerMessage(EventId = 5201, EventName = "ClientCertificateRefused", Level = LogLevel.Warning,
        Message = "Client certificate refused ({Reason}); SHA-256 thumbprint {Thumbprint}")]
    private static partial void LogClientCertificateRefused(ILogger logger, string thumbprint, string reason);

    /// <summary>Trusts exactly the configured client CA for client certificate chains.</summary>
    private sealed class TrustClientCa(TlsMaterial material) : IPostConfigureOptions<CertificateAuthenticationOptions>
    {
        public void PostConfigure(string? name, CertificateAuthenticationOptions options) =>
            options.CustomTrustStore.Add(material.ClientCa);
    }

    /// <summary>
    /// Development only: a plaintext request from a loopback peer is the <c>insecure-loopback</c> caller with
    /// Tokenizer:InsecureLoopbackRoles. Anything else gets no identity (UNAUTHENTICATED).
    /// </summary>
    private sealed class InsecureLoopbackHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder,
        IOptions<TokenizerOptions> tokenizer,
        IHostEnvironment environment)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var remote = Context.Connection.RemoteIpAddress;
            if (!tokenizer.Value.AllowInsecureLoopback || !environment.IsDevelopment() || Request.IsHttps || remote is null || !IPAddress.IsLoopback(remote))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var principal = CallerDirectory.Principal(InsecureLoopbackCallerId, tokenizer.Value.InsecureLoopbackRoles, Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
        }
    }
}
