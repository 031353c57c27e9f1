namespace Tokenizer.Ledger.Tests;

public abstract class CustomerTests(TestDatabase database) : LedgerTestBase(database)
{
    [Fact]
    public async Task FindCustomerAsync_Unknown_ReturnsNull()
    {
        // Act
        var id = await Ledger.FindCustomerAsync("stripe", "ref_1", CancellationToken.None);

        // Assert
        Assert.Null(id);
    }

    [Fact]
    public async Task SaveCustomerAsync_NewReference_ReturnsIdAndFindReturnsIt()
    {
        // Act
        var saved = await Ledger.SaveCustomerAsync("stripe", "ref_1", "cus_1", T0, CancellationToken.None);

        // Assert
        Assert.Equal("cus_1", saved);
        Assert.Equal("cus_1", await Ledger.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
    }

    [Fact]
    public async Task SaveCustomerAsync_ReferenceAlreadyMapped_ReturnsFirstId()
    {
        // Arrange
        await Ledger.SaveCustomerAsync("stripe", "ref_1", "cus_first", T0, CancellationToken.None);

        // Act
        var saved = await Ledger.SaveCustomerAsync("stripe", "ref_1", "cus_second", T0.AddMinutes(1), CancellationToken.None);

        // Assert
        Assert.Equal("cus_first", saved);
        Assert.Equal("cus_first", await Ledger.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
    }

    [Fact]
    public async Task SaveCustomerAsync_SameReferenceOtherGateway_KeepsSeparateMappings()
    {
        // Arrange
        await Ledger.SaveCustomerAsync("stripe", "ref_1", "cus_stripe", T0, CancellationToken.None);

        // Act
        var saved = await Ledger.SaveCustomerAsync("other", "ref_1", "cus_other", T0, CancellationToken.None);

        // Assert
        Assert.Equal("cus_other", saved);
        Assert.Equal("cus_stripe", await Ledger.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
        Assert.Equal(2, await CountRowsAsync("customers"));
    }
}
