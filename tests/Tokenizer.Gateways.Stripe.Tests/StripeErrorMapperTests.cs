using CsCheck;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Errors;
using Tokenizer.Gateways.Stripe.Tests.Support;

namespace Tokenizer.Gateways.Stripe.Tests;

/// <summary>The full Stripe error table, and proof that nothing of Stripe's text reaches our errors or logs.</summary>
public sealed class StripeErrorMapperTests
{
    private const string Card = "card_error";
    private const string Invalid = "invalid_request_error";

    private readonly CapturingLogger<StripeTokenGateway> logger = new();

    public static TheoryData<int, string?, string?, string?, string?, ErrorKind, string, string?, string?> Table() => new()
    {
        // status, type, code, decline_code, param => kind, reason, field violation, decline_code metadata
        { 402, Card, "card_declined", "generic_decline", null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "generic_decline" },
        { 402, Card, "card_declined", "do_not_honor", null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "do_not_honor" },
        { 402, Card, "card_declined", null, null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "card_declined" },
        { 402, Card, "expired_card", null, "exp_month", ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "expired_card" },
        { 402, Card, "insufficient_funds", null, null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "insufficient_funds" },
        { 402, Card, "lost_card", null, null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "lost_card" },
        { 402, Card, "stolen_card", null, null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "stolen_card" },
        { 402, Card, "card_declined", "fraudulent", null, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined, null, "fraudulent" },
        { 402, Card, "processing_error", null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 402, Card, "incorrect_number", null, "number", ErrorKind.InvalidArgument, ErrorReasons.IncorrectNumber, "card.number", null },
        { 402, Card, "invalid_number", null, "number", ErrorKind.InvalidArgument, ErrorReasons.IncorrectNumber, "card.number", null },
        { 400, Invalid, "invalid_number", null, "card[number]", ErrorKind.InvalidArgument, ErrorReasons.IncorrectNumber, "card.number", null },
        { 402, Card, "invalid_expiry_month", null, "exp_month", ErrorKind.InvalidArgument, ErrorReasons.InvalidExpiry, "card.exp_month", null },
        { 402, Card, "invalid_expiry_year", null, "exp_year", ErrorKind.InvalidArgument, ErrorReasons.InvalidExpiry, "card.exp_year", null },
        { 402, Card, "invalid_cvc", null, "cvc", ErrorKind.InvalidArgument, ErrorReasons.InvalidCvc, "card.cvc", null },
        { 400, Invalid, "account_number_invalid", null, "au_becs_debit[account_number]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "au_becs_debit.account_number", null },
        { 400, Invalid, "invalid_bsb_number", null, "au_becs_debit[bsb_number]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "au_becs_debit.bsb_number", null },
        { 400, Invalid, "invalid_iban", null, "sepa_debit[iban]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "sepa_debit.iban", null },
        { 400, Invalid, "parameter_invalid", null, "bacs_debit[sort_code]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "bacs_debit.sort_code", null },
        { 400, Invalid, "parameter_invalid", null, "bacs_debit[account_number]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "bacs_debit.account_number", null },
        { 400, Invalid, "routing_number_invalid", null, "us_bank_account[routing_number]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "us_bank_account.routing_number", null },
        { 400, Invalid, "account_number_invalid", null, "us_bank_account[account_number]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "us_bank_account.account_number", null },
        { 400, Invalid, "parameter_invalid", null, "us_bank_account[account_type]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "us_bank_account.account_type", null },
        { 400, Invalid, "parameter_invalid", null, "sepa_debit[something_new]", ErrorKind.InvalidArgument, ErrorReasons.BankAccountRejected, "sepa_debit", null },
        { 400, Invalid, "parameter_unknown", null, "card[colour]", ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, null, null },
        { 400, Invalid, "parameter_missing", null, "type", ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, null, null },
        { 400, Invalid, "parameter_invalid", null, "sepa_debitx", ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, null, null },
        { 404, Invalid, "resource_missing", null, "customer", ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, null, null },
        { 404, Invalid, "resource_missing", null, "payment_method", ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, null, null },
        { 400, Invalid, "resource_missing", null, "customer", ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest, null, null },
        { 400, "idempotency_error", null, null, null, ErrorKind.AlreadyExists, ErrorReasons.IdempotencyKeyReused, null, null },
        { 409, "idempotency_error", null, null, null, ErrorKind.AlreadyExists, ErrorReasons.IdempotencyKeyReused, null, null },
        { 400, Invalid, "parameter_missing", null, "billing_details[name]", ErrorKind.InvalidArgument, ErrorReasons.ValidationFailed, "billing_details.name", null },
        { 400, Invalid, "parameter_missing", null, "billing_details[address][line1]", ErrorKind.InvalidArgument, ErrorReasons.ValidationFailed, "billing_details.address.line1", null },
        { 400, Invalid, "parameter_invalid", null, "billing_details[address][planet]", ErrorKind.InvalidArgument, ErrorReasons.ValidationFailed, "billing_details", null },
        { 409, Invalid, "some_conflict", null, null, ErrorKind.Internal, ErrorReasons.InternalError, null, null },
        { 409, Invalid, "idempotency_key_in_use", null, null, ErrorKind.Aborted, ErrorReasons.IdempotencyKeyInFlight, null, null },
        { 401, Invalid, null, null, null, ErrorKind.Internal, ErrorReasons.GatewayAuthenticationFailed, null, null },
        { 403, Invalid, "secret_key_required", null, null, ErrorKind.Internal, ErrorReasons.GatewayAuthenticationFailed, null, null },
        { 401, null, null, null, null, ErrorKind.Internal, ErrorReasons.GatewayAuthenticationFailed, null, null },
        { 429, Invalid, "rate_limit", null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 429, Invalid, "lock_timeout", null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 500, "api_error", null, null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 502, null, null, null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 503, "api_error", null, null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 400, null, null, null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 200, null, null, null, null, ErrorKind.Unavailable, ErrorReasons.GatewayUnavailable, null, null },
        { 402, "some_future_type", "whatever", null, null, ErrorKind.Internal, ErrorReasons.InternalError, null, null },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Map_StripeError_FollowsTheTable(
        int status, string? type, string? code, string? declineCode, string? param,
        ErrorKind kind, string reason, string? field, string? declineMetadata)
    {
        var e = StripeErrorMapper.Map(
            Samples.StripeError(status, type, code, "Stripe text that must not surface", param, declineCode),
            StripeOperation.CreatePaymentMethod,
            logger);

        Assert.Equal(kind, e.Kind);
        Assert.Equal(reason, e.Reason);
        if (field is null)
        {
            Assert.Empty(e.Violations);
        }
        else
        {
            Assert.Equal(new FieldViolation(field, "rejected by the gateway"), Assert.Single(e.Violations));
        }

        if (declineMetadata is null)
        {
            Assert.Empty(e.ErrorMetadata);
        }
        else
        {
            Assert.Equal(declineMetadata, Assert.Single(e.ErrorMetadata, kv => kv.Key == "decline_code").Value);
        }

        Assert.DoesNotContain("Stripe text", e.Message, StringComparison.Ordinal);
        Assert.Null(e.InnerException);
        Assert.Single(logger.Lines);
        Assert.DoesNotContain("Stripe text", logger.AllText(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Map_CallersMistake_IsLoggedBelowError(
        int status, string? type, string? code, string? declineCode, string? param,
        ErrorKind kind, string reason, string? field, string? declineMetadata)
    {
        // Arrange: a decline, input the gateway refused, or a key the caller reused is the caller's doing, not ours.
        _ = (field, declineMetadata);
        var callersMistake = kind is ErrorKind.InvalidArgument or ErrorKind.AlreadyExists || reason == ErrorReasons.CardDeclined;

        // Act
        StripeErrorMapper.Map(Samples.StripeError(status, type, code, "text", param, declineCode), StripeOperation.Attach, logger);

        // Assert: operators page on Error; a caller's mistake stays at Warning or below.
        var line = Assert.Single(logger.Lines);
        Assert.True(!callersMistake || line.Level <= LogLevel.Warning, $"{type}/{code} logged at {line.Level}");
    }

    [Theory]
    [InlineData(true, ErrorKind.InvalidArgument, ErrorReasons.InvalidCvc)]
    [InlineData(false, ErrorKind.FailedPrecondition, ErrorReasons.CardDeclined)]
    public void Map_IncorrectCvc_IsInvalidAtCreateAndADeclineAtAttach(bool atCreate, ErrorKind kind, string reason)
    {
        var operation = atCreate ? StripeOperation.CreatePaymentMethod : StripeOperation.Attach;
        var e = StripeErrorMapper.Map(Samples.StripeError(402, Card, "incorrect_cvc", "Your card's security code is incorrect.", "cvc"), operation, logger);

        Assert.Equal(kind, e.Kind);
        Assert.Equal(reason, e.Reason);
    }

    [Theory]
    [InlineData(402)]
    [InlineData(400)]
    public void Map_RawCardDataRefused_IsFailedPreconditionWithOperatorLog(int status)
    {
        var e = StripeErrorMapper.Map(
            Samples.StripeError(status, Invalid, message: StripeErrorMapper.RawCardDataMessagePrefix + ". We suggest you use test tokens."),
            StripeOperation.CreatePaymentMethod,
            logger);

        Assert.Equal(ErrorKind.FailedPrecondition, e.Kind);
        Assert.Equal(ErrorReasons.RawCardDataNotEnabled, e.Reason);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Equal(4100, line.EventId.Id);
        Assert.Contains("raw card data APIs must be enabled on the Stripe account", line.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_RawCardMessageOnACardError_IsNotTreatedAsRawCardRefusal()
    {
        var e = StripeErrorMapper.Map(
            Samples.StripeError(402, Card, "card_declined", StripeErrorMapper.RawCardDataMessagePrefix),
            StripeOperation.CreatePaymentMethod,
            logger);

        Assert.Equal(ErrorReasons.CardDeclined, e.Reason);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public void Map_AuthenticationFailure_LogsCritical(int status)
    {
        StripeErrorMapper.Map(Samples.StripeError(status, Invalid), StripeOperation.Attach, logger);

        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Critical, line.Level);
        Assert.Equal("StripeAuthenticationFailed", line.EventId.Name);
    }

    [Theory]
    [InlineData("customer", LogLevel.Warning, ErrorReasons.GatewayCustomerMissing)]
    [InlineData("payment_method", LogLevel.Error, ErrorReasons.GatewayRejectedRequest)] // control: still our defect
    public void Map_ResourceMissingOnCustomer_TypedAndLoggedAsADeletionNotAsABug(string param, LogLevel level, string reason)
    {
        var e = StripeErrorMapper.Map(
            Samples.StripeError(404, Invalid, "resource_missing", "No such customer: 'cus_Q1'", param),
            StripeOperation.CreateSetupIntent,
            logger);

        Assert.Equal((ErrorKind.Internal, reason), (e.Kind, e.Reason));
        var line = Assert.Single(logger.Lines);
        Assert.Equal(level, line.Level);
        Assert.DoesNotContain("cus_Q1", logger.AllText(), StringComparison.Ordinal);
        Assert.Equal(param == "customer", line.Text.Contains("deleted at Stripe", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, LogLevel.Warning, ErrorKind.FailedPrecondition, ErrorReasons.PaymentMethodNotAttached)]
    [InlineData(false, LogLevel.Error, ErrorKind.Internal, ErrorReasons.GatewayRejectedRequest)] // control: elsewhere still our defect
    public void Map_UpdateOfADetachedPaymentMethod_TypedAndLoggedAsTheGatewaysStateNotAsABug(bool update, LogLevel level, ErrorKind kind, string reason)
    {
        var operation = update ? StripeOperation.UpdatePaymentMethod : StripeOperation.CreateSetupIntent;
        // Stripe updates attached PaymentMethods only: one detached behind our back answers 400 payment_method_unexpected_state.
        var e = StripeErrorMapper.Map(
            Samples.StripeError(400, Invalid, "payment_method_unexpected_state", "You must save this PaymentMethod to a customer before you can update it.", null),
            operation,
            logger);

        Assert.Equal((kind, reason), (e.Kind, e.Reason));
        Assert.Equal(level, Assert.Single(logger.Lines).Level);
    }

    [Fact]
    public void Map_RejectedRequest_LogsCodeAndParamOnly()
    {
        StripeErrorMapper.Map(
            Samples.StripeError(400, Invalid, "parameter_unknown", "Received unknown parameter: card[colour]. Did you mean card[cvc]?", "card[colour]"),
            StripeOperation.CreatePaymentMethod,
            logger);

        var line = Assert.Single(logger.Lines);
        Assert.Equal(LogLevel.Error, line.Level);
        Assert.Contains("parameter_unknown", line.Text, StringComparison.Ordinal);
        Assert.Contains("card[colour]", line.Text, StringComparison.Ordinal);
        Assert.Contains("req_abc", line.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Did you mean", logger.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Map_StripeMessageContainingThePan_LeaksNoDigitRunOfIt()
    {
        var pans = Gen.Char['0', '9'].Array[12, 19].Select(digits => new string(digits));
        var statuses = Gen.OneOfConst(400, 401, 402, 403, 404, 409, 429, 500, 502);
        var types = Gen.OneOfConst<string?>(Card, Invalid, "idempotency_error", "api_error", null, "x");
        var codes = Gen.OneOfConst<string?>(
            "card_declined", "incorrect_number", "invalid_number", "invalid_expiry_month", "invalid_cvc", "incorrect_cvc",
            "processing_error", "expired_card", "idempotency_key_in_use", "parameter_invalid", null, "PAN");
        var parameters = Gen.OneOfConst<string?>("card[number]", "sepa_debit[iban]", "us_bank_account", "number", null, "PAN", "card[PAN]");
        var operations = Gen.Enum<StripeOperation>();

        Gen.Select(pans, statuses, types, codes, parameters, operations).Sample((pan, status, type, code, param, operation) =>
        {
            var log = new CapturingLogger<StripeTokenGateway>();
            var exception = Samples.StripeError(
                status,
                type,
                code?.Replace("PAN", pan, StringComparison.Ordinal),
                $"Your card number {pan} is incorrect; {StripeErrorMapper.RawCardDataMessagePrefix} ({pan})",
                param?.Replace("PAN", pan, StringComparison.Ordinal),
                declineCode: "x" + pan);

            var mapped = StripeErrorMapper.Map(exception, operation, log);

            var surfaced = string.Join(
                "|",
                new[] { mapped.Message, mapped.Reason }
                    .Concat(mapped.Violations.SelectMany(v => new[] { v.Field, v.Rule }))
                    .Concat(mapped.ErrorMetadata.SelectMany(kv => new[] { kv.Key, kv.Value })));
            var logged = log.AllText();
            for (var i = 0; i + 4 <= pan.Length; i++)
            {
                var run = pan.Substring(i, 4);
                Assert.DoesNotContain(run, surfaced, StringComparison.Ordinal);
                Assert.DoesNotContain(run, logged, StringComparison.Ordinal);
            }

            Assert.Null(mapped.InnerException);
        });
    }

    [Fact]
    public void Map_HttpRequestException_LogsTypeNotMessage()
    {
        var e = StripeErrorMapper.Map(new HttpRequestException("failed sending 4242424242424242"), StripeOperation.CreatePaymentMethod, logger);

        Assert.Equal(ErrorKind.Unavailable, e.Kind);
        Assert.Contains("HttpRequestException", logger.AllText(), StringComparison.Ordinal);
        Assert.DoesNotContain("4242", logger.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public void IsGatewayFailure_CancellationOfTheCaller_IsNot()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        Assert.False(StripeErrorMapper.IsGatewayFailure(new OperationCanceledException(cts.Token), cts.Token));
        Assert.True(StripeErrorMapper.IsGatewayFailure(new TaskCanceledException(), CancellationToken.None));
        Assert.True(StripeErrorMapper.IsGatewayFailure(new IOException(), CancellationToken.None));
        Assert.True(StripeErrorMapper.IsGatewayFailure(new HttpRequestException(), CancellationToken.None));
        Assert.False(StripeErrorMapper.IsGatewayFailure(new InvalidOperationException(), CancellationToken.None));
    }

    [Theory]
    [InlineData(400, "payment_method_unexpected_state", true)]
    [InlineData(400, "resource_missing", false)]
    [InlineData(402, "payment_method_unexpected_state", false)]
    public void IsNotAttached_StatusAndCode_DecideIt(int status, string code, bool expected)
    {
        Assert.Equal(expected, StripeErrorMapper.IsNotAttached(Samples.StripeError(status, Invalid, code)));
    }

    [Theory]
    [InlineData("card[number]", "card[number]")]
    [InlineData("card_declined", "card_declined")]
    [InlineData("items[0][price]", "items[0][price]")]
    [InlineData(null, "-")]
    [InlineData("4242424242424242", "(invalid)")]
    [InlineData("card[4242]", "(invalid)")]
    [InlineData("line\nbreak", "(invalid)")]
    [InlineData("has space", "(invalid)")]
    public void SafeToken_Input_IsKeptOnlyWhenSafe(string? input, string expected)
    {
        Assert.Equal(expected, StripeErrorMapper.SafeToken(input));
    }

    [Theory]
    [InlineData("do_not_honor", "do_not_honor")]
    [InlineData("Do_Not_Honor", "unknown")]
    [InlineData("x4242424242424242", "unknown")]
    [InlineData("", "unknown")]
    [InlineData(null, "unknown")]
    public void SafeDeclineCode_Input_IsKeptOnlyWhenLowerSnakeCase(string? input, string expected)
    {
        Assert.Equal(expected, StripeErrorMapper.SafeDeclineCode(input));
    }
}
