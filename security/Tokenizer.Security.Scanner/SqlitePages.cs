using System.Buffers.Binary;

namespace Tokenizer.Security.Scanner;

/// <summary>
/// One or more values of a SQLite record to scan on their own: a BLOB alone, or a run of adjacent TEXT values joined by
/// one space (in the database's text encoding), with where each of its bytes lies in the file.
/// </summary>
/// <remarks>
/// A record stores its values back to back with no byte between them, so read as one byte stream a value runs into its
/// neighbours: a random hex id after the word <c>success</c> is no id to the detector (a hex id must start a token), and
/// its digits, and the digit bytes of a random MAC after it, make a Luhn-valid window about once in a hundred records.
/// Joining adjacent text values by one separator keeps what the stream reading found in them (a PAN split over two
/// text columns still chains across one separator) without gluing words and ids into one token.
/// </remarks>
internal sealed class RecordSegment
{
    private readonly List<(int Start, long FileOffset)> pieces = [];
    private readonly List<byte> bytes = [];

    /// <summary>The bytes to scan.</summary>
    public byte[] Bytes => [.. bytes];

    /// <summary>Whether the segment holds no byte yet.</summary>
    public bool IsEmpty => bytes.Count == 0;

    /// <summary>Appends a value's bytes, which lie at <paramref name="fileOffset"/> in the file.</summary>
    public void Add(ReadOnlySpan<byte> value, long fileOffset)
    {
        pieces.Add((bytes.Count, fileOffset));
        foreach (var b in value)
        {
            bytes.Add(b);
        }
    }

    /// <summary>Appends a separator: it belongs to no value and maps to the byte after the value before it.</summary>
    public void AddSeparator(ReadOnlySpan<byte> separator)
    {
        foreach (var b in separator)
        {
            bytes.Add(b);
        }
    }

    /// <summary>The file offset of the segment's byte <paramref name="index"/>.</summary>
    public long FileOffset(int index)
    {
        int low = 0, high = pieces.Count - 1;
        while (low < high)
        {
            var mid = (low + high + 1) >>> 1;
            if (pieces[mid].Start <= index)
            {
                low = mid;
            }
            else
            {
                high = mid - 1;
            }
        }

        return pieces[low].FileOffset + (index - pieces[low].Start);
    }
}

/// <summary>Which SQLite file a stream holds, read from its first bytes (the database header or the WAL header).</summary>
internal sealed record SqliteLayout(bool IsWal, int PageSize, int ReservedBytes, int TextEncoding)
{
    /// <summary>Bytes read to tell: the database header.</summary>
    public const int HeaderLength = 100;

    private const uint WalMagic = 0x377F0682;

    /// <summary>The layout of a database or WAL file, or null for any other file (then read as plain bytes).</summary>
    /// <param name="head">The file's first bytes (up to <see cref="HeaderLength"/>).</param>
    /// <param name="companion">For a WAL, the first bytes of its database (reserved bytes, text encoding), if any.</param>
    public static SqliteLayout? Detect(ReadOnlySpan<byte> head, ReadOnlySpan<byte> companion)
    {
        if (IsDatabaseHeader(head))
        {
            var size = BinaryPrimitives.ReadUInt16BigEndian(head[16..]);
            return ValidPageSize(size == 1 ? 65536 : size) is { } pageSize && head[20] < pageSize - 480
                ? new SqliteLayout(false, pageSize, head[20], Encoding(head))
                : null;
        }

        if (head.Length >= 32 && (BinaryPrimitives.ReadUInt32BigEndian(head) & ~1u) == WalMagic
            && ValidPageSize((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(head[8..]), 65536)) is { } walPageSize)
        {
            var database = IsDatabaseHeader(companion);
            return new SqliteLayout(true, walPageSize, database && companion[20] < walPageSize - 480 ? companion[20] : 0, database ? Encoding(companion) : 1);
        }

        return null;
    }

