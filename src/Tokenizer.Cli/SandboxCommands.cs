using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tokenizer.Core.Redaction;

namespace Tokenizer.Cli;

/// <summary>
/// <c>tokenizer sandbox ...</c>: fires, in the embedded Stripe sandbox of a server started with <c>scripts/run.sh</c> in
/// Development, what Stripe does behind our back, over the sandbox's loopback control endpoints: the card account
/// updater (<c>card-update</c>), a detach in the Dashboard (<c>detach</c>), a Customer deleted in the Dashboard
/// (<c>delete-customer</c>), a mandate cancelled at the bank (<c>deactivate-mandate</c>), the customer's 3-D Secure step
/// (<c>complete-3ds</c>) and the customer confirming ACH microdeposits (<c>verify-microdeposits</c>). The sandbox's address and
/// control token come from the server's data directory (<c>secrets/sandbox-control.url</c> and
/// <c>secrets/sandbox-control.token</c>, owner-only; <c>--data-directory</c>, else the parent of <c>--pki</c>, which
/// defaults to <c>$Tokenizer__DataDirectory/pki</c> or <c>data/pki</c>). A server on real Stripe, outside Development or
/// not running writes no address file: the command refuses (exit 1). Bad usage exits 2. Errors are one line, never a
/// stack trace; nothing the user typed is echoed except file paths (scrubbed).
/// </summary>
public static partial class SandboxCommands
{
    /// <summary>The file (under <c>{DataDirectory}/secrets</c>) holding the sandbox's base address.</summary>
    public const string AddressFile = "sandbox-control.url";

    /// <summary>The file (under <c>{DataDirectory}/secrets</c>) holding the sandbox's control token.</summary>
    public const string TokenFile = "sandbox-control.token";

    private const string TokenHeader = "Sandbox-Control-Token";

    private const string AuthenticatePagePath = "/_sandbox/authenticate/";

    private const string VerifyPagePath = "/_sandbox/verify/";

