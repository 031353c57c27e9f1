using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Privacy;
using Tokenizer.Server.Hosting;
using CorrectionOutcome = Tokenizer.Contracts.V1.CorrectionOutcome;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// Privacy rights end to end: the real server over real gRPC and TLS, the embedded sandbox over real HTTP and
/// the real SQLite ledger. Every subject has distinctive billing details so byte searches are meaningful.
/// </summary>
public sealed class PrivacyTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    private Contracts.V1.PrivacyService.PrivacyServiceClient Privacy => new(server.ChannelFor("admin"));

    private Stripe.StripeClient Gateway => new(new Stripe.StripeClientOptions { ApiKey = SandboxKey, ApiBase = server.Sandbox.BaseAddress.ToString().TrimEnd('/') });

    // The embedded sandbox's key: random per start, handed out in process only.
    private string SandboxKey => server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey!;

    [Fact]
    public async Task ExportSubjectData_SubjectWithTokens_ReturnsExactlyWhatIsHeld()
    {
        // Arrange
        var subject = Person.New("export");
        var card = await TokenizeCardAsync(subject);
        var bank = await TokenizeSepaAsync(subject);
        var other = Person.New("export-other");
        await TokenizeCardAsync(other);

        // Act
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });

        // Assert: the two tokens, with their masked metadata, status and the billing details held; nothing of the other.
        Assert.Equal(
            new[] { bank.Token_, card.Token_ }.Order(StringComparer.Ordinal),
            export.Tokens.Select(t => t.Token.Token_).Order(StringComparer.Ordinal));
        Assert.Equal(card, export.Tokens.Single(t => t.Token.Token_ == card.Token_).Token);
        Assert.Equal(bank, export.Tokens.Single(t => t.Token.Token_ == bank.Token_).Token);
        Assert.All(export.Tokens, t => Assert.Equal(subject.Billing(), t.BillingDetails));
        // The mandate acceptance's personal data is held for the account only, and exported in clear.
        Assert.Equal(Requests.OnlineMandate().Online, export.Tokens.Single(t => t.Token.Token_ == bank.Token_).MandateAcceptance);
        Assert.Null(export.Tokens.Single(t => t.Token.Token_ == card.Token_).MandateAcceptance);
        Assert.Equal(card.Card.Last4, export.Tokens.Single(t => t.Token.Token_ == card.Token_).Token.Card.Last4);
        Assert.StartsWith("cus_", Assert.Single(export.GatewayCustomerIds), StringComparison.Ordinal);
        Assert.Contains(export.AuditEvents, e => e.Resource == card.Token_ && e.Action == "tokenizer.v1.TokenizerService/TokenizeCard");
        Assert.Contains(export.AuditEvents, e => e.Resource == bank.Token_ && e.Action == "tokenizer.v1.TokenizerService/TokenizeBankAccount");
        Assert.All(export.AuditEvents, e => Assert.DoesNotContain(subject.Reference, e.ToString(), StringComparison.Ordinal));
        Assert.Equal(ErasureState.None, export.Erasure.State);
        Assert.StartsWith("subj_", export.SubjectPseudonym, StringComparison.Ordinal);
        Assert.DoesNotContain(export.Tokens, t => t.BillingDetails.Name == other.Name);
    }

    [Fact]
    public async Task ExportSubjectData_UnknownSubjects_EmptyExportsOfOneShape()
    {
        // Act
        var first = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = Person.New("unknown").Reference });
        var second = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = Person.New("unknown").Reference });

        // Assert: nothing held, erasure NONE; only the pseudonym and the time differ (no oracle on who is a customer).
        Assert.Empty(first.Tokens);
        Assert.Empty(first.GatewayCustomerIds);
        Assert.Empty(first.AuditEvents);
        Assert.Equal(ErasureState.None, first.Erasure.State);
        Assert.Equal(Shape(first), Shape(second));
        Assert.NotEqual(first.SubjectPseudonym, second.SubjectPseudonym);
    }

    [Fact]
    public async Task ExportSubjectData_OnlyADeclinedAttempt_NoTokensNoPersonalDataButTheGatewayCustomer()
    {
        // Arrange: the card is declined at attach; the gateway Customer was created first and is recorded.
        var declined = Person.New("declined");
        var request = Requests.Card("4000000000000002", Requests.NewKey(), customer: declined.Reference);
        request.BillingDetails = declined.Billing();
        var refusal = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refusal.StatusCode);

        // Act
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = declined.Reference });

        // Assert: exactly what is held: the Customer id, nothing else.
        Assert.Empty(export.Tokens);
        Assert.Empty(export.AuditEvents);
        Assert.StartsWith("cus_", Assert.Single(export.GatewayCustomerIds), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CorrectSubjectData_TwoActiveTokens_GatewayAndLedgerHoldTheCorrection()
    {
        // Arrange
        var subject = Person.New("correct");
        var first = await TokenizeCardAsync(subject);
        var second = await TokenizeSepaAsync(subject);
        var corrected = new BillingDetails { Email = "corrected." + subject.Email, Address = new Address { City = "Correctville" } };

        // Act
        var response = await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = corrected,
        });

        // Assert: one UPDATED result per active token; the gateway and the export hold the merged details.
        Assert.Equal(
            new[] { first.Token_, second.Token_ }.Order(StringComparer.Ordinal),
            response.Results.Select(r => r.Token).Order(StringComparer.Ordinal));
        Assert.All(response.Results, r => Assert.Equal(CorrectionOutcome.Updated, r.Outcome));
        var expected = subject.Billing();
        expected.Email = corrected.Email;
        expected.Address.City = "Correctville";
        foreach (var token in new[] { first, second })
        {
            using var gateway = await GatewayPaymentMethodAsync(token.Token_);
            var billing = gateway.RootElement.GetProperty("billing_details");
            Assert.Equal(expected.Email, billing.GetProperty("email").GetString());
            Assert.Equal(subject.Name, billing.GetProperty("name").GetString());
            Assert.Equal("Correctville", billing.GetProperty("address").GetProperty("city").GetString());
            Assert.Equal(subject.Line1, billing.GetProperty("address").GetProperty("line1").GetString());
        }

        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.All(export.Tokens, t => Assert.Equal(expected, t.BillingDetails));
    }

    [Fact]
    public async Task CorrectSubjectData_CutOffAfterTheGatewayAppliedIt_ExportShowsItUnderWayAndTheNextCorrectionLeavesBothSidesTheSame()
    {
        // Arrange: the gateway applies the correction, then its answer hangs past the caller's deadline (as a crash or a
        // lost connection would cut the call): the gateway holds the new name, the ledger the old one.
        var subject = Person.New("cutoff");
        var token = await TokenizeCardAsync(subject);
        server.Sandbox.Faults.Add($"POST /v1/payment_methods/{token.Token_}", StripeSandbox.Faults.SandboxFault.HangAfterSuccess(TimeSpan.FromSeconds(10)), count: 1);
        var cut = await Assert.ThrowsAsync<RpcException>(async () => await Privacy.CorrectSubjectDataAsync(
            new CorrectSubjectDataRequest
            {
                IdempotencyKey = Requests.NewKey(),
                CustomerReference = subject.Reference,
                BillingDetails = new BillingDetails { Name = "After " + subject.Name },
            },
            deadline: DateTime.UtcNow.AddSeconds(1.5)));
        Assert.Equal(StatusCode.DeadlineExceeded, cut.StatusCode);
        using (var applied = await GatewayPaymentMethodAsync(token.Token_))
        {
            Assert.Equal("After " + subject.Name, applied.RootElement.GetProperty("billing_details").GetProperty("name").GetString());
        }

        // Act: the person's export, then another correction of another field (after the cut one's claim is gone).
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        CorrectSubjectDataResponse? next = null;
        Assert.True(await Polling.EventuallyAsync(async () =>
        {
            try
            {
                next = await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
                {
                    IdempotencyKey = Requests.NewKey(),
                    CustomerReference = subject.Reference,
                    BillingDetails = new BillingDetails { Email = "next." + subject.Email },
                });
                return true;
            }
            catch (RpcException busy) when (busy.StatusCode == StatusCode.Aborted)
            {
                return false;
            }
        }));
        var after = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });

        // Assert: the export held the old details and showed the cut-off correction under way; the next correction left
        // the gateway and the ledger with the same details (the cut-off name and the new email), nothing under way.
        var held = Assert.Single(export.Tokens);
        Assert.Equal(subject.Name, held.BillingDetails.Name);
        Assert.Equal("After " + subject.Name, held.CorrectionUnderWay.Name);
        Assert.Equal(CorrectionOutcome.Updated, Assert.Single(next!.Results).Outcome);
        using var gateway = await GatewayPaymentMethodAsync(token.Token_);
        var billing = gateway.RootElement.GetProperty("billing_details");
        var now = Assert.Single(after.Tokens);
        Assert.Equal(("After " + subject.Name, "next." + subject.Email), (billing.GetProperty("name").GetString(), billing.GetProperty("email").GetString()));
        Assert.Equal(("After " + subject.Name, "next." + subject.Email), (now.BillingDetails.Name, now.BillingDetails.Email));
        Assert.Null(now.CorrectionUnderWay);
    }

    [Fact]
    public async Task CorrectSubjectData_OlderKeyReplayedAfterANewerCorrection_ReplaysItsAnswerAndChangesNothing()
    {
        // Bug fix (review of #6): replaying correction A's key after correction B stored A's values here while Stripe
        // replayed its older answer, so the ledger and the gateway disagreed.
        var subject = Person.New("replay");
        var token = await TokenizeCardAsync(subject);
        var keyA = Requests.NewKey();
        var a = new CorrectSubjectDataRequest { IdempotencyKey = keyA, CustomerReference = subject.Reference, BillingDetails = new BillingDetails { Email = "a." + subject.Email } };
        var b = new CorrectSubjectDataRequest { IdempotencyKey = Requests.NewKey(), CustomerReference = subject.Reference, BillingDetails = new BillingDetails { Email = "b." + subject.Email } };

        var first = await Privacy.CorrectSubjectDataAsync(a);
        await Privacy.CorrectSubjectDataAsync(b);
        var replayed = await Privacy.CorrectSubjectDataAsync(a);
        var reused = await Assert.ThrowsAsync<RpcException>(async () => await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = keyA,
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Email = "c." + subject.Email },
        }));

        Assert.Equal(first.Results, replayed.Results);
        Assert.Equal(StatusCode.AlreadyExists, reused.StatusCode);
        Assert.DoesNotContain(subject.Email, reused.Status.Detail, StringComparison.Ordinal);
        using var gateway = await GatewayPaymentMethodAsync(token.Token_);
        Assert.Equal("b." + subject.Email, gateway.RootElement.GetProperty("billing_details").GetProperty("email").GetString());
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.Equal("b." + subject.Email, Assert.Single(export.Tokens).BillingDetails.Email);
    }

    [Fact]
    public async Task CorrectSubjectData_GatewayRefusesOneToken_PerTokenResultAndThatTokenUnchanged()
    {
        // Arrange: one PaymentMethod detached at the gateway behind the ledger's back (Stripe updates attached ones only).
        var subject = Person.New("refused");
        var kept = await TokenizeCardAsync(subject);
        var drifted = await TokenizeCardAsync(subject);
        using (var detach = await SandboxAsync(HttpMethod.Post, $"/v1/payment_methods/{drifted.Token_}/detach"))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, detach.StatusCode);
        }

        // Act
        var response = await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Phone = "+442079460001" },
        });

        // Assert
        Assert.Equal(CorrectionOutcome.Updated, response.Results.Single(r => r.Token == kept.Token_).Outcome);
        var refused = response.Results.Single(r => r.Token == drifted.Token_);
        Assert.Equal(CorrectionOutcome.GatewayRefused, refused.Outcome);
        Assert.Equal("PAYMENT_METHOD_NOT_ATTACHED", refused.Reason);
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.Equal("+442079460001", export.Tokens.Single(t => t.Token.Token_ == kept.Token_).BillingDetails.Phone);
        Assert.Equal(subject.Phone, export.Tokens.Single(t => t.Token.Token_ == drifted.Token_).BillingDetails.Phone);
    }

    [Fact]
    public async Task CorrectSubjectData_InvalidInput_InvalidArgumentNamingFieldsWithoutValues()
    {
        // Act
        var error = await Assert.ThrowsAsync<RpcException>(() => Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = "cust privacy 4242424242424242",
            BillingDetails = new BillingDetails { Email = "not-an-email-9371" },
        }).ResponseAsync);

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("customer_reference", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("billing_details.email", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("9371", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("4242", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EraseSubject_HeldData_NothingReadableAnywhereAndAPreErasureBackupYieldsNothingForTheSubjectButEverythingForOthers()
    {
        // Arrange: the subject with a card and a SEPA account, another subject alongside; a copy of the database first.
        var subject = Person.New("erase");
        var other = Person.New("erase-other");
        var card = await TokenizeCardAsync(subject);
        var bank = await TokenizeSepaAsync(subject);
        var otherCard = await TokenizeCardAsync(other);
        var customer = Assert.Single((await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference })).GatewayCustomerIds);
        var backup = Path.Combine(server.DataDirectory, "..", $"{Path.GetFileName(server.DataDirectory)}-backup-{Guid.NewGuid():N}.db");
        BackupLedger(backup);

        try
        {
            // Act
            var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest
            {
                CustomerReference = subject.Reference,
                IdempotencyKey = Requests.NewKey(),
                Reason = "data subject request #6",
            });

            // Assert: completed, both PaymentMethods detached.
            Assert.Equal(ErasureState.Completed, erased.Status.State);
            Assert.Equal(2, erased.Status.PaymentMethodsDetached);
            Assert.NotNull(erased.Status.CompletedAt);

            // Export: nothing held any more, the same shape as for anyone; status stays COMPLETED.
            var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
            Assert.Empty(export.Tokens);
            Assert.Empty(export.GatewayCustomerIds);
            Assert.Equal(ErasureState.Completed, export.Erasure.State);
            var status = await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference });
            Assert.Equal(ErasureState.Completed, status.Status.State);

            // The gateway: both PaymentMethods detached with their billing details cleared, the Customer deleted.
            foreach (var token in new[] { card, bank })
            {
                using var paymentMethod = await GatewayPaymentMethodAsync(token.Token_);
                Assert.Equal(JsonValueKind.Null, paymentMethod.RootElement.GetProperty("customer").ValueKind);
                Assert.Equal(JsonValueKind.Null, paymentMethod.RootElement.GetProperty("billing_details").GetProperty("name").ValueKind);
                Assert.Equal(JsonValueKind.Null, paymentMethod.RootElement.GetProperty("billing_details").GetProperty("email").ValueKind);
            }

            using (var deleted = await SandboxAsync(HttpMethod.Get, $"/v1/customers/{customer}"))
            {
                // Stripe reads a deleted Customer back as {id, object, deleted: true} and nothing more.
                Assert.Equal(System.Net.HttpStatusCode.OK, deleted.StatusCode);
                using var body = JsonDocument.Parse(await deleted.Content.ReadAsStringAsync());
                Assert.True(body.RootElement.GetProperty("deleted").GetBoolean());
                Assert.Equal(["id", "object", "deleted"], body.RootElement.EnumerateObject().Select(p => p.Name));
            }

            // The tokens are kept (revoked, masked metadata) for retention, no longer linked to the reference.
            var kept = await server.Finance.GetTokenAsync(new GetTokenRequest { Token = card.Token_ });
            Assert.Equal(TokenStatus.Revoked, kept.Token.Status);
            Assert.Equal(card.Card.Last4, kept.Token.Card.Last4);
            Assert.Equal("erased_" + export.SubjectPseudonym, kept.Token.CustomerReference);

            // Byte search: the ledger's files and Tokenizer's data directory hold none of the subject's name, email or
            // phone (the gateway's own state, the embedded sandbox's folder, is the gateway's: checked above instead).
            var files = Directory.GetFiles(server.DataDirectory, "*", SearchOption.AllDirectories)
                .Where(f => !f.StartsWith(Path.Combine(server.DataDirectory, "sandbox"), StringComparison.Ordinal))
                .ToList();
            Assert.Contains(files, f => f.EndsWith("tokenizer.db", StringComparison.Ordinal));
            var anyTokenFound = false;
            foreach (var file in files)
            {
                var bytes = await ReadSharedAsync(file);
                anyTokenFound |= bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(card.Token_)) >= 0;
                // The mandate acceptance's IP address and user agent are held encrypted only: never in clear at rest.
                var online = Requests.OnlineMandate().Online;
                foreach (var value in new[] { subject.Name, subject.Email, subject.Phone, online.IpAddress, online.UserAgent })
                {
                    foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode })
                    {
                        Assert.True(bytes.AsSpan().IndexOf(encoding.GetBytes(value)) < 0, $"{Path.GetFileName(file)} holds the erased subject's personal data");
                    }
                }
            }

            Assert.True(anyTokenFound, "positive control: the search reads the ledger (the kept token id is found)");

            // The pre-erasure copy: it still holds the subject's ciphertexts, but with the service's key ring nothing of the
            // subject decrypts any more, while the other subject's records in the same copy still do.
            var fromBackup = DecryptBackup(backup);
            var subjectPseudonym = export.SubjectPseudonym;
            var otherPseudonym = (await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = other.Reference })).SubjectPseudonym;
            // Three records: the card's and the account's billing details, and the account's mandate acceptance.
            Assert.Equal(3, fromBackup.Count(r => r.Subject == subjectPseudonym));
            Assert.Contains(fromBackup, r => r.Subject == subjectPseudonym && r.RecordId == bank.Token_ + ".mandate");
            Assert.All(fromBackup.Where(r => r.Subject == subjectPseudonym), r => Assert.Null(r.Billing));
            var otherRecord = Assert.Single(fromBackup, r => r.Subject == otherPseudonym);
            Assert.Equal(otherCard.Token_, otherRecord.RecordId);
            Assert.Equal(other.Name, otherRecord.Billing?.Name);
            Assert.Equal(other.Email, otherRecord.Billing?.Email);
            Assert.Equal([0L], QueryBackup(backup, "SELECT count(*) FROM privacy_subject_keys"));

            // The other subject is untouched in the live service too.
            var otherExport = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = other.Reference });
            Assert.Equal(other.Billing(), Assert.Single(otherExport.Tokens).BillingDetails);

            // Idempotent: erasing again answers COMPLETED without new work.
            var again = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
            Assert.Equal(erased.Status, again.Status);
        }
        finally
        {
            File.Delete(backup);
        }
    }

    [Fact]
    public async Task PrivacyCalls_Audited_WithTheSubjectPseudonymNeverTheReference()
    {
        // Arrange
        var subject = Person.New("audited");
        await TokenizeCardAsync(subject);

        // Act
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Name = subject.Name + " Corrected" },
        });
        await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference });

        // Assert
        var audit = new AuditService.AuditServiceClient(server.ChannelFor("admin"));
        using var call = audit.ExportAuditEvents(new ExportAuditEventsRequest());
        var events = new List<AuditEvent>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            events.Add(message.Event);
        }

        var privacyEvents = events.Where(e => e.Resource == export.SubjectPseudonym).ToList();
        Assert.Equal(
            ["ExportSubjectData", "CorrectSubjectData", "EraseSubject", "GetErasureStatus"],
            privacyEvents.Select(e => e.Action.Split('/')[1]));
        Assert.All(privacyEvents, e => Assert.Equal(("admin", "success"), (e.CallerId, e.Outcome)));
        Assert.DoesNotContain(events, e => e.ToString().Contains(subject.Reference, StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.ToString().Contains(subject.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportSubjectData_AuditEvents_TheTrailsRecordsOfTheSubjectInTheTrailsOrder()
    {
        // Arrange: records of the subject's two tokens and its pseudonym (an earlier export), among another subject's.
        var subject = Person.New("export-audit");
        var card = await TokenizeCardAsync(subject);
        var other = Person.New("export-audit-other");
        var otherCard = await TokenizeCardAsync(other);
        var bank = await TokenizeSepaAsync(subject);
        await server.Finance.GetTokenAsync(new GetTokenRequest { Token = card.Token_ });
        await server.Finance.GetTokenAsync(new GetTokenRequest { Token = otherCard.Token_ });
        var earlier = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });

        // Act
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        var audit = new AuditService.AuditServiceClient(server.ChannelFor("admin"));
        using var call = audit.ExportAuditEvents(new ExportAuditEventsRequest());
        var trail = new List<AuditEvent>();
        await foreach (var message in call.ResponseStream.ReadAllAsync())
        {
            trail.Add(message.Event);
        }

        // Assert: the whole trail's export (oldest first) filtered by the subject's resources, up to the newest record the
        // privacy export served (later ones, such as that export call's own record, were appended after its read), is
        // the privacy export's list; the other subject's records are in the trail only.
        HashSet<string> resources = [card.Token_, bank.Token_, export.SubjectPseudonym];
        var served = export.AuditEvents.Max(e => e.Sequence);
        Assert.Equal(trail.Where(e => resources.Contains(e.Resource) && e.Sequence <= served), export.AuditEvents);
        Assert.True(export.AuditEvents.Count >= 4, export.AuditEvents.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(trail, e => e.Sequence > served && e.Resource == export.SubjectPseudonym && e.Action.EndsWith("/ExportSubjectData", StringComparison.Ordinal));
        Assert.Contains(export.AuditEvents, e => e.Resource == export.SubjectPseudonym);
        Assert.Equal(earlier.AuditEvents, export.AuditEvents.Take(earlier.AuditEvents.Count));
        Assert.Contains(trail, e => e.Resource == otherCard.Token_);
        Assert.DoesNotContain(export.AuditEvents, e => e.Resource == otherCard.Token_);
    }

    [Fact]
    public async Task PrivacyCalls_AtDebugLevel_LogNoneOfThePersonalDataOrTheReference()
    {
        // Arrange
        var subject = Person.New("logged");
        await TokenizeCardAsync(subject);
        await TokenizeSepaAsync(subject);
        var corrected = "corrected." + subject.Email;

        // Act: every privacy operation, one refused correction among them.
        await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Email = corrected },
        });
        await Assert.ThrowsAsync<RpcException>(() => Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Email = "broken-" + subject.Phone },
        }).ResponseAsync);
        await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });

        // Assert: the server's log lines (Debug, framework included) hold no personal value; a positive control
        // shows the lines of these calls were captured.
        var lines = server.Logs.Lines.ToList();
        Assert.Contains(lines, line => line.Contains("PrivacySubjectErased", StringComparison.Ordinal));
        foreach (var value in new[] { subject.Name, subject.Email, subject.Phone, subject.Line1, corrected, subject.Reference })
        {
            Assert.DoesNotContain(lines, line => line.Contains(value, StringComparison.Ordinal));
        }
    }

    private static string Shape(ExportSubjectDataResponse export)
    {
        var copy = export.Clone();
        copy.SubjectPseudonym = string.Empty;
        copy.ExportedAt = null;
        return new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true)).Format(copy);
    }

    [Fact]
    public async Task EraseSubject_ActiveTokens_EachGetsOneRevokedEvent_OtherSubjectsNone()
    {
        var subject = Person.New("erasedevents");
        var other = Person.New("keptevents");
        var first = await TokenizeCardAsync(subject);
        var second = await TokenizeSepaAsync(subject);
        var kept = await TokenizeCardAsync(other);

        await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });

        Assert.Equal([TokenEventKind.Revoked], (await TokenEventsOf.ListAsync(server.Finance, first.Token_)).Select(e => e.Kind));
        Assert.Equal([TokenEventKind.Revoked], (await TokenEventsOf.ListAsync(server.Finance, second.Token_)).Select(e => e.Kind));

        // The control: the other subject's token is untouched and has no event.
        Assert.Empty(await TokenEventsOf.ListAsync(server.Finance, kept.Token_));
    }

    [Fact]
    public async Task EraseSubject_ThenTokenizeForTheSameReference_NewCustomerNotTheDeletedOne()
    {
        // Arrange: a token for the subject, then the erasure (which deletes the subject's Customer at the sandbox, whose
        // idempotency records still hold the creation of that Customer).
        var subject = Person.New("erasedreturns");
        var before = await TokenizeCardAsync(subject);
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        Assert.Equal(ErasureState.Completed, erased.Status.State);

        // Act: the same reference comes back.
        var after = await TokenizeCardAsync(subject);

        // Assert: a new, live Customer (the control: the deleted one is the one before the erasure), and the erasure's
        // status is unchanged apart from what is held again.
        Assert.StartsWith("cus_", after.GatewayCustomer, StringComparison.Ordinal);
        Assert.NotEqual(before.GatewayCustomer, after.GatewayCustomer);
        Assert.Equal(TokenStatus.Active, after.Status);
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.Equal([after.GatewayCustomer], export.GatewayCustomerIds);
    }

    [Fact]
    public async Task ExportAndStatus_OfAReferenceTokenisedAgainAfterItsErasure_AnswerForTheNewUseOnly()
    {
        // Arrange: the first person's privacy calls (records under the pseudonym), their erasure, and the answers before
        // the reference is used again (the control: the erasure and those records are served then).
        var subject = Person.New("reused");
        await TokenizeCardAsync(subject);
        await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        Assert.Equal(ErasureState.Completed, erased.Status.State);
        var statusBefore = await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference });
        var exportBefore = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.Equal((ErasureState.Completed, (Google.Protobuf.WellKnownTypes.Timestamp?)null), (statusBefore.Status.State, statusBefore.Status.UsedAgainAt));
        Assert.Equal(ErasureState.Completed, exportBefore.Erasure.State);
        Assert.Contains(exportBefore.AuditEvents, e => e.Action.EndsWith("/EraseSubject", StringComparison.Ordinal));

        // Act: the reference comes back (a new person, or the same one signing up again).
        var again = await TokenizeCardAsync(subject);
        var status = await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference });
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });

        // Assert: the status says the erasure is complete and the reference holds data again since; the export serves the
        // new use only: its token, no erasure, and none of the records from before the new use began.
        Assert.Equal(ErasureState.Completed, status.Status.State);
        Assert.NotNull(status.Status.UsedAgainAt);
        Assert.True(status.Status.UsedAgainAt.ToDateTimeOffset() >= status.Status.CompletedAt.ToDateTimeOffset());
        Assert.Equal([again.Token_], export.Tokens.Select(t => t.Token.Token_));
        Assert.Equal(ErasureState.None, export.Erasure.State);
        Assert.NotEmpty(export.AuditEvents);
        Assert.All(export.AuditEvents, e => Assert.True(e.Time.ToDateTimeOffset() >= status.Status.UsedAgainAt.ToDateTimeOffset(), e.Action));
        Assert.DoesNotContain(export.AuditEvents, e => e.Action.EndsWith("/EraseSubject", StringComparison.Ordinal));

        // Act: the new use is erased too; its record keeps where the use began.
        var second = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        var afterSecond = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });

        // Assert: the second erasure is served (it is this use's), but still nothing from the first person.
        Assert.Equal(ErasureState.Completed, second.Status.State);
        Assert.Equal(ErasureState.Completed, afterSecond.Erasure.State);
        Assert.Null((await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference })).Status.UsedAgainAt);
        Assert.All(afterSecond.AuditEvents, e => Assert.True(e.Time.ToDateTimeOffset() >= status.Status.UsedAgainAt.ToDateTimeOffset(), e.Action));
        Assert.Single(afterSecond.AuditEvents, e => e.Action.EndsWith("/EraseSubject", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CorrectSubjectData_KeyOfTheErasedPersonsCorrection_AppliesToTheNewUseNotReplayedNorRefused()
    {
        // Arrange: the first person's correction under a key, their erasure, then the reference tokenised again.
        var subject = Person.New("corrreuse");
        var first = await TokenizeCardAsync(subject);
        var request = new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Email = "fixed." + subject.Email },
        };
        Assert.Equal(first.Token_, Assert.Single((await Privacy.CorrectSubjectDataAsync(request)).Results).Token);
        var replay = await Privacy.CorrectSubjectDataAsync(request);
        Assert.Equal(first.Token_, Assert.Single(replay.Results).Token);
        Assert.Equal(ErasureState.Completed, (await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() })).Status.State);
        var again = await TokenizeCardAsync(subject);

        // Act: the erased person's key with the new holder's own values, that again, and the first values under it.
        var mine = new CorrectSubjectDataRequest
        {
            IdempotencyKey = request.IdempotencyKey,
            CustomerReference = subject.Reference,
            BillingDetails = new BillingDetails { Phone = "+442079460002" },
        };
        var applied = await Privacy.CorrectSubjectDataAsync(mine);
        var replayed = await Privacy.CorrectSubjectDataAsync(mine);
        var reused = await Assert.ThrowsAsync<RpcException>(async () => await Privacy.CorrectSubjectDataAsync(request));

        // Assert: a new correction of the new token (not refused as the erased person's key, nor their answer), which
        // the key now replays; the erased person's values under it are a reuse of the new holder's key.
        var result = Assert.Single(applied.Results);
        Assert.Equal((again.Token_, CorrectionOutcome.Updated), (result.Token, result.Outcome));
        Assert.Equal(applied.Results, replayed.Results);
        Assert.Equal(StatusCode.AlreadyExists, reused.StatusCode);
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = subject.Reference });
        Assert.Equal("+442079460002", Assert.Single(export.Tokens).BillingDetails.Phone);
    }

    [Fact]
    public async Task EraseSubject_EightTimesTokenizingAfterEach_EveryTokenOnANewLiveCustomerAndTheGatewayRequestsDoNotGrow()
    {
        // Arrange: a token for the subject, under its first Customer.
        var subject = Person.New("erasedoften");
        var customers = new List<string> { (await TokenizeCardAsync(subject)).GatewayCustomer };
        var perTokenisation = new List<TokenisationRequests>();

        for (var round = 1; round <= 8; round++)
        {
            // Act: erase (the Customer is deleted at the sandbox, whose idempotency records still hold every creation of
            // the subject's Customers), then the same reference comes back.
            var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
            Assert.Equal(ErasureState.Completed, erased.Status.State);
            var paymentMethodsBefore = server.Sandbox.GetStats().PaymentMethods;
            server.Sandbox.Requests.Clear();
            var token = await TokenizeCardAsync(subject);
            var requests = server.Sandbox.Requests.Snapshot();

            // Assert: a token under a live Customer none of the earlier rounds had, and one PaymentMethod made for it.
            Assert.Equal((TokenStatus.Active, SetupStatus.Ready), (token.Status, token.Setup.Status));
            Assert.DoesNotContain(token.GatewayCustomer, customers);
            Assert.Equal(token.GatewayCustomer, (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).CustomerId);
            Assert.NotEqual(true, (await Gateway.V1.Customers.GetAsync(token.GatewayCustomer)).Deleted);
            Assert.Equal(paymentMethodsBefore + 1, server.Sandbox.GetStats().PaymentMethods);
            customers.Add(token.GatewayCustomer);
            perTokenisation.Add(TokenisationRequests.Of(requests));
        }

        // Assert: the same gateway requests for every tokenisation, however many erasures came before it: the deleted
        // Customer before it and the new one (created, then read), one PaymentMethod, one SetupIntent. The control is the
        // first round, which has one erasure behind it as every other round.
        Assert.All(perTokenisation, requests => Assert.Equal(new TokenisationRequests(CreateCustomer: 2, ReadCustomer: 2, CreatePaymentMethod: 1, CreateSetupIntent: 1), requests));
    }

    [Fact]
    public async Task EraseSubject_ThePseudonymItLeaves_RefusedAsAReferenceByTokenisationAndEveryPrivacyCall()
    {
        // Arrange: an erased subject; its kept token shows the pseudonym it now carries (GetToken answers it to billing).
        var subject = Person.New("erasedpseudonym");
        var card = await TokenizeCardAsync(subject);
        await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        var pseudonym = (await server.Client.GetTokenAsync(new GetTokenRequest { Token = card.Token_ })).Token.CustomerReference;
        Assert.StartsWith("erased_subj_", pseudonym, StringComparison.Ordinal);

        // Act: a new person under that pseudonym, and privacy calls for it.
        var cardRequest = Requests.Card("4242424242424242", Requests.NewKey(), customer: pseudonym);
        cardRequest.BillingDetails = new BillingDetails { Name = "Other Person" };
        var refused = new List<RpcException>
        {
            await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeCardAsync(cardRequest).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: pseudonym)).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = pseudonym }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
            {
                CustomerReference = pseudonym, IdempotencyKey = Requests.NewKey(), BillingDetails = new BillingDetails { Name = "Other Person" },
            }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = pseudonym, IdempotencyKey = Requests.NewKey() }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = pseudonym }).ResponseAsync),
        };

        // Assert: INVALID_ARGUMENT naming the field and the rule, never the value; nothing joined the erased tokens.
        foreach (var error in refused)
        {
            Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
            var violation = Assert.Single(error.GetRpcStatus()!.Details.Where(d => d.Is(Google.Rpc.BadRequest.Descriptor))
                .SelectMany(d => d.Unpack<Google.Rpc.BadRequest>().FieldViolations));
            Assert.Equal(("customer_reference", "reserved prefix"), (violation.Field, violation.Description));
            Assert.DoesNotContain(pseudonym, error.ToString(), StringComparison.Ordinal);
        }

        var listed = await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = pseudonym });
        Assert.Equal([card.Token_], listed.Tokens.Select(t => t.Token_));

        // Control: an ordinary reference is tokenised and exported as before.
        var control = Person.New("erasedpseudonymcontrol");
        var controlCard = await TokenizeCardAsync(control);
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = control.Reference });
        Assert.Equal([controlCard.Token_], export.Tokens.Select(t => t.Token.Token_));
    }

    [Fact]
    public async Task EraseSubject_SetupsWaitingForTheCustomer_CanceledSoCompletingThemLaterAttachesNothing()
    {
        // Arrange: a 3-D Secure card (4000 0025 0000 3155, with a return_url) and an ACH account waiting for its
        // microdeposits, both REQUIRES_ACTION and not attached; one attached card; and the control, another subject's
        // 3-D Secure card that is not erased.
        var subject = Person.New("pendingsetup");
        var threeDs = await TokenizeThreeDSecureAsync(subject);
        var ach = await TokenizeAchAsync(subject);
        var attached = await TokenizeCardAsync(subject);
        var control = await TokenizeThreeDSecureAsync(Person.New("pendingkept"));
        Assert.Equal([SetupStatus.RequiresAction, SetupStatus.RequiresAction], new[] { threeDs.Setup.Status, ach.Setup.Status });

        // Act: erase, then the customer (or anyone holding the next-action URLs) completes both setups at the sandbox's
        // hosted pages; then the same for the control; then a second erasure.
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        using var completed = await PostPageAsync(threeDs.Setup.NextAction.Url, ("outcome", "complete"));
        using var verified = await PostPageAsync(ach.Setup.NextAction.Url, ("amount1", "32"), ("amount2", "45"));
        using var controlCompleted = await PostPageAsync(control.Setup.NextAction.Url, ("outcome", "complete"));
        var again = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });

        // Assert: the erasure completed, counting as detached only the card that was attached; both setups are canceled
        // at the gateway, so the completions are refused and neither PaymentMethod is attached to anyone.
        Assert.Equal((ErasureState.Completed, 1), (erased.Status.State, erased.Status.PaymentMethodsDetached));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, completed.StatusCode);
        Assert.False(verified.IsSuccessStatusCode, $"microdeposits verified after the erasure: {verified.StatusCode}");
        foreach (var token in new[] { threeDs, ach })
        {
            using var setupIntent = await GatewayAsync($"/v1/setup_intents/{token.Setup.SetupIntent}");
            using var paymentMethod = await GatewayPaymentMethodAsync(token.Token_);
            Assert.Equal("canceled", setupIntent.RootElement.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, paymentMethod.RootElement.GetProperty("customer").ValueKind);

            // The ledger says so too: revoked, its setup FAILED (canceled), nothing left pending.
            var stored = (await server.Finance.GetTokenAsync(new GetTokenRequest { Token = token.Token_ })).Token;
            Assert.Equal((TokenStatus.Revoked, SetupStatus.Failed), (stored.Status, stored.Setup.Status));
        }

        using (var attachedAtGateway = await GatewayPaymentMethodAsync(attached.Token_))
        {
            Assert.Equal(JsonValueKind.Null, attachedAtGateway.RootElement.GetProperty("customer").ValueKind);
        }

        // The second erasure finds nothing open and answers the first one's completion.
        Assert.Equal((ErasureState.Completed, erased.Status.CompletedAt), (again.Status.State, again.Status.CompletedAt));

        // The control: the same completion on a subject that was not erased succeeds and attaches its PaymentMethod.
        Assert.Equal(System.Net.HttpStatusCode.SeeOther, controlCompleted.StatusCode);
        using var controlPaymentMethod = await GatewayPaymentMethodAsync(control.Token_);
        Assert.StartsWith("cus_", controlPaymentMethod.RootElement.GetProperty("customer").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EraseSubject_StoppedAtTheCustomerDelete_TokenisingForThePersonRefusedUntilTheResumeCompletes()
    {
        // Arrange: the erasure detaches the first token, then Stripe answers 500 to the Customer's delete, so it stops
        // at DELETING_CUSTOMER; meanwhile the billing service tries to tokenise a second card for the same person.
        var subject = Person.New("erasedresume");
        var second = subject with { Name = subject.Name + " Second", Email = "second." + subject.Email };
        var first = await TokenizeCardAsync(subject);
        server.Sandbox.Faults.Add("DELETE /v1/customers/*", StripeSandbox.Faults.SandboxFault.Status(500), count: StripeSandbox.Faults.SandboxFaultRule.Unlimited);
        RpcException stopped;
        try
        {
            stopped = await Assert.ThrowsAsync<RpcException>(() => Privacy.EraseSubjectAsync(
                new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() }).ResponseAsync);
        }
        finally
        {
            server.Sandbox.Faults.Clear();
        }

        var status = await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = subject.Reference });
        var between = await Assert.ThrowsAsync<RpcException>(() => TokenizeCardAsync(second));

        // Act
        var resumed = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });

        // Assert: the first run stopped where the report says; the tokenisation in between was refused while the erasure
        // was unfinished (the reference is fenced); the resume cleared and detached the PaymentMethod and completed.
        Assert.Equal(StatusCode.Unavailable, stopped.StatusCode);
        Assert.Equal(ErasureState.DeletingCustomer, status.Status.State);
        Assert.Equal((StatusCode.FailedPrecondition, "ERASURE_IN_PROGRESS"), (between.StatusCode, TokenizeTests.ErrorInfoOf(between).Reason));
        Assert.Equal((ErasureState.Completed, 1, 0), (resumed.Status.State, resumed.Status.PaymentMethodsDetached, resumed.Status.PaymentMethodsNotCleared));
        using (var atGateway = await GatewayPaymentMethodAsync(first.Token_))
        {
            Assert.Equal(JsonValueKind.Null, atGateway.RootElement.GetProperty("customer").ValueKind);
            var billing = atGateway.RootElement.GetProperty("billing_details");
            Assert.Equal(
                (JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Null),
                (billing.GetProperty("name").ValueKind, billing.GetProperty("email").ValueKind, billing.GetProperty("phone").ValueKind));
        }

        var stored = (await server.Finance.GetTokenAsync(new GetTokenRequest { Token = first.Token_ })).Token;
        Assert.Equal(TokenStatus.Revoked, stored.Status);
        Assert.StartsWith("erased_subj_", stored.CustomerReference, StringComparison.Ordinal);

        // Erasing again finds nothing held and answers the completion as it is; the reference may be tokenised again.
        var again = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = subject.Reference, IdempotencyKey = Requests.NewKey() });
        Assert.Equal((ErasureState.Completed, resumed.Status.CompletedAt), (again.Status.State, again.Status.CompletedAt));
        Assert.Equal(TokenStatus.Active, (await TokenizeCardAsync(second)).Status);
    }

    private async Task<Token> TokenizeThreeDSecureAsync(Person person)
    {
        var request = Requests.Card("4000002500003155", Requests.NewKey(), customer: person.Reference);
        request.BillingDetails = person.Billing();
        request.ReturnUrl = "https://billing.example.com/3ds/done";
        return (await server.Client.TokenizeCardAsync(request)).Token;
    }

    private async Task<Token> TokenizeAchAsync(Person person)
    {
        var request = Requests.Ach(Requests.NewKey(), customer: person.Reference);
        request.BillingDetails = new BillingDetails { Name = person.Name, Email = person.Email };
        return (await server.Client.TokenizeBankAccountAsync(request)).Token;
    }

    /// <summary>A form posted to one of the sandbox's hosted pages, as the customer's browser would (no redirect followed).</summary>
    private static async Task<HttpResponseMessage> PostPageAsync(string url, params (string Name, string Value)[] fields)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, CheckCertificateRevocationList = true };
        using var http = new HttpClient(handler);
        using var form = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));
        return await http.PostAsync(new Uri(url), form);
    }

    private async Task<JsonDocument> GatewayAsync(string path)
    {
        using var response = await SandboxAsync(HttpMethod.Get, path);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private async Task<Token> TokenizeCardAsync(Person person)
    {
        var request = Requests.Card("4242424242424242", Requests.NewKey(), customer: person.Reference);
        request.BillingDetails = person.Billing();
        return (await server.Client.TokenizeCardAsync(request)).Token;
    }

    private async Task<Token> TokenizeSepaAsync(Person person)
    {
        var request = Requests.Sepa(Requests.NewKey(), customer: person.Reference);
        request.BillingDetails = person.Billing();
        return (await server.Client.TokenizeBankAccountAsync(request)).Token;
    }

    private async Task<HttpResponseMessage> SandboxAsync(HttpMethod method, string path)
    {
        using var http = new HttpClient { BaseAddress = server.Sandbox.BaseAddress };
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SandboxKey);
        if (method == HttpMethod.Post)
        {
            request.Headers.Add("Idempotency-Key", Requests.NewKey());
            request.Content = new FormUrlEncodedContent([]);
        }

        return await http.SendAsync(request);
    }

    private async Task<JsonDocument> GatewayPaymentMethodAsync(string id)
    {
        using var response = await SandboxAsync(HttpMethod.Get, $"/v1/payment_methods/{id}");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private void BackupLedger(string destination)
    {
        using var source = new SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "ledger", "tokenizer.db")};Mode=ReadOnly;Pooling=False");
        using var target = new SqliteConnection($"Data Source={destination};Pooling=False");
        source.Open();
        target.Open();
        source.BackupDatabase(target);
    }

    private static List<long> QueryBackup(string backup, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={backup};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return [(long)command.ExecuteScalar()!];
    }

    /// <summary>
    /// Every personal data record of the copy, decrypted as the service itself would (its key store, its key ring), or a
    /// null Billing when that is no longer possible.
    /// </summary>
    private List<(string Subject, string RecordId, Core.Domain.BillingDetails? Billing)> DecryptBackup(string backup)
    {
        var keys = server.App.Services.GetRequiredService<ISubjectKeyStore>();
        var protector = server.App.Services.GetRequiredService<ISubjectKeyProtector>();
        var records = new List<(string, string, byte[])>();
        using (var connection = new SqliteConnection($"Data Source={backup};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT subject, record_id, ciphertext FROM privacy_personal_data";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                records.Add((reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2)));
            }
        }

        var result = new List<(string, string, Core.Domain.BillingDetails?)>();
        foreach (var (subject, recordId, ciphertext) in records)
        {
            var wrapped = keys.FindAsync(subject, CancellationToken.None).GetAwaiter().GetResult();
            if (wrapped is null)
            {
                result.Add((subject, recordId, null));
                continue;
            }

            var plaintext = SubjectDataCipher.Decrypt(protector.Unwrap(wrapped), subject, recordId, ciphertext);
            result.Add((subject, recordId, JsonSerializer.Deserialize<Core.Domain.BillingDetails>(plaintext, WebJson)));
        }

        return result;
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory);
        return memory.ToArray();
    }

    /// <summary>A data subject with distinctive billing details.</summary>
    private sealed record Person(string Reference, string Name, string Email, string Phone, string Line1)
    {
        public static Person New(string label)
        {
            var tag = Guid.NewGuid().ToString("N")[..8];
            return new Person(
                $"cust-privacy-{label}-{tag}",
                $"Ada Erasable {label} {tag}",
                $"ada.{tag}.{label}@example.org",
                "+4420" + string.Concat(tag[..6].Select(c => (char)('0' + (c % 10)))), // 11 digits: too short to read as a PAN
                $"{tag} Privacy Lane");
        }

        public BillingDetails Billing() => new()
        {
            Name = Name,
            Email = Email,
            Phone = Phone,
            Address = new Address { Line1 = Line1, City = "Personalton", PostalCode = "PX9 7QZ", Country = "AT" },
        };
    }
}