    private static bool IsDatabaseHeader(ReadOnlySpan<byte> head) => head.Length >= HeaderLength && head.StartsWith("SQLite format 3\0"u8);

    private static int? ValidPageSize(int size) => size is >= 512 and <= 65536 && (size & (size - 1)) == 0 ? size : null;

    /// <summary>1 UTF-8 (also for a new, empty database), 2 UTF-16LE, 3 UTF-16BE.</summary>
    private static int Encoding(ReadOnlySpan<byte> head) => BinaryPrimitives.ReadUInt32BigEndian(head[56..]) is var e and >= 1 and <= 3 ? (int)e : 1;
}

/// <summary>
/// A SQLite database or WAL read page by page: the cells of each b-tree page whose record parses (SQLite's file format,
/// sqlite.org/fileformat2.html) are handed out as <see cref="RecordSegment"/>s and read as zero bytes from the stream;
/// everything else (headers, free space, freeblocks, free and overflow pages, cells that do not parse or whose payload
/// overflows, a torn last page) is read as it is, so a value outside a live record is found as before.
/// </summary>
/// <remarks>
/// Nothing is hidden: every byte zeroed belongs to a record whose values are all handed out, except the cell's and the
/// record's headers (lengths and types: binary). What this gives up is a match across two values of one record that are
/// not adjacent text (a number running from a text value into a BLOB), i.e. exactly what is not text.
/// </remarks>
internal sealed class SqlitePageStream(Stream inner, SqliteLayout layout, List<RecordSegment> segments) : Stream
{
    private const int WalHeaderLength = 32;
    private const int WalFrameHeaderLength = 24;

    private readonly byte[] unit = new byte[layout.PageSize + WalFrameHeaderLength];
    private int unitLength;
    private int unitPosition;
    private long position;
    private bool ended;

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => position;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (unitPosition == unitLength && !LoadUnit())
        {
            return 0;
        }

        var n = Math.Min(count, unitLength - unitPosition);
        Buffer.BlockCopy(unit, unitPosition, buffer, offset, n);
        unitPosition += n;
        position += n;
        return n;
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Reads the next page (database), or the header or next frame (WAL), and zeroes its parsed cells.</summary>
    private bool LoadUnit()
    {
        if (ended)
        {
            return false;
        }

        var start = position;
        var length = !layout.IsWal ? layout.PageSize : start == 0 ? WalHeaderLength : WalFrameHeaderLength + layout.PageSize;
        unitLength = ReadFully(unit.AsSpan(0, length));
        unitPosition = 0;
        if (unitLength < length)
        {
            ended = true; // A torn last page or frame is read as it is.
            return unitLength > 0;
        }

        if (!layout.IsWal)
        {
            var pageNumber = (start / layout.PageSize) + 1;
            Parse(unit.AsSpan(0, length), pageNumber == 1 ? SqliteLayout.HeaderLength : 0, start);
        }
        else if (start > 0)
        {
            var pageNumber = BinaryPrimitives.ReadUInt32BigEndian(unit);
            Parse(unit.AsSpan(WalFrameHeaderLength, layout.PageSize), pageNumber == 1 ? SqliteLayout.HeaderLength : 0, start + WalFrameHeaderLength);
        }

        return true;
    }

    private int ReadFully(Span<byte> target)
    {
        var total = 0;
        while (total < target.Length && inner.Read(target[total..]) is > 0 and var read)
        {
            total += read;
        }

        return total;
    }

