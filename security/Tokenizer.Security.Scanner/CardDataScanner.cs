using Tokenizer.Core.Redaction;

namespace Tokenizer.Security.Scanner;

/// <summary>
/// Scans the raw bytes of one file for card and bank data with <see cref="SensitiveDataDetector"/>
/// (<see cref="SensitiveDataDetectorOptions.Scanning"/>): PANs, CVCs near PANs, mod-97-valid IBANs, labelled account
/// numbers. Every file is read as bytes, text or not (logs, dumps, SQLite databases and their WAL): as UTF-8 (one char
/// per byte, so digits of any script and Unicode separators count, and bytes that are not text end a number) and as
/// UTF-16LE at both byte alignments. In a SQLite database or WAL (told by its header) each record of a b-tree page is
/// read value by value instead (<see cref="SqlitePageStream"/>): adjacent text values joined by one space, each BLOB on
/// its own, each the same three ways; the rest of the file (free space, deleted rows, overflow pages) as bytes.
/// </summary>
/// <remarks>
/// Files are read in chunks of <see cref="ChunkSize"/> bytes with <see cref="Overlap"/> bytes of context on each side,
/// so memory stays bounded and a value across a chunk boundary is found once. Values on the allowlist are not
/// reported, nor are PAN candidates that overlap an allowlisted one (a test card followed by its expiry), nor CVCs
/// whose only nearby PANs are allowlisted. A PAN inside a longer digit run is found (every Luhn-valid window).
/// Why records are read by value: a record keeps its values back to back, so read as one stream a random 32-hex trace id
/// in the audit trail is glued to the word before it (no longer an id the detector exempts) and to the MAC bytes after
/// it, and its digits made a Luhn-valid window in about one record in a hundred: the security check's rare finding.
/// </remarks>
internal sealed class CardDataScanner(Allowlist allowlist)
{
    /// <summary>Bytes per chunk.</summary>
    public const int ChunkSize = 1 << 20;

    /// <summary>Bytes of context before and after a chunk; far more than any match and its labels need.</summary>
    public const int Overlap = 1024;

    private readonly byte[] buffer = new byte[ChunkSize + (2 * Overlap)];
    private readonly char[] chars = new char[ChunkSize + (2 * Overlap)];
    private readonly List<SensitiveDataMatch> matches = [];

    /// <summary>Allowlisted values seen so far (not reported).</summary>
    public int AllowlistedCount { get; private set; }

    /// <summary>Reads <paramref name="path"/> and returns its findings ordered by offset.</summary>
    /// <param name="path">The file to read (opened shared, so a live database can be scanned).</param>
    /// <param name="displayPath">The path to print in findings.</param>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public IReadOnlyList<Finding> Scan(string path, string displayPath)
    {
        using var stream = Open(path);
        var layout = SqliteLayout.Detect(Head(stream), path.EndsWith("-wal", StringComparison.Ordinal) ? CompanionHead(path[..^4]) : []);
        stream.Position = 0;
        if (layout is null)
        {
            return Scan(stream, displayPath);
        }

        var segments = new List<RecordSegment>();
        using var pages = new SqlitePageStream(stream, layout, segments);
        return Scan(pages, displayPath, segments);
    }

    /// <summary>Scans a stream from its current position; offsets count from there.</summary>
    public IReadOnlyList<Finding> Scan(Stream stream, string displayPath) => Scan(stream, displayPath, null);

