using Tokenizer.Core.Domain;

namespace Tokenizer.Ledger.Tests;

public abstract class TokenRoundTripTests(TestDatabase database) : LedgerTestBase(database)
{
    public static TheoryData<TokenType> BankTypes =>
        [TokenType.AuBecsDebit, TokenType.SepaDebit, TokenType.BacsDebit, TokenType.UsBankAccount];

    [Fact]
    public async Task GetTokenAsync_Unknown_ReturnsNull()
    {
        // Act
        var token = await Ledger.Tokens.GetTokenAsync("pm_missing", CancellationToken.None);

        // Assert
        Assert.Null(token);
    }

    [Fact]
    public async Task GetTokenAsync_CardWithEveryField_RoundTrips()
    {
        // Arrange
        var card = TestData.Card("pm_card", T0, status: TokenStatus.Revoked);

        // Act
        await SeedAsync(Ledger, [card]);
        var stored = await Ledger.Tokens.GetTokenAsync("pm_card", CancellationToken.None);

        // Assert
        Assert.Equal(card, stored);
        Assert.NotNull(stored!.RevokedAt);
    }

    [Fact]
    public async Task GetTokenAsync_CardWithNullableFieldsNull_RoundTrips()
    {
        // Arrange
        var card = TestData.Card("pm_card", T0) with
        {
            GatewayCustomerId = null,
            Card = new CardMetadata("amex", "0005", 1, 2031, null, null, null),
        };

        // Act
        await SeedAsync(Ledger, [card]);

        // Assert
        Assert.Equal(card, await Ledger.Tokens.GetTokenAsync("pm_card", CancellationToken.None));
    }

    [Fact]
    public async Task GetTokenAsync_CardWithoutMetadata_RoundTripsWithNullCard()
    {
        // Arrange
        var card = TestData.Card("pm_card", T0) with { Card = null };

        // Act
        await SeedAsync(Ledger, [card]);

        // Assert
        Assert.Equal(card, await Ledger.Tokens.GetTokenAsync("pm_card", CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(BankTypes))]
    public async Task GetTokenAsync_BankAccountWithEveryField_RoundTrips(TokenType type)
    {
        // Arrange
        var bank = TestData.Bank("pm_bank", type, T0);

        // Act
        await SeedAsync(Ledger, [bank]);

        // Assert
        Assert.Equal(bank, await Ledger.Tokens.GetTokenAsync("pm_bank", CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(BankTypes))]
    public async Task GetTokenAsync_BankAccountWithNullableFieldsNull_RoundTrips(TokenType type)
    {
        // Arrange
        var bank = TestData.Bank("pm_bank", type, T0) with
        {
            GatewayCustomerId = null,
            BankAccount = new BankAccountMetadata("0668", null, null, null),
        };

        // Act
        await SeedAsync(Ledger, [bank]);

        // Assert
        Assert.Equal(bank, await Ledger.Tokens.GetTokenAsync("pm_bank", CancellationToken.None));
    }

    [Fact]
    public async Task GetTokenAsync_TimeWithOffsetAndSubMicrosecondTicks_ReturnsUtcTruncatedToMicrosecond()
    {
        // Arrange
        var local = new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.FromHours(10)).AddTicks(1234567);
        var card = TestData.Card("pm_card", local);

        // Act
        await SeedAsync(Ledger, [card]);
        var stored = await Ledger.Tokens.GetTokenAsync("pm_card", CancellationToken.None);

        // Assert
        Assert.Equal(TimeSpan.Zero, stored!.CreatedAt.Offset);
        Assert.Equal(local.UtcDateTime.AddTicks(-7), stored.CreatedAt.UtcDateTime);
    }

    [Fact]
    public async Task GetTokenAsync_TimeBeforeUnixEpoch_RoundTrips()
    {
        // Arrange
        var card = TestData.Card("pm_old", new DateTimeOffset(1969, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(10));

        // Act
        await SeedAsync(Ledger, [card]);

        // Assert
        Assert.Equal(card, await Ledger.Tokens.GetTokenAsync("pm_old", CancellationToken.None));
    }
}
