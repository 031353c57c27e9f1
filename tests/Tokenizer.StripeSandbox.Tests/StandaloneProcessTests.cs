using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace Tokenizer.StripeSandbox.Tests;

public sealed partial class StandaloneProcessTests
{
    [Fact]
    public async Task Program_VerboseLoggingAndWildcardUrlsFromEnvironment_StayOffAndLoopback()
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
        start.Environment["Logging__LogLevel__Default"] = "Trace";
        start.Environment["ASPNETCORE_Logging__LogLevel__Default"] = "Trace";
        start.Environment["ASPNETCORE_URLS"] = "http://0.0.0.0:0";

        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseAddress = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("127.0.0.1", baseAddress.Host);
            using var http = new HttpClient { BaseAddress = baseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_process");
            foreach (var form in new[]
            {
                new Dictionary<string, string> { ["type"] = "card", ["card[number]"] = "4242424242424242", ["card[exp_month]"] = "12", ["card[exp_year]"] = "2035", ["card[cvc]"] = "987" },
                new Dictionary<string, string> { ["type"] = "card", ["card[number]"] = "4000000000009995", ["card[exp_month]"] = "12", ["card[exp_year]"] = "2035" },
                new Dictionary<string, string> { ["type"] = "card", ["card[number]"] = "4242424242424241", ["card[exp_month]"] = "12", ["card[exp_year]"] = "2035" },
                new Dictionary<string, string> { ["type"] = "sepa_debit", ["sepa_debit[iban]"] = "DE89370400440532013000", ["billing_details[name]"] = "J", ["billing_details[email]"] = "j@example.com" },
            })
            {
                using var content = new FormUrlEncodedContent(form);
                using var response = await http.PostAsync(new Uri("v1/payment_methods", UriKind.Relative), content);
                Assert.True((int)response.StatusCode is 200 or 402);
            }

            using var stats = await http.GetAsync(new Uri("_sandbox/stats", UriKind.Relative));
            Assert.Contains("\"payment_methods\":3", await stats.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        var log = output.ToString();
        Assert.Contains("Stripe sandbox listening on", log, StringComparison.Ordinal);
        Assert.DoesNotContain("4242424242424242", log, StringComparison.Ordinal);
        Assert.DoesNotContain("4000000000009995", log, StringComparison.Ordinal);
        Assert.DoesNotContain("4242424242424241", log, StringComparison.Ordinal);
        Assert.DoesNotContain("DE89370400440532013000", log, StringComparison.Ordinal);
        Assert.DoesNotContain("card%5Bnumber%5D", log, StringComparison.Ordinal);

        void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }

            if (ListeningLine().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        }
    }

    [GeneratedRegex(@"listening on (http://\S+/)")]
    private static partial Regex ListeningLine();
}
