using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Tokenizer.Ledger.Postgres;

namespace Tokenizer.Ledger.PostgresTests;

/// <summary>How the PostgreSQL ledger connects: TLS as the connection string asks, no parameter values in logs, no error detail.</summary>
public sealed class PostgresConnectionTests : IAsyncLifetime
{
    private readonly CapturingLoggerProvider logs = new();
    private readonly ILoggerFactory loggerFactory;
    private readonly PostgresTestDatabase database;
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));

    public PostgresConnectionTests()
    {
        loggerFactory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        database = new PostgresTestDatabase(loggerFactory);
    }

    public Task InitializeAsync() => database.CreateAsync();

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        loggerFactory.Dispose();
    }

    [Fact]
    public async Task InitializeAsync_VerifyFullAgainstTheServersCertificate_EveryConnectionUsesTls()
    {
        // Arrange
        var connectionString = database.ConnectionStringWith(b =>
        {
            b.SslMode = SslMode.VerifyFull;
            b.RootCertificate = ServerCertificate();
            b.ApplicationName = "tokenizer-tls-test";
        });
        await using var ledger = new PostgresTokenLedger(new PostgresLedgerOptions { ConnectionString = connectionString }, clock, NullLoggerFactory.Instance);

        // Act: the pool keeps the connection open afterwards, so the server still shows it.
        await ledger.InitializeAsync(CancellationToken.None);
        await ledger.Customers.SaveCustomerAsync("stripe", "ref_tls", "cus_tls", clock.GetUtcNow(), CancellationToken.None);
        var sessions = await database.QueryAsync(
            """
            SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
            WHERE a.datname = current_database() AND a.application_name = 'tokenizer-tls-test'
            """,
            r => r.GetBoolean(0));

        // Assert
        Assert.Equal(SslMode.VerifyFull, ledger.SslMode);
        Assert.NotEmpty(sessions);
        Assert.All(sessions, Assert.True);
    }

    [Fact]
    public async Task InitializeAsync_VerifyFullWithoutTrustingTheServersCertificate_RefusesToConnect()
    {
        // Arrange: the cluster's certificate is self-signed, so the system's roots do not vouch for it.
        var connectionString = database.ConnectionStringWith(b => b.SslMode = SslMode.VerifyFull);
        await using var ledger = new PostgresTokenLedger(new PostgresLedgerOptions { ConnectionString = connectionString }, clock, NullLoggerFactory.Instance);

        // Act
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ledger.InitializeAsync(CancellationToken.None));

        // Assert: a TLS authentication failure, and nothing was created.
        Assert.Contains(Chain(error), e => e is AuthenticationException);
        Assert.Empty(await database.QueryAsync("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", r => r.GetString(0)));
    }

    [Fact]
    public async Task Operations_LoggedAtTrace_NeverCarryParameterValues()
    {
        // Arrange
        const string Reference = "ref_Distinctive7f3aQ";
        const string CustomerId = "cus_Distinctive91bcZ";
        var ledger = database.CreateLedger(clock);

        // Act
        await ledger.InitializeAsync(CancellationToken.None);
        await ledger.Customers.SaveCustomerAsync("stripe", Reference, CustomerId, clock.GetUtcNow(), CancellationToken.None);
        Assert.Equal(CustomerId, await ledger.Customers.FindCustomerAsync("stripe", Reference, CancellationToken.None));

        // Assert: Npgsql logged the statements (the positive control), never their values.
        var text = logs.Text();
        Assert.Contains("INSERT INTO customers", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Reference, text, StringComparison.Ordinal);
        Assert.DoesNotContain(CustomerId, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ConnectionStringAsksForErrorDetail_DetailStaysOff()
    {
        // Act: no connection is opened.
        using var ledger = new PostgresTokenLedger(
            new PostgresLedgerOptions { ConnectionString = "Host=127.0.0.1;Database=x;Include Error Detail=true" }, clock, NullLoggerFactory.Instance);

        // Assert
        var effective = new NpgsqlConnectionStringBuilder(ledger.Database.DataSource.ConnectionString);
        Assert.False(effective.IncludeErrorDetail);
        Assert.Equal("tokenizer", effective.ApplicationName);
        Assert.Equal(SslMode.Prefer, ledger.SslMode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Host=127.0.0.1;Port=not-a-port;Password=hunter2-secret")]
    [InlineData("Host=127.0.0.1;NoSuchSetting=hunter2-secret")]
    public void Constructor_EmptyOrMalformedConnectionString_ThrowsNamingTheSettingNotItsValue(string connectionString)
    {
        // Act
        var error = Assert.Throws<ArgumentException>(() => new PostgresTokenLedger(
            new PostgresLedgerOptions { ConnectionString = connectionString }, clock, NullLoggerFactory.Instance));

        // Assert
        Assert.Contains("ConnectionStrings:Ledger", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
    }

    private static string ServerCertificate() =>
        Environment.GetEnvironmentVariable(PostgresTestDatabase.CaVariable) is { Length: > 0 } path
            ? path
            : throw new InvalidOperationException(
                $"{PostgresTestDatabase.CaVariable} is not set: start the cluster with scripts/postgres.sh (scripts/test.sh does).");

    private static IEnumerable<Exception> Chain(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
        {
            yield return error;
        }
    }
}

/// <summary>Keeps every log entry: its message, exception and structured values, as text.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly List<string> entries = [];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public string Text()
    {
        lock (entries)
        {
            return string.Join('\n', entries);
        }
    }

    public void Dispose()
    {
    }

    private void Add(string entry)
    {
        lock (entries)
        {
            entries.Add(entry);
        }
    }

    private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(' ', pairs.Select(p => p.Key + "=" + p.Value))
                : string.Empty;
            provider.Add($"{category} {logLevel} {formatter(state, exception)} {values} {exception}");
        }
    }
}
