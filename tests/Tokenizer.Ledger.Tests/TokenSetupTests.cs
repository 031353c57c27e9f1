using Tokenizer.Core.Domain;

namespace Tokenizer.Ledger.Tests;

/// <summary>A token's setup and mandate columns: stored, read back, refreshed only while still pending.</summary>
public abstract class TokenSetupTests(TestDatabase database) : LedgerTestBase(database)
{
    private static readonly NextAction Redirect = new(NextActionKind.RedirectToUrl, "https://hooks.stripe.com/3d_secure_2/seti_1", T0.AddHours(1));

    private async Task<TokenRecord> StoreAsync(TokenRecord token)
    {
        await Ledger.Claims.ClaimAsync(TestData.Claim("k-" + token.Token, TestData.Hmac(1), T0), CancellationToken.None);
        await Ledger.Claims.CompleteWithTokenAsync(TestData.Caller, "k-" + token.Token, TestData.Response(token), token, CancellationToken.None);
        return (await Ledger.Tokens.GetTokenAsync(token.Token, CancellationToken.None))!;
    }

    [Fact]
    public async Task CompleteAsync_SetupAndMandate_ReadBackEqual()
    {
        var token = TestData.Bank("pm_b", TokenType.SepaDebit, T0) with
        {
            Setup = new TokenSetup(SetupStatus.Ready, "seti_b", null, null),
            Mandate = new Mandate("mandate_b", MandateStatus.Active, MandateType.Online, T0.AddMinutes(-5)),
        };

        Assert.Equal(token, await StoreAsync(token));
    }

    [Fact]
    public async Task CompleteAsync_RequiresActionWithNextAction_ReadBackEqual()
    {
        var token = TestData.Card("pm_c", T0) with { Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_c", Redirect, null) };

        Assert.Equal(token, await StoreAsync(token));
    }

    [Fact]
    public async Task UpdateSetupAsync_PendingSameSetupIntent_StoresTheNewOutcome()
    {
        var stored = await StoreAsync(TestData.Card("pm_u", T0) with { Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_u", Redirect, null) });
        var ready = stored with { Setup = new TokenSetup(SetupStatus.Ready, "seti_u", null, null) };

        var updated = await Ledger.Tokens.UpdateSetupAsync(ready, CancellationToken.None);

        Assert.True(updated);
        Assert.Equal(ready, await Ledger.Tokens.GetTokenAsync("pm_u", CancellationToken.None));
    }

    [Fact]
    public async Task UpdateSetupAsync_AlreadySettled_NothingOverwritten()
    {
        var ready = await StoreAsync(TestData.Card("pm_s", T0) with { Setup = new TokenSetup(SetupStatus.Ready, "seti_s", null, null) });
        var late = ready with { Setup = new TokenSetup(SetupStatus.RequiresAction, "seti_s", Redirect, null) };

        var updated = await Ledger.Tokens.UpdateSetupAsync(late, CancellationToken.None);

        Assert.False(updated);
        Assert.Equal(ready, await Ledger.Tokens.GetTokenAsync("pm_s", CancellationToken.None));
    }

    [Fact]
    public async Task UpdateSetupAsync_OtherSetupIntent_NothingOverwritten()
    {
        var stored = await StoreAsync(TestData.Card("pm_o", T0) with { Setup = new TokenSetup(SetupStatus.Processing, "seti_o", null, null) });

        var updated = await Ledger.Tokens.UpdateSetupAsync(stored with { Setup = new TokenSetup(SetupStatus.Ready, "seti_other", null, null) }, CancellationToken.None);

        Assert.False(updated);
        Assert.Equal(stored, await Ledger.Tokens.GetTokenAsync("pm_o", CancellationToken.None));
    }
}
