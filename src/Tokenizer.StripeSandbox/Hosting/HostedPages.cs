using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Tokenizer.StripeSandbox.Api;

namespace Tokenizer.StripeSandbox.Hosting;

/// <summary>
/// The sandbox's hosted pages, the stand-ins for Stripe's own: <c>GET/POST /_sandbox/authenticate/{seti}</c> (the 3-D
/// Secure test page at a SetupIntent's <c>next_action</c> URL: buttons <c>complete</c> and <c>fail</c>, then a 303 to the
/// <c>return_url</c> with <c>setup_intent</c>, <c>setup_intent_client_secret</c> and <c>redirect_status</c>) and
/// <c>GET/POST /_sandbox/verify/{seti}</c> (the ACH microdeposit page: two amounts in cents or a descriptor code). Plain
/// HTML, no scripts, no API key (like Stripe's pages, the unguessable SetupIntent id is the only credential); loopback only,
/// as the whole sandbox.
/// </summary>
internal static class HostedPages
{
    private static readonly string[] AmountFields = ["amount1", "amount2"];

    private const string Policy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

    public static void Map(WebApplication app, SetupIntentsApi setupIntents)
    {
        app.MapGet("/_sandbox/authenticate/{id}", context =>
        {
            var id = (string)context.GetRouteValue("id")!;
            var intent = setupIntents.Find(id);
            if (intent is not { Status: "requires_action", NextAction.Type: "redirect_to_url" or "use_stripe_sdk" })
            {
                return WriteAsync(context, 404, "Nothing to authenticate", "<p>This SetupIntent is not waiting for 3-D Secure authentication.</p>");
            }

            return WriteAsync(context, 200, "3-D Secure test page", $"""
                <p>Stripe sandbox: complete or fail the 3-D Secure challenge for SetupIntent <code>{Html(intent.Id)}</code>.</p>
                <form method="post">
                  <button id="complete" name="outcome" value="complete" type="submit">Complete</button>
                  <button id="fail" name="outcome" value="fail" type="submit">Fail</button>
                </form>
                """);
        });

        app.MapPost("/_sandbox/authenticate/{id}", async context =>
        {
            var id = (string)context.GetRouteValue("id")!;
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
            var outcome = form?["outcome"].ToString();
            if (outcome is not ("complete" or "fail"))
            {
                await WriteAsync(context, 400, "Choose an outcome", "<p>outcome must be complete or fail.</p>");
                return;
            }

            var (intent, returnUrl) = setupIntents.Authenticate(id, outcome == "complete");
            if (intent is null)
            {
                await WriteAsync(context, 404, "Nothing to authenticate", "<p>This SetupIntent is not waiting for 3-D Secure authentication.</p>");
                return;
            }

            var status = intent.Status == "succeeded" ? "succeeded" : "failed";
            if (returnUrl is null)
            {
                await WriteAsync(context, 200, "Authentication " + status, $"<p id=\"result\">Authentication {status}. You can close this page.</p>");
                return;
            }

            var target = new UriBuilder(returnUrl);
            var query = target.Query.TrimStart('?');
            target.Query = (query.Length > 0 ? query + "&" : string.Empty)
                + "setup_intent=" + Uri.EscapeDataString(intent.Id)
                + "&setup_intent_client_secret=" + Uri.EscapeDataString(intent.ClientSecret)
                + "&redirect_status=" + status;
            context.Response.StatusCode = 303;
            context.Response.Headers.Location = target.Uri.AbsoluteUri;
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
        });

        // The mandate document at payment_method_details.*.url: what was agreed and its state, never the IP address or user agent.
        app.MapGet("/_sandbox/mandates/{id}", context =>
        {
            var mandate = setupIntents.FindMandate((string)context.GetRouteValue("id")!);
            if (mandate is null)
            {
                return WriteAsync(context, 404, "No such mandate", "<p>There is no such mandate.</p>");
            }

            var accepted = mandate.CustomerAcceptance.AcceptedAt is { } at
                ? DateTimeOffset.FromUnixTimeSeconds(at).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
                : "unknown";
            return WriteAsync(context, 200, "Direct Debit mandate", $"""
                <dl>
                  <dt>Mandate</dt><dd id="mandate">{Html(mandate.Id)}</dd>
                  <dt>Status</dt><dd id="status">{Html(mandate.Status)}</dd>
                  <dt>Scheme</dt><dd>{Html(mandate.PaymentMethodDetails.Type)}</dd>
                  <dt>Type</dt><dd>{Html(mandate.Type)}</dd>
                  <dt>Accepted</dt><dd>{Html(mandate.CustomerAcceptance.Type)}, {Html(accepted)}</dd>
                </dl>
                """);
        });

        app.MapGet("/_sandbox/verify/{id}", context =>
        {
            var id = (string)context.GetRouteValue("id")!;
            var intent = setupIntents.Find(id);
            if (intent is not { Status: "requires_action", NextAction.Type: "verify_with_microdeposits" })
            {
                return WriteAsync(context, 404, "Nothing to verify", "<p>This SetupIntent is not waiting for microdeposit verification.</p>");
            }

            return WriteAsync(context, 200, "Verify your bank account", $"""
                <p>Stripe sandbox: enter the two microdeposits (in cents; test mode sends {SetupIntentsApi.FirstAmount} and {SetupIntentsApi.SecondAmount})
                or the descriptor code (test mode: {SetupIntentsApi.DescriptorCode}) for SetupIntent <code>{Html(intent.Id)}</code>.</p>
                <form method="post">
                  <label>First amount <input id="amount1" name="amount1" inputmode="numeric" maxlength="3" /></label>
                  <label>Second amount <input id="amount2" name="amount2" inputmode="numeric" maxlength="3" /></label>
                  <p>or</p>
                  <label>Descriptor code <input id="descriptor_code" name="descriptor_code" maxlength="6" /></label>
                  <button id="verify" type="submit">Verify</button>
                </form>
                """);
        });

        app.MapPost("/_sandbox/verify/{id}", async context =>
        {
            var id = (string)context.GetRouteValue("id")!;
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
            var code = form?["descriptor_code"].ToString() is { Length: > 0 } text ? text : null;
            var amounts = new List<long>();
            foreach (var name in AmountFields)
            {
                var value = form?[name].ToString() ?? string.Empty;
                if (value.Length is > 0 and <= 9 && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
                {
                    amounts.Add(amount);
                }
            }

            if (code is null && amounts.Count != 2)
            {
                await WriteAsync(context, 400, "Enter both amounts", "<p id=\"result\">Enter both amounts in cents, or the descriptor code.</p>");
                return;
            }

            var result = setupIntents.VerifyFromPage(id, code is null ? amounts : [], code);
            if (result.Status == 200)
            {
                await WriteAsync(context, 200, "Bank account verified", "<p id=\"result\">Bank account verified. You can close this page.</p>");
                return;
            }

            using var error = JsonDocument.Parse(result.Body);
            var message = error.RootElement.GetProperty("error").GetProperty("message").GetString() ?? "Verification failed.";
            await WriteAsync(context, result.Status, "Verification failed", $"<p id=\"result\">{Html(message)}</p>");
        });
    }

    private static string Html(string text) => WebUtility.HtmlEncode(text);

    private static Task WriteAsync(HttpContext context, int status, string title, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = Policy;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        var page = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(Html(title))
            .Append("</title></head><body><h1>")
            .Append(Html(title))
            .Append("</h1>\n")
            .Append(body)
            .Append("\n</body></html>\n")
            .ToString();
        return context.Response.WriteAsync(page, context.RequestAborted);
    }
}
