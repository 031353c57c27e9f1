using Npgsql;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// A database of its own on the throwaway PostgreSQL cluster scripts/test.sh starts (<see cref="Variable"/>), dropped
/// (with its connections) when disposed. Without the cluster a test fails naming the variable: it never skips.
/// </summary>
internal sealed class ThrowawayPostgresDatabase : IAsyncDisposable
{
    /// <summary>The environment variable holding the cluster's superuser connection string.</summary>
    public const string Variable = "TOKENIZER_TEST_POSTGRES";

    private readonly string server;

    private ThrowawayPostgresDatabase(string server, string name)
    {
        this.server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }

    /// <summary>The database's name: the prefix and 12 random hex digits.</summary>
    public string Name { get; }

    /// <summary>A connection string to this database (as the cluster's superuser).</summary>
    public string ConnectionString { get; }

    /// <summary>Creates a database named <paramref name="prefix"/> and 12 random hex digits.</summary>
    public static async Task<ThrowawayPostgresDatabase> CreateAsync(string prefix)
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        Assert.False(string.IsNullOrEmpty(server), $"{Variable} is not set: run scripts/test.sh, which starts a throwaway PostgreSQL cluster");
        var database = new ThrowawayPostgresDatabase(server!, prefix + Guid.NewGuid().ToString("N")[..12]);
        await using var admin = NpgsqlDataSource.Create(server!);
        await using var create = admin.CreateCommand($"CREATE DATABASE {database.Name}");
        await create.ExecuteNonQueryAsync();
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        await using var admin = NpgsqlDataSource.Create(server);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }
}
