using CsCheck;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The CLI's input rules over generated inputs: files named with card numbers, dates that
/// are not ISO 8601, periods, leftover output files, misspelled subcommands and stdin JSON errors.
/// </summary>
public sealed class CliInputRuleTests(CliFixture files) : IClassFixture<CliFixture>
{
    private const string OutRule = "error: --out: must not contain a card or bank account number";

    // Luhn-valid card numbers of 13-19 digits, written with one of the separators people put in file names.
    private static readonly Gen<string> CardNumbers = Gen.Select(Gen.Int[12, 18], Gen.Int[0, int.MaxValue], Gen.OneOfConst(string.Empty, "-", "_", " ", "."))
        .Select((length, seed, separator) =>
        {
            var digits = new int[length + 1];
            var state = (uint)seed;
            digits[0] = 4;
            for (var i = 1; i < length; i++)
            {
                state = (state * 1103515245) + 12345;
                digits[i] = (int)((state >> 16) % 10);
            }

            var sum = 0;
            for (var i = length - 1; i >= 0; i--)
            {
                var d = digits[i];
                if ((length - 1 - i) % 2 == 0)
                {
                    d *= 2;
                    d = d > 9 ? d - 9 : d;
                }

                sum += d;
            }

            digits[length] = (10 - (sum % 10)) % 10;
            var text = string.Concat(digits);
            return string.Join(separator, text.Chunk(4).Select(c => new string(c)));
        });

