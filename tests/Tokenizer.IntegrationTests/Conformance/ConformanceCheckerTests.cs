namespace Tokenizer.IntegrationTests.Conformance;

/// <summary>
/// The checker on hand-built requests: each rule can fail (controls), and requests shaped like CONTRACT.md's (the
/// SetupIntent path, mandates, microdeposits, the billing service's PaymentIntent) pass.
/// </summary>
public sealed class ConformanceCheckerTests
{
    private static readonly string[] SetupIntentKeys =
        ["created", "id", "livemode", "object", "payment_method_types", "payment_method_types[]", "status", "usage", "customer", "payment_method", "metadata", "next_action"];

    [Fact]
    public void Judge_PaymentMethodCreateAsTheServiceSendsIt_NoViolation()
    {
        var call = Post(
            "/v1/payment_methods",
            Form("type", "string", "card"),
            Form("card[number]", "integer"),
            Form("card[exp_month]", "integer"),
            Form("card[exp_year]", "integer"),
            Form("card[cvc]", "integer"),
            Form("billing_details[address]", "empty"),
            Form("billing_details[email]", "string"),
            Form("metadata[tokenizer_intent]", "string"),
            Form("expand[0]", "string"));

        Assert.Empty(StripeOpenApi.Instance.Judge(call));
    }

    [Fact]
    public void Judge_WrongName_UnknownParameter()
    {
        var violation = Assert.Single(StripeOpenApi.Instance.Judge(Post("/v1/payment_methods", Form("type", "string", "card"), Form("card[numbr]", "integer"))));

        Assert.Equal((Rules.UnknownParameter, "card[numbr]"), (violation.Rule, violation.Subject));
    }

    [Fact]
    public void Judge_NameUnderAScalar_UnknownParameter()
    {
        var violation = Assert.Single(StripeOpenApi.Instance.Judge(Post("/v1/setup_intents", Form("usage[x]", "string", "off_session"))));

        Assert.Equal(Rules.UnknownParameter, violation.Rule);
    }

    [Theory]
    [InlineData("card[exp_month]", "string")]
    [InlineData("card[exp_month]", "empty")]
    [InlineData("card[exp_month]", "boolean")]
    [InlineData("card", "string")]
    public void Judge_WrongType_WrongType(string name, string kind)
    {
        var violation = Assert.Single(StripeOpenApi.Instance.Judge(Post("/v1/payment_methods", Form("type", "string", "card"), Form(name, kind))));

        Assert.Equal((Rules.WrongType, name), (violation.Rule, violation.Subject));
    }

    [Theory]
    [InlineData("sometimes")] // a word the enum does not hold
    [InlineData(null)] // text the log did not keep (not a lower-case word), so not one of the words the enum holds
    public void Judge_WrongEnumValue_WrongEnum(string? value)
    {
        var violations = StripeOpenApi.Instance.Judge(Post("/v1/setup_intents", Form("usage", "string", value)));

        Assert.Equal(Rules.WrongEnum, Assert.Single(violations).Rule);
    }

    [Fact]
    public void Judge_UnknownPath_UnknownPath()
    {
        Assert.Equal(Rules.UnknownPath, Assert.Single(StripeOpenApi.Instance.Judge(Post("/v1/setup_intent"))).Rule);
        Assert.Equal(Rules.UnknownPath, Assert.Single(StripeOpenApi.Instance.Judge(Call("PUT", "/v1/customers/cus_1", []))).Rule);
    }

    [Fact]
    public void Judge_AnswerMissingARequiredField_MissingResponseField()
    {
        string[] keys = ["customer_acceptance", "customer_acceptance.type", "id", "livemode", "object", "payment_method", "payment_method_details", "payment_method_details.type", "type"];
        var call = Call("GET", "/v1/mandates/mandate_123", [], keys);

        var violation = Assert.Single(StripeOpenApi.Instance.Judge(call));

        Assert.Equal((Rules.MissingResponseField, "status"), (violation.Rule, violation.Subject));
        Assert.Empty(StripeOpenApi.Instance.Judge(call with { ResponseKeys = [.. keys, "status"] })); // control
    }

