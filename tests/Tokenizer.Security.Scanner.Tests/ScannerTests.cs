using System.Text;
using CsCheck;
using Microsoft.Data.Sqlite;

namespace Tokenizer.Security.Scanner.Tests;

/// <summary>The card-data scanner end to end: files, encodings, SQLite and its WAL, allowlist, excludes, exit codes.</summary>
public sealed class ScannerTests : IDisposable
{
    private readonly ScannerHarness files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void Run_PanInTextFile_FindingWithOffsetAndLastFourOnly()
    {
        // Arrange
        var path = files.Write("notes.txt", "order 17\ncard=" + ScannerHarness.Pan + "\n");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", path);

        // Assert
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Findings);
        Assert.EndsWith($":14: PAN ****{ScannerHarness.Pan[^4..]}", line, StringComparison.Ordinal);
        Assert.StartsWith("card-data scan: 1 finding(s) (PAN 1) in 1 file(s)", result.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("-")]
    public void Run_PanWithSeparators_Found(string separator)
    {
        // Arrange
        var pan = ScannerHarness.Pan;
        var formatted = string.Join(separator, pan[..4], pan[4..8], pan[8..12], pan[12..]);
        files.Write("a/b/form.json", "{\"number\":\"" + formatted + "\"}");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Findings, l => l.EndsWith($"form.json:11: PAN ****{pan[^4..]}", StringComparison.Ordinal));
        Assert.DoesNotContain(formatted, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PanInUtf16LeAtEitherAlignment_FoundWithByteOffset()
    {
        // Arrange: one byte of padding shifts the second copy to an odd offset.
        var even = Encoding.Unicode.GetBytes("pan " + ScannerHarness.Pan);
        var odd = Encoding.Unicode.GetBytes("x " + ScannerHarness.OtherPan);
        files.WriteBytes("dump.bin", [.. even, 0xFF, .. odd]);

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Findings, l => l.EndsWith($"dump.bin:8: PAN ****{ScannerHarness.Pan[^4..]} (utf-16le)", StringComparison.Ordinal));
        Assert.Contains(result.Findings, l => l.EndsWith($"dump.bin:{even.Length + 1 + 4}: PAN ****{ScannerHarness.OtherPan[^4..]} (utf-16le)", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_SqliteWalBeforeCheckpoint_FoundInWal_AfterCheckpoint_FoundInDatabase()
    {
        // Arrange: WAL mode, no automatic checkpoint, the connection left open: the row exists only in the WAL.
        var database = files.PathOf("ledger.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString();
        using (var connection = new SqliteConnection(connectionString))
        {
            connection.Open();
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
            Execute(connection, "CREATE TABLE cards (id INTEGER PRIMARY KEY, customer TEXT, note TEXT);");
            using (var insert = connection.CreateCommand())
            {
                insert.CommandText = "INSERT INTO cards (customer, note) VALUES ($customer, $note);";
                insert.Parameters.AddWithValue("$customer", "cust-a");
                insert.Parameters.AddWithValue("$note", "pan " + ScannerHarness.Pan);
                insert.ExecuteNonQuery();
            }

            // Act
            var beforeCheckpoint = ScannerHarness.Run("--no-allowlist", files.Root);

            // Assert
            Assert.Equal(1, beforeCheckpoint.ExitCode);
            Assert.Contains(beforeCheckpoint.Findings, l => l.Contains("ledger.db-wal:", StringComparison.Ordinal) && l.EndsWith("PAN ****" + ScannerHarness.Pan[^4..], StringComparison.Ordinal));
            Assert.DoesNotContain(beforeCheckpoint.Findings, l => l.Contains("ledger.db:", StringComparison.Ordinal));

            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        var afterCheckpoint = ScannerHarness.Run("--no-allowlist", files.Root);
        Assert.Equal(1, afterCheckpoint.ExitCode);
        Assert.Contains(afterCheckpoint.Findings, l => l.Contains("ledger.db:", StringComparison.Ordinal) && l.EndsWith("PAN ****" + ScannerHarness.Pan[^4..], StringComparison.Ordinal));
    }

    [Fact]
    public void Run_SqliteUtf16Database_Found()
    {
        // Arrange
        var database = files.PathOf("utf16.db");
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
        {
            connection.Open();
            Execute(connection, "PRAGMA encoding='UTF-16le'; CREATE TABLE t (v TEXT);");
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t (v) VALUES ($v);";
            insert.Parameters.AddWithValue("$v", ScannerHarness.Pan);
            insert.ExecuteNonQuery();
        }

        // Act
        var result = ScannerHarness.Run("--no-allowlist", database);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Findings, l => l.EndsWith($"PAN ****{ScannerHarness.Pan[^4..]} (utf-16le)", StringComparison.Ordinal));
    }

    [Fact]
    public void Run_CvcNearPanAndValidIban_Reported_InvalidIbanNot()
    {
        // Arrange
        files.Write("log.txt", $"card {ScannerHarness.Pan} exp 12/2031 cvc 987\niban DE75512108001245126199 and typo DE75512108001245126198\n");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Findings, l => l.EndsWith("CVC ***", StringComparison.Ordinal));
        Assert.Contains(result.Findings, l => l.EndsWith("IBAN ****6199", StringComparison.Ordinal));

        // The typo is no IBAN; its digits may still hold a Luhn-valid window, reported as a PAN.
        Assert.DoesNotContain(result.Findings, l => l.EndsWith("IBAN ****6198", StringComparison.Ordinal));
        Assert.DoesNotContain("987", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("DE75512108001245126199", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AccountNumberAfterLabel_Reported()
    {
        // Arrange
        files.Write("export.csv", "routing_number,account_number\n110000000,\"account_number\": 8765432109\n");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(result.Findings, l => l.EndsWith("ACCOUNT ****2109", StringComparison.Ordinal));
        Assert.DoesNotContain("8765432109", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PublishedTestNumbers_DefaultAllowlist_Clean()
    {
        // Arrange: Stripe test cards (with expiry and CVC), test bank numbers, example IBANs.
        files.Write("README.md", """
            echo '{"card":{"number":"4242 4242 4242 4242","exp_month":12,"exp_year":2030,"cvc":"123"}}'
            amex 378282246310005 cvc 1234; decline 4000000000000002
            SEPA AT611904300234573201, DE89 3704 0044 0532 0130 00, GB82WEST12345698765432
            ACH account_number=000123456789, Bacs account_number 00012345
            """);

        // Act
        var allowed = ScannerHarness.Run(files.Root);
        var everything = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(0, allowed.ExitCode);
        Assert.StartsWith("card-data scan: clean;", allowed.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("; 0 allowlisted", allowed.Summary, StringComparison.Ordinal);
        Assert.Equal(1, everything.ExitCode);
        Assert.True(everything.Findings.Count >= 9, everything.Output);
        Assert.DoesNotContain("4242424242424242", everything.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AllowlistFile_OnlyListedValuesIgnored()
    {
        // Arrange
        var allowlist = files.Write("allow/list.txt", "# ours\n" + ScannerHarness.Pan[..8] + " " + ScannerHarness.Pan[8..] + "   # made up\n");
        var data = files.Write("data/file.txt", ScannerHarness.Pan + " and " + ScannerHarness.OtherPan);

        // Act
        var result = ScannerHarness.Run("--allowlist", allowlist, data);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("PAN ****" + ScannerHarness.OtherPan[^4..], Assert.Single(result.Findings), StringComparison.Ordinal);
        Assert.Contains("1 allowlisted", result.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Excludes_PathsUnderDirectoryArgumentSkipped()
    {
        // Arrange
        files.Write("tests/Fixture.cs", ScannerHarness.Pan);
        files.Write("src/App/bin/Debug/app.dll", ScannerHarness.Pan);
        files.Write("src/App/obj/cache", ScannerHarness.Pan);
        files.Write("src/robin/keep.txt", "clean");
        files.Write(".git/objects/pack", ScannerHarness.Pan);
        files.Write("src/App/image.png", ScannerHarness.Pan);
        files.Write("src/App/Kept.cs", ScannerHarness.OtherPan);

        // Act
        var result = ScannerHarness.Run(
            "--no-allowlist", "--exclude", "tests/**", "--exclude", "**/bin/**", "--exclude", "**/obj/**", "--exclude", ".git/**", "--exclude", "*.png", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.EndsWith("Kept.cs:0: PAN ****" + ScannerHarness.OtherPan[^4..], Assert.Single(result.Findings), StringComparison.Ordinal);
        Assert.Contains("2 file(s)", result.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_PanAcrossChunkBoundary_FoundOnce()
    {
        // Arrange: the PAN starts 8 bytes before the end of the first chunk.
        var offset = CardDataScanner.ChunkSize + CardDataScanner.Overlap - 8;
        var bytes = new byte[offset + ScannerHarness.Pan.Length + 4096];
        Array.Fill(bytes, (byte)'.');
        Encoding.ASCII.GetBytes(ScannerHarness.Pan).CopyTo(bytes, offset);
        files.WriteBytes("big.log", bytes);

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.EndsWith($"big.log:{offset}: PAN ****{ScannerHarness.Pan[^4..]}", Assert.Single(result.Findings), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_EmptyLockFileHeldExclusively_ScannedCleanWhileALockedFileWithContentIsUnreadable()
    {
        // Arrange: a running service's lock file (the sandbox's .lock: empty, opened FileShare.None).
        var lockPath = files.Write("data/sandbox/.lock", string.Empty);
        using var held = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        files.Write("data/notes.txt", "nothing here");

        // Act
        var clean = ScannerHarness.Run("--no-allowlist", files.PathOf("data"));
        var lockedWithContent = files.Write("other/held.bin", "x");
        using var heldWithContent = new FileStream(lockedWithContent, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var control = ScannerHarness.Run("--no-allowlist", files.PathOf("other"));

        // Assert: the lock is real (a file with content behind it cannot be read), the empty one is skipped as empty.
        Assert.True(clean.ExitCode == 0, clean.Output + clean.Error);
        Assert.Contains("2 file(s)", clean.Summary, StringComparison.Ordinal);
        Assert.Equal(2, control.ExitCode);
    }

    [Fact]
    public void Run_NoCardData_ExitZero()
    {
        // Arrange
        files.Write("clean.txt", "token pm_1Nv0dBAsd7ZnDMfh, last4 4242, 2025-11-20T10:11:12Z, 0f8fad5b-d9cb-469f-a165-70867728950e");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Findings);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--exclude")]
    [InlineData("--allowlist")]
    public void Run_BadUsage_ExitTwo(string arg)
    {
        // Act
        var result = ScannerHarness.Run(arg);

        // Assert
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NoPath_ExitTwo()
    {
        // Act
        var result = ScannerHarness.Run("--no-allowlist");

        // Assert
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public void Run_MissingPath_ExitTwoEvenWithFindings()
    {
        // Arrange
        var present = files.Write("present.txt", ScannerHarness.Pan);

        // Act
        var result = ScannerHarness.Run("--no-allowlist", present, files.PathOf("missing"));

        // Assert
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Findings);
        Assert.Contains("no such file or directory", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_MissingOrMalformedAllowlist_ExitTwo()
    {
        // Arrange
        var malformed = files.Write("allow.txt", "4242 4242 4242 4242\nnot/a number\n");

        // Act
        var missing = ScannerHarness.Run("--allowlist", files.PathOf("nope.txt"), files.Root);
        var bad = ScannerHarness.Run("--allowlist", malformed, files.Root);

        // Assert
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("line 2", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Help_ExitZeroWithUsage()
    {
        // Act
        var result = ScannerHarness.Run("--help");

        // Assert
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("usage:", result.Error, StringComparison.Ordinal);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Theory]
    [InlineData("utf8")]
    [InlineData("utf16")]
    public void Run_SeparatedAndUnicodePans_Reported(string encoding)
    {
        // Arrange: the review's writings of one PAN, in a file as UTF-8 or UTF-16LE.
        const string text = "ref 4663_9233_2146_8814 | name ４６６３９２３３２１４６８８１４ | thin 4663\u20099233\u20092146\u20098814 | ok\n";
        var bytes = encoding == "utf8" ? System.Text.Encoding.UTF8.GetBytes(text) : System.Text.Encoding.Unicode.GetBytes(text);
        files.WriteBytes("data.bin", bytes);

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.True(3 == result.Findings.Count(l => l.Contains("PAN ****8814", StringComparison.Ordinal)), result.Output);
        Assert.DoesNotContain("4663", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("utf8", 4)]
    [InlineData("utf16", 8)]
    public void Run_PanInNumbersWrittenAsOneCharacter_ReportedFromTheCharHoldingItsFirstDigit(string encoding, int offset)
    {
        // Arrange: 44 5 32 0 15 11 28 30 36 6, i.e. 4 then 4532015112830366: the PAN starts at ㊹'s second digit.
        const string text = "ref ㊹⑤㉜⓪⑮⑪㉘㉚㊱⑥ | ok\n";
        var bytes = encoding == "utf8" ? System.Text.Encoding.UTF8.GetBytes(text) : System.Text.Encoding.Unicode.GetBytes(text);
        files.WriteBytes("notes.bin", bytes);

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Findings);
        Assert.Contains($"notes.bin:{offset}: PAN ****", line, StringComparison.Ordinal);
        Assert.DoesNotContain("㊹", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SqliteRowsOfTimestampsGuidsAndHexIds_NoFinding_PanInSameTableFound()
    {
        // Values the ledger writes as text, each in a record of its own (a NULL rowid alias, then the value), so the byte
        // right before a value is its serial type: a letter for a 26-28 char ISO date-time (A, C, E, as in
        // schema_migrations.applied_at), a GUID (U) and a 32-char id (M). About one such date-time in four holds a
        // Luhn-valid window once that letter is read as glued to it. (Adjacent text columns of one record are glued
        // with no byte between them: the scanner reads them as one text, so the ledger keeps its numbers in INTEGER
        // columns, which SQLite stores in binary.)
        var dateTime = Gen.Select(Gen.Long[0, TimeSpan.TicksPerDay * 365 * 20], Gen.Int[5, 7], (ticks, digits) =>
            new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(ticks)
                .ToString("yyyy-MM-dd'T'HH:mm:ss." + new string('f', digits) + "'Z'", System.Globalization.CultureInfo.InvariantCulture));
        var digitHeavyHex = Gen.Frequency((7, Gen.Char['0', '9']), (1, Gen.Char['a', 'f'])).Array[32]
            .Select(chars => new string(chars).Remove(31) + "f");
        var row = Gen.Select(dateTime, digitHeavyHex, digitHeavyHex, (at, guid, hex) =>
            (At: at, Guid: guid.Insert(20, "-").Insert(16, "-").Insert(12, "-").Insert(8, "-"), Hex: hex));

        row.List[100, 200].Sample(
            rows =>
            {
                // Arrange
                var database = files.PathOf($"ledger-{Guid.NewGuid():N}.db");
                var connectionString = new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString();
                using (var connection = new SqliteConnection(connectionString))
                {
                    connection.Open();
                    Execute(connection, "PRAGMA secure_delete = ON;"); // as the ledger's connections (SqliteDatabase)
                    Execute(connection, "CREATE TABLE migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);");
                    Execute(connection, "CREATE TABLE guids (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE ids (id INTEGER PRIMARY KEY, v TEXT);");
                    using var transaction = connection.BeginTransaction();
                    foreach (var (at, guid, hex) in rows)
                    {
                        using var insert = connection.CreateCommand();
                        insert.Transaction = transaction;
                        insert.CommandText = "INSERT INTO migrations (applied_at) VALUES ($at); INSERT INTO guids (v) VALUES ($guid); INSERT INTO ids (v) VALUES ($hex);";
                        insert.Parameters.AddWithValue("$at", at);
                        insert.Parameters.AddWithValue("$guid", guid);
                        insert.Parameters.AddWithValue("$hex", hex);
                        insert.ExecuteNonQuery();
                    }

                    transaction.Commit();
                }

                // Act
                var clean = ScannerHarness.Run("--no-allowlist", database);
                using (var connection = new SqliteConnection(connectionString))
                {
                    connection.Open();
                    using var insert = connection.CreateCommand();
                    insert.CommandText = "INSERT INTO ids (v) VALUES ($pan);";
                    insert.Parameters.AddWithValue("$pan", ScannerHarness.Pan);
                    insert.ExecuteNonQuery();
                }

                var control = ScannerHarness.Run("--no-allowlist", database);

                // Assert
                Assert.True(clean.ExitCode == 0, clean.Output);
                Assert.Equal(1, control.ExitCode);
                Assert.Contains(control.Findings, l => l.EndsWith("PAN ****" + ScannerHarness.Pan[^4..], StringComparison.Ordinal));
            },
            iter: 10);
    }

    [Fact]
    public void Run_IsoTimestampsGuidsAndHexIdsNextToNumbers_NoFinding()
    {
        // Arrange: what the server and the repository hold, chained by separators a PAN window would otherwise cross: runs
        // of two or more separators (table cells, list items) end a number when scanning.
        files.Write("server.log", "{\"Timestamp\":\"2026-12-06T20:35:53.1234567+00:00\",\"EventId\":12,\"TraceId\":\"0af7651916cd43dd8448eb211c80319c\"}\n"
            + "last4 4242, 2026-12-06 20:35:53Z, 12345678-1234-1234-1234-123456789012 at 20:35:53.1234567\n"
            + "| echo | 500/s | 0 ms | 500.0 | 2.77 | 3.20 | 3.48 | 6.07 | 9.4 | 0 | 303 | 106.3 | 11 |\n"
            + "StatusCodes = [409, 429, 500, 502, 503, 504];\n");

        // Act
        var result = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>
    /// The audit trail's shape (outcome, correlation id, two MACs, key id) with what the server writes: system records
    /// carry a W3C trace id (32 random lower-case hex chars), glued in the record to the outcome before it and the MAC
    /// after it; and the privacy store's shape (record id, ciphertext). About one trace id in a hundred holds a Luhn-valid
    /// run of 12 or more digits, which the scanner used to report: a hex id glued to a word does not start a token.
    /// </summary>
    [Fact]
    public void Run_SqliteAuditTraceIdsAndRandomCiphertexts_NoFinding_PanInTextColumnFound()
    {
        // Arrange: fixed seed, so a failure is reproducible; 1,500 records hold about fifteen such trace ids.
        var random = new SeededBytes("scanflake-20261207");
        var database = files.PathOf("ledger.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString();
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA secure_delete = ON;");
        Execute(connection, "CREATE TABLE audit_events (sequence INTEGER PRIMARY KEY, action TEXT NOT NULL, outcome TEXT NOT NULL, correlation_id TEXT NOT NULL, prev_mac BLOB NOT NULL, mac BLOB NOT NULL, key_id TEXT) STRICT;");
        Execute(connection, "CREATE TABLE privacy_personal_data (subject TEXT NOT NULL, record_id TEXT NOT NULL, ciphertext BLOB NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (subject, record_id)) STRICT;");
        using (var transaction = connection.BeginTransaction())
        {
            var mac = new byte[32];
            for (var i = 0; i < 1500; i++)
            {
                var next = random.Next(32);
                using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO audit_events (action, outcome, correlation_id, prev_mac, mac, key_id) VALUES ('configuration/service_stopped', 'success', $trace, $prev, $mac, 'oehiedmoealdjjfg');
                    INSERT INTO privacy_personal_data VALUES ('subj_haaielknhniipgiimhhdhgofjchpdmim', $record, $ciphertext, 1796682254967976);
                    """;
                insert.Parameters.AddWithValue("$trace", Convert.ToHexStringLower(random.Next(16)));
                insert.Parameters.AddWithValue("$prev", mac);
                insert.Parameters.AddWithValue("$mac", next);
                insert.Parameters.AddWithValue("$record", "pm_" + string.Concat(random.Next(24).Select(b => Base62[b % 62])));
                insert.Parameters.AddWithValue("$ciphertext", random.Next(29 + random.Next(1)[0]));
                insert.ExecuteNonQuery();
                mac = next;
            }

            transaction.Commit();
        }

        // Act: every page in the WAL (no checkpoint yet), then in the database alone.
        var inWal = ScannerHarness.Run("--no-allowlist", files.Root);
        var walLength = new FileInfo(database + "-wal").Length;
        Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        var inDatabase = ScannerHarness.Run("--no-allowlist", files.Root);

        // Control: a PAN in a text column of the same table is found, in the WAL and, once checkpointed, in the database.
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT INTO audit_events (action, outcome, correlation_id, prev_mac, mac) VALUES ('x', 'success', $pan, zeroblob(32), zeroblob(32));";
            insert.Parameters.AddWithValue("$pan", ScannerHarness.Pan);
            insert.ExecuteNonQuery();
        }

        var controlInWal = ScannerHarness.Run("--no-allowlist", files.Root);
        connection.Dispose(); // the last connection's close checkpoints the WAL into the database and deletes it
        var controlInDatabase = ScannerHarness.Run("--no-allowlist", files.Root);

        // Assert
        Assert.True(inWal.ExitCode == 0 && walLength > 500_000, inWal.Output);
        Assert.True(inDatabase.ExitCode == 0, inDatabase.Output);
        var wal = Assert.Single(controlInWal.Findings);
        Assert.Matches(@"ledger\.db-wal:\d+: PAN \*\*\*\*" + ScannerHarness.Pan[^4..] + "$", wal);
        var stored = Assert.Single(controlInDatabase.Findings);
        Assert.Matches(@"ledger\.db:\d+: PAN \*\*\*\*" + ScannerHarness.Pan[^4..] + "$", stored);
    }

    /// <summary>
    /// The ways a PAN can sit in a SQLite database that record-by-record reading must still find: whole in a text value, in
    /// separator form inside JSON, split over two adjacent text columns, as bytes in a BLOB, as UTF-16LE inside a UTF-8
    /// text value, in the free space of a row deleted without secure_delete, and in a value so long it overflows its page.
    /// </summary>
    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    [InlineData("split")]
    [InlineData("blob")]
    [InlineData("utf16")]
    [InlineData("deleted")]
    [InlineData("overflow")]
    public void Run_SqlitePanStoredAnyWay_Found(string how)
    {
        // Arrange
        var pan = ScannerHarness.Pan;
        var database = files.PathOf("store.db");
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString()))
        {
            connection.Open();
            Execute(connection, "PRAGMA secure_delete = OFF; CREATE TABLE t (id INTEGER PRIMARY KEY, outcome TEXT, a TEXT, b TEXT, mac BLOB);");
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t (outcome, a, b, mac) VALUES ('success', $a, $b, $mac);";
            object a = how switch
            {
                "text" or "deleted" => pan,
                "json" => "{\"ref\":\"" + string.Join("-", pan[..4], pan[4..8], pan[8..12], pan[12..]) + "\"}",
                "split" => pan[..8],
                "utf16" => string.Concat(pan.Select(c => c + "\0")),
                "overflow" => new string('x', 9000) + " " + pan + " " + new string('y', 9000),
                _ => "none",
            };
            insert.Parameters.AddWithValue("$a", a);
            insert.Parameters.AddWithValue("$b", how == "split" ? pan[8..] : "z");
            insert.Parameters.AddWithValue("$mac", how == "blob" ? Encoding.ASCII.GetBytes(pan) : new byte[32]);
            insert.ExecuteNonQuery();
            Execute(connection, "INSERT INTO t (outcome, a, b, mac) VALUES ('success', 'kept', 'row', zeroblob(32));");
            if (how == "deleted")
            {
                Execute(connection, "DELETE FROM t WHERE id = 1;");
            }
        }

        // Act
        var result = ScannerHarness.Run("--no-allowlist", database);

        // Assert
        Assert.True(result.ExitCode == 1, result.Output);
        Assert.Contains(result.Findings, l => l.StartsWith(database + ":", StringComparison.Ordinal) && l.Contains("PAN ****" + pan[^4..], StringComparison.Ordinal));
    }

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>Reproducible bytes that look random (SHA-256 of a seed and a counter): a failing sample can be replayed.</summary>
    private sealed class SeededBytes(string seed)
    {
        private long counter;

        public byte[] Next(int count)
        {
            var bytes = new byte[count];
            for (var written = 0; written < count; written += 32)
            {
                var block = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(seed + ":" + counter++));
                block.AsSpan(0, Math.Min(32, count - written)).CopyTo(bytes.AsSpan(written));
            }

            return bytes;
        }
    }
}
