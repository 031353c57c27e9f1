using System.Text.Json;
using Google.Protobuf;

namespace Tokenizer.Cli.Reports;

/// <summary>
/// The JSON report, for machines: one object <c>{"reconciliation": ..., "counts": [...], "dailyCounts": [...],
/// "items": [...]}</c> with the proto3 JSON names of tokenizer.v1 (camelCase), items streamed page by page.
/// </summary>
public static class JsonReport
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>Writes the report to <paramref name="stream"/>; returns the items written.</summary>
    public static async Task<long> WriteAsync(ReconciliationReportSource source, Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WritePropertyName("reconciliation");
        json.WriteRawValue(Formatter.Format(source.Summary.Reconciliation));
        json.WriteStartArray("counts");
        foreach (var count in source.Summary.Counts)
        {
            json.WriteRawValue(Formatter.Format(count));
        }

        json.WriteEndArray();
        json.WriteStartArray("dailyCounts");
        foreach (var day in source.Summary.DailyCounts)
        {
            json.WriteRawValue(Formatter.Format(day));
        }

        json.WriteEndArray();
        json.WriteStartArray("items");
        var items = 0L;
        await foreach (var item in source.Items(null).WithCancellation(cancellationToken))
        {
            json.WriteRawValue(Formatter.Format(item));
            items++;
            if (json.BytesPending > 64 * 1024)
            {
                await json.FlushAsync(cancellationToken);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
        return items;
    }
}
