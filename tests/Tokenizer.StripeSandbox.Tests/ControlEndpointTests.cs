using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Stripe;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.StripeSandbox.Tests;

/// <summary>The HTTP control endpoints (<c>/_sandbox/faults</c>, <c>/_sandbox/requests</c>) and the <c>Sandbox-Fault</c> header.</summary>
public sealed partial class ControlEndpointTests
{
    private static readonly string Token = RandomNumberGenerator.GetHexString(64, lowercase: true);

    private static Task<StripeSandboxServer> StartWithTokenAsync(Action<StripeSandboxOptions>? configure = null) =>
        SandboxHarness.StartAsync(o =>
        {
            o.ControlToken = Token;
            configure?.Invoke(o);
        });

    private static HttpClient Control(StripeSandboxServer server, string? token = null)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("Sandbox-Control-Token", token ?? Token);
        return http;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Uri Path(string path) => new(path, UriKind.Relative);

    [Theory]
    [InlineData("GET", "_sandbox/faults")]
    [InlineData("POST", "_sandbox/faults")]
    [InlineData("DELETE", "_sandbox/faults")]
    [InlineData("GET", "_sandbox/requests")]
    [InlineData("DELETE", "_sandbox/requests")]
    public async Task ControlEndpoints_NoTokenConfigured_Absent(string method, string path)
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = Control(server);
        using var request = new HttpRequestMessage(new HttpMethod(method), Path(path)) { Content = method == "POST" ? Json("[]") : null };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-token-wrong-token-wrong-token-wrong")]
    public async Task ControlEndpoints_MissingOrWrongToken_401AndPlanUnchanged(string? presented)
    {
        await using var server = await StartWithTokenAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        if (presented is not null)
        {
            http.DefaultRequestHeaders.Add("Sandbox-Control-Token", presented);
        }

        // The Stripe API key is not a control token either.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SandboxHarness.ApiKey);

        using var post = await http.PostAsync(Path("_sandbox/faults"), Json("""[{"action":"reset"}]"""));
        using var get = await http.GetAsync(Path("_sandbox/requests"));

        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
        Assert.Empty(server.Faults.Pending);
    }

    [Fact]
    public async Task PostFaults_OverHttp_PlanAppliesToStripeNetAndIsReported()
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var posted = await http.PostAsync(Path("_sandbox/faults"), Json("""
            [
              {"match": "POST /v1/payment_methods", "action": "status", "status": 503, "should_retry": false},
              {"match": "POST /v1/payment_methods/*/attach", "action": "drop_after_success", "nth": 2, "count": 3},
              {"action": "latency", "delay_ms": 1, "count": 0}
            ]
            """));
        var body = await posted.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        using (var document = JsonDocument.Parse(body))
        {
            var data = document.RootElement.GetProperty("data");
            Assert.Equal(3, data.GetArrayLength());
            Assert.Equal("status", data[0].GetProperty("action").GetString());
            Assert.Equal(503, data[0].GetProperty("status").GetInt32());
            Assert.False(data[0].GetProperty("should_retry").GetBoolean());
            Assert.Equal(2, data[1].GetProperty("nth").GetInt32());
            Assert.Equal(0, data[2].GetProperty("count").GetInt32());
            Assert.Equal("*", data[2].GetProperty("match").GetString());
        }

        var error = await Assert.ThrowsAsync<StripeException>(
            () => SandboxHarness.Client(server).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242")));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.HttpStatusCode);
        Assert.Equal(2, server.Faults.Pending.Count);
    }