    [Fact]
    public void Judge_NestedObjectMissingItsRequiredField_MissingResponseField()
    {
        var call = Call("POST", "/v1/setup_intents/seti_1/verify_microdeposits", [Form("amounts[0]", "integer"), Form("amounts[1]", "integer")], [.. SetupIntentKeys, "next_action.type", "next_action.verify_with_microdeposits", "next_action.verify_with_microdeposits.arrival_date"]);

        var violation = Assert.Single(StripeOpenApi.Instance.Judge(call));

        Assert.Equal((Rules.MissingResponseField, "next_action.verify_with_microdeposits.hosted_verification_url"), (violation.Rule, violation.Subject));
    }

    [Fact]
    public void Judge_ErrorAnswerWithoutError_MissingResponseField() =>
        Assert.Equal(
            (Rules.MissingResponseField, "error"),
            StripeOpenApi.Instance.Judge(Call("GET", "/v1/customers/cus_1", [], ["message"], status: 404)).Select(v => (v.Rule, v.Subject)).Single());

    [Fact]
    public void Judge_ParametersNotRead_UnjudgeableFinding()
    {
        var call = Post("/v1/customers") with { Parameters = null };

        Assert.Equal(Rules.Unjudgeable, Assert.Single(StripeOpenApi.Instance.Judge(call)).Rule);
    }

    [Fact]
    public void Judge_QueryParameters_JudgedAgainstTheOperationsQueryParameters()
    {
        var good = Call("GET", "/v1/customers/cus_1/payment_methods", [Query("type", "string", "card"), Query("limit", "integer"), Query("starting_after", "string")]);
        var wrongType = good with { Parameters = [Query("type", "string", "card"), Query("limit", "string")] };
        var unknown = good with { Parameters = [Query("typ", "string", "card")] };
        var inForm = good with { Parameters = [Form("type", "string", "card")] };

        Assert.Empty(StripeOpenApi.Instance.Judge(good));
        Assert.Equal(Rules.WrongType, Assert.Single(StripeOpenApi.Instance.Judge(wrongType)).Rule);
        Assert.Equal(Rules.UnknownParameter, Assert.Single(StripeOpenApi.Instance.Judge(unknown)).Rule);
        Assert.Equal(Rules.UnknownParameter, Assert.Single(StripeOpenApi.Instance.Judge(inForm)).Rule);
    }

    [Theory]
    [InlineData("card")]
    [InlineData("sepa_debit")]
    public void Judge_ContractSetupIntentCreate_NoViolation(string type)
    {
        List<RecordedParam> parameters =
        [
            Form("customer", "string"),
            Form("payment_method", "string"),
            Form("payment_method_types[0]", "string", type),
            Form("usage", "string", "off_session"),
            Form("confirm", "boolean", "true"),
            Form("metadata[tokenizer_intent]", "string"),
        ];
        parameters.AddRange(type == "card"
            ? [Form("return_url", "string")]
            : [
                Form("mandate_data[customer_acceptance][type]", "string", "online"),
                Form("mandate_data[customer_acceptance][accepted_at]", "integer"),
                Form("mandate_data[customer_acceptance][online][ip_address]", "string"),
                Form("mandate_data[customer_acceptance][online][user_agent]", "string"),
            ]);

        var call = Call("POST", "/v1/setup_intents", parameters, [.. SetupIntentKeys, "next_action.type", "next_action.redirect_to_url", "next_action.redirect_to_url.url", "next_action.redirect_to_url.return_url"]);

        Assert.Empty(StripeOpenApi.Instance.Judge(call));
    }

