using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>The fault plan and its request patterns, without HTTP.</summary>
public sealed class FaultPlanTests
{
    [Theory]
    [InlineData("*", "GET", "/v1/customers/cus_1", true)]
    [InlineData("POST /v1/payment_methods", "POST", "/v1/payment_methods", true)]
    [InlineData("POST /v1/payment_methods", "post", "/v1/payment_methods/", true)]
    [InlineData("POST /v1/payment_methods", "GET", "/v1/payment_methods", false)]
    [InlineData("POST /v1/payment_methods", "POST", "/v1/payment_methods/pm_1/attach", false)]
    [InlineData("POST /v1/payment_methods/*/attach", "POST", "/v1/payment_methods/pm_1/attach", true)]
    [InlineData("POST /v1/payment_methods/*/attach", "POST", "/v1/payment_methods/pm_1/detach", false)]
    [InlineData("POST /v1/payment_methods/*/attach", "POST", "/v1/payment_methods/attach", false)]
    [InlineData("* /v1/customers/*", "GET", "/v1/customers/cus_1", true)]
    [InlineData("/v1/customers/*", "POST", "/v1/customers/cus_1", true)]
    [InlineData("/v1/customers/*", "GET", "/v1/customers/cus_1/payment_methods", false)]
    [InlineData("GET /v1/customers/**", "GET", "/v1/customers/cus_1/payment_methods/pm_1", true)]
    [InlineData("GET /v1/customers/**", "GET", "/v1/customers", true)]
    [InlineData("GET /v1/customers/**", "GET", "/v1/payment_methods", false)]
    [InlineData("/v1/Customers", "GET", "/v1/customers", false)]
    public void Matcher_Pattern_MatchesAsDocumented(string pattern, string method, string path, bool expected)
    {
        var matcher = RequestMatcher.Parse(pattern);

        Assert.NotNull(matcher);
        Assert.Equal(expected, matcher.IsMatch(method, path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("v1/customers")]
    [InlineData("POST")]
    [InlineData("POST v1/customers")]
    [InlineData("POST /v1/customers extra")]
    [InlineData("PO$T /v1/customers")]
    [InlineData("POST /v1/customers?limit=3")]
    [InlineData("POST /v1/cus*")]
    [InlineData("POST /v1/**/attach")]
    [InlineData("POST /v1//attach")]
    [InlineData("POST /v1/caf\u00e9")]
    public void Rule_MalformedMatch_ThrowsArgumentException(string pattern)
    {
        var error = Assert.Throws<ArgumentException>(() => new SandboxFaultRule(pattern, SandboxFault.Reset()));

        Assert.Equal("match", error.ParamName);
    }

    [Fact]
    public void Rule_MatchLongerThan200_Throws() =>
        Assert.Throws<ArgumentException>(() => new SandboxFaultRule("/" + new string('a', 200), SandboxFault.Reset()));

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, -1)]
    [InlineData(1_000_001, 1)]
    [InlineData(1, 1_000_001)]
    public void Rule_NthOrCountOutOfRange_Throws(int nth, int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SandboxFaultRule("*", SandboxFault.Reset(), nth, count));

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(402)]
    [InlineData(404)]
    [InlineData(501)]
    public void Status_UnsupportedStatus_Throws(int status) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.Status(status));

    [Fact]
    public void Status_CodeOnNon429OrUnknownCode_Throws()
    {
        Assert.Throws<ArgumentException>(() => SandboxFault.Status(503, code: "rate_limit"));
        Assert.Throws<ArgumentException>(() => SandboxFault.Status(429, code: "card_declined"));
    }

    [Fact]
    public void Status_Defaults_CodesFollowStripe()
    {
        Assert.Equal("rate_limit", SandboxFault.Status(429).Code);
        Assert.Equal("idempotency_key_in_use", SandboxFault.Status(409).Code);
        Assert.Null(SandboxFault.Status(503).Code);
        Assert.Null(SandboxFault.Status(503).ShouldRetry);
    }

    [Fact]
    public void Durations_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.Latency(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.Latency(TimeSpan.FromMinutes(11)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.Hang(TimeSpan.FromMilliseconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.HangAfterSuccess(TimeSpan.FromMinutes(11)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SandboxFault.NonJson(404));
        Assert.Equal(SandboxFault.DefaultMaxWait, SandboxFault.Hang().MaxWait);
    }

    [Fact]
    public void Next_CountsEveryMatchingRuleAndReportsPending()
    {
        var plan = new SandboxFaultPlan();
        plan.Add("POST /v1/customers", SandboxFault.Status(500), nth: 3);
        plan.Add("GET /v1/customers/*", SandboxFault.Reset());

        Assert.Null(plan.Next("POST", "/v1/customers").Fault);
        Assert.Null(plan.Next("POST", "/v1/customers").Fault);
        var pending = plan.Pending;

        Assert.Equal([2, 0], pending.Select(p => p.Seen));
        Assert.Equal([0, 0], pending.Select(p => p.Fired));
        Assert.Equal(500, plan.Next("POST", "/v1/customers").Fault?.StatusCode);
        Assert.Equal(SandboxFaultAction.Reset, Assert.Single(plan.Pending).Rule.Fault.Action);
    }

    [Fact]
    public void Next_SeveralDueLatencyRules_DelaysAddUpAndOneOtherFaultFires()
    {
        var plan = new SandboxFaultPlan();
        plan.Add("*", SandboxFault.Latency(TimeSpan.FromMilliseconds(100)));
        plan.Add("*", SandboxFault.Status(503));
        plan.Add("*", SandboxFault.Latency(TimeSpan.FromMilliseconds(50)));
        plan.Add("*", SandboxFault.Reset());

        var first = plan.Next("GET", "/v1/customers/cus_1");
        var second = plan.Next("GET", "/v1/customers/cus_1");
        var third = plan.Next("GET", "/v1/customers/cus_1");

        Assert.Equal((TimeSpan.FromMilliseconds(150), SandboxFaultAction.Status), (first.Latency, first.Fault?.Action));
        Assert.Equal((TimeSpan.Zero, SandboxFaultAction.Reset), (second.Latency, second.Fault?.Action));
        Assert.Equal(FaultDecision.None, third);
    }

    [Fact]
    public void AddRange_BeyondMaxRules_AddsNone()
    {
        var plan = new SandboxFaultPlan();
        plan.AddRange(Enumerable.Range(0, SandboxFaultPlan.MaxRules - 1).Select(_ => new SandboxFaultRule("*", SandboxFault.Reset())));

        Assert.Throws<InvalidOperationException>(() => plan.AddRange([new SandboxFaultRule("*", SandboxFault.Reset()), new SandboxFaultRule("*", SandboxFault.Reset())]));
        Assert.Equal(SandboxFaultPlan.MaxRules - 1, plan.Pending.Count);
    }

    [Fact]
    public void Rules_SameParts_AreEqual() =>
        Assert.Equal(new SandboxFaultRule("POST /v1/customers", SandboxFault.Status(503)), new SandboxFaultRule("POST /v1/customers", SandboxFault.Status(503)));

    [Theory]
    [InlineData("status;503", SandboxFaultAction.Status, 503)]
    [InlineData("status; 429 ;should_retry=false", SandboxFaultAction.Status, 429)]
    [InlineData("status;429;code=lock_timeout", SandboxFaultAction.Status, 429)]
    [InlineData("non_json", SandboxFaultAction.NonJson, 502)]
    [InlineData("non_json;status=503", SandboxFaultAction.NonJson, 503)]
    [InlineData("latency;250", SandboxFaultAction.Latency, null)]
    [InlineData("reset", SandboxFaultAction.Reset, null)]
    [InlineData("hang;1000", SandboxFaultAction.Hang, null)]
    [InlineData("drop_after_success", SandboxFaultAction.DropAfterSuccess, null)]
    [InlineData("hang_after_success;max_ms=1000", SandboxFaultAction.HangAfterSuccess, null)]
    public void ParseHeader_WellFormed_Fault(string header, SandboxFaultAction action, int? status)
    {
        var (fault, error) = FaultWire.ParseHeader(header);

        Assert.Null(error);
        Assert.Equal((action, status), (fault!.Action, fault.StatusCode));
    }

    [Theory]
    [InlineData("")]
    [InlineData("explode")]
    [InlineData("status")]
    [InlineData("status;404")]
    [InlineData("status;503;503")]
    [InlineData("status;503;should_retry=maybe")]
    [InlineData("status;4242424242424242")]
    [InlineData("latency")]
    [InlineData("latency;-5")]
    [InlineData("reset;5")]
    [InlineData("hang;delay_ms=5")]
    public void ParseHeader_Malformed_ErrorWithoutTheValue(string header)
    {
        var (fault, error) = FaultWire.ParseHeader(header);

        Assert.Null(fault);
        Assert.NotNull(error);
        Assert.DoesNotContain("4242", error, StringComparison.Ordinal);
    }
}
