using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Errors;
using Tokenizer.Ledger;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Grpc;

namespace Tokenizer.Server.Tests.Audit;

/// <summary>
/// A real Kestrel server on a loopback port with the audit wiring exactly as the host should have it: the audit
/// interceptor registered before (outside) the error-mapping interceptor, AddTokenizerAudit, AuditService mapped, and
/// optionally a header-based test authentication scheme so the authorization middleware denies calls.
/// </summary>
internal sealed class AuditTestServer : IAsyncDisposable
{
    public const string CallerHeader = "x-test-caller";
    public const string RoleHeader = "x-test-role";

    private readonly WebApplication app;

    private AuditTestServer(WebApplication app, string root, string databasePath, string address)
    {
        this.app = app;
        RootDirectory = root;
        DatabasePath = databasePath;
        Address = address;
        Channel = GrpcChannel.ForAddress(address);
    }

    /// <summary>The audit key the server signs with.</summary>
    public static byte[] Key { get; } = Encoding.ASCII.GetBytes("end-to-end-audit-key-0123456789abcdef");

    public string RootDirectory { get; }

    public string DatabasePath { get; }

    /// <summary>The server's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Address { get; }

    public GrpcChannel Channel { get; }

    public TokenizerService.TokenizerServiceClient Tokenizer => new(Channel);

    public AuditService.AuditServiceClient Audit => new(Channel);

    public static async Task<AuditTestServer> StartAsync(bool withAuthentication = false)
    {
        // No digits in the folder name: a run of a GUID's hex digits can pass Luhn, and the CLI's --out refuses such paths.
        var root = Path.Combine(Path.GetTempPath(), "tokenizer-audit-e2e", string.Concat(Guid.NewGuid().ToString("N").Select(c => char.IsAsciiDigit(c) ? (char)('g' + (c - '0')) : c)));
        var databasePath = Path.Combine(root, "ledger", "tokenizer.db");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));

        // The wiring under test, as TokenizerServiceCollectionExtensions should have it.
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<CallContextInterceptor>();
            grpc.Interceptors.Add<AuditInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
        });
        builder.Services.AddTokenizerLedger(builder.Configuration, _ => new SqliteLedgerOptions { DatabasePath = databasePath }, _ => Key);
        builder.Services.AddTokenizerAudit();
        // Its two start-up steps, in StartupSequence's order (the host's sequence is not composed here).
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditStartup>());
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RefusedCallAudit>());

        if (withAuthentication)
        {
            builder.Services.AddAuthentication("Test").AddScheme<AuthenticationSchemeOptions, HeaderAuthenticationHandler>("Test", null);
            builder.Services.AddAuthorization();
        }

        var app = builder.Build();
        app.UseCallAudit();
        if (withAuthentication)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }

        var tokenizer = app.MapGrpcService<StubTokenizerService>();
        var audit = app.MapGrpcService<AuditGrpcService>();
        if (withAuthentication)
        {
            tokenizer.RequireAuthorization();
            audit.RequireAuthorization(policy => policy.RequireRole("admin"));
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new AuditTestServer(app, root, databasePath, address);
    }

    /// <summary>Stops the host (recording service_stopped) without deleting the files.</summary>
    public Task StopAsync() => app.StopAsync();

    /// <summary>Every stored record, read from the database file (works after <see cref="StopAsync"/>).</summary>
    public async Task<List<StoredRecord>> ReadAllAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT caller_id, action, outcome, reason, correlation_id FROM audit_events ORDER BY sequence";
        await using var reader = await command.ExecuteReaderAsync();
        var records = new List<StoredRecord>();
        while (await reader.ReadAsync())
        {
            records.Add(new StoredRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4)));
        }

        return records;
    }

    internal sealed record StoredRecord(string CallerId, string Action, string Outcome, string? Reason, string CorrelationId);

    /// <summary>Runs SQL on the database file directly, as someone with file access could.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    /// <summary>A TokenizerService with fixed answers: pm_known exists, everything else is NOT_FOUND.</summary>
    private sealed class StubTokenizerService : TokenizerService.TokenizerServiceBase
    {
        public override Task<GetTokenResponse> GetToken(GetTokenRequest request, global::Grpc.Core.ServerCallContext context) =>
            request.Token == "pm_known"
                ? Task.FromResult(new GetTokenResponse { Token = new Token { Token_ = "pm_known" } })
                : throw new TokenizerException(ErrorKind.NotFound, ErrorReasons.TokenNotFound, "token not found");

        public override Task<TokenizeCardResponse> TokenizeCard(TokenizeCardRequest request, global::Grpc.Core.ServerCallContext context) =>
            Task.FromResult(new TokenizeCardResponse { Token = new Token { Token_ = "pm_new" } });
    }

    /// <summary>Authenticates <c>x-test-caller</c> (NameIdentifier) with the roles in <c>x-test-role</c>; no header, no user.</summary>
    private sealed class HeaderAuthenticationHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(CallerHeader, out var caller))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, caller.ToString()) };
            claims.AddRange(Request.Headers[RoleHeader].Select(role => new Claim(ClaimTypes.Role, role!)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
        }
    }
}