    [Fact]
    public void Judge_ContractOfflineMandate_NoViolationAndAWrongAcceptanceTypeIsCaught()
    {
        var call = Post(
            "/v1/setup_intents",
            Form("mandate_data[customer_acceptance][type]", "string", "offline"),
            Form("mandate_data[customer_acceptance][accepted_at]", "integer"),
            Form("mandate_data[customer_acceptance][offline]", "empty"));
        var wrong = Post("/v1/setup_intents", Form("mandate_data[customer_acceptance][type]", "string", "paper"));
        var unknown = Post("/v1/setup_intents", Form("mandate_data[customer_acceptance][offline][signed_by]", "string"));

        Assert.Equal([Rules.WrongType], StripeOpenApi.Instance.Judge(call).Select(v => v.Rule)); // an empty value for a hash with no "" alternative
        Assert.Empty(StripeOpenApi.Instance.Judge(call with { Parameters = call.Parameters!.Take(2).ToList() }));
        Assert.Equal(Rules.WrongEnum, Assert.Single(StripeOpenApi.Instance.Judge(wrong)).Rule);
        Assert.Equal(Rules.UnknownParameter, Assert.Single(StripeOpenApi.Instance.Judge(unknown)).Rule);
    }

    [Fact]
    public void Judge_ContractRefreshConfirmMandateMicrodepositsAndCharge_NoViolation()
    {
        string[] mandateKeys = ["customer_acceptance", "customer_acceptance.type", "id", "livemode", "object", "payment_method", "payment_method_details", "payment_method_details.type", "status", "type"];
        string[] paymentIntentKeys = ["amount", "capture_method", "confirmation_method", "created", "currency", "id", "livemode", "object", "payment_method_types", "status"];
        RecordedCall[] calls =
        [
            Call("GET", "/v1/setup_intents/seti_1", [], SetupIntentKeys),
            Call("POST", "/v1/setup_intents/seti_1/confirm", [Form("return_url", "string")], SetupIntentKeys),
            Call("GET", "/v1/mandates/mandate_1", [], mandateKeys),
            Call("POST", "/v1/setup_intents/seti_1/verify_microdeposits", [Form("amounts[0]", "integer"), Form("amounts[1]", "integer")], SetupIntentKeys),
            Call("POST", "/v1/setup_intents/seti_1/verify_microdeposits", [Form("amounts[]", "integer"), Form("amounts[]", "integer")], SetupIntentKeys),
            Call("POST", "/v1/setup_intents/seti_1/verify_microdeposits", [Form("descriptor_code", "string")], SetupIntentKeys),
            Call(
                "POST",
                "/v1/payment_intents",
                [Form("amount", "integer"), Form("currency", "string", "eur"), Form("customer", "string"), Form("payment_method", "string"), Form("off_session", "boolean", "true"), Form("confirm", "boolean", "true")],
                paymentIntentKeys),
        ];

        Assert.All(calls, call => Assert.Empty(StripeOpenApi.Instance.Judge(call)));
        Assert.Equal(Rules.WrongType, Assert.Single(StripeOpenApi.Instance.Judge(calls[^1] with { Parameters = [Form("amount", "number")] })).Rule); // control
    }

    [Fact]
    public void Verdict_ListedDifference_ExceptedByNameNotAFinding()
    {
        var call = Post("/v1/setup_intents", Form("payment_method_data[type]", "string", "card"));

        var violation = Assert.Single(StripeOpenApi.Instance.Judge(call));
        var verdict = ConformanceVerdict.Of([call]);
        var unlisted = ConformanceVerdict.Of([Post("/v1/setup_intents", Form("payment_method_dat[type]", "string", "card"))]);

        Assert.Equal(Rules.UnknownParameter, violation.Rule);
        Assert.Empty(verdict.Findings);
        Assert.Equal(1, verdict.ExceptionsUsed["setup-intent-payment-method-data"]);
        Assert.Single(unlisted.Findings);
    }