    private static readonly Gen<string> NotIso = Gen.OneOf(
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 28], Gen.Int[1970, 2099]).Select((m, d, y) => $"{m:00}/{d:00}/{y}"),
        Gen.Select(Gen.OneOfConst("Jan", "Dec", "December"), Gen.Int[1, 28], Gen.Int[1970, 2099]).Select((m, d, y) => $"{m} {d} {y}"),
        Gen.Select(Gen.Int[1970, 2099], Gen.Int[1, 12], Gen.Int[1, 28]).Select((y, m, d) => $"{y}-{m:00}-{d:00}T10:00:00"),
        Gen.Select(Gen.Int[1970, 2099], Gen.Int[1, 12], Gen.Int[1, 28]).Select((y, m, d) => $"{y}-{m:00}-{d:00} 10:00Z"),
        Gen.Select(Gen.Int[1970, 2099], Gen.Int[1, 12], Gen.Int[1, 28]).Select((y, m, d) => $"{y}/{m:00}/{d:00}"),
        Gen.Select(Gen.Int[1970, 2099], Gen.Int[1, 12], Gen.Int[1, 28]).Select((y, m, d) => $"{d:00}.{m:00}.{y}"),
        Gen.OneOfConst("2026-12-07T10:00:00z", "\u0662\u0660\u0662\u0666-12-07", "2026-12-7", "+2026-12-07", "2026-12-07T10Z", "Mon, 07 Dec 2026 10:00:00 GMT"));

    private static readonly Gen<string> Iso = Gen.Select(
            Gen.Int[1970, 2099], Gen.Int[1, 12], Gen.Int[1, 28], Gen.Int[0, 23], Gen.Int[0, 59], Gen.Int[0, 4], Gen.OneOfConst("Z", "+00:00", "+05:30", "-08:00"))
        .Select((y, m, d, h, min, shape, zone) => shape switch
        {
            0 => $"{y}-{m:00}-{d:00}",
            1 => $"{y}-{m:00}-{d:00}T{h:00}:{min:00}{zone}",
            2 => $"{y}-{m:00}-{d:00}T{h:00}:{min:00}:30{zone}",
            3 => $"{y}-{m:00}-{d:00}T{h:00}:{min:00}:30.1234567{zone}",
            _ => $"{y}-{m:00}-{d:00}T{h:00}:{min:00}:30.5{zone}",
        });

    [Fact]
    public async Task EveryOutOption_PathHoldingACardNumber_ExitTwoOneLineNothingCreated()
    {
        // Arrange: each command that creates a file, with a generated card number in the file's or a folder's name.
        string[][] commands =
        [
            ["audit", "export", "--from", "2026-11-01", "--to", "2026-11-02"],
            ["reconcile", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "csv"],
            ["privacy", "export", "--customer", "c-1"],
        ];
        var cases = Gen.Select(Gen.Int[0, commands.Length - 1], CardNumbers, Gen.Bool);

        // Act and assert
        await cases.SampleAsync(
            async (which, number, inFolder) =>
            {
                var path = inFolder ? Path.Combine(files.Root, "x" + number, "out.txt") : Path.Combine(files.Root, "x" + number + ".txt");
                var (code, output, error) = await CliFixture.RunAsync(
                    string.Empty, null, [.. commands[which], "--out", path, "--server", files.ClosedAddress, "--pki", files.Pki]);
                Assert.Equal(2, code);
                Assert.Equal(OutRule, error.TrimEnd('\r', '\n'));
                Assert.Empty(output);
                Assert.False(File.Exists(path) || Directory.Exists(Path.GetDirectoryName(path)!) && inFolder);
            },
            iter: 60,
            threads: 1);
    }

    [Fact]
    public async Task EveryOutOption_PathWithoutANumber_ReachesTheCall()
    {
        // Control: the same commands with a plain name get past usage and fail only on the closed port (exit 1).
        string[][] commands =
        [
            ["audit", "export", "--from", "2026-11-01", "--to", "2026-11-02"],
            ["reconcile", "--from", "2026-11-01", "--to", "2026-11-02", "--format", "csv"],
            ["privacy", "export", "--customer", "c-1"],
        ];
        foreach (var command in commands)
        {
            var (code, _, error) = await CliFixture.RunAsync(
                string.Empty, null, [.. command, "--out", files.NewPath("txt"), "--server", files.ClosedAddress, "--pki", files.Pki]);
            Assert.True(code == 1, error);
            Assert.Contains("cannot connect", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EveryDateOption_NotIso8601_ExitTwoNamingTheOption()
    {
        // Arrange: US-style, month names, date-times without a zone, other separators and digits.
        var options = Gen.OneOfConst(("audit", "--from"), ("audit", "--to"), ("reconcile", "--from"), ("reconcile", "--to"));

        // Act and assert
        await Gen.Select(options, NotIso).SampleAsync(
            async (option, value) =>
            {
                var (command, name) = option;
                var other = name == "--from" ? "--to" : "--from";
                string[] args = command == "audit"
                    ? ["audit", "export", name, value, other, name == "--from" ? "2099-12-31" : "1970-01-01"]
                    : ["reconcile", name, value, other, name == "--from" ? "2099-12-31" : "1970-01-01", "--format", "csv", "--out", files.NewPath("csv")];
                var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, [.. args, "--server", files.ClosedAddress, "--pki", files.Pki]);
                Assert.True(code == 2, $"{value}: {error}");
                Assert.StartsWith($"error: {name}: expected an ISO 8601 date", error, StringComparison.Ordinal);
            },
            iter: 80,
            threads: 1);
    }

    [Fact]
    public async Task EveryDateOption_Iso8601_Accepted()
    {
        // Control: dates and zoned date-times get past usage (exit 1: nothing listens), both as --from and as --to.
        await Iso.SampleAsync(
            async value =>
            {
                var audit = await CliFixture.RunAsync(
                    string.Empty, null, "audit", "export", "--from", "1900-01-01", "--to", value, "--server", files.ClosedAddress, "--pki", files.Pki);
                var reconcile = await CliFixture.RunAsync(
                    string.Empty, null, "reconcile", "--from", value, "--to", "2100-01-01", "--format", "csv", "--out", files.NewPath("csv"), "--server", files.ClosedAddress, "--pki", files.Pki);
                Assert.True(audit.ExitCode == 1, $"{value}: {audit.Error}");
                Assert.True(reconcile.ExitCode is 1 or 2, $"{value}: {reconcile.Error}");
                Assert.DoesNotContain("ISO 8601", reconcile.Error, StringComparison.Ordinal);
            },
            iter: 40,
            threads: 1);
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("reconcile")]
    public async Task Period_ToBeforeFrom_ExitTwoBeforeAnyCallNoFileLeft(string command)
    {
        // Act: nothing listens; a check after the call would say "cannot connect" and leave the file behind.
        var path = files.NewPath("out");
        string[] args = command == "audit"
            ? ["audit", "export", "--from", "2026-12-07", "--to", "2026-12-06", "--out", path]
            : ["reconcile", "--from", "2026-12-07", "--to", "2026-12-06", "--format", "csv", "--out", path];
        var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, [.. args, "--server", files.ClosedAddress, "--pki", files.Pki]);

        // Assert
        Assert.Equal(2, code);
        Assert.StartsWith("error: --to: must be after --from", error, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("reconcile")]
    public async Task Period_SameDayAsFromAndTo_IsOneDayNotRefused(string command)
    {
        // Act: --to names the last day, inclusive, in both commands (control for the test above).
        string[] args = command == "audit"
            ? ["audit", "export", "--from", "2026-12-06", "--to", "2026-12-06"]
            : ["reconcile", "--from", "2026-12-06", "--to", "2026-12-06", "--format", "csv", "--out", files.NewPath("csv")];
        var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, [.. args, "--server", files.ClosedAddress, "--pki", files.Pki]);

        // Assert
        Assert.True(code == 1, error);
        Assert.Contains("cannot connect", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("audit")]
    [InlineData("privacy")]
    [InlineData("reconcile")]
    public async Task Out_CommandFailsAfterCreatingIt_FileRemovedSoTheRetryIsNotRefused(string command)
    {
        // Arrange
        var path = files.NewPath("out");
        string[] args = command switch
        {
            "audit" => ["audit", "export", "--from", "2026-12-01", "--to", "2026-12-06", "--out", path],
            "privacy" => ["privacy", "export", "--customer", "c-1", "--out", path],
            _ => ["reconcile", "--from", "2026-12-01", "--to", "2026-12-06", "--format", "csv", "--out", path],
        };

        // Act: twice, as a user retrying would.
        var first = await CliFixture.RunAsync(string.Empty, null, [.. args, "--server", files.ClosedAddress, "--pki", files.Pki]);
        var retry = await CliFixture.RunAsync(string.Empty, null, [.. args, "--server", files.ClosedAddress, "--pki", files.Pki]);

        // Assert
        Assert.True(first.ExitCode == 1, $"exit {first.ExitCode}: {first.Error}");
        Assert.False(File.Exists(path));
        Assert.True(retry.ExitCode == 1, $"exit {retry.ExitCode}: {retry.Error}");
        Assert.DoesNotContain("already exists", retry.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Out_ExistingFile_RefusedAndKept()
    {
        // Control: the removal is of the file this run created only; an existing file is refused and left as it was.
        var (code, _, error) = await CliFixture.RunAsync(
            string.Empty, null, "audit", "export", "--out", files.ExistingFile, "--server", files.ClosedAddress, "--pki", files.Pki);

        Assert.Equal(2, code);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal("keep", await File.ReadAllTextAsync(files.ExistingFile));
    }

    [Fact]
    public async Task Subcommand_MisspelledWord_NamedWithTheValidOnes()
    {
        // Arrange: words of letters and dashes that are no subcommand of the group.
        (string Group, string Expected)[] groups =
        [
            ("audit", "verify, export"),
            ("tokens", "list, watch, events"),
            ("token", "get, revoke"),
            ("tokenize", "card, bank"),
            ("privacy", "export, correct, erase, status"),
        ];
        var words = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz-"], 1, 12]
            .Where(w => char.IsAsciiLetter(w[0]) && w is not ("verify" or "export" or "list" or "watch" or "events" or "get" or "revoke" or "card" or "bank" or "correct" or "erase" or "status"));

        // Act and assert
        await Gen.Select(Gen.Int[0, groups.Length - 1], words).SampleAsync(
            async (which, word) =>
            {
                var (group, expected) = groups[which];
                var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, group, word, "--server", files.ClosedAddress);
                Assert.Equal(2, code);
                Assert.Equal($"error: {group}: unknown command '{word}'; expected one of: {expected}", error.TrimEnd('\r', '\n'));
            },
            iter: 60,
            threads: 1);
    }

    [Fact]
    public async Task Subcommand_WordWithDigits_NotEchoed()
    {
        // Arrange: words that could be card data (digits anywhere), among them a card number.
        var words = Gen.OneOf(CardNumbers, Gen.String[Gen.Char["abc0123456789-_/"], 1, 20].Where(w => w.Any(char.IsAsciiDigit) && w[0] != '-'));

        // Act and assert
        await words.SampleAsync(
            async word =>
            {
                var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "audit", word);
                Assert.Equal(2, code);
                Assert.Equal("error: audit: unknown command (not shown); expected one of: verify, export", error.TrimEnd('\r', '\n'));
                Assert.DoesNotContain(word, output + error, StringComparison.Ordinal);
            },
            iter: 60,
            threads: 1);
    }

    [Fact]
    public async Task Subcommand_Missing_SaysOneIsRequired()
    {
        // Act
        var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, "audit", "--server", files.ClosedAddress);

        // Assert
        Assert.Equal(2, code);
        Assert.Equal("error: audit: a command is required; expected one of: verify, export", error.TrimEnd('\r', '\n'));
    }

    [Theory]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":\"x4111111111111111\"}}", "stdin: card.exp_month: expected a number")]
    [InlineData("{\"card\":{\"number\":4111111111111111}}", "stdin: card.number: expected a string")]
    [InlineData("{\"card\":{\"exp_year\":2030.5}}", "stdin: card.exp_year: expected a whole number")]
    [InlineData("{\"card\":{\"exp_month\":99999999999}}", "stdin: card.exp_month: number out of range")]
    [InlineData("{\"card\":\"4111111111111111\"}", "stdin: card: expected an object")]
    [InlineData("{\"card\":{\"4111111111111111\":1}}", "stdin: card: unknown field (not shown)")]
    [InlineData("{\"card\":{\"numbr\":\"4111111111111111\"}}", "stdin: card: unknown field 'numbr'")]
    [InlineData("{\"billing_details\":{\"address\":{\"line1\":[4111111111111111]}}}", "stdin: billing_details.address.line1: expected a string")]
    [InlineData("{\"card\":{\"number\":\"4111 1111 1111 1111\",\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"123\",\"number\":\"4111 1111 1111 1129\"}}", "stdin: card.number: given twice")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":12},\"card\":{\"number\":\"4111111111111129\"}}", "stdin: card: given twice")]
    [InlineData("{\"card\":{\"exp_month\":12,\"expMonth\":1}}", "stdin: card.exp_month: given twice")]
    [InlineData("{\"billing_details\":{\"address\":{\"line1\":\"4111 1111\",\"line1\":\"1111 1111\"}}}", "stdin: billing_details.address.line1: given twice")]
    [InlineData("{\"card\":{\"4111111111111111\":1,\"4111111111111111\":2}}", "stdin: card: a key given twice")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":\"12\",\"exp_year\":2030}}", "stdin: card.exp_month: expected a number")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":\"1e1\",\"exp_year\":2030}}", "stdin: card.exp_month: expected a number")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":1e1,\"exp_year\":2030}}", "stdin: card.exp_month: expected a whole number")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":12.0,\"exp_year\":2030}}", "stdin: card.exp_month: expected a whole number")]
    [InlineData("{\"card\":{\"number\":\"4111111111111111\",\"exp_month\":12,\"exp_year\":\"2030\"}}", "stdin: card.exp_year: expected a number")]
    public async Task StdinJson_WrongShape_NamesFieldAndRuleNeverTheValue(string stdin, string expected)
    {
        // Act
        var (code, output, error) = await CliFixture.RunAsync(
            stdin, null, "tokenize", "card", "--customer", "c-1", "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert
        Assert.Equal(2, code);
        Assert.StartsWith("error: " + expected, error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd('\r', '\n').Split('\n'));
        Assert.DoesNotContain("4111", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StdinJson_GeneratedWrongTypeInEveryCardField_NamesThatField()
    {
        // Arrange: each card field given a value of another JSON type, holding a card number where it can.
        string[] fields = ["number", "exp_month", "exp_year", "cvc"];
        var wrong = Gen.OneOfConst("[4111111111111111]", "{\"a\":4111111111111111}", "true");

        // Act and assert
        await Gen.Select(Gen.Int[0, fields.Length - 1], wrong).SampleAsync(
            async (which, value) =>
            {
                var stdin = $"{{\"card\":{{\"{fields[which]}\":{value}}}}}";
                var (code, output, error) = await CliFixture.RunAsync(
                    stdin, null, "tokenize", "card", "--customer", "c-1", "--server", files.ClosedAddress, "--pki", files.Pki);
                Assert.Equal(2, code);
                Assert.StartsWith($"error: stdin: card.{fields[which]}: expected a ", error, StringComparison.Ordinal);
                Assert.DoesNotContain("4111", output + error, StringComparison.Ordinal);
            },
            iter: 30,
            threads: 1);
    }
}