    /// <summary>The <c>sandbox</c> command group.</summary>
    public static Command Build(CliChannel channel, Option<bool> json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var dataDirectory = new Option<string?>("--data-directory")
        {
            Description = "The server's Tokenizer:DataDirectory (default: the parent of --pki, i.e. $Tokenizer__DataDirectory, else data)",
            Recursive = true,
        };
        var group = new Command("sandbox", "Fire what Stripe does behind our back in the embedded sandbox (scripts/run.sh, Development only)");
        group.Options.Add(dataDirectory);

        var paymentMethod = new Argument<string>("payment-method") { Description = "The token (pm_...)" };
        paymentMethod.Validators.Add(r => Check(r, "payment-method", r.GetValueOrDefault<string>(), "pm_"));
        var expiry = new Option<string>("--exp") { Description = "The new expiry, MM/YYYY", Required = true };
        expiry.Validators.Add(r =>
        {
            if (ParseExpiry(r.GetValueOrDefault<string>()) is null)
            {
                r.AddError("--exp: must be MM/YYYY (month 01-12, four-digit year)");
            }
        });
        var last4 = new Option<string?>("--last4") { Description = "The new last four digits (default: unchanged)" };
        last4.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && (value.Length != 4 || !value.All(char.IsAsciiDigit)))
            {
                r.AddError("--last4: must be four digits");
            }
        });
        var cardUpdate = new Command("card-update", "The card account updater replaces the card's expiry (and last4): payment_method.automatically_updated");
        cardUpdate.Arguments.Add(paymentMethod);
        cardUpdate.Options.Add(expiry);
        cardUpdate.Options.Add(last4);
        cardUpdate.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var (month, year) = ParseExpiry(result.GetValue(expiry))!.Value;
            var body = new Dictionary<string, object> { ["exp_month"] = month, ["exp_year"] = year };
            if (result.GetValue(last4) is { } digits)
            {
                body["last4"] = digits;
            }

            var id = result.GetValue(paymentMethod)!;
            using var answer = await sandbox.PostJsonAsync($"_sandbox/payment_methods/{id}/automatic_update", JsonSerializer.Serialize(body), ct).ConfigureAwait(false);
            var card = answer.RootElement.GetProperty("card");
            var brand = card.GetProperty("brand").GetString();
            var masked = card.GetProperty("last4").GetString();
            var exp = string.Create(CultureInfo.InvariantCulture, $"{card.GetProperty("exp_month").GetInt32():00}/{card.GetProperty("exp_year").GetInt32()}");
            Print(output, asJson, $"card updated at Stripe: {id} {brand} {masked} {exp} (payment_method.automatically_updated)", w =>
            {
                w.WriteString("payment_method", id);
                w.WriteString("brand", brand);
                w.WriteString("last4", masked);
                w.WriteString("exp", exp);
                w.WriteString("event", "payment_method.automatically_updated");
            });
        }, ct));

        var detach = new Command("detach", "Someone detaches the PaymentMethod in the Dashboard: payment_method.detached");
        detach.Arguments.Add(paymentMethod);
        detach.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var id = result.GetValue(paymentMethod)!;
            using var answer = await sandbox.PostJsonAsync($"_sandbox/payment_methods/{id}/detach", null, ct).ConfigureAwait(false);
            Print(output, asJson, $"detached at Stripe: {id} (payment_method.detached)", w =>
            {
                w.WriteString("payment_method", id);
                w.WriteString("event", "payment_method.detached");
            });
        }, ct));

        var mandate = new Argument<string>("mandate") { Description = "The mandate id (mandate_..., from token get)" };
        mandate.Validators.Add(r => Check(r, "mandate", r.GetValueOrDefault<string>(), "mandate_"));
        var deactivate = new Command("deactivate-mandate", "The customer cancels the mandate at their bank: mandate.updated (inactive)");
        deactivate.Arguments.Add(mandate);
        deactivate.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var id = result.GetValue(mandate)!;
            using var answer = await sandbox.PostJsonAsync($"_sandbox/mandates/{id}/deactivate", null, ct).ConfigureAwait(false);
            var status = answer.RootElement.GetProperty("status").GetString();
            Print(output, asJson, $"mandate {id} at Stripe: {status} (mandate.updated)", w =>
            {
                w.WriteString("mandate", id);
                w.WriteString("status", status);
                w.WriteString("event", "mandate.updated");
            });
        }, ct));

        var setupIntent = new Argument<string>("setup-intent") { Description = "The SetupIntent (seti_...) or the token's whole next_action_url" };
        setupIntent.Validators.Add(r =>
        {
            if (SetupIntentOf(r.GetValueOrDefault<string>()) is null)
            {
                r.AddError("setup-intent: must be a SetupIntent id (seti_ and letters or digits) or a next_action_url ending in /_sandbox/authenticate/seti_...");
            }
        });
        var fail = new Option<bool>("--fail") { Description = "Fail the authentication instead of completing it" };
        var complete = new Command("complete-3ds", "The customer completes (or with --fail, fails) 3-D Secure on the hosted page: setup_intent.succeeded or setup_failed");
        complete.Arguments.Add(setupIntent);
        complete.Options.Add(fail);
        complete.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var id = SetupIntentOf(result.GetValue(setupIntent))!;
            var outcome = result.GetValue(fail) ? "fail" : "complete";
            await sandbox.AuthenticateAsync(id, outcome, ct).ConfigureAwait(false);
            var status = outcome == "complete" ? "succeeded" : "failed";
            Print(output, asJson, $"3-D Secure {status}: {id} (setup_intent.{(outcome == "complete" ? "succeeded" : "setup_failed")})", w =>
            {
                w.WriteString("setup_intent", id);
                w.WriteString("authentication", status);
            });
        }, ct));

        var customerId = new Argument<string?>("customer-id") { Description = "The Stripe Customer (cus_...)", Arity = ArgumentArity.ZeroOrOne };
        var customerReference = new Option<string?>("--customer") { Description = "Instead of customer-id: every Stripe Customer made for this customer_reference (as given to tokenize)" };
        customerReference.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && (value.Length is 0 or > 200 || value.Any(char.IsControl)))
            {
                r.AddError("--customer: must be a customer_reference of 1 to 200 characters without control characters");
            }
        });
        var deleteCustomer = new Command("delete-customer", "Someone deletes the Customer in the Dashboard (its PaymentMethods detached with it): customer.deleted");
        deleteCustomer.Arguments.Add(customerId);
        deleteCustomer.Options.Add(customerReference);
        deleteCustomer.Validators.Add(r =>
        {
            // Checked here: an optional argument's own validators do not run for every value.
            var id = r.GetValue(customerId);
            if ((id is null) == (r.GetValue(customerReference) is null))
            {
                r.AddError("customer-id: give either a Stripe Customer (cus_...) or --customer <customer_reference>, not both");
            }
            else if (id is not null && (!id.StartsWith("cus_", StringComparison.Ordinal) || !StripeId().IsMatch(id)))
            {
                r.AddError("customer-id: must be a Stripe id, cus_ followed by letters or digits");
            }
        });
        deleteCustomer.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var body = result.GetValue(customerId) is { } id
                ? new Dictionary<string, string> { ["customer"] = id }
                : new Dictionary<string, string> { ["customer_reference"] = result.GetValue(customerReference)! };
            using var answer = await sandbox.PostJsonAsync("_sandbox/customers/delete", JsonSerializer.Serialize(body), ct).ConfigureAwait(false);
            var deleted = answer.RootElement.GetProperty("deleted").EnumerateArray().Select(e => e.GetString() ?? string.Empty).ToList();
            Print(output, asJson, $"deleted at Stripe: {string.Join(' ', deleted)} (customer.deleted)", w =>
            {
                w.WriteStartArray("customers");
                foreach (var customer in deleted)
                {
                    w.WriteStringValue(customer);
                }

                w.WriteEndArray();
                w.WriteString("event", "customer.deleted");
            });
        }, ct));

        var verifyIntent = new Argument<string>("setup-intent") { Description = "The SetupIntent (seti_...) or the token's whole next_action_url" };
        verifyIntent.Validators.Add(r =>
        {
            if (SetupIntentOf(r.GetValueOrDefault<string>(), VerifyPagePath) is null)
            {
                r.AddError("setup-intent: must be a SetupIntent id (seti_ and letters or digits) or a next_action_url ending in /_sandbox/verify/seti_...");
            }
        });
        var amounts = new Option<string?>("--amounts") { Description = "The two microdeposits in cents, e.g. 32,45 (default: the test-mode amounts 32,45)" };
        amounts.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && ParseAmounts(value) is null)
            {
                r.AddError("--amounts: must be two amounts in cents, 1 to 3 digits each, separated by a comma");
            }
        });
        var descriptorCode = new Option<string?>("--descriptor-code") { Description = "Instead of --amounts: the statement descriptor code (test mode: SM11AA)" };
        descriptorCode.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && !DescriptorCode().IsMatch(value))
            {
                r.AddError("--descriptor-code: must be 6 letters or digits, starting with SM");
            }
        });
        var verify = new Command("verify-microdeposits", "The customer confirms the two ACH microdeposits on the hosted page: setup_intent.succeeded");
        verify.Arguments.Add(verifyIntent);
        verify.Options.Add(amounts);
        verify.Options.Add(descriptorCode);
        verify.Validators.Add(r =>
        {
            if (r.GetValue(amounts) is not null && r.GetValue(descriptorCode) is not null)
            {
                r.AddError("--descriptor-code: give --amounts or --descriptor-code, not both");
            }
        });
        verify.SetAction((result, ct) => Run(result, channel, dataDirectory, json, output, error, async (sandbox, asJson) =>
        {
            var id = SetupIntentOf(result.GetValue(verifyIntent), VerifyPagePath)!;
            var code = result.GetValue(descriptorCode);
            var (first, second) = code is null ? ParseAmounts(result.GetValue(amounts) ?? "32,45")!.Value : (0, 0);
            List<KeyValuePair<string, string>> form = code is null
                ? [new("amount1", first.ToString(CultureInfo.InvariantCulture)), new("amount2", second.ToString(CultureInfo.InvariantCulture))]
                : [new("descriptor_code", code)];
            await sandbox.VerifyMicrodepositsAsync(id, form, ct).ConfigureAwait(false);
            Print(output, asJson, $"microdeposits verified: {id} (setup_intent.succeeded)", w =>
            {
                w.WriteString("setup_intent", id);
                w.WriteString("verification", "succeeded");
            });
        }, ct));

        group.Subcommands.Add(cardUpdate);
        group.Subcommands.Add(detach);
        group.Subcommands.Add(deleteCustomer);
        group.Subcommands.Add(deactivate);
        group.Subcommands.Add(complete);
        group.Subcommands.Add(verify);
        return group;
    }

    /// <summary>MM/YYYY as (month, year), or null.</summary>
    internal static (int Month, int Year)? ParseExpiry(string? text) =>
        text is { Length: 7 } && text[2] == '/'
            && int.TryParse(text.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month) && month is >= 1 and <= 12
            && int.TryParse(text.AsSpan(3, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year) && year >= 1000
            ? (month, year)
            : null;

    /// <summary>Two microdeposit amounts in cents, <c>32,45</c> (1 to 3 digits each), or null.</summary>
    internal static (int First, int Second)? ParseAmounts(string? text)
    {
        var parts = text?.Split(',') ?? [];
        return parts.Length == 2
            && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit))
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var second)
            ? (first, second)
            : null;
    }

    /// <summary>
    /// The SetupIntent id of a <c>seti_...</c> argument or of a hosted page URL <c>...{pagePath}seti_...</c> (default the
    /// 3-D Secure page, <c>/_sandbox/authenticate/</c>); null otherwise.
    /// </summary>
    internal static string? SetupIntentOf(string? text, string pagePath = AuthenticatePagePath)
    {
        if (text is null)
        {
            return null;
        }

        var id = Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.AbsolutePath.StartsWith(pagePath, StringComparison.Ordinal)
            ? uri.AbsolutePath[pagePath.Length..]
            : text;
        return StripeId().IsMatch(id) && id.StartsWith("seti_", StringComparison.Ordinal) ? id : null;
    }

    private static void Check(System.CommandLine.Parsing.ArgumentResult result, string name, string? value, string prefix)
    {
        if (value is null || !value.StartsWith(prefix, StringComparison.Ordinal) || !StripeId().IsMatch(value))
        {
            result.AddError($"{name}: must be a Stripe id, {prefix} followed by letters or digits");
        }
    }

    private static Task<int> Run(
        ParseResult result,
        CliChannel channel,
        Option<string?> dataDirectoryOption,
        Option<bool> json,
        TextWriter output,
        TextWriter error,
        Func<SandboxClient, bool, Task> body,
        CancellationToken cancellationToken)
    {
        var asJson = result.GetValue(json);
        return CliErrors.RunAsync(result, error, async () =>
        {
            var dataDirectory = result.GetValue(dataDirectoryOption) is { Length: > 0 } given
                ? given
                : Path.GetDirectoryName(Path.GetFullPath(result.GetValue(channel.Pki)!)) ?? "data";
            SandboxClient sandbox;
            try
            {
                sandbox = SandboxClient.Open(dataDirectory);
            }
            catch (SandboxRefusedException refused)
            {
                return Fail(error, asJson, "sandbox", refused.Message);
            }

            using (sandbox)
            {
                try
                {
                    await body(sandbox, asJson).ConfigureAwait(false);
                    return 0;
                }
                catch (SandboxRefusedException refused)
                {
                    return Fail(error, asJson, "sandbox", refused.Message);
                }
                catch (HttpRequestException unreachable) when (unreachable.InnerException is SocketException || unreachable.HttpRequestError == HttpRequestError.ConnectionError)
                {
                    return Fail(error, asJson, "connection", $"cannot reach the embedded Stripe sandbox at {sandbox.Address}: is the server (scripts/run.sh) still running?");
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return Fail(error, asJson, "connection", $"the embedded Stripe sandbox at {sandbox.Address} did not answer in time");
                }
            }
        });
    }

    private static void Print(TextWriter output, bool json, string text, Action<Utf8JsonWriter> fields)
    {
        if (!json)
        {
            output.WriteLine(text);
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // The same shapes as CliErrors: "error: ..." or {"error":{"kind","exit_code","message"}}, exit 1.
    private static int Fail(TextWriter error, bool json, string kind, string message)
    {
        message = SensitiveDataScrubber.Scrub(message.ReplaceLineEndings(" ")) ?? string.Empty;
        if (!json)
        {
            error.WriteLine($"error: {message}");
            return CliErrors.ExitFailure;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("kind", kind);
            writer.WriteNumber("exit_code", CliErrors.ExitFailure);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        error.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        return CliErrors.ExitFailure;
    }

    [GeneratedRegex("^[a-z]+_[A-Za-z0-9]{1,250}$", RegexOptions.CultureInvariant)]
    private static partial Regex StripeId();

    [GeneratedRegex("^SM[A-Z0-9]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex DescriptorCode();

    /// <summary>The sandbox refused or cannot be used; the message is one line and quotes no input but file paths.</summary>
    private sealed class SandboxRefusedException(string message) : Exception(message)
    {
    }

    /// <summary>HTTP to the sandbox's loopback address with the control token; never follows redirects.</summary>
    private sealed class SandboxClient : IDisposable
    {
        private readonly HttpClient http;

        private SandboxClient(Uri address, string token)
        {
            Address = address;
            http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
            {
                BaseAddress = address,
                Timeout = TimeSpan.FromSeconds(30),
            };
            http.DefaultRequestHeaders.Add(TokenHeader, token);
        }

        public Uri Address { get; }

        public static SandboxClient Open(string dataDirectory)
        {
            var secrets = Path.Combine(dataDirectory, "secrets");
            var addressPath = Path.Combine(secrets, AddressFile);
            var tokenPath = Path.Combine(secrets, TokenFile);
            if (!File.Exists(addressPath))
            {
                throw new SandboxRefusedException(
                    $"{addressPath} not found: no server runs on embedded defaults in Development with this data directory "
                    + "(start one with scripts/run.sh; a server on real Stripe or outside Development offers no sandbox control), or pass --data-directory");
            }

            string addressText;
            string token;
            try
            {
                addressText = File.ReadAllText(addressPath).Trim();
                token = File.ReadAllText(tokenPath).Trim();
            }
            catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
            {
                throw new SandboxRefusedException($"cannot read {addressPath} or {tokenPath} (they are readable by the server's user only)");
            }

            // The token goes only to a plain loopback address: whatever else the file says, it is not sent.
            if (!Uri.TryCreate(addressText, UriKind.Absolute, out var address) || address.Scheme != Uri.UriSchemeHttp
                || !(address.IsLoopback && (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) ? IPAddress.IsLoopback(ip) : address.Host == "localhost")))
            {
                throw new SandboxRefusedException($"{addressPath} does not hold a loopback http:// address; restart the server with scripts/run.sh");
            }

            return new SandboxClient(address, token);
        }

        /// <summary>POSTs JSON (or nothing) to a control endpoint; the answer's JSON, or the sandbox's error as a refusal.</summary>
        public async Task<JsonDocument> PostJsonAsync(string path, string? json, CancellationToken cancellationToken)
        {
            using var content = new StringContent(json ?? "{}", Encoding.UTF8, "application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = json is null ? null : content };
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new SandboxRefusedException(Describe(response.StatusCode, text));
            }

            try
            {
                return JsonDocument.Parse(text);
            }
            catch (JsonException)
            {
                throw new SandboxRefusedException($"the sandbox at {Address} answered {(int)response.StatusCode} with something that is not JSON");
            }
        }

        /// <summary>The hosted 3-D Secure page's button: <c>POST /_sandbox/authenticate/{seti}</c> with <c>outcome</c>.</summary>
        public async Task AuthenticateAsync(string setupIntent, string outcome, CancellationToken cancellationToken)
        {
            using var content = new FormUrlEncodedContent([new KeyValuePair<string, string>("outcome", outcome)]);
            using var response = await http.PostAsync(new Uri("_sandbox/authenticate/" + setupIntent, UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK or HttpStatusCode.SeeOther:
                    return;
                case HttpStatusCode.NotFound:
                    throw new SandboxRefusedException("the sandbox answered 404: this SetupIntent is not waiting for 3-D Secure authentication");
                default:
                    throw new SandboxRefusedException($"the sandbox answered {(int)response.StatusCode} to the 3-D Secure step");
            }
        }

        /// <summary>
        /// The hosted microdeposit page's form: <c>POST /_sandbox/verify/{seti}</c> with <c>amount1</c> and
        /// <c>amount2</c>, or <c>descriptor_code</c> (the sandbox imitates Stripe API
        /// <c>POST /v1/setup_intents/{intent}/verify_microdeposits</c> behind it).
        /// </summary>
        public async Task VerifyMicrodepositsAsync(string setupIntent, IEnumerable<KeyValuePair<string, string>> form, CancellationToken cancellationToken)
        {
            using var content = new FormUrlEncodedContent(form);
            using var response = await http.PostAsync(new Uri("_sandbox/verify/" + setupIntent, UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return;
                case HttpStatusCode.NotFound:
                    throw new SandboxRefusedException("the sandbox answered 404: no such SetupIntent");
                case HttpStatusCode.BadRequest:
                    throw new SandboxRefusedException("the sandbox answered 400: the SetupIntent is not waiting for microdeposits, or the amounts or descriptor code do not match (test mode: --amounts 32,45 or --descriptor-code SM11AA)");
                default:
                    throw new SandboxRefusedException($"the sandbox answered {(int)response.StatusCode} to the microdeposit verification");
            }
        }

        public void Dispose() => http.Dispose();

        // Stripe's error shape {"error":{"message","param","code"}}: the sandbox's own fixed texts, quoting no input.
        private static string Describe(HttpStatusCode status, string body)
        {
            var code = ((int)status).ToString(CultureInfo.InvariantCulture);
            if (status == HttpStatusCode.Unauthorized)
            {
                return $"the sandbox refused the control token (401): the server was restarted with another data directory? Use --data-directory";
            }

            try
            {
                using var document = JsonDocument.Parse(body);
                var error = document.RootElement.GetProperty("error");
                var message = error.TryGetProperty("message", out var m) ? m.GetString() : null;
                return $"the sandbox answered {code}: {message ?? "(no message)"}";
            }
            catch (Exception problem) when (problem is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"the sandbox answered {code}";
            }
        }
    }
}
