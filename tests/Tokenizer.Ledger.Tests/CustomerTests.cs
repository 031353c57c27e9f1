namespace Tokenizer.Ledger.Tests;

public abstract class CustomerTests(TestDatabase database) : LedgerTestBase(database)
{
    [Fact]
    public async Task RecordDeletedCustomerAsync_FromTheValueRead_MovesOnlyForwardAndConcurrentWritersMoveItOnce()
    {
        // Arrange: nothing recorded for the subject (the control: another subject's record is never touched).
        await Ledger.Customers.RecordDeletedCustomerAsync("stripe", "subj_other", null, "cus_x", T0, CancellationToken.None);
        Assert.Null(await Ledger.Customers.FindLastDeletedCustomerAsync("stripe", "subj_a", CancellationToken.None));

        // Act: eight concurrent first records from "none", then moves from a stale and from the current value.
        var firsts = await Task.WhenAll(Enumerable.Range(1, 8).Select(i =>
            Ledger.Customers.RecordDeletedCustomerAsync("stripe", "subj_a", null, "cus_" + i, T0, CancellationToken.None)));
        var winner = await Ledger.Customers.FindLastDeletedCustomerAsync("stripe", "subj_a", CancellationToken.None);
        var fromStale = await Ledger.Customers.RecordDeletedCustomerAsync("stripe", "subj_a", "cus_stale", "cus_back", T0, CancellationToken.None);
        var again = await Ledger.Customers.RecordDeletedCustomerAsync("stripe", "subj_a", null, "cus_back", T0, CancellationToken.None);
        var forward = await Ledger.Customers.RecordDeletedCustomerAsync("stripe", "subj_a", winner, "cus_next", T0.AddMinutes(1), CancellationToken.None);

        // Assert: one first record won; a writer that read another value changes nothing; from the current one it moves.
        Assert.Single(firsts, moved => moved);
        Assert.Equal("cus_" + (Array.IndexOf(firsts, true) + 1), winner);
        Assert.Equal((false, false, true), (fromStale, again, forward));
        Assert.Equal("cus_next", await Ledger.Customers.FindLastDeletedCustomerAsync("stripe", "subj_a", CancellationToken.None));
        Assert.Equal("cus_x", await Ledger.Customers.FindLastDeletedCustomerAsync("stripe", "subj_other", CancellationToken.None));
        Assert.Null(await Ledger.Customers.FindLastDeletedCustomerAsync("other-gateway", "subj_a", CancellationToken.None));
    }

    [Fact]
    public async Task FindCustomerAsync_Unknown_ReturnsNull()
    {
        // Act
        var id = await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None);

        // Assert
        Assert.Null(id);
    }

    [Fact]
    public async Task SaveCustomerAsync_NewReference_ReturnsIdAndFindReturnsIt()
    {
        // Act
        var saved = await Ledger.Customers.SaveCustomerAsync("stripe", "ref_1", "cus_1", T0, CancellationToken.None);

        // Assert
        Assert.Equal("cus_1", saved);
        Assert.Equal("cus_1", await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
    }

    [Fact]
    public async Task SaveCustomerAsync_ReferenceAlreadyMapped_ReturnsFirstId()
    {
        // Arrange
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_1", "cus_first", T0, CancellationToken.None);

        // Act
        var saved = await Ledger.Customers.SaveCustomerAsync("stripe", "ref_1", "cus_second", T0.AddMinutes(1), CancellationToken.None);

        // Assert
        Assert.Equal("cus_first", saved);
        Assert.Equal("cus_first", await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
    }

    [Fact]
    public async Task SaveCustomerAsync_SameReferenceOtherGateway_KeepsSeparateMappings()
    {
        // Arrange
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_1", "cus_stripe", T0, CancellationToken.None);

        // Act
        var saved = await Ledger.Customers.SaveCustomerAsync("other", "ref_1", "cus_other", T0, CancellationToken.None);

        // Assert
        Assert.Equal("cus_other", saved);
        Assert.Equal("cus_stripe", await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
        Assert.Equal(2, await CountRowsAsync("customers"));
    }

    [Fact]
    public async Task ReplaceCustomerAsync_StillMappedToTheDeletedOne_ReplacedOtherwiseTheRecordedOneKept()
    {
        // Arrange: ref_1 still maps to the deleted cus_old; ref_2 was already replaced by another request (cus_theirs);
        // ref_3 lost its mapping to the customer.deleted event.
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_1", "cus_old", T0, CancellationToken.None);
        await Ledger.Customers.SaveCustomerAsync("stripe", "ref_2", "cus_theirs", T0, CancellationToken.None);

        // Act
        var replaced = await Ledger.Customers.ReplaceCustomerAsync("stripe", "ref_1", "cus_old", "cus_new", T0.AddMinutes(1), CancellationToken.None);
        var kept = await Ledger.Customers.ReplaceCustomerAsync("stripe", "ref_2", "cus_old2", "cus_mine", T0.AddMinutes(1), CancellationToken.None);
        var recorded = await Ledger.Customers.ReplaceCustomerAsync("stripe", "ref_3", "cus_old3", "cus_new3", T0.AddMinutes(1), CancellationToken.None);

        // Assert
        Assert.Equal(("cus_new", "cus_theirs", "cus_new3"), (replaced, kept, recorded));
        Assert.Equal("cus_new", await Ledger.Customers.FindCustomerAsync("stripe", "ref_1", CancellationToken.None));
        Assert.Equal("cus_theirs", await Ledger.Customers.FindCustomerAsync("stripe", "ref_2", CancellationToken.None));
        Assert.Equal("cus_new3", await Ledger.Customers.FindCustomerAsync("stripe", "ref_3", CancellationToken.None));
        Assert.Equal(3, await CountRowsAsync("customers"));
    }
}
