using System.Data.Common;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Validation;

namespace Tokenizer.Ledger.Schema;

/// <summary>
/// <see cref="TokenRecord"/> to and from a <c>tokens</c> row. Enums are stored as stable lower_snake strings (the
/// gateway's names), never as numbers, so reordering a C# enum cannot change what a stored row means.
/// </summary>
internal static class TokenRows
{
    /// <summary>Binds every column of <see cref="LedgerSql.UpsertToken"/>.</summary>
    /// <exception cref="ArgumentException">The metadata does not fit the token type.</exception>
    public static void BindToken(DbCommand command, TokenRecord token)
    {
        Validate(token);
        var card = token.Card;
        var bank = token.BankAccount;
        command
            .Bind("@token", token.Token)
            .Bind("@gateway", token.Gateway)
            .Bind("@type", TypeName(token.Type))
            .Bind("@status", StatusName(token.Status))
            .Bind("@caller_id", token.CallerId)
            .Bind("@customer_reference", token.CustomerReference)
            .Bind("@gateway_customer_id", token.GatewayCustomerId)
            .Bind("@brand", card?.Brand)
            .Bind("@last4", card?.Last4 ?? bank?.Last4)
            .Bind("@exp_month", card?.ExpMonth)
            .Bind("@exp_year", card?.ExpYear)
            .Bind("@funding", card?.Funding)
            .Bind("@country", card?.Country ?? bank?.Country)
            .Bind("@fingerprint", card?.Fingerprint ?? bank?.Fingerprint)
            .Bind("@bank_identifier", bank?.BankIdentifier)
            .Bind("@created_at", UnixMicros.From(token.CreatedAt))
            .Bind("@revoked_at", token.RevokedAt is { } revokedAt ? UnixMicros.From(revokedAt) : null);
        BindSetup(command, token);
    }

    /// <summary>Binds the setup and mandate columns (and <c>@token</c>) of <see cref="LedgerSql.UpdateTokenSetup"/>.</summary>
    public static void BindSetupOnly(DbCommand command, TokenRecord token)
    {
        command.Bind("@token", token.Token);
        BindSetup(command, token);
    }

    private static void BindSetup(DbCommand command, TokenRecord token)
    {
        var setup = token.Setup;
        var next = setup.NextAction;
        var mandate = token.Mandate;
        command
            .Bind("@setup_status", SetupStatusName(setup.Status))
            .Bind("@setup_intent", setup.SetupIntentId)
            .Bind("@next_action_kind", next is null ? null : NextActionKindName(next.Kind))
            .Bind("@next_action_url", next?.Url)
            .Bind("@next_action_expires_at", next?.ExpiresAt is { } expires ? UnixMicros.From(expires) : null)
            .Bind("@setup_failure_code", setup.FailureCode)
            .Bind("@mandate_id", mandate?.Id)
            .Bind("@mandate_status", mandate is null ? null : MandateStatusName(mandate.Status))
            .Bind("@mandate_type", mandate is null ? null : MandateTypeName(mandate.Type))
            .Bind("@mandate_accepted_at", mandate?.AcceptedAt is { } accepted ? UnixMicros.From(accepted) : null);
    }

    /// <summary>Reads a row selected with <see cref="LedgerSql.TokenColumns"/>.</summary>
    /// <exception cref="InvalidOperationException">The row holds a type or status this build does not know.</exception>
    public static TokenRecord Read(DbDataReader reader)
    {
        var type = ParseType(reader.GetString(2));
        var last4 = reader.GetNullableString(8);
        var country = reader.GetNullableString(12);
        var fingerprint = reader.GetNullableString(13);
        return new TokenRecord
        {
            Token = reader.GetString(0),
            Gateway = reader.GetString(1),
            Type = type,
            Status = ParseStatus(reader.GetString(3)),
            CallerId = reader.GetString(4),
            CustomerReference = reader.GetString(5),
            GatewayCustomerId = reader.GetNullableString(6),
            Card = type == TokenType.Card && last4 is not null
                ? new CardMetadata(
                    reader.GetString(7),
                    last4,
                    reader.GetInt32(9),
                    reader.GetInt32(10),
                    reader.GetNullableString(11),
                    country,
                    fingerprint)
                : null,
            BankAccount = type != TokenType.Card && last4 is not null
                ? new BankAccountMetadata(last4, reader.GetNullableString(14), country, fingerprint)
                : null,
            CreatedAt = UnixMicros.ToDateTimeOffset(reader.GetInt64(15)),
            RevokedAt = reader.GetNullableInt64(16) is { } revokedAt ? UnixMicros.ToDateTimeOffset(revokedAt) : null,
            Setup = new TokenSetup(
                ParseSetupStatus(reader.GetString(17)),
                reader.GetNullableString(18),
                reader.GetNullableString(19) is { } kind && reader.GetNullableString(20) is { } url
                    ? new NextAction(
                        ParseNextActionKind(kind),
                        url,
                        reader.GetNullableInt64(21) is { } expires ? UnixMicros.ToDateTimeOffset(expires) : null)
                    : null,
                reader.GetNullableString(22)),
            Mandate = reader.GetNullableString(23) is { } mandateId
                ? new Mandate(
                    mandateId,
                    ParseMandateStatus(reader.GetString(24)),
                    ParseMandateType(reader.GetString(25)),
                    reader.GetNullableInt64(26) is { } accepted ? UnixMicros.ToDateTimeOffset(accepted) : null)
                : null,
        };
    }

