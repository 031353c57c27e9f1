using Tokenizer.Core.Redaction;

namespace Tokenizer.Security.Scanner;

/// <summary>How the bytes of a finding were read.</summary>
internal enum TextEncoding
{
    /// <summary>One byte per char: ASCII, UTF-8, Latin-1 and binary files with ASCII runs.</summary>
    Ascii,

    /// <summary>Two bytes per char, little-endian (.NET strings in memory dumps, SQLite UTF-16 databases).</summary>
    Utf16Le,
}

/// <summary>
/// One finding: where it is and a masked form of what it is. It never holds the value itself, only the masked
/// last four (for values long enough that four digits do not give them away).
/// </summary>
/// <param name="Path">The file, as printed.</param>
/// <param name="Offset">Byte offset of the first char of the match in the file.</param>
/// <param name="Kind">What was found.</param>
/// <param name="Masked">The printable form: <c>****4242</c>, <c>***</c> for a CVC, <c>****</c> for a short account number.</param>
/// <param name="Encoding">How the bytes were read.</param>
internal sealed record Finding(string Path, long Offset, SensitiveDataKind Kind, string Masked, TextEncoding Encoding)
{
    /// <summary>The output line: <c>path:offset: KIND masked</c>, with <c>(utf-16le)</c> for two-byte text.</summary>
    public override string ToString() =>
        $"{Path}:{Offset}: {KindName(Kind)} {Masked}{(Encoding == TextEncoding.Utf16Le ? " (utf-16le)" : string.Empty)}";

    /// <summary>The upper-case name printed for a kind.</summary>
    public static string KindName(SensitiveDataKind kind) => kind switch
    {
        SensitiveDataKind.Pan => "PAN",
        SensitiveDataKind.Cvc => "CVC",
        SensitiveDataKind.Iban => "IBAN",
        _ => "ACCOUNT",
    };
}
