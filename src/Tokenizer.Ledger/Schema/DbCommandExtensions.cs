using System.Data.Common;

namespace Tokenizer.Ledger.Schema;

/// <summary>Provider-neutral commands, parameter binding and column reading.</summary>
internal static class DbCommandExtensions
{
    /// <summary>A command enlisted in <paramref name="transaction"/>.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Callers pass LedgerSql constants only; every value travels as a bound parameter (Ledger.Tests: filters with quotes).")]
    public static DbCommand Command(this DbTransaction transaction, string sql)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>A command on <paramref name="connection"/> outside any transaction (reads).</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Callers pass LedgerSql constants only; every value travels as a bound parameter (Ledger.Tests: filters with quotes).")]
    public static DbCommand Command(this DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    /// <summary>
    /// Runs <paramref name="command"/> and maps every row with <paramref name="map"/>, in order. The map reads columns
    /// by ordinal; the reader is only valid during the call.
    /// </summary>
    /// <returns>The mapped rows; empty when the query returns none.</returns>
    public static async Task<List<T>> QueryAsync<T>(this DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(map);
        var rows = new List<T>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    /// <summary>
    /// Runs <paramref name="command"/> and maps its first row with <paramref name="map"/>; further rows are not read.
    /// </summary>
    /// <returns>The mapped first row, or <paramref name="none"/> when the query returns no row.</returns>
    public static async Task<T> QueryFirstAsync<T>(this DbCommand command, Func<DbDataReader, T> map, T none, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(map);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? map(reader) : none;
    }

    /// <summary>Runs one statement that returns no rows inside <paramref name="transaction"/>.</summary>
    public static async Task ExecuteAsync(this DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = transaction.Command(sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds <c>@name</c> = <paramref name="value"/>; null binds SQL NULL.</summary>
    public static DbCommand Bind(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>The string in column <paramref name="ordinal"/>, or null.</summary>
    public static string? GetNullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>The integer in column <paramref name="ordinal"/>, or null.</summary>
    public static long? GetNullableInt64(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}