    [Fact]
    public void Verdict_EveryListedExceptionNamesItsSourceAndIsUnique()
    {
        Assert.All(SpecExceptions.All, e => Assert.StartsWith("https://docs.stripe.com/", e.Source, StringComparison.Ordinal)); // the API reference or its changelog
        Assert.Equal(SpecExceptions.All.Count, SpecExceptions.All.Select(e => e.Id).Distinct().Count());
        Assert.All(SpecExceptions.All, e => Assert.NotNull(StripeOpenApi.Instance.Template(e.Method, e.PathTemplate)));
    }

    [Fact]
    public void Parse_ExportedLine_ReadsEveryMember()
    {
        var call = RecordedCalls.Parse(
            """{"sequence":3,"time":"2026-01-01T00:00:00+00:00","method":"POST","path":"/v1/customers","outcome":"answered","status":200,"parameters":[{"name":"metadata[a]","kind":"string","source":"form"},{"name":"expand[0]","kind":"string","value":"x","source":"query"}],"response_keys":["id","object"]}""",
            "test");

        Assert.Equal(("POST", "/v1/customers", (int?)200, "answered", (string?)null), (call.Method, call.Path, call.Status, call.Outcome, call.Fault));
        Assert.Equal([new RecordedParam("metadata[a]", "string", null, "form"), new RecordedParam("expand[0]", "string", "x", "query")], call.Parameters);
        Assert.Equal(["id", "object"], call.ResponseKeys);
    }

    [Fact]
    public void FromFolder_ExportedLines_JudgedAndAnEmptyFolderJudgesNothing()
    {
        var folder = Directory.CreateTempSubdirectory("conformance-folder-");
        try
        {
            Assert.Equal(0, ConformanceVerdict.Of(RecordedCalls.FromFolder(folder.FullName)).Judged);
            File.WriteAllLines(Path.Combine(folder.FullName, "sandbox-1-a.jsonl"), [
                """{"sequence":1,"method":"POST","path":"/v1/customers","outcome":"answered","status":200,"parameters":[{"name":"metadata[a]","kind":"string","source":"form"}],"response_keys":["created","id","livemode","object"]}""",
                """{"sequence":2,"method":"POST","path":"/v1/customers","outcome":"answered","status":200,"parameters":[{"name":"emial","kind":"string","source":"form"}],"response_keys":["created","id","livemode","object"]}""",
            ]);

            var verdict = ConformanceVerdict.Of(RecordedCalls.FromFolder(folder.FullName));

            Assert.Equal(2, verdict.Judged);
            Assert.Equal(("emial", "sandbox-1-a.jsonl:2"), verdict.Findings.Select(f => (f.Subject, f.Origin)).Single());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static RecordedParam Form(string name, string kind, string? value = null) => new(name, kind, value, "form");

    private static RecordedParam Query(string name, string kind, string? value = null) => new(name, kind, value, "query");

    private static RecordedCall Post(string path, params RecordedParam[] parameters) => Call("POST", path, parameters);

    private static RecordedCall Call(string method, string path, IReadOnlyList<RecordedParam> parameters, IReadOnlyList<string>? keys = null, int status = 200) =>
        new(method, path, status, "answered", null, parameters, keys ?? DefaultKeys(method, path, status), "hand-built");

    // A complete answer for the operations the controls above judge only for their parameters.
    private static string[] DefaultKeys(string method, string path, int status) => (method, path, status) switch
    {
        (_, _, >= 400) => ["error", "error.type"],
        ("POST", "/v1/payment_methods", _) => ["billing_details", "created", "id", "livemode", "object", "type"],
        ("POST", "/v1/customers", _) => ["created", "id", "livemode", "object"],
        ("GET", _, _) when path.EndsWith("/payment_methods", StringComparison.Ordinal) => ["data", "has_more", "object", "url"],
        _ => SetupIntentKeys,
    };
}
