using System.Data.Common;

namespace Tokenizer.Ledger.Schema;

/// <summary>Provider-neutral parameter binding and column reading.</summary>
internal static class DbCommandExtensions
{
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
