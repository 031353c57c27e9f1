using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Tokenizer.Server.Telemetry;

namespace Tokenizer.Server.Tests.Telemetry;

/// <summary>OTLP trace export is off unless the standard OTEL_* variables ask for it.</summary>
public sealed class TracingSettingsTests
{
    public static TheoryData<string?, string?, string?, string?, bool> Table() => new()
    {
        // OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_TRACES_EXPORTER, OTEL_SDK_DISABLED => enabled
        { null, null, null, null, false },
        { "http://collector:4318", null, null, null, true },
        { null, "http://collector:4318/v1/traces", null, null, true },
        { null, null, "otlp", null, true },
        { null, null, "OTLP", null, true },
        { "http://collector:4318", null, "none", null, false },
        { "http://collector:4318", null, "console", null, false },
        { "http://collector:4318", null, null, "true", false },
        { null, null, "otlp", "TRUE", false },
        { "http://collector:4318", null, null, "false", true },
        { "  ", null, null, null, false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void OtlpEnabled_Variables_AsTheStandardSays(string? endpoint, string? tracesEndpoint, string? exporter, string? disabled, bool expected)
    {
        // Arrange
        var configuration = Configuration(endpoint, tracesEndpoint, exporter, disabled);

        // Act
        var enabled = TracingServiceCollectionExtensions.OtlpEnabled(configuration);

        // Assert
        Assert.Equal(expected, enabled);
    }

    [Fact]
    public void AddTokenizerTracing_NoOtelVariables_NoTracerProviderAndNoOtlpExporter()
    {
        // Arrange
        var configuration = Configuration(null, null, null, null);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);

        // Act
        services.AddTokenizerTracing(configuration);
        using var provider = services.BuildServiceProvider();

        // Assert
        Assert.Null(provider.GetService<TracerProvider>());
        Assert.DoesNotContain(services, MentionsOtlp);
    }

    [Fact]
    public void AddTokenizerTracing_OtlpEndpoint_TracerProviderWithOtlpExporter()
    {
        // Arrange
        var configuration = Configuration("http://127.0.0.1:4318", null, null, null);
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);

        // Act
        services.AddTokenizerTracing(configuration);
        using var provider = services.BuildServiceProvider();

        // Assert
        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.Contains(services, MentionsOtlp);
    }

    private static bool MentionsOtlp(ServiceDescriptor descriptor) =>
        (descriptor.ServiceType.FullName ?? string.Empty).Contains("Otlp", StringComparison.Ordinal)
        || (descriptor.ServiceType.GenericTypeArguments.Any(t => t.Name.Contains("Otlp", StringComparison.Ordinal)));

    private static IConfiguration Configuration(string? endpoint, string? tracesEndpoint, string? exporter, string? disabled)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                values[key] = value;
            }
        }

        Set("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
        Set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", tracesEndpoint);
        Set("OTEL_TRACES_EXPORTER", exporter);
        Set("OTEL_SDK_DISABLED", disabled);
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }
}
