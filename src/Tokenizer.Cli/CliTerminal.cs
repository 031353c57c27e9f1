using Spectre.Console;
using Spectre.Console.Rendering;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>A writer that knows whether it reaches a terminal (the scrubbing standard output; a test's stand-in).</summary>
internal interface ITerminalWriter
{
    /// <summary>True when what is written reaches a terminal, not a pipe, file or buffer.</summary>
    bool IsTerminal { get; }
}

/// <summary>
/// Tables and the progress bar through Spectre.Console, on an <see cref="IAnsiConsole"/> over the CLI's own writers (never
/// <see cref="Console"/> directly, so standard output stays behind <see cref="ScrubbingTextWriter"/>). Each stream is
/// judged on its own: on a terminal, bordered tables and a live bar with ANSI sequences; anywhere else (a pipe, a file,
/// a test's buffer) plain lines, without escape sequences, borders, wrapping or trailing spaces. Cells are always
/// <see cref="Text"/>, never markup: a value such as <c>[red]</c> or <c>[/]</c> prints as written.
/// </summary>
internal static class CliTerminal
{
    // Wide enough that no plain line is ever wrapped: a script reads one record per line.
    private const int PlainWidth = 1 << 20;

    private const int DefaultTerminalWidth = 80;

    private const int DefaultTerminalHeight = 24;

    /// <summary>True when <paramref name="writer"/> reaches a terminal: standard output or error, not redirected.</summary>
    public static bool IsTerminal(TextWriter writer) => writer switch
    {
        ITerminalWriter terminal => terminal.IsTerminal,
        _ when ReferenceEquals(writer, Console.Out) => !Console.IsOutputRedirected,
        _ when ReferenceEquals(writer, Console.Error) => !Console.IsErrorRedirected,
        _ => false,
    };

    /// <summary>
    /// A console over <paramref name="writer"/>: on a terminal with ANSI and colours as the environment allows
    /// (<c>NO_COLOR</c>, <c>TERM</c>) and interactive; otherwise no ANSI, no colour, not interactive, and never wrapping.
    /// </summary>
    public static IAnsiConsole Create(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Yes : InteractionSupport.No,
        });

        // Spectre sees our writer, not the console, so it cannot ask the terminal's size itself (it can answer a height of
        // -1, on which its live display fails).
        console.Profile.Width = terminal ? Size(() => Console.WindowWidth, DefaultTerminalWidth) : PlainWidth;
        console.Profile.Height = Size(() => Console.WindowHeight, DefaultTerminalHeight);
        return console;
    }

    /// <summary>
    /// Name/value rows as two columns (<c>name  value</c>, names padded to the longest); on a terminal, in a bordered table.
    /// </summary>
    public static void WriteFields(TextWriter output, IEnumerable<(string Name, string Value)> rows) =>
        WriteTable(output, headers: null, rows.Select(row => new[] { row.Name, row.Value }), gap: 2);

    /// <summary>
    /// Rows under <paramref name="headers"/> (none: no header line), columns as wide as their widest cell and
    /// <paramref name="gap"/> spaces apart; on a terminal, in a bordered table with the same cells.
    /// </summary>
    public static void WriteTable(TextWriter output, IReadOnlyList<string>? headers, IEnumerable<string[]> rows, int gap = 1)
    {
        var cells = rows.ToList();
        var count = headers?.Count ?? (cells.Count == 0 ? 0 : cells.Max(row => row.Length));
        if (count == 0)
        {
            return;
        }

        var terminal = IsTerminal(output);
        var table = new Table().Border(terminal ? TableBorder.Rounded : TableBorder.None);
        for (var i = 0; i < count; i++)
        {
            // The first column holds a name or an id (a token to copy): on a terminal the others wrap, never it.
            var column = new TableColumn(new Text(headers?[i] ?? string.Empty)) { NoWrap = terminal && i == 0 };
            table.AddColumn(terminal ? column : column.Padding(0, 0, i == count - 1 ? 0 : gap, 0));
        }

        if (headers is null)
        {
            table.HideHeaders();
        }

        foreach (var row in cells)
        {
            // On a terminal a long value wraps at the window's width, and the scrubbing writer sees one line at a time:
            // each value is masked before the layout can split it.
            table.AddRow(Enumerable.Range(0, count).Select(i => (IRenderable)new Text(
                i >= row.Length ? string.Empty : terminal ? SensitiveDataScrubber.Scrub(row[i]) : row[i])));
        }

        var console = Create(output, terminal);
        if (terminal)
        {
            console.Write(table);
            return;
        }

        // Spectre pads every cell to its column's width: trailing spaces are noise to a script (sed, read, cut).
        var segments = ((IRenderable)table).Render(RenderOptions.Create(console, console.Profile.Capabilities), PlainWidth);
        foreach (var line in Segment.SplitLines(segments))
        {
            output.WriteLine(string.Concat(line.Where(segment => !segment.IsControlCode).Select(segment => segment.Text)).TrimEnd());
        }
    }

    private static int Size(Func<int> read, int fallback)
    {
        try
        {
            return read() is > 0 and var size ? size : fallback;
        }
        catch (IOException)
        {
            return fallback;
        }
    }
}