    /// <summary>
    /// Scans a stream and, after each chunk, the record values <paramref name="segments"/> received while it was read
    /// (a <see cref="SqlitePageStream"/>), each on its own.
    /// </summary>
    private List<Finding> Scan(Stream stream, string displayPath, List<RecordSegment>? segments)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var findings = new List<Finding>();
        var seen = new HashSet<(long, SensitiveDataKind, TextEncoding)>();
        long bufferStart = 0;
        var count = 0;
        var first = true;
        while (true)
        {
            var endOfFile = Fill(stream, ref count);
            var ownedStart = first ? 0 : bufferStart + Overlap;
            var ownedEnd = endOfFile ? bufferStart + count : bufferStart + count - Overlap;
            var start = bufferStart;
            ScanBytes(buffer.AsSpan(0, count), i => start + i, ownedStart, ownedEnd, displayPath, findings, seen);
            if (segments is not null)
            {
                foreach (var segment in segments)
                {
                    ScanBytes(segment.Bytes, segment.FileOffset, long.MinValue, long.MaxValue, displayPath, findings, seen);
                }

                segments.Clear();
            }

            if (endOfFile)
            {
                break;
            }

            // Keep the last 2 * Overlap bytes: the context before the next owned range and that range's first bytes.
            var keep = 2 * Overlap;
            Buffer.BlockCopy(buffer, count - keep, buffer, 0, keep);
            bufferStart += count - keep;
            count = keep;
            first = false;
        }

