using Google.Rpc;
using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>The tokenisation path end to end: gRPC over Kestrel, Stripe.net over HTTP to the sandbox, SQLite.</summary>
public sealed class TokenizeTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    [Fact]
    public async Task TokenizeCard_StripeTestVisa_ReturnsPaymentMethodWithMaskedMetadata()
    {
        var response = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()));

        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.False(response.Replayed);
        Assert.Equal("stripe", response.Token.Gateway);
        Assert.Equal(TokenType.Card, response.Token.Type);
        Assert.Equal(TokenStatus.Active, response.Token.Status);
        Assert.Equal("visa", response.Token.Card.Brand);
        Assert.Equal("4242", response.Token.Card.Last4);
        Assert.Equal(12, response.Token.Card.ExpMonth);
        Assert.Equal(2030, response.Token.Card.ExpYear);
        Assert.Equal("credit", response.Token.Card.Funding);
        Assert.False(string.IsNullOrEmpty(response.Token.Card.Fingerprint));
        Assert.NotNull(response.Token.CreatedAt);
    }

    [Fact]
    public async Task TokenizeCard_SameNumberTwice_SameFingerprintDifferentTokens()
    {
        var first = await server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", Requests.NewKey()));
        var second = await server.Client.TokenizeCardAsync(Requests.Card("5555 5555 5555 4444", Requests.NewKey()));

        Assert.NotEqual(first.Token.Token_, second.Token.Token_);
        Assert.Equal(first.Token.Card.Fingerprint, second.Token.Card.Fingerprint);
        Assert.Equal("mastercard", second.Token.Card.Brand);
    }

    public static TheoryData<string, string, string> BankAccounts => new()
    {
        { "au_becs_debit", "000000", "3456" },
        { "sepa_debit", "19043", "3201" },
        { "bacs_debit", "108800", "2345" },
        { "us_bank_account", "110000000", "6789" },
    };

    [Theory]
    [MemberData(nameof(BankAccounts))]
    public async Task TokenizeBankAccount_StripeTestAccounts_ReturnPaymentMethods(string kind, string bankIdentifier, string last4)
    {
        var key = Requests.NewKey();
        var request = kind switch
        {
            "au_becs_debit" => Requests.Becs(key),
            "sepa_debit" => Requests.Sepa(key),
            "bacs_debit" => Requests.Bacs(key),
            _ => Requests.Ach(key),
        };

        var response = await server.Client.TokenizeBankAccountAsync(request);

        Assert.StartsWith("pm_", response.Token.Token_, StringComparison.Ordinal);
        Assert.Equal(last4, response.Token.BankAccount.Last4);
        Assert.Equal(bankIdentifier, response.Token.BankAccount.BankIdentifier);
        Assert.False(string.IsNullOrEmpty(response.Token.BankAccount.Fingerprint));
        Assert.Null(response.Token.Card);
        Assert.StartsWith("cus_", response.Token.GatewayCustomer, StringComparison.Ordinal);
        Assert.StartsWith("seti_", response.Token.Setup.SetupIntent, StringComparison.Ordinal);

        // Each scheme ends as Stripe documents it: SEPA and BECS set up at once under an active mandate; Bacs processing
        // while its mandate is registered (active at the next read: no delay configured); ACH waits for microdeposits.
        var read = (await server.Client.GetTokenAsync(new GetTokenRequest { Token = response.Token.Token_ })).Token;
        switch (kind)
        {
            case "au_becs_debit" or "sepa_debit":
                Assert.Equal(SetupStatus.Ready, response.Token.Setup.Status);
                Assert.Equal((MandateStatus.Active, MandateType.Online), (response.Token.Mandate.Status, response.Token.Mandate.Type));
                Assert.Equal(response.Token, read);
                break;
            case "bacs_debit":
                // The mandate read right after the SetupIntent already counts as the sandbox's first read after the
                // (zero) activation delay, so it may be active while the setup still says processing.
                Assert.Equal(SetupStatus.Processing, response.Token.Setup.Status);
                Assert.StartsWith("mandate_", response.Token.Mandate.Id, StringComparison.Ordinal);
                Assert.Equal(SetupStatus.Ready, read.Setup.Status);
                Assert.Equal(MandateStatus.Active, read.Mandate.Status);
                break;
            default:
                Assert.Equal(SetupStatus.RequiresAction, response.Token.Setup.Status);
                Assert.Equal(NextActionKind.VerifyWithMicrodeposits, response.Token.Setup.NextAction.Kind);
                Assert.StartsWith("http", response.Token.Setup.NextAction.Url, StringComparison.Ordinal);
                Assert.Equal(SetupStatus.RequiresAction, read.Setup.Status);
                break;
        }
    }

    [Fact]
    public async Task TokenizeBankAccount_AchMicrodepositsVerifiedOnTheHostedPage_GetTokenReady()
    {
        var tokenized = (await server.Client.TokenizeBankAccountAsync(Requests.Ach(Requests.NewKey()))).Token;

        using (var http = new HttpClient())
        using (var form = new FormUrlEncodedContent([new("amount1", "32"), new KeyValuePair<string, string>("amount2", "45")]))
        {
            using var verified = await http.PostAsync(new Uri(tokenized.Setup.NextAction.Url), form);
            Assert.True(verified.IsSuccessStatusCode || (int)verified.StatusCode is >= 300 and < 400, $"the page answered {(int)verified.StatusCode}");
        }

        var read = (await server.Client.GetTokenAsync(new GetTokenRequest { Token = tokenized.Token_ })).Token;
        var again = (await server.Client.GetTokenAsync(new GetTokenRequest { Token = tokenized.Token_ })).Token;

        Assert.Equal(SetupStatus.RequiresAction, tokenized.Setup.Status);
        Assert.Equal(SetupStatus.Ready, read.Setup.Status);
        Assert.Null(read.Setup.NextAction);
        Assert.Equal(MandateStatus.Active, read.Mandate.Status);
        Assert.Equal(read, again);
    }

    [Fact]
    public async Task TokenizeBankAccount_OfflineMandate_RecordedOffline()
    {
        var request = Requests.Sepa(Requests.NewKey());
        request.MandateAcceptance = Requests.OfflineMandate();

        var token = (await server.Client.TokenizeBankAccountAsync(request)).Token;

        Assert.Equal(SetupStatus.Ready, token.Setup.Status);
        Assert.Equal(MandateType.Offline, token.Mandate.Type);
        Assert.Equal(request.MandateAcceptance.AcceptedAt.Seconds, token.Mandate.AcceptedAt.Seconds);
    }

    [Fact]
    public async Task TokenizeBankAccount_NoMandateAcceptance_InvalidArgumentNamingTheFieldNothingAtTheGateway()
    {
        var request = Requests.Sepa(Requests.NewKey());
        request.MandateAcceptance = null;
        var before = server.Sandbox.GetStats();

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeBankAccountAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations, v => v.Field == "mandate_acceptance");
        Assert.Equal(before.PaymentMethods, server.Sandbox.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task TokenizeCard_Plain4242_ReadyWithCustomerAndSetupIntent()
    {
        var token = (await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey()))).Token;

        Assert.Equal(SetupStatus.Ready, token.Setup.Status);
        Assert.StartsWith("seti_", token.Setup.SetupIntent, StringComparison.Ordinal);
        Assert.StartsWith("cus_", token.GatewayCustomer, StringComparison.Ordinal);
        Assert.Null(token.Mandate);
    }

    [Fact]
    public async Task TokenizeCard_SameKeySameRequest_ReplaysSameTokenWithoutNewPaymentMethod()
    {
        var key = Requests.NewKey();
        var first = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));
        var before = server.Sandbox.GetStats().PaymentMethods;

        var again = await server.Client.TokenizeCardAsync(Requests.Card("4242 4242 4242 4242", key));

        Assert.True(again.Replayed);
        Assert.Equal(first.Token, again.Token);
        Assert.Equal(before, server.Sandbox.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task TokenizeCard_SameKeyOtherCvc_ReplaysTheToken()
    {
        // The CVC is not part of the request the key is bound to (no form of it is kept); the other card fields are.
        var key = Requests.NewKey();
        var first = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key, cvc: "123"));

        var again = await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key, cvc: "987"));

        Assert.True(again.Replayed);
        Assert.Equal(first.Token, again.Token);
    }

    [Fact]
    public async Task TokenizeCard_RequestHmacAtRest_IsTheSameWhateverTheCvc()
    {
        // Arrange: one card under three keys: two CVCs, and another expiry month as the control.
        var reference = "cvc-hmac-" + Guid.NewGuid().ToString("N")[..12];
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), reference, cvc: "123"));
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), reference, cvc: "987"));
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), reference, cvc: "123", month: 11));

        // Act: the HMACs the ledger keeps for those requests.
        var stored = new List<string>();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(server.DataDirectory, "ledger", "tokenizer.db")};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var query = connection.CreateCommand();
            query.CommandText = "SELECT request_hmac FROM intents WHERE customer_reference = $reference";
            query.Parameters.AddWithValue("$reference", reference);
            using var reader = query.ExecuteReader();
            while (reader.Read())
            {
                stored.Add(Convert.ToHexString((byte[])reader.GetValue(0)));
            }
        }

        // Assert: three rows, two HMACs: the CVC changed nothing, the month (control) did.
        Assert.Equal(3, stored.Count);
        Assert.Equal(2, stored.Distinct().Count());
    }

    [Fact]
    public async Task TokenizeCard_SameKeyOtherCard_AlreadyExistsIdempotencyKeyReused()
    {
        var key = Requests.NewKey();
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", key));

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("5555555555554444", key)).ResponseAsync);

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", ErrorInfoOf(error).Reason);
    }

    [Fact]
    public async Task TokenizeCard_LuhnInvalid_InvalidArgumentWithoutDigits()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4242424242424241", Requests.NewKey())).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var status = error.GetRpcStatus()!;
        var badRequest = status.GetDetail<BadRequest>()!;
        Assert.Contains(badRequest.FieldViolations, v => v.Field == "card.number");
        Assert.Equal("VALIDATION_FAILED", ErrorInfoOf(error).Reason);
        var everything = error.Status.Detail + status + string.Join("|", error.Trailers.Select(t => t.IsBinary ? Convert.ToBase64String(t.ValueBytes) : t.Value));
        Assert.DoesNotContain("4242", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("4241", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeCard_ValidationFails_NoGatewayCall()
    {
        var before = server.Sandbox.GetStats().PaymentMethods;

        await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), month: 13)).ResponseAsync);

        Assert.Equal(before, server.Sandbox.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task TokenizeCard_DeclineCard_FailedPreconditionWithDeclineCode()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.TokenizeCardAsync(Requests.Card("4000000000009995", Requests.NewKey())).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        var info = ErrorInfoOf(error);
        Assert.Equal("CARD_DECLINED", info.Reason);
        Assert.Equal("insufficient_funds", info.Metadata["decline_code"]);
    }

    [Fact]
    public async Task TokenizeBankAccount_BecsWithoutName_InvalidArgumentNamingField()
    {
        var request = Requests.Becs(Requests.NewKey());
        request.BillingDetails = new BillingDetails { Email = "a@example.com" };

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeBankAccountAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations, v => v.Field == "billing_details.name");
    }

    [Fact]
    public async Task TokenizeBankAccount_NoAccount_InvalidArgument()
    {
        var request = new TokenizeBankAccountRequest { IdempotencyKey = Requests.NewKey(), CustomerReference = "cust-it" };

        var error = await Assert.ThrowsAsync<RpcException>(() => server.Client.TokenizeBankAccountAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations, v => v.Field == "account");
    }

    [Fact]
    public async Task TokenizeCard_FiftyConcurrentDuplicates_OnePaymentMethod()
    {
        var key = Requests.NewKey();
        var before = server.Sandbox.GetStats().PaymentMethods;

        var calls = Enumerable.Range(0, 50).Select(async _ =>
        {
            try
            {
                var response = await server.Client.TokenizeCardAsync(Requests.Card("4000056655665556", key, customer: "cust-concurrent"));
                return response.Token.Token_;
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Aborted)
            {
                return "aborted";
            }
        });
        var results = await Task.WhenAll(calls);

        Assert.Equal(before + 1, server.Sandbox.GetStats().PaymentMethods);
        var tokens = results.Where(r => r != "aborted").Distinct().ToList();
        Assert.Single(tokens);
        Assert.StartsWith("pm_", tokens[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetListRevoke_Lifecycle_RevokedTokenReadsRevoked()
    {
        var customer = "cust-" + Requests.NewKey()[..8];
        var card = await server.Client.TokenizeCardAsync(Requests.Card("378282246310005", Requests.NewKey(), customer: customer, cvc: "1234"));
        var bank = await server.Client.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: customer));

        var got = await server.Client.GetTokenAsync(new GetTokenRequest { Token = card.Token.Token_ });
        Assert.Equal(card.Token, got.Token);
        Assert.Equal("amex", got.Token.Card.Brand);

        var listed = await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = customer });
        Assert.Equal([bank.Token.Token_, card.Token.Token_], listed.Tokens.Select(t => t.Token_));

        var revoked = await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = card.Token.Token_, IdempotencyKey = Requests.NewKey(), Reason = "customer asked" });
        Assert.Equal(TokenStatus.Revoked, revoked.Token.Status);
        Assert.NotNull(revoked.Token.RevokedAt);

        var afterRevoke = await server.Client.GetTokenAsync(new GetTokenRequest { Token = card.Token.Token_ });
        Assert.Equal(TokenStatus.Revoked, afterRevoke.Token.Status);

        var active = await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = customer, Status = TokenStatus.Active });
        Assert.Equal([bank.Token.Token_], active.Tokens.Select(t => t.Token_));
    }

    [Fact]
    public async Task RevokeToken_Twice_SecondReturnsSameRevokedToken()
    {
        var card = await server.Client.TokenizeCardAsync(Requests.Card("6011111111111117", Requests.NewKey()));
        var key = Requests.NewKey();
        var first = await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = card.Token.Token_, IdempotencyKey = key });

        var replay = await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = card.Token.Token_, IdempotencyKey = key });
        var otherKey = await server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = card.Token.Token_, IdempotencyKey = Requests.NewKey() });

        Assert.Equal(first.Token, replay.Token);
        Assert.Equal(TokenStatus.Revoked, otherKey.Token.Status);
        Assert.Equal(first.Token.RevokedAt, otherKey.Token.RevokedAt);
    }

    [Fact]
    public async Task GetToken_Unknown_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Client.GetTokenAsync(new GetTokenRequest { Token = "pm_doesnotexist" }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Equal("TOKEN_NOT_FOUND", ErrorInfoOf(error).Reason);
    }

    [Fact]
    public async Task RevokeToken_Unknown_NotFound()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Admin.RevokeTokenAsync(new RevokeTokenRequest { Token = "pm_doesnotexist", IdempotencyKey = Requests.NewKey() }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task ListTokens_PageSizeTwo_PagesThroughEveryTokenOnce()
    {
        var customer = "cust-page-" + Requests.NewKey()[..8];
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), customer: customer))).Token.Token_);
        }

        var seen = new List<string>();
        var pageToken = string.Empty;
        do
        {
            var page = await server.Finance.ListTokensAsync(new ListTokensRequest { CustomerReference = customer, PageSize = 2, PageToken = pageToken });
            Assert.True(page.Tokens.Count <= 2);
            seen.AddRange(page.Tokens.Select(t => t.Token_));
            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);

        Assert.Equal(created.AsEnumerable().Reverse(), seen);
    }

    [Fact]
    public async Task ListTokens_MalformedPageToken_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            server.Finance.ListTokensAsync(new ListTokensRequest { PageToken = "not-a-page-token" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(error.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations, v => v.Field == "page_token");
    }

    internal static ErrorInfo ErrorInfoOf(RpcException error) =>
        error.GetRpcStatus()?.GetDetail<ErrorInfo>() ?? throw new InvalidOperationException("no ErrorInfo");
}
