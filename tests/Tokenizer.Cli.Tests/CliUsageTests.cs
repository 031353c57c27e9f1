using System.Text.Json;
using CsCheck;
using Tokenizer.Cli;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// Bad usage of the real CLI: every value the user can get wrong (dates, numbers, files, certificates, JSON on stdin)
/// ends in exit code 2 and one line naming the option and the rule, never a stack trace or the value itself.
/// </summary>
public sealed class CliUsageTests(CliFixture files) : IClassFixture<CliFixture>
{
    // Luhn-valid, so any echo of it in the CLI's output would be an echo of a card number.
    private const string Pan = "4111111111111111";

    private static readonly Gen<string> Junk = Gen.OneOf(
        Gen.String[Gen.Char["0123456789abcXYZ-:+._/ T@=\"'{}[],\\\u00a0\u0663\uff11\u200b"], 0, 24],
        Gen.Const(string.Empty),
        Gen.Const(Pan));

    private static readonly Gen<string> Dates = Gen.OneOf(
        Gen.OneOfConst(
            "1900-01-01", "9999-12-31", "0001-01-01", "2026-11-30", "2026-02-30", "2026-13-01", "2026-11-01T25:00:00Z",
            "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "2026-11-01T00:00:00+14:00", "-1", "now"),
        Gen.Select(Gen.Int[1, 9999], Gen.Int[1, 12], Gen.Int[1, 28]).Select((y, m, d) => $"{y:0000}-{m:00}-{d:00}"),
        Junk);

    private static readonly Gen<string> Numbers = Gen.OneOf(
        Gen.OneOfConst("0", "1", "100", "101", "-1", "2147483647", "2147483648", "99999999999999999999", "1e3", "\u0663", "0x10", " 5"),
        Gen.Int.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Junk);

    private static readonly Gen<string> Json = Gen.OneOf(
        Gen.OneOfConst(
            string.Empty, "{", "null", "[]", "{\"card\":{\"number\":\"" + Pan + "\",\"exp_month\":\"x\"}}",
            "{\"card\":{\"number\":\"" + Pan + "\",\"exp_month\":99999999999,\"exp_year\":2030,\"cvc\":\"123\"}}",
            "{\"card\":{\"number\":" + Pan + "}}", "{\"unknown\":1}", "{\"sepa_debit\":{\"iban\":7}}",
            "{\"name\":\"" + Pan + "\",\"address\":{\"line1\":[1]}}", "{\"au_becs_debit\":{\"bsb_number\":\"000000\",\"account_number\":\"000123456\"}}"),
        Junk);

    [Fact]
    public async Task Reconcile_PeriodToTheLastRepresentableDay_ExitTwoNamingThePeriodRule()
    {
        // Arrange: the review's command; the inclusive end day 9999-12-31 has no exclusive end, and the period is far
        // longer than the server allows: the message names that rule, not the calendar's edge.
        var path = files.NewPath("html");

        // Act
        var (code, output, error) = await CliFixture.RunAsync(
            string.Empty, null, "reconcile", "--from", "1900-01-01", "--to", "9999-12-31", "--format", "html", "--out", path, "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, "--to");
        Assert.Contains("366 days", error, StringComparison.Ordinal);
        Assert.Empty(output);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("--format", "xlsx", "'csv' 'json' 'html'")]
    [InlineData("--format", Pan, "'csv' 'json' 'html'")]
    [InlineData("--type", "card9", "'card' 'au_becs_debit' 'sepa_debit' 'bacs_debit' 'us_bank_account'")]
    public async Task Reconcile_ValueNotAmongTheChoices_ExitTwoListingTheChoicesNeverTheValue(string option, string value, string choices)
    {
        // Arrange
        var path = files.NewPath("csv");
        string[] args = option == "--format"
            ? ["reconcile", "--from", "2026-12-01", "--to", "2026-12-02", "--format", value, "--out", path, "--server", files.ClosedAddress, "--pki", files.Pki]
            : ["reconcile", "--from", "2026-12-01", "--to", "2026-12-02", "--format", "csv", option, value, "--out", path, "--server", files.ClosedAddress, "--pki", files.Pki];

        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, args);

        // Assert: the user sees what is accepted; the refused value stays hidden (it could be card data).
        Assert.Equal(2, code);
        AssertOneUsageLine(error, option);
        Assert.Contains(choices, error, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Theory]
    [InlineData("--colour")]
    [InlineData("-x")]
    public async Task AnyCommand_UnknownOption_ExitTwoNamingIt(string option)
    {
        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", option, "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert: named, so the typo can be seen; a value that is not option-shaped stays hidden (the test below).
        Assert.Equal(2, code);
        Assert.Contains("'" + option + "'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("not shown", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task AnyBooleanOption_GivenAValueAfterEqualsOrColon_ExitTwoWithoutEchoingIt()
    {
        // Arrange: every boolean option of every command (the recursive --json included), written --opt=value or
        // --opt:value; the parser splits the value off and quotes only that part. Values: a marker, card numbers in
        // compatibility numerals the scrubber does not read (45 32 0 15 11 28 30 36 = 4532015112830366), and mixes.
        var root = CliApp.BuildRootCommand(TextReader.Null, TextWriter.Null, TextWriter.Null);
        var targets = new List<(string[] Path, string Option, bool TakesArgument)>();
        void Walk(System.CommandLine.Command command, string[] path, IEnumerable<System.CommandLine.Option> inherited)
        {
            var options = inherited.Concat(command.Options).ToList();
            if (command.Subcommands.Count == 0)
            {
                targets.AddRange(options.OfType<System.CommandLine.Option<bool>>().Where(o => !o.Hidden).Select(o => (path, o.Name, command.Arguments.Count > 0)));
                return;
            }

            foreach (var child in command.Subcommands)
            {
                Walk(child, [.. path, child.Name], options.Where(o => o.Recursive));
            }
        }

        Walk(root, [], []);
        Assert.Contains(targets, t => t.Option == "--offline");
        Assert.Contains(targets, t => t.Option == "--fail");
        var values = Gen.Select(
            Gen.OneOfConst("\u32ba\u325c\u24ea\u246e\u246a\u3258\u325a\u32b1", "zzMARKzz", "zzMARKzz \u32ba\u325c cvc 123", Pan, "NL91ABNA0417164300"),
            Gen.String[Gen.Char["abcXYZ0123456789 \u32ba\u325c\u24ea\u246e"], 0, 8]).Select((fixedPart, junk) => "zzMARKzz" + junk + fixedPart);

        // Act and assert
        await Gen.Select(Gen.Int[0, targets.Count - 1], values, Gen.Bool).SampleAsync(
            async (which, value, colon) =>
            {
                var (path, option, takesArgument) = targets[which];
                var (code, output, error) = await CliFixture.RunAsync(
                    string.Empty, null, [.. path, option + (colon ? ":" : "=") + value, "--server", files.ClosedAddress, "--pki", files.Pki]);
                // A command with a positional argument can take the split-off value as that argument (then the call
                // fails to connect, exit 1); every other command refuses the command line.
                Assert.True(code == 2 || (takesArgument && code == 1), $"{string.Join(' ', path)} {option}: exit {code}");
                Assert.DoesNotContain("zzMARKzz", output + error, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("\u32ba", output + error, StringComparison.Ordinal);
                Assert.DoesNotContain("0417164300", output + error, StringComparison.Ordinal);
            },
            iter: 60,
            threads: 1);
    }

    [Fact]
    public async Task AnyCommand_ServerAddressWithNonAsciiHost_NotEchoed()
    {
        // Act: nothing can resolve the host; the connection error names the option, not the address typed.
        var (code, output, error) = await CliFixture.RunAsync(
            string.Empty, null, "tokens", "list", "--server", "https://zzMARKzz\u32ba\u325c\u24ea\u246e\u246a\u3258\u325a\u32b1.invalid:1", "--pki", files.Pki);

        // Assert
        Assert.Equal(1, code);
        Assert.Contains("(the --server address)", error, StringComparison.Ordinal);
        Assert.DoesNotContain("zzMARKzz", output + error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\u32ba", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1900-01-01", "2026-11-30", "--from")]
    [InlineData("2026-11-30", "2026-11-01", "--to")]
    public async Task Reconcile_PeriodTheServerWouldRefuse_ExitTwoBeforeAnyCall(string from, string to, string named)
    {
        // Act: nothing listens on the address; a usage check that came after the call would report "cannot connect".
        var (code, _, error) = await CliFixture.RunAsync(
            string.Empty, null, "reconcile", "--from", from, "--to", to, "--format", "csv", "--out", files.NewPath("csv"), "--server", files.ClosedAddress, "--pki", files.Pki);

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, named);
    }

    [Theory]
    [InlineData("mismatched", "--key")]
    [InlineData("garbage", "--cert")]
    [InlineData("directories", "--cert")]
    public async Task AnyCommand_CertificateThatCannotBeLoaded_ExitTwoOneLineNamingTheOption(string pki, string named)
    {
        // Act
        var (code, _, error) = await CliFixture.RunAsync(
            string.Empty, null, "tokens", "list", "--server", files.ClosedAddress, "--pki", Path.Combine(files.Root, pki));

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, named);
    }

    [Fact]
    public async Task AnyCommand_CaThatIsNotACertificate_ExitTwoNamingCa()
    {
        // Act
        var (code, _, error) = await CliFixture.RunAsync(
            string.Empty, null, "tokens", "list", "--server", files.ClosedAddress, "--pki", files.Pki, "--ca", Path.Combine(files.GarbagePki, "ca.crt"));

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, "--ca");
    }

    [Fact]
    public async Task AnyCommand_UnknownArgumentHoldingACardNumber_ExitTwoWithoutEchoingIt()
    {
        // Act: a card number typed where no argument is expected (the parser quotes unknown tokens).
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "tokenize", "card", "--customer", "c-1", Pan);

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, "argument");
        Assert.DoesNotContain(Pan, output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--cert")]
    [InlineData("--key")]
    [InlineData("--ca")]
    [InlineData("--pki")]
    [InlineData("--out")]
    [InlineData("--data-directory")]
    public async Task AnyPathOption_FileMissingOrNotCreatable_ExitTwoNamingTheOptionNotThePath(string option)
    {
        // Arrange: a path no detector reads as card data (small capitals), under a folder that does not exist: the
        // message names the option and the rule, never the value typed.
        var typed = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "ᴄᴠᴄ 731 marker");
        string[] args = option switch
        {
            "--out" => ["audit", "export", "--server", files.ClosedAddress, "--pki", files.Pki, "--from", "2026-11-01", "--to", "2026-11-02", "--out", typed],
            "--data-directory" => ["audit", "verify", "--offline", "--data-directory", typed],
            "--pki" => ["tokens", "list", "--server", files.ClosedAddress, "--pki", typed],
            _ => ["tokens", "list", "--server", files.ClosedAddress, "--pki", files.Pki, option, typed],
        };

        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, args);

        // Assert
        Assert.True(code == 2, error);
        Assert.Contains(option == "--pki" ? "--cert" : option, error, StringComparison.Ordinal);
        Assert.DoesNotContain("marker", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("no-such-folder", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AuditExport_OutPathHoldingACardNumber_ExitTwoWithTheNumberMasked(bool json)
    {
        // Act: a path holding a card number (the rule refuses it before anything is created).
        var written = string.Join("-", Pan.Chunk(4).Select(c => new string(c)));
        var path = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), written, "x.jsonl");
        string[] args = ["audit", "export", "--server", files.ClosedAddress, "--pki", files.Pki, "--from", "2026-11-01", "--to", "2026-11-02", "--out", path];
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, json ? [.. args, "--json"] : args);

        // Assert
        Assert.Equal(2, code);
        Assert.Contains("--out", error, StringComparison.Ordinal);
        Assert.DoesNotContain(written, output + error, StringComparison.Ordinal);
        Assert.DoesNotContain(Pan, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokensList_PageSizeNotANumber_ExitTwoNamingTheRuleWithoutEcho()
    {
        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "tokens", "list", "--page-size", Pan);

        // Assert
        Assert.Equal(2, code);
        AssertOneUsageLine(error, "--page-size");
        Assert.DoesNotContain(Pan, output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("501")]
    [InlineData(Pan)]
    public async Task TokensEvents_PageSizeOutOfRange_ExitTwoNamingTheRuleWithoutEcho(string value)
    {
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "tokens", "events", "--page-size", value);

        Assert.Equal(2, code);
        AssertOneUsageLine(error, "--page-size");
        Assert.DoesNotContain(Pan, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generated_OptionValuesOfEveryCommand_KnownExitCodeOneLineForUsageNoStackTraceNoEcho()
    {
        // Arrange: every command with generated values for each of its options, a generated stdin, and generated
        // connection settings (PKI folders that work, that do not match, of garbage, of directories; missing files).
        var paths = Gen.OneOf(
            Gen.Const(files.NewPath("out")).Select(_ => files.NewPath("out")),
            Gen.OneOfConst(files.ExistingFile, files.Root, Path.Combine(files.Root, "missing", "x.csv"), string.Empty, "/proc/version/x"));
        var pki = Gen.OneOfConst(files.Pki, files.MismatchedPki, files.GarbagePki, files.DirectoryPki, Path.Combine(files.Root, "none"), files.ExistingFile);
        var server = Gen.OneOf(
            Gen.OneOfConst(files.ClosedAddress, $"http://127.0.0.1:{files.ClosedPort}", "ftp://127.0.0.1", "https://", "127.0.0.1:5055", "https://127.0.0.1:99999", "https://[::1"),
            Junk.Select(j => "https://127.0.0.1:" + j));
        var commands = Gen.OneOf(
            Gen.Select(Junk, Junk).Select((c, k) => new[] { "tokenize", "card", "--customer", c, "--idempotency-key", k }),
            Gen.Select(Junk, Junk).Select((c, k) => new[] { "tokenize", "bank", "--customer", c, "--idempotency-key", k }),
            Junk.Select(t => new[] { "token", "get", t }),
            Gen.Select(Junk, Junk, Junk).Select((t, r, k) => new[] { "token", "revoke", t, "--reason", r, "--idempotency-key", k }),
            Gen.Select(Junk, Gen.OneOf(Gen.OneOfConst("active", "revoked"), Junk), Numbers, Junk)
                .Select((c, s, n, p) => new[] { "tokens", "list", "--customer", c, "--status", s, "--page-size", n, "--page-token", p }),
            Junk.Select(a => new[] { "audit", "verify", "--anchor", a }),
            Gen.Select(Dates, Dates, paths).Select((f, t, o) => new[] { "audit", "export", "--from", f, "--to", t, "--out", o }),
            Gen.Select(Dates, Dates, Gen.OneOf(Gen.OneOfConst("csv", "json", "html"), Junk), paths, Gen.OneOf(Gen.OneOfConst("card", "sepa_debit"), Junk))
                .Select((f, t, fmt, o, ty) => new[] { "reconcile", "--from", f, "--to", t, "--format", fmt, "--out", o, "--type", ty }),
            Gen.Select(Junk, paths, Junk).Select((r, o, k) => new[] { "reconcile", "--run", r, "--format", "json", "--out", o, "--idempotency-key", k }),
            Gen.Select(Junk, paths).Select((c, o) => new[] { "privacy", "export", "--customer", c, "--out", o }),
            Junk.Select(c => new[] { "privacy", "correct", "--customer", c }),
            Gen.Select(Junk, Junk).Select((c, r) => new[] { "privacy", "erase", "--customer", c, "--reason", r }),
            Junk.Select(c => new[] { "privacy", "status", "--customer", c }));
        var cases = Gen.Select(commands, server, pki, Gen.Bool, Json, Gen.Int[0, 3]);

        // Act and assert
        await cases.SampleAsync(
            async (command, address, pkiDirectory, json, stdin, drop) =>
            {
                // Drop one option (a required one, sometimes) to cover missing values too.
                var args = command.ToList();
                if (drop > 0 && args.Count > 3)
                {
                    var at = args.FindIndex(2, a => a.StartsWith("--", StringComparison.Ordinal));
                    if (at >= 0 && at + 1 < args.Count)
                    {
                        args.RemoveRange(at, 2);
                    }
                }

                args.AddRange(["--server", address, "--pki", pkiDirectory]);
                if (json)
                {
                    args.Add("--json");
                }

                var (code, output, error) = await CliFixture.RunAsync(stdin, null, [.. args]);

                var all = output + error;
                Assert.True(code is 0 or 1 or 2 or 3, $"exit code {code} for: {string.Join(' ', args)}\n{all}");
                Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
                Assert.DoesNotContain("Exception", all, StringComparison.Ordinal);
                Assert.DoesNotContain(Pan, all, StringComparison.Ordinal);
                if (code == 2)
                {
                    Assert.True(error.TrimEnd('\r', '\n').Split('\n').Length == 1, $"more than one line for: {string.Join(' ', args)}\n{error}");
                }
            },
            iter: 300,
            threads: 1);
    }

    private static void AssertOneUsageLine(string error, string named)
    {
        var lines = error.TrimEnd('\r', '\n').Split('\n');
        Assert.True(lines.Length == 1, "expected one line, got:\n" + error);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_BadUsage_OneJsonObjectWithCodeAndMessage()
    {
        // Act
        var (code, _, error) = await CliFixture.RunAsync(
            string.Empty, null, "reconcile", "--from", "2026-11-01", "--to", "2026-99-01", "--format", "csv", "--out", files.NewPath("csv"), "--json");

        // Assert
        Assert.Equal(2, code);
        using var document = JsonDocument.Parse(error);
        var problem = document.RootElement.GetProperty("error");
        Assert.Equal("usage", problem.GetProperty("kind").GetString());
        Assert.Equal(2, problem.GetProperty("exit_code").GetInt32());
        Assert.Contains("--to", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