    /// <summary>The stored name of a setup status (Stripe's spelling; <c>not_set_up</c> for tokens made before SetupIntents).</summary>
    public static string SetupStatusName(SetupStatus status) => status switch
    {
        SetupStatus.Ready => "ready",
        SetupStatus.RequiresAction => "requires_action",
        SetupStatus.Processing => "processing",
        SetupStatus.Failed => "failed",
        SetupStatus.NotSetUp => "not_set_up",
        _ => throw new ArgumentOutOfRangeException(nameof(status), "unknown setup status"),
    };

    private static SetupStatus ParseSetupStatus(string name) => name switch
    {
        "ready" => SetupStatus.Ready,
        "requires_action" => SetupStatus.RequiresAction,
        "processing" => SetupStatus.Processing,
        "failed" => SetupStatus.Failed,
        "not_set_up" => SetupStatus.NotSetUp,
        _ => throw new InvalidOperationException("the ledger holds a setup status this build does not know"),
    };

    private static string NextActionKindName(NextActionKind kind) => kind switch
    {
        NextActionKind.RedirectToUrl => "redirect_to_url",
        NextActionKind.VerifyWithMicrodeposits => "verify_with_microdeposits",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), "unknown next action kind"),
    };

    private static NextActionKind ParseNextActionKind(string name) => name switch
    {
        "redirect_to_url" => NextActionKind.RedirectToUrl,
        "verify_with_microdeposits" => NextActionKind.VerifyWithMicrodeposits,
        _ => throw new InvalidOperationException("the ledger holds a next action kind this build does not know"),
    };

    private static string MandateStatusName(MandateStatus status) => status switch
    {
        MandateStatus.Active => "active",
        MandateStatus.Pending => "pending",
        MandateStatus.Inactive => "inactive",
        _ => throw new ArgumentOutOfRangeException(nameof(status), "unknown mandate status"),
    };

    private static MandateStatus ParseMandateStatus(string name) => name switch
    {
        "active" => MandateStatus.Active,
        "pending" => MandateStatus.Pending,
        "inactive" => MandateStatus.Inactive,
        _ => throw new InvalidOperationException("the ledger holds a mandate status this build does not know"),
    };

    private static string MandateTypeName(MandateType type) => type switch
    {
        MandateType.Online => "online",
        MandateType.Offline => "offline",
        _ => throw new ArgumentOutOfRangeException(nameof(type), "unknown mandate type"),
    };

    private static MandateType ParseMandateType(string name) => name switch
    {
        "online" => MandateType.Online,
        "offline" => MandateType.Offline,
        _ => throw new InvalidOperationException("the ledger holds a mandate type this build does not know"),
    };

    /// <summary>The stored name of a status (<c>active</c>, <c>revoked</c>).</summary>
    public static string StatusName(TokenStatus status) => status switch
    {
        TokenStatus.Active => "active",
        TokenStatus.Revoked => "revoked",
        _ => throw new ArgumentOutOfRangeException(nameof(status), "unknown token status"),
    };

    /// <summary>Checks what the schema cannot express; throws without echoing values.</summary>
    /// <exception cref="ArgumentException">The id is not a token id, or the metadata does not fit the type.</exception>
    public static void Validate(TokenRecord token)
    {
        if (!InputRules.IsTokenIdShaped(token.Token))
        {
            throw new ArgumentException("the token id is not 1-255 letters, digits or underscores", nameof(token));
        }

        if (token.Card is not null && token.BankAccount is not null)
        {
            throw new ArgumentException("a token carries card or bank-account metadata, not both", nameof(token));
        }

        if (token.Card is not null && token.Type != TokenType.Card)
        {
            throw new ArgumentException("card metadata on a bank-account token", nameof(token));
        }

        if (token.BankAccount is not null && token.Type == TokenType.Card)
        {
            throw new ArgumentException("bank-account metadata on a card token", nameof(token));
        }

        if ((token.Card?.Last4 ?? token.BankAccount?.Last4) is { Length: > 4 })
        {
            // The schema refuses it too; failing here names the cause without echoing the value.
            throw new ArgumentException("last4 is longer than four characters", nameof(token));
        }
    }

    public static string TypeName(TokenType type) => type switch
    {
        TokenType.Card => "card",
        TokenType.AuBecsDebit => "au_becs_debit",
        TokenType.SepaDebit => "sepa_debit",
        TokenType.BacsDebit => "bacs_debit",
        TokenType.UsBankAccount => "us_bank_account",
        _ => throw new ArgumentOutOfRangeException(nameof(type), "unknown token type"),
    };

    public static TokenType ParseType(string name) => name switch
    {
        "card" => TokenType.Card,
        "au_becs_debit" => TokenType.AuBecsDebit,
        "sepa_debit" => TokenType.SepaDebit,
        "bacs_debit" => TokenType.BacsDebit,
        "us_bank_account" => TokenType.UsBankAccount,
        _ => throw new InvalidOperationException("the ledger holds a token type this build does not know"),
    };

    private static TokenStatus ParseStatus(string name) => name switch
    {
        "active" => TokenStatus.Active,
        "revoked" => TokenStatus.Revoked,
        _ => throw new InvalidOperationException("the ledger holds a token status this build does not know"),
    };
}