    [Fact]
    public async Task GetFaults_AfterFiring_ShowsSeenAndFired()
    {
        await using var server = await StartWithTokenAsync();
        server.Faults.Add("POST /v1/customers", SandboxFault.Status(500), nth: 2, count: 2);
        await SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions());
        await Assert.ThrowsAsync<StripeException>(() => SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions()));
        using var http = Control(server);

        using var document = JsonDocument.Parse(await http.GetStringAsync(Path("_sandbox/faults")));

        var rule = Assert.Single(document.RootElement.GetProperty("data").EnumerateArray());
        Assert.Equal((2, 1), (rule.GetProperty("seen").GetInt32(), rule.GetProperty("fired").GetInt32()));
    }

    [Fact]
    public async Task DeleteFaults_ClearsThePlan()
    {
        await using var server = await StartWithTokenAsync();
        server.Faults.Add("*", SandboxFault.Reset(), count: SandboxFaultRule.Unlimited);
        using var http = Control(server);

        using var response = await http.DeleteAsync(Path("_sandbox/faults"));
        var customer = await SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(server.Faults.Pending);
        Assert.StartsWith("cus_", customer.Id, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetRequests_OverHttp_KeysOutcomesAndFaultsButNoCardData()
    {
        await using var server = await StartWithTokenAsync();
        server.Faults.Add("POST /v1/payment_methods", SandboxFault.DropAfterSuccess());
        var service = SandboxHarness.Client(server).V1.PaymentMethods;
        var options = new RequestOptions { IdempotencyKey = "http-log-1" };
        await Assert.ThrowsAsync<HttpRequestException>(() => service.CreateAsync(SandboxHarness.Card("6011111111111117", cvc: "321"), options));
        await service.CreateAsync(SandboxHarness.Card("6011111111111117", cvc: "321"), options);
        using var http = Control(server);

        var body = await http.GetStringAsync(Path("_sandbox/requests?match=POST%20/v1/payment_methods"));

        Assert.DoesNotContain("6011111111111117", body, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(body);
        var data = document.RootElement.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(["http-log-1", "http-log-1"], data.Select(r => r.GetProperty("idempotency_key").GetString()));
        Assert.Equal(["aborted", "answered"], data.Select(r => r.GetProperty("outcome").GetString()));
        Assert.Equal("drop_after_success", data[0].GetProperty("fault").GetString());
        Assert.Equal(JsonValueKind.Null, data[0].GetProperty("status").ValueKind);
        Assert.Equal(200, data[1].GetProperty("status").GetInt32());
        Assert.Equal("/v1/payment_methods", data[1].GetProperty("path").GetString());
        Assert.True(data[1].GetProperty("sequence").GetInt64() > data[0].GetProperty("sequence").GetInt64());
    }

    [Fact]
    public async Task DeleteRequests_ClearsTheLog()
    {
        await using var server = await StartWithTokenAsync();
        await SandboxHarness.Client(server).V1.Customers.CreateAsync(new CustomerCreateOptions());
        using var http = Control(server);

        using var response = await http.DeleteAsync(Path("_sandbox/requests"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(server.Requests.Snapshot());
    }

    [Theory]
    [InlineData("""[{"action":"status","status":404}]""", "[0].status")]
    [InlineData("""[{"action":"status"}]""", "[0].status")]
    [InlineData("""[{"action":"status","status":429,"code":"card_declined"}]""", "[0].code")]
    [InlineData("""[{"action":"latency"}]""", "[0].delay_ms")]
    [InlineData("""[{"action":"reset","delay_ms":5}]""", "[0].delay_ms")]
    [InlineData("""[{"action":"hang","max_ms":600001}]""", "[0].max_ms")]
    [InlineData("""[{"action":"reset"},{"action":"explode"}]""", "[1].action")]
    [InlineData("""[{"action":"reset","match":"4242424242424242"}]""", "[0].match")]
    [InlineData("""[{"action":"reset","nth":0}]""", "[0].nth")]
    [InlineData("""[{"action":"reset","count":-1}]""", "[0].count")]
    [InlineData("""[null]""", "[0]")]
    public async Task PostFaults_InvalidRule_400NamingTheMemberAndNothingAdded(string json, string param)
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var response = await http.PostAsync(Path("_sandbox/faults"), Json(json));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var document = JsonDocument.Parse(body);
        Assert.Equal(param, document.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.DoesNotContain("4242", body, StringComparison.Ordinal);
        Assert.DoesNotContain("explode", body, StringComparison.Ordinal);
        Assert.Empty(server.Faults.Pending);
    }

    [Theory]
    [InlineData("""[{"action":"reset","sttaus":503}]""")]
    [InlineData("""[{"action":"reset","4242424242424242":1}]""")]
    [InlineData("""{"action":"reset"}""")]
    [InlineData("""[{"action":"status","status":"503"}]""")]
    [InlineData("not json")]
    public async Task PostFaults_NotAnArrayOfKnownMembers_400WithoutEcho(string json)
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var response = await http.PostAsync(Path("_sandbox/faults"), Json(json));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("4242", body, StringComparison.Ordinal);
        Assert.DoesNotContain("not json", body, StringComparison.Ordinal);
        Assert.Empty(server.Faults.Pending);
    }

    [Fact]
    public async Task PostFaults_MisspeltMember_ParamNamesItLikeStripeNamesUnknownParameters()
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var response = await http.PostAsync(Path("_sandbox/faults"), Json("""[{"action":"reset","sttaus":503}]"""));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("$[0].sttaus", document.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task PostFaults_NotJsonContentType_415()
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var response = await http.PostAsync(Path("_sandbox/faults"), new StringContent("""[{"action":"reset"}]""", Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Empty(server.Faults.Pending);
    }

    [Fact]
    public async Task GetRequests_MalformedMatch_400()
    {
        await using var server = await StartWithTokenAsync();
        using var http = Control(server);

        using var response = await http.GetAsync(Path("_sandbox/requests?match=customers"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("a token with spaces in it that is long enough")]
    public async Task StartAsync_BadControlToken_ThrowsNamingTheSettingNotTheValue(string token)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o => o.ControlToken = token));

        Assert.Contains("ControlToken", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(token, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1_000_001)]
    public async Task StartAsync_RecordedRequestLimitOutOfRange_Throws(int limit)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o => o.RecordedRequestLimit = limit));

        Assert.Contains("RecordedRequestLimit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultHeader_NotAllowed_Ignored()
    {
        await using var server = await SandboxHarness.StartAsync();
        using var http = SandboxHarness.Http(server);
        http.DefaultRequestHeaders.Add("Sandbox-Fault", "status;503");

        using var response = await http.PostAsync(Path("v1/customers"), new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(server.Requests.Snapshot()[0].Fault);
    }

    [Fact]
    public async Task FaultHeader_Allowed_AppliesToThatRequestOnly()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.AllowFaultHeader = true);
        using var http = SandboxHarness.Http(server);

        using var faulted = new HttpRequestMessage(HttpMethod.Post, Path("v1/customers")) { Content = new FormUrlEncodedContent([]) };
        faulted.Headers.Add("Sandbox-Fault", "status;429;should_retry=true");
        using var response = await http.SendAsync(faulted);
        using var plain = await http.PostAsync(Path("v1/customers"), new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("true", Assert.Single(response.Headers.GetValues("Stripe-Should-Retry")));
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(1, server.GetStats().Customers);
    }

    [Fact]
    public async Task FaultHeader_AllowedButMalformed_400NamingTheHeader()
    {
        await using var server = await SandboxHarness.StartAsync(o => o.AllowFaultHeader = true);
        using var http = SandboxHarness.Http(server);
        http.DefaultRequestHeaders.Add("Sandbox-Fault", "status;4242424242424242");

        using var response = await http.PostAsync(Path("v1/customers"), new FormUrlEncodedContent([]));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Sandbox-Fault", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4242", body, StringComparison.Ordinal);
        Assert.Equal(0, server.GetStats().Customers);
    }

    [Fact]
    public async Task Program_ControlTokenFromEnvironment_ControlEndpointsWorkInAnotherProcess()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(StripeSandboxServer).Assembly.Location);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["STRIPE_SANDBOX_ControlToken"] = Token;

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ListeningLine().Match(e.Data) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseAddress = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var control = new HttpClient { BaseAddress = baseAddress };
            control.DefaultRequestHeaders.Add("Sandbox-Control-Token", Token);
            using var api = new HttpClient { BaseAddress = baseAddress };
            api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_process");

            using var posted = await control.PostAsync(Path("_sandbox/faults"), Json("""[{"match":"POST /v1/customers","action":"status","status":503}]"""));
            using var faulted = await api.PostAsync(Path("v1/customers"), new FormUrlEncodedContent([]));
            using var normal = await api.PostAsync(Path("v1/customers"), new FormUrlEncodedContent([]));
            var requests = await control.GetStringAsync(Path("_sandbox/requests"));

            Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, faulted.StatusCode);
            Assert.Equal(HttpStatusCode.OK, normal.StatusCode);
            using var document = JsonDocument.Parse(requests);
            Assert.Equal([503, 200], document.RootElement.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("status").GetInt32()));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [GeneratedRegex(@"listening on (http://\S+/)")]
    private static partial Regex ListeningLine();
}
