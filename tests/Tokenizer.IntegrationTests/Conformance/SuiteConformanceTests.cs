using Xunit.Abstractions;

namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>
/// Every request the integration suite sent to a sandbox, judged against Stripe's description. Runs after the suite
/// (scripts/test.sh: <c>--filter Category=SuiteConformance</c>, and the suite itself runs without it); run alone, it
/// finds nothing recorded and fails, as a check with nothing to judge must.
/// </summary>
[Trait("Category", "SuiteConformance")]
public sealed class SuiteConformanceTests(ITestOutputHelper output)
{
    [Fact]
    public void SuiteRequests_AllJudged_NoFindingBeyondTheListedDifferences()
    {
        var folder = SuiteRecording.Current;
        Assert.True(Directory.Exists(folder), $"no sandbox request logs in {folder}: run the integration suite first (scripts/test.sh does)");
        var recorded = RecordedCalls.FromFolder(folder);

        // The flow test's control sends non-conforming requests on purpose, all under one Customer id: only those are left out.
        var calls = recorded.Where(c => !c.Path.Contains(ConformanceFlowTests.ControlCustomer, StringComparison.Ordinal)).ToList();
        output.WriteLine($"left out {recorded.Count - calls.Count} control requests of {nameof(ConformanceFlowTests)} (paths under {ConformanceFlowTests.ControlCustomer})");

        var verdict = ConformanceVerdict.Of(calls);

        output.WriteLine($"judged {verdict.Judged} requests against Stripe's description {StripeOpenApi.Instance.Version} from {folder}");
        foreach (var group in calls.GroupBy(c => $"{c.Method} {StripeOpenApi.Instance.Template(c.Method, c.Path) ?? c.Path}").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {group.Count(),6} {group.Key}");
        }

        foreach (var exception in SpecExceptions.All)
        {
            output.WriteLine($"listed difference {exception.Id} ({exception.Source}): used {verdict.ExceptionsUsed.GetValueOrDefault(exception.Id)} times");
        }

        foreach (var (id, difference, source) in SpecExceptions.Notes)
        {
            output.WriteLine($"checked, no exception needed: {id}: {difference} ({source})");
        }

        Assert.True(verdict.Judged > 0, $"no request recorded in {folder}: a conformance check that judged nothing proves nothing");
        Assert.True(verdict.Findings.Count == 0, "requests or answers that do not conform to Stripe's description:" + Environment.NewLine + verdict.Describe());
    }
}
