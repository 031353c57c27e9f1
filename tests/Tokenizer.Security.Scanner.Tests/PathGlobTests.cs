namespace Tokenizer.Security.Scanner.Tests;

public class PathGlobTests
{
    [Theory]
    [InlineData("tests/**", "tests", true, true)]
    [InlineData("tests/**", "tests/Foo/Bar.cs", false, true)]
    [InlineData("tests/**", "src/tests", true, false)]
    [InlineData("**/bin/**", "src/App/bin", true, true)]
    [InlineData("**/bin/**", "bin", true, true)]
    [InlineData("**/bin/**", "src/robin", true, false)]
    [InlineData("**/node_modules/**", "tools/buf/node_modules", true, true)]
    [InlineData(".git/**", ".git", true, true)]
    [InlineData(".git/**", "src/.git", true, false)]
    [InlineData("*.png", "src/App/logo.png", false, true)]
    [InlineData("*.png", "src/App/logo.png.txt", false, false)]
    [InlineData("obj", "src/App/obj", true, true)]
    [InlineData("src/*/Data/*.csv", "src/Core/Data/iban.csv", false, true)]
    [InlineData("src/*/Data/*.csv", "src/Core/More/Data/iban.csv", false, false)]
    [InlineData("./artifacts/**", "artifacts", true, true)]
    [InlineData("a?c", "abc", false, true)]
    public void Matches_Table(string pattern, string path, bool isDirectory, bool expected)
    {
        // Act
        var matches = new PathGlob(pattern).Matches(path, isDirectory);

        // Assert
        Assert.Equal(expected, matches);
    }
}
