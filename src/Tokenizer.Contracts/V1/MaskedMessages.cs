using Google.Protobuf;

// Generated messages print every field from ToString(). These partials make every message that carries card or
// bank data print a masked form instead (Google.Protobuf calls ICustomDiagnosticMessage for diagnostics).
namespace Tokenizer.Contracts.V1;

public sealed partial class Card : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"number\": \"{Masking.Last4(Number)}\", \"expMonth\": {ExpMonth}, \"expYear\": {ExpYear}, \"cvc\": \"***\" }}";
}

public sealed partial class AuBecsDebitAccount : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"bsbNumber\": \"***\", \"accountNumber\": \"{Masking.Last4(AccountNumber)}\" }}";
}

public sealed partial class SepaDebitAccount : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() => $"{{ \"iban\": \"{Masking.Last4(Iban)}\" }}";
}

public sealed partial class BacsDebitAccount : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"sortCode\": \"***\", \"accountNumber\": \"{Masking.Last4(AccountNumber)}\" }}";
}

public sealed partial class UsBankAccount : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"routingNumber\": \"***\", \"accountNumber\": \"{Masking.Last4(AccountNumber)}\", \"accountHolderType\": \"{AccountHolderType}\", \"accountType\": \"{AccountType}\" }}";
}

public sealed partial class BillingDetails : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() => "{ \"billingDetails\": \"***\" }";
}

public sealed partial class TokenizeCardRequest : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"idempotencyKey\": \"{IdempotencyKey}\", \"customerReference\": \"{CustomerReference}\", \"card\": {Card?.ToDiagnosticString() ?? "null"}, \"billingDetails\": \"***\", \"returnUrl\": \"{(ReturnUrl.Length == 0 ? string.Empty : "***")}\" }}";
}

public sealed partial class TokenizeBankAccountRequest : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString()
    {
        var account = AccountCase switch
        {
            AccountOneofCase.AuBecsDebit => AuBecsDebit.ToDiagnosticString(),
            AccountOneofCase.SepaDebit => SepaDebit.ToDiagnosticString(),
            AccountOneofCase.BacsDebit => BacsDebit.ToDiagnosticString(),
            AccountOneofCase.UsBankAccount => UsBankAccount.ToDiagnosticString(),
            _ => "null",
        };
        return $"{{ \"idempotencyKey\": \"{IdempotencyKey}\", \"customerReference\": \"{CustomerReference}\", \"{AccountCase}\": {account}, \"billingDetails\": \"***\", \"mandateAcceptance\": {MandateAcceptance?.ToDiagnosticString() ?? "null"} }}";
    }
}

// The mandate acceptance's IP address and user agent are personal data; a next action's URL is the customer's
// own link to their bank's or the gateway's page: neither is printed.
public sealed partial class OnlineMandateAcceptance : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() => "{ \"online\": \"***\" }";
}

public sealed partial class MandateAcceptance : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"acceptedAt\": \"{AcceptedAt}\", \"type\": \"{TypeCase}\", \"online\": \"{(TypeCase == TypeOneofCase.Online ? "***" : string.Empty)}\" }}";
}

public sealed partial class NextAction : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"kind\": \"{Kind}\", \"url\": \"{(Url.Length == 0 ? string.Empty : "***")}\", \"expiresAt\": \"{ExpiresAt}\" }}";
}

internal static class Masking
{
    /// <summary>"***" plus the last four characters when the value is long enough to hide the rest, else "***".</summary>
    public static string Last4(string? value) =>
        value is { Length: >= 8 } ? "***" + value[^4..] : "***";
}

// Privacy: messages that carry billing details print them masked.
public sealed partial class SubjectToken : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"token\": \"{Token?.Token_}\", \"billingDetails\": \"***\" }}";
}

public sealed partial class ExportSubjectDataResponse : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"subjectPseudonym\": \"{SubjectPseudonym}\", \"tokens\": {Tokens.Count}, \"auditEvents\": {AuditEvents.Count}, \"personalData\": \"***\" }}";
}

public sealed partial class CorrectSubjectDataRequest : ICustomDiagnosticMessage
{
    /// <inheritdoc />
    public string ToDiagnosticString() =>
        $"{{ \"idempotencyKey\": \"{IdempotencyKey}\", \"customerReference\": \"{CustomerReference}\", \"billingDetails\": \"***\" }}";
}
