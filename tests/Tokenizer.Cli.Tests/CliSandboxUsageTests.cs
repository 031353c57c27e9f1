using CsCheck;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// Bad usage of <c>tokenizer sandbox ...</c>: exit 2 and one line naming the argument or option and its rule, never the
/// value nor a stack trace, before any file is read or anything is sent. A data directory without a running
/// embedded-defaults server is refused in one line (exit 1).
/// </summary>
public sealed class CliSandboxUsageTests(CliFixture files) : IClassFixture<CliFixture>
{
    // Luhn-valid, so any echo of it in the CLI's output would be an echo of a card number.
    private const string Pan = "4111111111111111";

    private static readonly Gen<string> Junk = Gen.OneOf(
        Gen.String[Gen.Char["0123456789abcXYZ-:+._/ T@=\"'{}[],\\\u00a0\u0663\uff11\u200b"], 1, 24],
        Gen.Const(Pan),
        Gen.Const("pm_" + Pan + "-"),
        Gen.Const("13/2030"),
        Gen.Const("1/2030"),
        Gen.Const("12/30"));

    [Theory]
    [InlineData("payment-method", "sandbox", "detach", Pan)]
    [InlineData("payment-method", "sandbox", "detach", "seti_abc")]
    [InlineData("payment-method", "sandbox", "card-update", "pm_", "--exp", "12/2030")]
    [InlineData("--exp", "sandbox", "card-update", "pm_abc", "--exp", "00/2030")]
    [InlineData("--exp", "sandbox", "card-update", "pm_abc", "--exp", "12-2030")]
    [InlineData("--exp", "sandbox", "card-update", "pm_abc")]
    [InlineData("--last4", "sandbox", "card-update", "pm_abc", "--exp", "12/2030", "--last4", "12345")]
    [InlineData("mandate", "sandbox", "deactivate-mandate", "pm_abc")]
    [InlineData("setup-intent", "sandbox", "complete-3ds", "pm_abc")]
    [InlineData("setup-intent", "sandbox", "complete-3ds", "http://127.0.0.1:1/elsewhere/seti_abc")]
    [InlineData("customer-id", "sandbox", "delete-customer")]
    [InlineData("customer-id", "sandbox", "delete-customer", "pm_abc")]
    [InlineData("customer-id", "sandbox", "delete-customer", "cus_abc", "--customer", "cust-1")]
    [InlineData("--customer", "sandbox", "delete-customer", "--customer", "")]
    [InlineData("--customer", "sandbox", "delete-customer", "--customer", "cust\u0007")]
    [InlineData("setup-intent", "sandbox", "verify-microdeposits", "pm_abc")]
    [InlineData("setup-intent", "sandbox", "verify-microdeposits", "http://127.0.0.1:1/_sandbox/authenticate/seti_abc")]
    [InlineData("--amounts", "sandbox", "verify-microdeposits", "seti_abc", "--amounts", "32")]
    [InlineData("--amounts", "sandbox", "verify-microdeposits", "seti_abc", "--amounts", "32,4545")]
    [InlineData("--amounts", "sandbox", "verify-microdeposits", "seti_abc", "--amounts", "32;45")]
    [InlineData("--descriptor-code", "sandbox", "verify-microdeposits", "seti_abc", "--descriptor-code", "XX11AA")]
    [InlineData("--descriptor-code", "sandbox", "verify-microdeposits", "seti_abc", "--amounts", "32,45", "--descriptor-code", "SM11AA")]
    [InlineData("sandbox", "sandbox")]
    [InlineData("sandbox", "sandbox", "delete-everything")]
    public async Task Sandbox_BadUsage_ExitTwoOneLineNamingTheRule(string named, params string[] args)
    {
        // Act
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, [.. args, "--data-directory", files.Root]);

        // Assert
        Assert.Equal(2, code);
        AssertOneLine(error, named);
        Assert.Empty(output);
    }

    [Fact]
    public void Sandbox_JunkArguments_ExitTwoNeverEchoed()
    {
        Gen.Select(Gen.OneOfConst("detach", "card-update", "deactivate-mandate", "complete-3ds", "delete-customer", "verify-microdeposits"), Junk, Junk).Sample((command, id, expiry) =>
        {
            var args = command == "card-update" ? new[] { "sandbox", command, id, "--exp", expiry } : ["sandbox", command, id];
            var (code, output, error) = CliFixture.RunAsync(string.Empty, null, [.. args, "--data-directory", files.Root]).GetAwaiter().GetResult();

            // A junk id may look like an option (a leading dash): then the parser's message names that, still one line.
            Assert.Equal(2, code);
            Assert.Single(error.TrimEnd('\r', '\n').Split('\n'));
            Assert.DoesNotContain(Pan, error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
            Assert.Empty(output);
        });
    }

    [Fact]
    public async Task Sandbox_NoServerOnThisDataDirectory_ExitOneOneLine()
    {
        // Act: well-formed, but the fixture's folder holds no sandbox address (no server runs there).
        var (code, output, error) = await CliFixture.RunAsync(string.Empty, null, "sandbox", "detach", "pm_abc", "--data-directory", files.Root);
        var (jsonCode, _, json) = await CliFixture.RunAsync(string.Empty, null, "sandbox", "detach", "pm_abc", "--data-directory", files.Root, "--json");

        // Assert
        Assert.Equal((1, 1), (code, jsonCode));
        AssertOneLine(error, "no server runs on embedded defaults in Development");
        Assert.StartsWith("{\"error\":{\"kind\":\"sandbox\",\"exit_code\":1,", json, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Sandbox_DataDirectoryDefault_ParentOfPki()
    {
        // Act: no --data-directory; --pki names <root>/pki, so the address file is looked for under <root>/secrets.
        var (code, _, error) = await CliFixture.RunAsync(string.Empty, null, "sandbox", "detach", "pm_abc", "--pki", Path.Combine(files.Root, "pki"));

        // Assert
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(files.Root, "secrets", "sandbox-control.url"), error, StringComparison.Ordinal);
    }

    private static void AssertOneLine(string error, string named)
    {
        var lines = error.TrimEnd('\r', '\n').Split('\n');
        Assert.True(lines.Length == 1, "expected one line, got:\n" + error);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(named, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }
}
