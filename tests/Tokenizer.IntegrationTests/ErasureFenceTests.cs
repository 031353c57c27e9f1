using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;
using Tokenizer.StripeSandbox.Faults;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// An erasure against what happens at Stripe meanwhile: the billing service tokenising for the same person while the
/// erasure runs, and a Customer deleted in the Dashboard before it (its <c>customer.deleted</c> never processed: this
/// fixture runs no webhook listener). The real server over real gRPC and TLS, the embedded sandbox over real HTTP, the
/// real SQLite ledger.
/// </summary>
public sealed class ErasureFenceTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private const string BillingName = "Zebulon Fence";

    private PrivacyService.PrivacyServiceClient Privacy => new(server.ChannelFor("admin"));

    private StripeClient Gateway => new(new StripeClientOptions
    {
        ApiKey = server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey,
        ApiBase = server.Sandbox.BaseAddress.ToString().TrimEnd('/'),
    });

    [Fact]
    public async Task TokenizeCard_WhileTheErasuresCustomerDeleteIsInFlight_RefusedErasureInProgressNothingSentAndEveryPaymentMethodCleared()
    {
        // Arrange: a token for the person; the erasure's DELETE /v1/customers/{id} is held 4 s at the sandbox, the window
        // in which a SetupIntent under that still-live Customer would attach and be detached uncleared by the delete.
        var reference = "cust-fence-" + Guid.NewGuid().ToString("N")[..10];
        var first = await TokenizeAsync(reference, "4242424242424242");
        server.Sandbox.Faults.Add("DELETE /v1/customers/*", SandboxFault.Latency(TimeSpan.FromSeconds(4)), count: 1);
        var erasure = Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() }).ResponseAsync;
        await EventuallyAsync(async () =>
            (await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = reference })).Status.State == ErasureState.DeletingCustomer);
        var paymentMethodsBefore = server.Sandbox.Requests.Snapshot("POST /v1/payment_methods").Count;

        // Act: the billing service tokenises for the same person while the delete is in flight; another person meanwhile.
        var refused = await Assert.ThrowsAsync<RpcException>(() => TokenizeAsync(reference, "5555555555554444"));
        var paymentMethodsAfterRefusal = server.Sandbox.Requests.Snapshot("POST /v1/payment_methods").Count;
        var other = await TokenizeAsync("cust-fence-other-" + Guid.NewGuid().ToString("N")[..10], "5555555555554444");
        var erased = await erasure;

        // Assert: refused naming the field and the rule, before any gateway request; the control went through; the erasure
        // completed with the one PaymentMethod it had, cleared and detached.
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal("ERASURE_IN_PROGRESS", TokenizeTests.ErrorInfoOf(refused).Reason);
        Assert.Contains("customer_reference", refused.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(reference, refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(paymentMethodsBefore, paymentMethodsAfterRefusal);
        Assert.Equal(Contracts.V1.TokenStatus.Active, other.Status);
        Assert.Equal((ErasureState.Completed, 1, 0), (erased.Status.State, erased.Status.PaymentMethodsDetached, erased.Status.PaymentMethodsNotCleared));
        var atGateway = await Gateway.V1.PaymentMethods.GetAsync(first.Token_);
        Assert.Null(atGateway.CustomerId);
        Assert.Null(atGateway.BillingDetails.Name);

        // Once the erasure is complete, the reference is a new person to the service: tokenising works again.
        var after = await TokenizeAsync(reference, "5555555555554444");
        Assert.Equal(Contracts.V1.TokenStatus.Active, after.Status);
        Assert.NotEqual(first.GatewayCustomer, after.GatewayCustomer);
    }

    [Fact]
    public async Task EraseSubject_PaymentMethodDetachedByACustomerDeletedInTheDashboard_CountedNotClearedNotDetachedAndNoErrorLogged()
    {
        // Arrange: a token, then its Customer deleted at Stripe (which detaches the PaymentMethod, billing details and all);
        // a second person's erasure is the control.
        var reference = "cust-dash-" + Guid.NewGuid().ToString("N")[..10];
        var token = await TokenizeAsync(reference, "4242424242424242");
        Assert.True((await Gateway.V1.Customers.DeleteAsync(token.GatewayCustomer)).Deleted);
        var control = "cust-dash-ctl-" + Guid.NewGuid().ToString("N")[..10];
        await TokenizeAsync(control, "4242424242424242");
        var linesBefore = server.Logs.Lines.Count;

        // Act
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() });
        var controlErased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = control, IdempotencyKey = Requests.NewKey() });

        // Assert: the gateway still holds the details (Stripe updates attached PaymentMethods only), and the erasure says
        // so instead of counting it cleared; the refusal is a Warning naming the PaymentMethod, never an Error.
        Assert.Equal((ErasureState.Completed, 0, 1), (erased.Status.State, erased.Status.PaymentMethodsDetached, erased.Status.PaymentMethodsNotCleared));
        Assert.Equal((ErasureState.Completed, 1, 0), (controlErased.Status.State, controlErased.Status.PaymentMethodsDetached, controlErased.Status.PaymentMethodsNotCleared));
        Assert.Equal(BillingName, (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).BillingDetails.Name);
        var lines = server.Logs.Lines.Skip(linesBefore).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("StripePaymentMethodNotAttached", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("PrivacyClearRefused", StringComparison.Ordinal) && l.Contains(token.Token_, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EraseSubject_WhileACorrectionWaitsForStripe_ErasureWaitsForItAndNothingOfThePersonIsLeft()
    {
        // Arrange: a token for the person; the correction's update is held 4 s at the sandbox (applied, answer late), and
        // the erasure starts meanwhile. Without the fence the correction finished after the erasure had completed: a new
        // data key and an encrypted record of the corrected details were left here (the fourteenth outside review's N1).
        var reference = "cust-corr-" + Guid.NewGuid().ToString("N")[..10];
        var token = await TokenizeAsync(reference, "4242424242424242");
        server.Sandbox.Faults.Add($"POST /v1/payment_methods/{token.Token_}", SandboxFault.Latency(TimeSpan.FromSeconds(4)), count: 1);
        var correction = Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = reference,
            BillingDetails = new Contracts.V1.BillingDetails { Name = "Corrected Fence", Email = "corrected@example.com" },
        }).ResponseAsync;
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Act
        var erased = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() });
        var corrected = await correction;

        // Assert: the correction finished first (the erasure waited for it), then the erasure cleared everything: no data
        // key, no encrypted record, nothing at Stripe.
        Assert.Equal(CorrectionOutcome.Updated, Assert.Single(corrected.Results).Outcome);
        Assert.Equal((ErasureState.Completed, 1, 0), (erased.Status.State, erased.Status.PaymentMethodsDetached, erased.Status.PaymentMethodsNotCleared));
        Assert.False(System.IO.File.Exists(Path.Combine(server.DataDirectory, "subject-keys", erased.SubjectPseudonym + ".key")));
        Assert.Equal(0L, PersonalDataRows(erased.SubjectPseudonym));
        var atGateway = await Gateway.V1.PaymentMethods.GetAsync(token.Token_);
        Assert.Null(atGateway.CustomerId);
        Assert.Null(atGateway.BillingDetails.Name);
        Assert.Null(atGateway.BillingDetails.Email);

        // A correction once the erasure runs is refused like a tokenisation (control: the erasure is complete, so the
        // reference holds nothing and the correction finds nothing to correct).
        var after = await Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = Requests.NewKey(),
            CustomerReference = reference,
            BillingDetails = new Contracts.V1.BillingDetails { Email = "later@example.com" },
        });
        Assert.Empty(after.Results);
    }

    [Fact]
    public async Task EraseSubject_ThreeAtOnceForOnePerson_SameKeyAnswersTheFirstsCountAnotherKeyAbortedAndARetryReplays()
    {
        // Arrange: two tokens for the person; the first erasure's Customer delete is held 3 s at the sandbox, and two more
        // EraseSubject calls arrive meanwhile: one with the first's key (a client's retry), one with another key. Without
        // one claim per person each ran the erasure and answered its own count (0: the first had detached both), and the
        // stored record kept the last writer's (the eighteenth outside review's N4).
        var reference = "cust-erase-twice-" + Guid.NewGuid().ToString("N")[..10];
        await TokenizeAsync(reference, "4242424242424242");
        await TokenizeAsync(reference, "5555555555554444");
        server.Sandbox.Faults.Add("DELETE /v1/customers/*", SandboxFault.Latency(TimeSpan.FromSeconds(3)), count: 1);
        var deletesBefore = server.Sandbox.Requests.Snapshot("DELETE /v1/customers/*").Count;
        var request = new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey(), Reason = "asked twice" };
        var first = Privacy.EraseSubjectAsync(request).ResponseAsync;
        await EventuallyAsync(async () =>
            (await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = reference })).Status.State == ErasureState.DeletingCustomer);

        // Act
        var sameKey = Privacy.EraseSubjectAsync(request).ResponseAsync;
        var otherKey = await Assert.ThrowsAsync<RpcException>(() =>
            Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() }).ResponseAsync);
        var (firstAnswer, sameKeyAnswer) = (await first, await sameKey);
        var retried = await Privacy.EraseSubjectAsync(request);

        // Assert: one erasure ran (one Customer delete); the same key waited and answered the first's answer, as does a
        // retry after it (the erasure's own stored answer survived its destroy step); the other key was ABORTED.
        Assert.Equal((ErasureState.Completed, 2), (firstAnswer.Status.State, firstAnswer.Status.PaymentMethodsDetached));
        Assert.Equal(firstAnswer, sameKeyAnswer);
        Assert.Equal(firstAnswer, retried);
        Assert.Equal(StatusCode.Aborted, otherKey.StatusCode);
        Assert.Equal("ERASURE_RUNNING", TokenizeTests.ErrorInfoOf(otherKey).Reason);
        Assert.DoesNotContain(reference, otherKey.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(deletesBefore + 1, server.Sandbox.Requests.Snapshot("DELETE /v1/customers/*").Count);
        var status = await Privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = reference });
        Assert.Equal(2, status.Status.PaymentMethodsDetached);

        // The control: the same key with another reason is another request, refused; a new key after the erasure
        // completed runs (nothing held: it answers the completed erasure as it is).
        var reused = await Assert.ThrowsAsync<RpcException>(() =>
            Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = request.IdempotencyKey, Reason = "other" }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, reused.StatusCode);
        var later = await Privacy.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey() });
        Assert.Equal(firstAnswer.Status, later.Status);
    }

    [Fact]
    public async Task CorrectSubjectData_TwoAtOnceForOnePerson_TheSecondRefusedCorrectionInProgressAndBothSidesAgree()
    {
        // Arrange: the first correction's update held 3 s at the sandbox; a second one (another key, another email) sent
        // meanwhile. Each merges its fields over the details held, so two at once left Stripe and the ledger with
        // different winners (the fourteenth outside review's N2).
        var reference = "cust-corr2-" + Guid.NewGuid().ToString("N")[..10];
        var token = await TokenizeAsync(reference, "4242424242424242");
        server.Sandbox.Faults.Add($"POST /v1/payment_methods/{token.Token_}", SandboxFault.Latency(TimeSpan.FromSeconds(3)), count: 1);
        var first = Privacy.CorrectSubjectDataAsync(Correction(reference, "first@example.com")).ResponseAsync;
        await Task.Delay(TimeSpan.FromSeconds(1));

        // Act
        var second = await Assert.ThrowsAsync<RpcException>(() => Privacy.CorrectSubjectDataAsync(Correction(reference, "second@example.com")).ResponseAsync);
        var firstDone = await first;
        var retried = await Privacy.CorrectSubjectDataAsync(Correction(reference, "second@example.com"));

        // Assert: the second is refused while the first runs, and its retry afterwards applies on both sides.
        Assert.Equal((StatusCode.Aborted, "CORRECTION_IN_PROGRESS"), (second.StatusCode, TokenizeTests.ErrorInfoOf(second).Reason));
        Assert.Equal(CorrectionOutcome.Updated, Assert.Single(firstDone.Results).Outcome);
        Assert.Equal(CorrectionOutcome.Updated, Assert.Single(retried.Results).Outcome);
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = reference });
        Assert.Equal("second@example.com", Assert.Single(export.Tokens).BillingDetails.Email);
        Assert.Equal("second@example.com", (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).BillingDetails.Email);
    }

    [Fact]
    public async Task CorrectSubjectData_PartlyUnavailableThenANewerCorrectionThenTheSameKey_ReplaysAndBothSidesKeepTheNewer()
    {
        // Arrange: two tokens; correction A reaches the first and not the second (Stripe 503s); then a newer correction B
        // reaches both (the fifteenth outside review's N1: A's retry re-sent its first gateway keys, Stripe replayed, and
        // the ledger applied A over B).
        var reference = "cust-corr3-" + Guid.NewGuid().ToString("N")[..10];
        var first = await TokenizeAsync(reference, "4242424242424242");
        var second = await TokenizeAsync(reference, "5555555555554444");
        var older = Correction(reference, "older@example.com");
        server.Sandbox.Faults.Add($"POST /v1/payment_methods/{second.Token_}", SandboxFault.Status(503), count: SandboxFaultRule.Unlimited);
        CorrectSubjectDataResponse partial;
        try
        {
            partial = await Privacy.CorrectSubjectDataAsync(older);
        }
        finally
        {
            server.Sandbox.Faults.Clear();
        }

        var newer = await Privacy.CorrectSubjectDataAsync(Correction(reference, "newer@example.com"));

        // Act: the older correction again under its key, and its key with other values.
        var replayed = await Privacy.CorrectSubjectDataAsync(older);
        var reused = await Assert.ThrowsAsync<RpcException>(() => Privacy.CorrectSubjectDataAsync(new CorrectSubjectDataRequest
        {
            IdempotencyKey = older.IdempotencyKey,
            CustomerReference = reference,
            BillingDetails = new Contracts.V1.BillingDetails { Email = "other@example.com" },
        }).ResponseAsync);

        // Assert: the partial answer is replayed, nothing applied again; the key stays bound to its request; Stripe and
        // the ledger both keep the newer correction on both tokens.
        Assert.Equal(
            (CorrectionOutcome.Updated, CorrectionOutcome.GatewayUnavailable),
            (partial.Results.Single(r => r.Token == first.Token_).Outcome, partial.Results.Single(r => r.Token == second.Token_).Outcome));
        Assert.All(newer.Results, r => Assert.Equal(CorrectionOutcome.Updated, r.Outcome));
        Assert.Equal(partial.Results, replayed.Results);
        Assert.Equal((StatusCode.AlreadyExists, "IDEMPOTENCY_KEY_REUSED"), (reused.StatusCode, TokenizeTests.ErrorInfoOf(reused).Reason));
        var export = await Privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = reference });
        foreach (var token in new[] { first, second })
        {
            Assert.Equal("newer@example.com", export.Tokens.Single(t => t.Token.Token_ == token.Token_).BillingDetails.Email);
            Assert.Equal("newer@example.com", (await Gateway.V1.PaymentMethods.GetAsync(token.Token_)).BillingDetails.Email);
        }
    }

    private static CorrectSubjectDataRequest Correction(string reference, string email) => new()
    {
        IdempotencyKey = Requests.NewKey(),
        CustomerReference = reference,
        BillingDetails = new Contracts.V1.BillingDetails { Email = email },
    };

    private long PersonalDataRows(string subject)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(server.DataDirectory, "ledger", "tokenizer.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM privacy_personal_data WHERE subject = $subject";
        command.Parameters.AddWithValue("$subject", subject);
        return (long)command.ExecuteScalar()!;
    }

    private async Task<Contracts.V1.Token> TokenizeAsync(string reference, string pan)
    {
        var request = Requests.Card(pan, Requests.NewKey(), customer: reference);
        request.BillingDetails = new Contracts.V1.BillingDetails { Name = BillingName, Email = "fence@example.com" };
        return (await server.Client.TokenizeCardAsync(request)).Token;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(50);
        }
    }
}