    /// <summary>The cells of a b-tree page: table leaf (0x0D), index leaf (0x0A), index interior (0x02).</summary>
    private void Parse(Span<byte> page, int header, long pageOffset)
    {
        var usable = layout.PageSize - layout.ReservedBytes;
        var type = page[header];
        if (type is not (0x02 or 0x0A or 0x0D))
        {
            return; // A table interior page holds no payload; anything else is not a b-tree page.
        }

        var cellsStart = header + (type == 0x02 ? 12 : 8);
        var cells = BinaryPrimitives.ReadUInt16BigEndian(page[(header + 3)..]);
        var contentStart = cellsStart + (2 * cells);
        if (contentStart > usable)
        {
            return;
        }

        // Most payload a cell keeps on its page (beyond it, the payload overflows and the cell is left as it is).
        var maxLocal = type == 0x0D ? usable - 35 : ((usable - 12) * 64 / 255) - 23;
        for (var k = 0; k < cells; k++)
        {
            int cell = BinaryPrimitives.ReadUInt16BigEndian(page[(cellsStart + (2 * k))..]);
            var p = cell + (type == 0x02 ? 4 : 0);
            if (cell < contentStart || p >= usable
                || !TryVarint(page[..usable], ref p, out var payload)
                || (type == 0x0D && !TryVarint(page[..usable], ref p, out _))
                || payload < 1 || payload > maxLocal || p + payload > usable)
            {
                continue;
            }

            var record = page.Slice(p, (int)payload);
            if (TrySplit(record, pageOffset + p) is { } values)
            {
                segments.AddRange(values);
                page[cell..(p + (int)payload)].Clear();
            }
        }
    }

    /// <summary>The record's values as segments, or null when its header does not describe exactly its bytes.</summary>
    private List<RecordSegment>? TrySplit(ReadOnlySpan<byte> record, long recordOffset)
    {
        var p = 0;
        if (!TryVarint(record, ref p, out var headerSize) || headerSize < p || headerSize > record.Length)
        {
            return null;
        }

        var types = new List<long>();
        long total = headerSize;
        while (p < headerSize)
        {
            if (!TryVarint(record[..(int)headerSize], ref p, out var serialType) || serialType is 10 or 11)
            {
                return null;
            }

            types.Add(serialType);
            total += Size(serialType);
            if (total > record.Length)
            {
                return null;
            }
        }

        if (total != record.Length)
        {
            return null;
        }

        ReadOnlySpan<byte> separator = layout.TextEncoding switch { 2 => " \0"u8, 3 => "\0 "u8, _ => " "u8 };
        var result = new List<RecordSegment>();
        RecordSegment? text = null;
        var at = (int)headerSize;
        foreach (var serialType in types)
        {
            var size = (int)Size(serialType);
            var value = record.Slice(at, size);
            if (serialType >= 13 && serialType % 2 == 1)
            {
                if (size > 0)
                {
                    if (text is null)
                    {
                        text = new RecordSegment();
                        result.Add(text);
                    }
                    else
                    {
                        text.AddSeparator(separator);
                    }

                    text.Add(value, recordOffset + at);
                }
            }
            else
            {
                text = null;
                if (serialType >= 12 && size > 0)
                {
                    var blob = new RecordSegment();
                    blob.Add(value, recordOffset + at);
                    result.Add(blob);
                }
            }

            at += size;
        }

        return result;
    }

    /// <summary>Bytes of a value of a serial type (sqlite.org/fileformat2.html, "Record Format").</summary>
    private static long Size(long serialType) => serialType switch
    {
        >= 12 => (serialType - 12) / 2,
        5 => 6,
        6 or 7 => 8,
        >= 1 and <= 4 => serialType,
        _ => 0,
    };

    /// <summary>A SQLite varint (1-9 bytes, big-endian, 7 bits a byte and all 8 of a ninth) at <paramref name="p"/>.</summary>
    private static bool TryVarint(ReadOnlySpan<byte> bytes, ref int p, out long value)
    {
        value = 0;
        for (var i = 0; i < 9; i++)
        {
            if (p >= bytes.Length)
            {
                return false;
            }

            var b = bytes[p++];
            if (i == 8)
            {
                value = (value << 8) | b;
                return value >= 0;
            }

            value = (value << 7) | (long)(b & 0x7F);
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
