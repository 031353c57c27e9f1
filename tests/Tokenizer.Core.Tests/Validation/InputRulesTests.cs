using CsCheck;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Validation;

public sealed class InputRulesTests
{
    [Theory]
    [InlineData("Jenny\r\nRosen", "JennyRosen")]
    [InlineData("Jenny\u2028Rosen", "JennyRosen")]
    [InlineData("Jenny\u202ERosen", "JennyRosen")]
    [InlineData("  Jenny Rosen\t", "Jenny Rosen")]
    [InlineData("\u200B", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void CleanText_InvisibleCharacters_Removed(string? input, string? expected)
    {
        Assert.Equal(expected, InputRules.CleanText(input));
    }
}

public sealed class InputRulesIdentifierTests
{
    [Theory]
    [InlineData("order-4242424242424242", false)]
    [InlineData("4242424242424242", false)]
    [InlineData("ref378282246310005x", false)]
    [InlineData("order-424242424241", true)]
    [InlineData("order-123456789011", true)]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301", true)]
    [InlineData("4242-4242-4242-4242", false)]
    public void IsValidReference_PanLikeRuns_Refused(string value, bool valid)
    {
        Assert.Equal(valid, InputRules.IsValidReference(value));
    }

    [Theory]
    [InlineData("order-1001-card")]
    [InlineData("key-42")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301")]
    [InlineData("01ARZ3NDEKTSV4RRFFQ69G5FAV")]
    public void IsValidIdempotencyKey_PrintableAsciiWithoutCardData_Accepted(string value)
    {
        Assert.True(InputRules.IsValidIdempotencyKey(value));
    }
}

public sealed class CardOrBankNumberTests
{
    [Theory]
    [InlineData("4716-9139-0996-0305", true)]
    [InlineData("4716.9139.0996.0305", true)]
    [InlineData("4242 4242 4242 4242", true)]
    [InlineData("name 4242424242424242 x", true)]
    [InlineData("378282246310005", true)]
    [InlineData("4242  4242 4242 4242", true)]
    [InlineData("12-4242424242424242", true)]
    [InlineData("cust-123456789011", false)]
    [InlineData("424242424241", false)]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301", false)]
    [InlineData("", false)]
    public void HoldsCardOrBankNumber_Table(string value, bool expected)
    {
        Assert.Equal(expected, FreeTextRule.HoldsCardOrBankNumber(value));
    }
}

/// <summary>
/// The erased namespace: an erased subject's kept tokens carry <c>erased_subj_...</c> as reference, so no call acting
/// for a subject may name it. References are case-sensitive (ordinal in both ledgers and in the pseudonym HMAC), so
/// only the exact lower-case prefix is reserved; <c>ERASED_SUBJ_x</c> is another, ordinary reference.
/// </summary>
public sealed class ReservedReferenceTests
{
    [Fact]
    public void CheckSubjectReference_CaseVariantsOfThePrefix_OnlyTheExactPrefixRefusedWithoutEcho()
    {
        var prefix = InputRules.ReservedReferencePrefix;
        var variants = Gen.Bool.Array[prefix.Length].Select(upper => string.Concat(prefix.Select((c, i) => upper[i] ? char.ToUpperInvariant(c) : c)));
        var suffix = Gen.String[Gen.Char["abcdefghijklmnopXYZ_-"], 1, 40];
        Gen.Select(variants, suffix).Sample((variant, rest) =>
        {
            // Arrange
            var reference = variant + rest;
            var violations = new List<FieldViolation>();

            // Act
            var valid = InputRules.CheckSubjectReference(reference, "customer_reference", violations);

            // Assert
            var reserved = string.Equals(variant, prefix, StringComparison.Ordinal);
            Assert.Equal(!reserved, valid);
            Assert.Equal(reserved, InputRules.IsReservedReference(reference));
            if (reserved)
            {
                var violation = Assert.Single(violations);
                Assert.Equal(("customer_reference", "reserved prefix"), (violation.Field, violation.Rule));
            }
            else
            {
                Assert.Empty(violations);
            }

            // Read filters (ListTokens, reconciliation) may still name an erased pseudonym.
            Assert.True(InputRules.CheckReference(reference, "customer_reference", []));
        });
    }

    [Theory]
    [InlineData("erased_subj_mocmlnehdialgnfpnkpdkedpfagfilej", false)]
    [InlineData("erased_subj_", false)]
    [InlineData("ERASED_SUBJ_mocmlnehdialgnfpnkpdkedpfagfilej", true)]
    [InlineData("erased_subject", true)]
    [InlineData("erased_", true)]
    [InlineData("x-erased_subj_a", true)]
    [InlineData("subj_mocmlnehdialgnfpnkpdkedpfagfilej", true)]
    [InlineData("cust-42", true)]
    public void CheckSubjectReference_Examples(string reference, bool valid) =>
        Assert.Equal(valid, InputRules.CheckSubjectReference(reference, "customer_reference", []));

    [Fact]
    public void ReservedReferencePrefix_IsWhatAnErasureWrites() =>
        Assert.StartsWith(InputRules.ReservedReferencePrefix, Tokenizer.Core.Privacy.SubjectPseudonyms.ErasedReference(new Tokenizer.Core.Privacy.SubjectPseudonyms(new byte[32]).Of("cust-42")), StringComparison.Ordinal);
}
