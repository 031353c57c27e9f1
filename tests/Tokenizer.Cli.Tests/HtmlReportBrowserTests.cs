using Tokenizer.Tests.Shared;

namespace Tokenizer.Cli.Tests;

/// <summary>
/// The HTML report in a real browser (headless Chromium over the DevTools protocol): it renders, with no console error
/// and no network request, to a screenshot that shows something. Controls prove the detector sees both.
/// </summary>
public sealed class HtmlReportBrowserTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("tokenizer-report-browser-").FullName;

    [Fact]
    public async Task HtmlReport_InHeadlessChromium_NoConsoleErrorNoNetworkRequestAndAScreenshotThatShowsIt()
    {
        // Arrange: a month with discrepancies, and an empty period.
        var full = await WriteAsync("report.html", await ReportSamples.HtmlAsync(ReportSamples.November()));
        var empty = await WriteAsync("empty.html", await ReportSamples.HtmlAsync(ReportSamples.November(empty: true)));
        await using var browser = await HeadlessChromium.StartAsync();

        // Act
        var visit = await browser.VisitAsync(full);
        var emptyVisit = await browser.VisitAsync(empty);

        // Assert
        foreach (var (page, name) in new[] { (visit, "report.png"), (emptyVisit, "empty.png") })
        {
            Assert.Empty(page.Problems);
            Assert.Empty(page.Requests);

            // Kept beside the test binaries for people to look at.
            await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, name), page.Png);
            var (width, height, pixels) = Png.Decode(page.Png);
            Assert.Equal(1280, width);
            Assert.True(height >= 300, $"height {height}");
            var colours = pixels.Distinct().Count();
            var inked = pixels.Count(p => p != 0xFFFFFF);
            Assert.True(colours >= 8, $"{colours} colours");
            Assert.True(inked > pixels.Length / 100, $"{inked} of {pixels.Length} pixels are not white");
        }

        // The full report shows its chart's colours (the bars are drawn, not only text).
        var (_, _, reportPixels) = Png.Decode(visit.Png);
        Assert.Contains(0x2E7D32, reportPixels);
        Assert.Contains(0xC62828, reportPixels);
    }

    [Theory]
    [InlineData("<img src=\"http://127.0.0.1:9/pixel.png\" alt=\"\" />", true)]
    [InlineData("<img src=\"http://127.0.0.1:9/pixel.png\" alt=\"\" />", false)]
    [InlineData("<script>window.undefinedFunction();</script>", false)]
    [InlineData("<script>console.error('boom');</script>", false)]
    public async Task Detector_ReportWithExternalImageOrScriptError_IsCaught(string injected, bool keepPolicy)
    {
        // Arrange: the report with one bad element; without its Content-Security-Policy the image is requested and
        // the script runs, with it the browser refuses them and says so on the console.
        var html = await ReportSamples.HtmlAsync(ReportSamples.November());
        if (!keepPolicy || injected.StartsWith("<script", StringComparison.Ordinal))
        {
            var start = html.IndexOf("<meta http-equiv=\"Content-Security-Policy\"", StringComparison.Ordinal);
            html = html.Remove(start, html.IndexOf("/>", start, StringComparison.Ordinal) + 2 - start);
        }

        var path = await WriteAsync("bad.html", html.Replace("<h1>", injected + "<h1>", StringComparison.Ordinal));
        await using var browser = await HeadlessChromium.StartAsync();

        // Act
        var visit = await browser.VisitAsync(path);

        // Assert
        Assert.True(visit.Problems.Count + visit.Requests.Count > 0, "the detector saw nothing");
        if (!keepPolicy && injected.StartsWith("<img", StringComparison.Ordinal))
        {
            Assert.Contains("http://127.0.0.1:9/pixel.png", visit.Requests);
        }
        else
        {
            Assert.NotEmpty(visit.Problems);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private async Task<string> WriteAsync(string name, string html)
    {
        var path = Path.Combine(directory, name);
        await File.WriteAllTextAsync(path, html);
        return path;
    }
}
