using Tokenizer.IntegrationTests;

namespace Tokenizer.SecurityTests;

/// <summary>Everything the service creates under its data directory is owner-only: 0700 folders, 0600 files.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryPermissionTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task DataDirectory_AfterTokenising_FoldersAndLedgerFilesOwnerOnly()
    {
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));
        // With billing details: the subject's wrapped data key is written to subject-keys/ (privacy).
        var withBilling = Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-permissions");
        withBilling.BillingDetails = new Contracts.V1.BillingDetails { Name = "Perm Owner-Only" };
        await server.Client.TokenizeCardAsync(withBilling);
        const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

        var folders = Directory.GetDirectories(server.DataDirectory, "*", SearchOption.AllDirectories);
        var ledgerFiles = Directory.GetFiles(Path.Combine(server.DataDirectory, "ledger"));

        Assert.Contains(folders, f => f.EndsWith("ledger", StringComparison.Ordinal));
        Assert.Contains(ledgerFiles, f => f.EndsWith("tokenizer.db-wal", StringComparison.Ordinal));
        Assert.All(folders, f => Assert.True(File.GetUnixFileMode(f) == OwnerOnlyFolder, $"{Path.GetRelativePath(server.DataDirectory, f)}: {File.GetUnixFileMode(f)}"));
        Assert.All(ledgerFiles, f => Assert.True(File.GetUnixFileMode(f) == OwnerOnlyFile, $"{Path.GetFileName(f)}: {File.GetUnixFileMode(f)}"));
        var subjectKeys = Directory.GetFiles(Path.Combine(server.DataDirectory, "subject-keys"));
        Assert.NotEmpty(subjectKeys);
        Assert.All(subjectKeys, f => Assert.True(File.GetUnixFileMode(f) == OwnerOnlyFile, $"{Path.GetFileName(f)}: {File.GetUnixFileMode(f)}"));
    }
}
