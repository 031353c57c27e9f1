using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;
using Microsoft.Extensions.Logging.Console;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Server.Logging;

/// <summary>The server's logging: classified values redacted, one console sink whose every line is scrubbed.</summary>
public static class TokenizerLoggingExtensions
{
    /// <summary>
    /// Replaces every logging provider with the redacting, scrubbing setup:
    /// <list type="number">
    /// <item>redaction enabled (<c>EnableRedaction</c>): parameters classified with the <see cref="TokenizerTaxonomy"/>
    /// attributes go through their redactor before any provider sees them; card, bank, personal and secret data are
    /// erased, <see cref="TokenizerTaxonomy.PublicData"/> passes unchanged, anything else classified is erased;</item>
    /// <item>one console sink whose formatter is <c>tokenizer-json</c> (the JSON console shape, one line per entry,
    /// every value through <see cref="SensitiveDataScrubber"/>);</item>
    /// <item>the <see cref="PeerInputLogFloors"/>: framework categories that quote peer input are held above the levels
    /// where they do, whatever the configuration says.</item>
    /// </list>
    /// Formatter options bind from <c>Logging:Console:FormatterOptions</c>; scopes are off by default.
    /// </summary>
    /// <param name="builder">The host's logging builder.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is null.</exception>
    public static ILoggingBuilder AddTokenizerLogging(this ILoggingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ClearProviders();

        // The discriminator (the tag name appended before redacting) only matters to hashing redactors; with erasing
        // ones it would leak into PublicData values.
        builder.EnableRedaction(redaction => redaction.ApplyDiscriminator = false);
        builder.Services.AddRedaction(redaction =>
        {
            redaction.SetRedactor<ErasingRedactor>([.. TokenizerTaxonomy.Sensitive.Select(c => new DataClassificationSet(c))]);
            redaction.SetRedactor<NullRedactor>(new DataClassificationSet(TokenizerTaxonomy.PublicData));
            redaction.SetFallbackRedactor<ErasingRedactor>();
        });

#pragma warning disable RS0030 // Console sinks are banned in src so that this, the scrubbing one, is the only one.
        builder.AddConsole(console => console.FormatterName = ScrubbingJsonConsoleFormatter.FormatterName);
#pragma warning restore RS0030
        builder.AddConsoleFormatter<ScrubbingJsonConsoleFormatter, ScrubbingJsonConsoleFormatterOptions>(json => json.IncludeScopes = false);

        // Framework events that quote peer input never reach the sink, whatever the configured levels.
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IPostConfigureOptions<LoggerFilterOptions>, PeerInputLogFloors.Enforce>();
        return builder;
    }
}
