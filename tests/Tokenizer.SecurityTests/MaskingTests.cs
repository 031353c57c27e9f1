using Tokenizer.Contracts.V1;

namespace Tokenizer.SecurityTests;

/// <summary>Generated messages that carry card or bank data print a masked form from ToString().</summary>
public sealed class MaskingTests
{
    [Fact]
    public void ToString_CardRequest_ShowsNoPanOrCvc()
    {
        var request = new TokenizeCardRequest
        {
            IdempotencyKey = "k",
            CustomerReference = "c",
            Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2030, Cvc = "987" },
            BillingDetails = new BillingDetails { Name = "Jenny Rosen", Email = "jenny@example.com" },
        };

        var text = request.ToString() + request.Card;

        Assert.DoesNotContain("424242424242", text, StringComparison.Ordinal);
        Assert.DoesNotContain("987", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Jenny", text, StringComparison.Ordinal);
        Assert.Contains("***4242", text, StringComparison.Ordinal);
    }

    public static TheoryData<TokenizeBankAccountRequest, string> BankRequests => new()
    {
        { new TokenizeBankAccountRequest { AuBecsDebit = new AuBecsDebitAccount { BsbNumber = "062000", AccountNumber = "987654321" } }, "98765" },
        { new TokenizeBankAccountRequest { SepaDebit = new SepaDebitAccount { Iban = "DE89370400440532013000" } }, "370400440532" },
        { new TokenizeBankAccountRequest { BacsDebit = new BacsDebitAccount { SortCode = "108800", AccountNumber = "87654321" } }, "8765" },
        { new TokenizeBankAccountRequest { UsBankAccount = new UsBankAccount { RoutingNumber = "110000000", AccountNumber = "000123456789" } }, "0001234" },
    };

    [Theory]
    [MemberData(nameof(BankRequests))]
    public void ToString_BankRequest_ShowsNoAccountNumber(TokenizeBankAccountRequest request, string hidden)
    {
        var text = request.ToString();

        Assert.DoesNotContain(hidden, text, StringComparison.Ordinal);
        Assert.Contains("***", text, StringComparison.Ordinal);
    }
}
