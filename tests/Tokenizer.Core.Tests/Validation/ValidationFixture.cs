using Microsoft.Extensions.Time.Testing;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Validation;

/// <summary>Builders for valid requests and assertions on violations, shared by the validation tests.</summary>
internal static class ValidationFixture
{
    /// <summary>The default "now" of these tests.</summary>
    public static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    public const string Key = "idem-key-1";
    public const string Reference = "cust_ref_1";

    public static RequestValidator Validator(DateTimeOffset? now = null) => new(new FakeTimeProvider(now ?? Now));

    public static CardInput Card(string? number = "4242424242424242", int month = 12, int year = 2030, string? cvc = "123") =>
        new(number, month, year, cvc);

    public static TokenizeCardCommand CardCommand(CardInput? card = null, BillingDetails? billing = null) =>
        new(Key, Reference, card ?? Card(), billing);

    public static BillingDetails FullBilling(string country = "GB") =>
        new("Jane Doe", "jane@example.com", "+44 20 7946 0958", new Address("1 High Street", null, "London", null, "SW1A 1AA", country));

    /// <summary>A valid online mandate acceptance an hour before <see cref="Now"/> (documentation address and a browser's agent).</summary>
    public static MandateAcceptanceInput OnlineMandate() =>
        new(Now.AddHours(-1), new OnlineAcceptanceInput("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)"), Offline: false);

    public static TokenizeBankAccountCommand BankCommand(BankAccountInput? account, BillingDetails? billing = null) =>
        new(Key, Reference, account, billing ?? FullBilling(), OnlineMandate());

    public static ValidatedCardRequest ValidCard(CardInput card, DateTimeOffset? now = null) =>
        Validator(now).ValidateCard(CardCommand(card));

    public static IReadOnlyList<FieldViolation> CardViolations(TokenizeCardCommand command, DateTimeOffset? now = null) =>
        Assert.Throws<TokenizerException>(() => Validator(now).ValidateCard(command)).Violations;

    public static IReadOnlyList<FieldViolation> CardViolations(CardInput card, DateTimeOffset? now = null) =>
        CardViolations(CardCommand(card), now);

    public static IReadOnlyList<FieldViolation> BankViolations(TokenizeBankAccountCommand command) =>
        Assert.Throws<TokenizerException>(() => Validator().ValidateBankAccount(command)).Violations;

    public static IReadOnlyList<FieldViolation> BankViolations(BankAccountInput account, BillingDetails? billing = null) =>
        BankViolations(BankCommand(account, billing));

    /// <summary>Asserts exactly one violation, on <paramref name="field"/> with <paramref name="rule"/>.</summary>
    public static void AssertSingle(IReadOnlyList<FieldViolation> violations, string field, string rule)
    {
        var violation = Assert.Single(violations);
        Assert.Equal(field, violation.Field);
        Assert.Equal(rule, violation.Rule);
    }
}