        findings.Sort((a, b) => a.Offset != b.Offset ? a.Offset.CompareTo(b.Offset) : a.Kind.CompareTo(b.Kind));
        return findings;
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);

    private static byte[] Head(Stream stream)
    {
        var head = new byte[SqliteLayout.HeaderLength];
        var total = 0;
        while (total < head.Length && stream.Read(head, total, head.Length - total) is > 0 and var read)
        {
            total += read;
        }

        return head[..total];
    }

    /// <summary>The first bytes of a WAL's database, for its reserved bytes and text encoding; empty when unreadable.</summary>
    private static byte[] CompanionHead(string databasePath)
    {
        try
        {
            using var database = Open(databasePath);
            return Head(database);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private bool Fill(Stream stream, ref int count)
    {
        while (count < buffer.Length)
        {
            var read = stream.Read(buffer, count, buffer.Length - count);
            if (read == 0)
            {
                return true;
            }

            count += read;
        }

        return false;
    }

    /// <summary>
    /// Scans <paramref name="bytes"/> as UTF-8 and as UTF-16LE at both alignments; <paramref name="fileOffset"/> maps a
    /// byte index to its offset in the file.
    /// </summary>
    private void ScanBytes(
        ReadOnlySpan<byte> bytes, Func<int, long> fileOffset, long ownedStart, long ownedEnd, string displayPath, List<Finding> findings, HashSet<(long, SensitiveDataKind, TextEncoding)> seen)
    {
        var count = bytes.Length;

        // Every kind needs a digit: the byte 0x30-0x39 in ASCII or UTF-16, or a digit of another script, non-ASCII.
        if (bytes.IndexOfAnyInRange((byte)'0', (byte)'9') < 0 && bytes.IndexOfAnyInRange((byte)0x80, (byte)0xFF) < 0)
        {
            return;
        }

        var view = count <= chars.Length ? chars : new char[count];
        Utf8View(bytes, view);

        ScanView(view.AsSpan(0, count), fileOffset, TextEncoding.Ascii, ownedStart, ownedEnd, displayPath, findings, seen);

        // UTF-16LE digits have a zero high byte; without any zero byte there is no UTF-16 text to read.
        if (bytes.IndexOf((byte)0) < 0)
        {
            return;
        }

        for (var alignment = 0; alignment < 2; alignment++)
        {
            var length = (count - alignment) / 2;
            for (var i = 0; i < length; i++)
            {
                view[i] = (char)(bytes[alignment + (2 * i)] | (bytes[alignment + (2 * i) + 1] << 8));
            }

            var shift = alignment;
            ScanView(view.AsSpan(0, length), offset => fileOffset(shift + (2 * offset)), TextEncoding.Utf16Le, ownedStart, ownedEnd, displayPath, findings, seen);
        }
    }

    /// <summary>
    /// One char per byte, so offsets stay byte offsets: ASCII as is; a valid UTF-8 sequence as its char (a surrogate
    /// pair for a supplementary one) at its first byte(s) and U+FFFF after, which the scanning preset skips; any other
    /// byte as U+0000, which it reads as the end of a number.
    /// </summary>
    private static void Utf8View(ReadOnlySpan<byte> bytes, char[] chars)
    {
        var i = 0;
        while (i < bytes.Length)
        {
            if (bytes[i] < 0x80)
            {
                chars[i] = (char)bytes[i];
                i++;
                continue;
            }

            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                chars[i] = '\0';
                i++;
                continue;
            }

            var written = rune.EncodeToUtf16(chars.AsSpan(i, 2));
            chars.AsSpan(i + written, consumed - written).Fill('\uFFFF');
            i += consumed;
        }
    }

    private void ScanView(
        ReadOnlySpan<char> text,
        Func<int, long> byteOffset,
        TextEncoding encoding,
        long ownedStart,
        long ownedEnd,
        string displayPath,
        List<Finding> findings,
        HashSet<(long, SensitiveDataKind, TextEncoding)> seen)
    {
        matches.Clear();
        SensitiveDataDetector.Find(text, SensitiveDataDetectorOptions.Scanning, matches);
        if (matches.Count == 0)
        {
            return;
        }

        // PAN candidates on the allowlist, and every candidate overlapping one, are test data.
        var pans = matches.FindAll(m => m.Kind == SensitiveDataKind.Pan);
        var onList = new List<SensitiveDataMatch>();
        foreach (var pan in pans)
        {
            if (allowlist.Contains(pan.Normalised(text)))
            {
                onList.Add(pan);
            }
        }

        var allowedRegions = Merge(onList);
        var reportedPans = Merge(pans.Where(m => !Overlaps(allowedRegions, m.Start, m.End)));
        var allowedPans = Merge(pans.Where(m => Overlaps(allowedRegions, m.Start, m.End)));

        var report = new List<SensitiveDataMatch>(reportedPans);
        var suppressed = new List<SensitiveDataMatch>(allowedPans);
        foreach (var match in matches)
        {
            var near = (Start: match.Start - SensitiveDataDetector.CvcLabelPanDistance, End: match.End + SensitiveDataDetector.CvcLabelPanDistance);
            switch (match.Kind)
            {
                case SensitiveDataKind.Pan:
                    break;
                case SensitiveDataKind.Cvc when !Overlaps(reportedPans, near.Start, near.End) && Overlaps(allowedPans, near.Start, near.End):
                case SensitiveDataKind.Iban or SensitiveDataKind.AccountNumber when allowlist.Contains(match.Normalised(text)):
                    suppressed.Add(match);
                    break;
                default:
                    report.Add(match);
                    break;
            }
        }

        foreach (var match in report)
        {
            var offset = byteOffset(match.Start);
            if (offset >= ownedStart && offset < ownedEnd && seen.Add((offset, match.Kind, encoding)))
            {
                findings.Add(new Finding(displayPath, offset, match.Kind, Mask(match, text), encoding));
            }
        }

        // Allowlisted values count where they start, like findings, so each is counted once across chunks.
        AllowlistedCount += suppressed.Count(m => byteOffset(m.Start) >= ownedStart && byteOffset(m.Start) < ownedEnd);
    }

    /// <summary>Overlapping PAN candidates (ordered by start) as disjoint ranges ordered by start.</summary>
    private static List<SensitiveDataMatch> Merge(IEnumerable<SensitiveDataMatch> pans)
    {
        var merged = new List<SensitiveDataMatch>();
        foreach (var match in pans)
        {
            if (merged.Count > 0 && match.Start < merged[^1].End)
            {
                var last = merged[^1];
                merged[^1] = last with { Length = Math.Max(last.End, match.End) - last.Start };
            }
            else
            {
                merged.Add(match);
            }
        }

        return merged;
    }

    /// <summary>True when [start, end) overlaps one of the disjoint ranges ordered by start (binary search).</summary>
    private static bool Overlaps(List<SensitiveDataMatch> ranges, int start, int end)
    {
        int low = 0, high = ranges.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (ranges[mid].End <= start)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low < ranges.Count && ranges[low].Start < end;
    }

    private static string Mask(SensitiveDataMatch match, ReadOnlySpan<char> text)
    {
        if (match.Kind == SensitiveDataKind.Cvc)
        {
            return "***";
        }

        var lastFour = match.LastFour(text);
        return lastFour.Length == 0 ? "****" : "****" + lastFour;
    }
}
