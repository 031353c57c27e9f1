using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using Tokenizer.Core.Audit;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Audit;
using Tokenizer.Server.Audit;
using Tokenizer.Server.Hosting;
using Tokenizer.Server.Secrets;
using Tokenizer.Server.Tests.Secrets;

namespace Tokenizer.Server.Tests.Audit;

/// <summary>
/// The audit anchor outside the database: sealed under the audit key (an edited copy does not open), kept in Key Vault
/// through a substituted <c>SecretClient</c> or in an owner-only file, and never moved backwards.
/// </summary>
public sealed class AuditAnchorTests : IAsyncLifetime
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)(0x40 + i)).ToArray();
    private static readonly byte[] OtherKey = Enumerable.Range(0, 32).Select(i => (byte)(0x80 + i)).ToArray();

    private readonly string root = Directory.CreateTempSubdirectory("tokenizer-anchor-").FullName;
    private SqliteAuditTrail trail = null!;

    public async Task InitializeAsync()
    {
        trail = new SqliteAuditTrail(
            new SqliteLedgerOptions { DatabasePath = Path.Combine(root, "ledger.db") }, Key, new FakeTimeProvider(), NullLogger<SqliteAuditTrail>.Instance);
        await trail.InitializeAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await trail.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task KeyVaultStore_SealedAnchor_RoundTripsAndOpensUnderTheRing()
    {
        var vault = new FakeVault();
        var store = new KeyVaultAuditAnchorStore(vault.Client, "audit-anchor");
        var ring = new AuditKeyRing(Key);
        var anchor = new AuditAnchor(42, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

        Assert.Null(await store.ReadAsync(CancellationToken.None));
        await store.WriteAsync(ring.Seal(anchor), CancellationToken.None);
        var opened = ring.Open((await store.ReadAsync(CancellationToken.None))!);

        Assert.NotNull(opened);
        Assert.Equal(anchor.Sequence, opened.Sequence);
        Assert.Equal(anchor.Mac, opened.Mac);

        // Sealed under another key that is not configured: does not open. With it as a previous key: opens.
        Assert.Null(new AuditKeyRing(OtherKey).Open(ring.Seal(anchor)));
        Assert.NotNull(new AuditKeyRing(OtherKey, [Key]).Open(ring.Seal(anchor)));
    }

    [Fact]
    public void Open_AnyEditOfSequenceOrMac_DoesNotOpen()
    {
        var ring = new AuditKeyRing(Key);
        Gen.Select(Gen.Long[1, long.MaxValue], Gen.Byte.Array[32], Gen.Long[1, long.MaxValue], Gen.Int[0, 31])
            .Sample((sequence, mac, otherSequence, flip) =>
            {
                var sealedText = ring.Seal(new AuditAnchor(sequence, mac));
                var json = System.Text.Json.Nodes.JsonNode.Parse(sealedText)!;
                var shorter = json.DeepClone();
                shorter["sequence"] = otherSequence;
                var edited = mac.ToArray();
                edited[flip] ^= 1;
                var otherMac = json.DeepClone();
                otherMac["mac"] = Convert.ToBase64String(edited);
                return ring.Open(sealedText) is { } same && same.Sequence == sequence
                    && (otherSequence == sequence || ring.Open(shorter.ToJsonString()) is null)
                    && ring.Open(otherMac.ToJsonString()) is null;
            });
    }

    [Fact]
    public async Task Anchor_KeyVaultStore_WritesTheHeadAndNeverMovesBackwards()
    {
        var vault = new FakeVault();
        var store = new KeyVaultAuditAnchorStore(vault.Client, "audit-anchor");
        var guard = Guard(store);
        for (var n = 0; n < 3; n++)
        {
            await trail.AppendAsync(Event(), CancellationToken.None);
        }

        Assert.True(await guard.AnchorAsync(CancellationToken.None));
        var anchored = trail.Keys.Open((await store.ReadAsync(CancellationToken.None))!)!;
        Assert.Equal(3, anchored.Sequence);
        Assert.Null((await trail.CheckAsync(anchored, CancellationToken.None)).AnchorProblem);

        // Another replica has anchored further (a valid seal at 10): this one, seeing head 4, leaves it as found.
        await trail.AppendAsync(Event(), CancellationToken.None);
        var ahead = trail.Keys.Seal(new AuditAnchor(10, new byte[32]));
        await store.WriteAsync(ahead, CancellationToken.None);
        Assert.False(await guard.AnchorAsync(CancellationToken.None));
        Assert.Equal(ahead, await store.ReadAsync(CancellationToken.None));

        // And the start-up check sees the trail shorter than its anchor.
        Assert.Equal(AuditProblems.Truncated, (await trail.CheckAsync(trail.Keys.Open(ahead), CancellationToken.None)).AnchorProblem);
    }

    [Fact]
    public async Task FileStore_WritesOwnerOnlyAndReplacesAtomically()
    {
        var path = Path.Combine(root, "anchor", "audit-anchor.json");
        var store = new FileAuditAnchorStore(path);
        var guard = Guard(store);
        await trail.AppendAsync(Event(), CancellationToken.None);

        Assert.True(await guard.AnchorAsync(CancellationToken.None));
        await trail.AppendAsync(Event(), CancellationToken.None);
        Assert.True(await guard.AnchorAsync(CancellationToken.None));

        Assert.Equal(2, trail.Keys.Open(await File.ReadAllTextAsync(path))!.Sequence);
        Assert.Equal(["audit-anchor.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    private static AuditEvent Event() =>
        new(DateTimeOffset.UnixEpoch, "billing", null, "tokenizer.v1.TokenizerService/GetToken", null, AuditOutcome.Success, null, "c");

    private AuditGuard Guard(IAuditAnchorStore store) => new(
        trail,
        store,
        Substitute.For<ITokenizerSecrets>(),
        new ConfigurationAudit(trail, new FakeTimeProvider()),
        Options.Create(new TokenizerOptions()),
        NullLogger<AuditGuard>.Instance);
    [Theory]
    [InlineData(null, null, "File")]
    [InlineData(null, "https://vault.example/", "KeyVault")]
    [InlineData("File", "https://vault.example/", "File")]
    [InlineData("KeyVault", "https://vault.example/", "KeyVault")]
    public void AddTokenizerAuditAnchor_StoreSetOrNot_FileUnlessKeyVaultIsConfigured(string? store, string? vault, string expected)
    {
        // Arrange
        var services = new ServiceCollection();
        services.AddSingleton(Options.Create(new TokenizerOptions { DataDirectory = root, AuditAnchor = { Store = store } }));
        services.AddSingleton(Options.Create(new KeyVaultOptions { Uri = vault }));
        services.AddSingleton<DataDirectory>();
        services.AddSingleton(Substitute.For<Azure.Security.KeyVault.Secrets.SecretClient>());
        services.AddTokenizerAuditAnchor();
        using var provider = services.BuildServiceProvider();

        // Act
        var chosen = provider.GetRequiredService<IAuditAnchorStore>();

        // Assert
        Assert.Equal(expected == "File" ? typeof(FileAuditAnchorStore) : typeof(KeyVaultAuditAnchorStore), chosen.GetType());
    }
}
