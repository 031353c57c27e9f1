using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.SecurityTests;

/// <summary>
/// Card data never rests: tokenise distinctive cards and accounts through the real server process, provoke errors,
/// stop the server, then sweep every file under its data directory (ledger, WAL, sandbox state, secrets), everything
/// it printed, and every error detail it returned, as UTF-8 and UTF-16 text. A positive control (the token ids, which
/// must be found) proves the sweep can see what it searches.
/// </summary>
public sealed class LeakageTests
{
    private static readonly JsonFormatter StatusFormatter = new(JsonFormatter.Settings.Default.WithTypeRegistry(
        TypeRegistry.FromMessages(Google.Rpc.ErrorInfo.Descriptor, Google.Rpc.BadRequest.Descriptor)));

    [Fact]
    public async Task TokenizeAndFail_DistinctiveValues_NeverAtRestOrInOutput()
    {
        var values = new SensitiveValues();
        var dataDirectory = Directory.CreateTempSubdirectory("tokenizer-leak-").FullName;
        var tokens = new List<string>();
        var errorText = new StringBuilder();
        string output;
        string processedId;
        try
        {
            // The webhook listener too: the embedded sandbox delivers its events to it, and the sweep posts its own.
            await using (var server = await ServerProcess.StartAsync(dataDirectory, "--Logging:LogLevel:Default=Trace", "--Tokenizer:Webhooks:Urls=https://127.0.0.1:0"))
            {
                var client = server.Client;
                var billing = new BillingDetails
                {
                    Name = "Leak Sweep",
                    Email = "sweep@example.com",
                    Address = new Address { Line1 = "1 Sweep Road", City = "London", PostalCode = "EC1A 1BB", Country = "GB" },
                };

                var card = await client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "leak-card",
                    CustomerReference = "leak-customer",
                    Card = new Card { Number = values.Pan, ExpMonth = 12, ExpYear = 2031, Cvc = values.Cvc },
                    BillingDetails = billing,
                });
                tokens.Add(card.Token.Token_);
                Assert.Equal(values.Pan[^4..], card.Token.Card.Last4);

                // A replay and a formatted variant go through the same path again.
                var replay = await client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "leak-card",
                    CustomerReference = "leak-customer",
                    Card = new Card { Number = values.Pan, ExpMonth = 12, ExpYear = 2031, Cvc = values.Cvc },
                    BillingDetails = billing,
                });
                Assert.True(replay.Replayed);

                TokenizeBankAccountRequest Bank(string key) => new() { IdempotencyKey = key, CustomerReference = "leak-customer", BillingDetails = billing, MandateAcceptance = Tokenizer.IntegrationTests.Requests.OnlineMandate() };
                var becs = Bank("leak-becs");
                becs.AuBecsDebit = new AuBecsDebitAccount { BsbNumber = values.BecsBsb, AccountNumber = values.BecsAccount };
                var sepa = Bank("leak-sepa");
                sepa.SepaDebit = new SepaDebitAccount { Iban = values.Iban };
                var bacs = Bank("leak-bacs");
                bacs.BacsDebit = new BacsDebitAccount { SortCode = values.BacsSortCode, AccountNumber = values.BacsAccount };
                var ach = Bank("leak-ach");
                ach.UsBankAccount = new UsBankAccount
                {
                    RoutingNumber = values.AchRouting,
                    AccountNumber = values.AchAccount,
                    AccountHolderType = AccountHolderType.Company,
                    AccountType = AccountType.Savings,
                };
                foreach (var request in new[] { becs, sepa, bacs, ach })
                {
                    tokens.Add((await client.TokenizeBankAccountAsync(request)).Token.Token_);
                }

                // Errors that carry the values: a checksum failure, an idempotency conflict, an invalid IBAN and account.
                var badPan = values.Pan[..^1] + (char)('0' + ((values.Pan[^1] - '0' + 1) % 10));
                await CaptureErrorAsync(errorText, client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "leak-bad",
                    CustomerReference = "leak-customer",
                    Card = new Card { Number = badPan, ExpMonth = 1, ExpYear = 2020, Cvc = values.Cvc },
                }).ResponseAsync);
                await CaptureErrorAsync(errorText, client.TokenizeCardAsync(new TokenizeCardRequest
                {
                    IdempotencyKey = "leak-card",
                    CustomerReference = "leak-customer",
                    Card = new Card { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2031, Cvc = "123" },
                }).ResponseAsync);
                var badSepa = Bank("leak-bad-sepa");
                badSepa.SepaDebit = new SepaDebitAccount { Iban = values.Iban[..^1] + (values.Iban[^1] == '0' ? '1' : '0') };
                await CaptureErrorAsync(errorText, client.TokenizeBankAccountAsync(badSepa).ResponseAsync);
                var badAch = Bank("leak-bad-ach");
                badAch.UsBankAccount = new UsBankAccount { RoutingNumber = values.AchAccount[..9], AccountNumber = values.AchAccount + "12345678", AccountHolderType = AccountHolderType.Individual, AccountType = AccountType.Checking };
                await CaptureErrorAsync(errorText, client.TokenizeBankAccountAsync(badAch).ResponseAsync);

                // The webhook path: Stripe's bodies carry billing details, and a hostile or broken sender can put card
                // data anywhere in one. Signed and processed, signed but of an unknown type, signed but malformed,
                // unsigned, and wrongly signed: none of the body may rest or be printed.
                var secret = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "secrets", "stripe-webhook.secret"))).Trim();
                string Body(string id, string type, string extra) =>
                    "{\"id\":\"" + id + "\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\",\"created\":"
                    + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)
                    + ",\"livemode\":false,\"type\":\"" + type + "\",\"data\":{\"object\":{\"id\":\"" + card.Token.Token_
                    + "\",\"object\":\"payment_method\",\"billing_details\":{\"name\":\"" + values.WebhookName + "\",\"email\":\"" + values.WebhookEmail
                    + "\"},\"card\":{\"number\":\"" + values.Pan + "\",\"cvc\":\"" + values.Cvc + "\"},\"metadata\":{\"iban\":\"" + values.Iban
                    + "\",\"account\":\"" + values.AchAccount + "\"}" + extra + "}}}";
                processedId = "evt_sweep" + System.Security.Cryptography.RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 20);
                var webhookStatuses = new[]
                {
                    await server.PostWebhookAsync(Body(processedId, "payment_method.updated", string.Empty), secret),
                    await server.PostWebhookAsync(Body("evt_sweepunknown", "invoice.paid", string.Empty), secret),
                    await server.PostWebhookAsync(Body("evt_sweepmalformed", "payment_method.updated", ",\"x\":"), secret),
                    await server.PostWebhookAsync(Body("evt_sweepunsigned", "payment_method.updated", string.Empty), null),
                    await server.PostWebhookAsync(Body("evt_sweepwrong", "payment_method.updated", string.Empty), "whsec_" + new string('0', 40)),
                };
                Assert.Equal([200, 200, 400, 400, 400], webhookStatuses.Select(code => (int)code));
                // The processed event went all the way (audited under its id) before the server stops.
                var auditClient = new AuditService.AuditServiceClient(Tokenizer.IntegrationTests.TestChannels.Create(server.Address, Path.Combine(dataDirectory, "pki"), "admin"));
                var processed = false;
                for (var deadline = DateTime.UtcNow.AddSeconds(60); !processed && DateTime.UtcNow < deadline; await Task.Delay(200))
                {
                    using var export = auditClient.ExportAuditEvents(new ExportAuditEventsRequest());
                    await foreach (var response in export.ResponseStream.ReadAllAsync())
                    {
                        processed |= response.Event.CorrelationId == processedId;
                    }
                }

                Assert.True(processed, "the signed webhook event was never processed");

                await server.StopAsync();
                output = server.Output;
            }

            var files = Directory.EnumerateFiles(dataDirectory, "*", SearchOption.AllDirectories).ToList();
            var corpus = files.Select(f => (Name: Path.GetRelativePath(dataDirectory, f), Bytes: File.ReadAllBytes(f)))
                .Append((Name: "server output", Bytes: Encoding.UTF8.GetBytes(output)))
                .Append((Name: "gRPC error details", Bytes: Encoding.UTF8.GetBytes(errorText.ToString())))
                .ToList();

            // Positive controls: the sweep sees the ledger, its WAL or main file, and the server's log output.
            Assert.Contains(files, f => f.EndsWith(".db", StringComparison.Ordinal));
            Assert.Contains(files, f => f.Contains("sandbox", StringComparison.Ordinal));
            foreach (var token in tokens)
            {
                Assert.True(corpus.Any(c => c.Name != "server output" && Contains(c.Bytes, token)), $"positive control: {token} not found at rest");
            }

            // And the webhook path's own storage: the processed event's id is in its inbox row and audit record.
            Assert.True(corpus.Any(c => c.Name != "server output" && Contains(c.Bytes, processedId)), "positive control: the webhook event id not found at rest");
            Assert.Contains(tokens[0], output, StringComparison.Ordinal);
            Assert.Contains("card.number", errorText.ToString(), StringComparison.Ordinal);

            var hits = new List<string>();
            foreach (var (name, value) in values.Secrets)
            {
                foreach (var (source, bytes) in corpus)
                {
                    if (Contains(bytes, value))
                    {
                        hits.Add($"{name} in {source}");
                    }
                }
            }

            Assert.Empty(hits);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Leftovers in the temp folder are harmless.
            }
        }
    }

    private static async Task CaptureErrorAsync(StringBuilder sink, Task call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => call);
        sink.AppendLine(error.Status.Detail);
        sink.AppendLine(error.Message);
        foreach (var entry in error.Trailers)
        {
            sink.AppendLine(entry.IsBinary ? entry.Key + "=" + Encoding.UTF8.GetString(entry.ValueBytes) : entry.Key + "=" + entry.Value);
        }

        if (error.GetRpcStatus() is { } status)
        {
            sink.AppendLine(StatusFormatter.Format(status));
            foreach (var detail in status.Details)
            {
                if (detail.TryUnpack<Google.Rpc.BadRequest>(out var badRequest))
                {
                    sink.AppendLine(badRequest.ToString());
                }
            }
        }
    }

    /// <summary>True when <paramref name="value"/> occurs as UTF-8 or UTF-16LE text in <paramref name="bytes"/>.</summary>
    private static bool Contains(byte[] bytes, string value) =>
        bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(value)) >= 0
        || bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(value)) >= 0;
}
