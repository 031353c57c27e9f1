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

    [Fact]
    public void ToString_PrivacyMessagesWithBillingDetails_ShowNoPersonalData()
    {
        var billing = new BillingDetails { Name = "Jenny Rosen", Email = "jenny@example.com", Phone = "+442079460000", Address = new Address { Line1 = "1 Secret Street" } };
        var token = new SubjectToken { Token = new Token { Token_ = "pm_1" }, BillingDetails = billing };
        var export = new ExportSubjectDataResponse { SubjectPseudonym = "subj_abc", Tokens = { token } };
        var correct = new CorrectSubjectDataRequest { IdempotencyKey = "k", CustomerReference = "c", BillingDetails = billing };

        var text = string.Join('\n', token.ToString(), export.ToString(), correct.ToString());

        foreach (var value in new[] { "Jenny", "jenny@", "+4420", "Secret Street" })
        {
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
        }

        Assert.Contains("pm_1", text, StringComparison.Ordinal);
        Assert.Contains("subj_abc", text, StringComparison.Ordinal);
    }
}
