using System.Globalization;
using System.Text;
using Google.Protobuf;
using Tokenizer.Contracts.V1;

namespace Tokenizer.Cli;

/// <summary>Reads sensitive input (stdin JSON or a hidden prompt) and prints tokens, lists and errors.</summary>
internal sealed class CliConsole(TextReader input, TextWriter output, TextWriter error)
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public TextWriter Error => error;

    private bool Interactive => ReferenceEquals(input, Console.In) && !Console.IsInputRedirected;

    public TokenizeCardRequest ReadCardRequest()
    {
        if (!Interactive)
        {
            return Parse<TokenizeCardRequest>();
        }

        var request = new TokenizeCardRequest
        {
            Card = new Card
            {
                Number = PromptHidden("Card number"),
                ExpMonth = PromptInt("Expiry month (1-12)"),
                ExpYear = PromptInt("Expiry year (4 digits)"),
                Cvc = PromptHidden("CVC"),
            },
            BillingDetails = PromptBilling(),
        };
        return request;
    }

    public TokenizeBankAccountRequest ReadBankRequest()
    {
        if (!Interactive)
        {
            return Parse<TokenizeBankAccountRequest>();
        }

        var request = new TokenizeBankAccountRequest();
        var kind = Prompt("Account type (au_becs_debit, sepa_debit, bacs_debit, us_bank_account)").ToLowerInvariant();
        switch (kind)
        {
            case "au_becs_debit":
                request.AuBecsDebit = new AuBecsDebitAccount { BsbNumber = Prompt("BSB"), AccountNumber = PromptHidden("Account number") };
                break;
            case "sepa_debit":
                request.SepaDebit = new SepaDebitAccount { Iban = PromptHidden("IBAN") };
                break;
            case "bacs_debit":
                request.BacsDebit = new BacsDebitAccount { SortCode = Prompt("Sort code"), AccountNumber = PromptHidden("Account number") };
                break;
            case "us_bank_account":
                request.UsBankAccount = new UsBankAccount
                {
                    RoutingNumber = Prompt("Routing number"),
                    AccountNumber = PromptHidden("Account number"),
                    AccountHolderType = Prompt("Holder (individual/company)").ToUpperInvariant() switch
                    {
                        "INDIVIDUAL" => AccountHolderType.Individual,
                        "COMPANY" => AccountHolderType.Company,
                        _ => throw new CliInputException("holder: must be individual or company"),
                    },
                    AccountType = Prompt("Type (checking/savings)").ToUpperInvariant() switch
                    {
                        "CHECKING" => AccountType.Checking,
                        "SAVINGS" => AccountType.Savings,
                        _ => throw new CliInputException("type: must be checking or savings"),
                    },
                };
                break;
            default:
                throw new CliInputException("unknown account type");
        }

        request.BillingDetails = PromptBilling();
        request.MandateAcceptance = PromptMandate();
        return request;
    }

    // The person at the prompt confirms the account holder accepted the mandate; the time is now. Online acceptance needs
    // the customer's own IP address and browser, which only the billing service's web form knows: offline is the default.
    private MandateAcceptance PromptMandate()
    {
        var acceptance = new MandateAcceptance { AcceptedAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) };
        switch (Prompt("Mandate accepted (offline/online)").ToLowerInvariant())
        {
            case "" or "offline":
                acceptance.Offline = new OfflineMandateAcceptance();
                break;
            case "online":
                acceptance.Online = new OnlineMandateAcceptance { IpAddress = Prompt("Customer's IP address"), UserAgent = Prompt("Customer's user agent") };
                break;
            default:
                throw new CliInputException("mandate: must be offline or online");
        }

        return acceptance;
    }

    public void PrintToken(Token token, bool? replayed, bool json)
    {
        if (json)
        {
            var formatted = Formatter.Format(token);
            output.WriteLine(replayed is { } wasReplayed ? $"{{ \"token\": {formatted}, \"replayed\": {(wasReplayed ? "true" : "false")} }}" : formatted);
            return;
        }

        var rows = new List<(string, string)>
        {
            ("token", token.Token_),
            ("type", token.Type.ToString()),
            ("status", token.Status.ToString()),
            ("customer_reference", token.CustomerReference),
            ("gateway_customer", token.GatewayCustomer),
            ("setup_status", SetupStatusName(token.Setup?.Status ?? SetupStatus.Unspecified)),
        };
        if (token.Setup is { } setup)
        {
            AddIfSet(rows, "setup_intent", setup.SetupIntent);
            if (setup.NextAction is { } next)
            {
                rows.Add(("next_action", WireText.Of(Server.Grpc.ProtoEnums.NextActionKind, Core.Domain.TokenTexts.NextActionKind, next.Kind, "unspecified")));
                rows.Add(("next_action_url", next.Url));
                if (next.ExpiresAt is { } expires)
                {
                    rows.Add(("next_action_expires_at", expires.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)));
                }
            }

            AddIfSet(rows, "failure_code", setup.FailureCode);
        }

        if (token.Mandate is { } mandate)
        {
            rows.Add(("mandate", mandate.Id));
            rows.Add(("mandate_status", WireText.Of(Server.Grpc.ProtoEnums.MandateStatus, Core.Domain.TokenTexts.MandateStatus, mandate.Status, "unspecified")));
            rows.Add(("mandate_type", WireText.Of(Server.Grpc.ProtoEnums.MandateType, Core.Domain.TokenTexts.MandateType, mandate.Type, "online")));
            if (mandate.AcceptedAt is { } accepted)
            {
                rows.Add(("mandate_accepted_at", accepted.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)));
            }
        }
        if (token.Card is { } card)
        {
            rows.Add(("brand", card.Brand));
            rows.Add(("last4", card.Last4));
            rows.Add(("expiry", $"{card.ExpMonth:00}/{card.ExpYear}"));
            rows.Add(("funding", card.Funding));
            rows.Add(("country", card.Country));
            rows.Add(("fingerprint", card.Fingerprint));
        }

        if (token.BankAccount is { } bank)
        {
            rows.Add(("bank_identifier", bank.BankIdentifier));
            rows.Add(("last4", bank.Last4));
            rows.Add(("country", bank.Country));
            rows.Add(("fingerprint", bank.Fingerprint));
        }

        rows.Add(("created_at", token.CreatedAt?.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) ?? string.Empty));
        if (token.RevokedAt is { } revoked)
        {
            rows.Add(("revoked_at", revoked.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)));
        }

        if (replayed is { } r)
        {
            rows.Add(("replayed", r ? "yes" : "no"));
        }

        CliTerminal.WriteFields(output, rows);
    }

    /// <summary>The setup status as the README spells it (ready, requires_action, processing, failed, not_set_up).</summary>
    internal static string SetupStatusName(SetupStatus status) =>
        WireText.Of(Server.Grpc.ProtoEnums.SetupStatus, Core.Domain.TokenTexts.SetupStatus, status, "unspecified");

    private static void AddIfSet(List<(string, string)> rows, string name, string value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            rows.Add((name, value));
        }
    }

    public void PrintList(ListTokensResponse response, bool json)
    {
        if (json)
        {
            output.WriteLine(Formatter.Format(response));
            return;
        }

        CliTerminal.WriteTable(
            output,
            ["TOKEN", "TYPE", "STATUS", "BRAND/BANK", "LAST4", "CUSTOMER", "CREATED"],
            response.Tokens.Select(token => new[]
            {
                token.Token_,
                token.Type.ToString(),
                token.Status.ToString(),
                token.Card?.Brand ?? token.BankAccount?.BankIdentifier ?? string.Empty,
                token.Card?.Last4 ?? token.BankAccount?.Last4 ?? string.Empty,
                token.CustomerReference,
                token.CreatedAt?.ToDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) ?? string.Empty,
            }));

        if (response.NextPageToken.Length > 0)
        {
            output.WriteLine($"next page: --page-token {response.NextPageToken}");
        }
    }

    /// <summary>Billing details as JSON on stdin (privacy correct): personal data never travels in arguments.</summary>
    public BillingDetails ReadBillingDetails() => Parse<BillingDetails>();

    private T Parse<T>()
        where T : IMessage, new()
    {
        var text = input.ReadToEnd();
        if (JsonFieldProblem.FindLenient(text, new T().Descriptor) is { } lenient)
        {
            throw new CliInputException($"stdin: {lenient}");
        }

        try
        {
            return Parser.Parse<T>(text);
        }
        catch (InvalidProtocolBufferException)
        {
            // The parser's message can quote the input and rarely names the field: the field and rule are found again
            // by a walk over the message's descriptor, which prints field names from the contract only.
            throw new CliInputException(JsonFieldProblem.Find(text, new T().Descriptor) is { } problem
                ? $"stdin: {problem}"
                : $"stdin: expected a JSON {typeof(T).Name} (see --help)");
        }
        catch (InvalidJsonException)
        {
            throw new CliInputException("stdin: not valid JSON");
        }
        catch (Exception problem) when (problem is FormatException or OverflowException or ArgumentException or InvalidOperationException)
        {
            // Values of the wrong type or range (a month of 99999999999): the message could quote them.
            throw new CliInputException(JsonFieldProblem.Find(text, new T().Descriptor) is { } found
                ? $"stdin: {found}"
                : $"stdin: a value in the JSON {typeof(T).Name} has the wrong type or range (see --help)");
        }
    }

    private BillingDetails PromptBilling() => new()
    {
        Name = Prompt("Name (optional for cards)"),
        Email = Prompt("Email (optional for cards)"),
        Address = new Address
        {
            Line1 = Prompt("Address line 1 (optional)"),
            City = Prompt("City (optional)"),
            PostalCode = Prompt("Postal code (optional)"),
            Country = Prompt("Country, 2 letters (optional)"),
        },
    };

    private string Prompt(string label)
    {
        error.Write($"{label}: ");
        return input.ReadLine()?.Trim() ?? string.Empty;
    }

    private int PromptInt(string label)
    {
        var text = Prompt(label);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new CliInputException($"{label}: must be a number");
    }

    private string PromptHidden(string label)
    {
        error.Write($"{label}: ");
        var builder = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (builder.Length > 0)
                {
                    builder.Length--;
                }

                continue;
            }

            if (!char.IsControl(key.KeyChar))
            {
                builder.Append(key.KeyChar);
            }
        }

        error.WriteLine();
        return builder.ToString();
    }
}
