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
