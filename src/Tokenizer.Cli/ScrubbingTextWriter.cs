using System.Text;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>
/// Standard output through <see cref="SensitiveDataScrubber"/>, line by line: whatever the server answers or a report
/// holds, a PAN or IBAN in any writing (see <see cref="SensitiveDataDetector"/>) reaches the terminal, a pipe or a file
/// masked. Lines are buffered until their newline (or <see cref="Flush"/>), so a number split across writes is still
/// one line to the scrubber.
/// </summary>
internal sealed class ScrubbingTextWriter(TextWriter inner) : TextWriter, ITerminalWriter
{
    private readonly StringBuilder line = new();

    public override Encoding Encoding => inner.Encoding;

    /// <summary>True when the writer wrapped reaches a terminal (tables then get borders; see <see cref="CliTerminal"/>).</summary>
    public bool IsTerminal => CliTerminal.IsTerminal(inner);

    public override void Write(char value)
    {
        if (value == '\n')
        {
            WriteLineOut();
            return;
        }

        line.Append(value);
    }

    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }

        foreach (var c in value)
        {
            Write(c);
        }
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        WriteLineOut();
    }

    public override void WriteLine() => WriteLineOut();

    public override void Flush()
    {
        if (line.Length > 0)
        {
            inner.Write(Scrub());
        }

        inner.Flush();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
        }

        base.Dispose(disposing);
    }

    private void WriteLineOut()
    {
        // A CR before the newline is part of the line ending, not of the text.
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        inner.WriteLine(Scrub());
    }

    private string Scrub()
    {
        var text = SensitiveDataScrubber.Scrub(line.ToString());
        line.Clear();
        return text;
    }
}
