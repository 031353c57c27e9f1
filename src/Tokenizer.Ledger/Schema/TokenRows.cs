using System.Data.Common;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Validation;

using Tokenizer.Ledger.Tokens;

namespace Tokenizer.Ledger.Schema;

/// <summary>
/// <see cref="TokenRecord"/> to and from a <c>tokens</c> row. Enums are stored as the texts of <see cref="TokenTexts"/>
/// (the gateway's lower_snake names), never as numbers.
/// </summary>
internal static class TokenRows
{
    /// <summary>Binds every column of <see cref="TokenSql.UpsertToken"/>.</summary>
    /// <exception cref="ArgumentException">The metadata does not fit the token type.</exception>
    public static void BindToken(DbCommand command, TokenRecord token)
    {
        Validate(token);
        var card = token.Card;
        var bank = token.BankAccount;
        command
            .Bind("@token", token.Token)
            .Bind("@gateway", token.Gateway)
            .Bind("@type", TokenTexts.Type.Text(token.Type))
            .Bind("@status", TokenTexts.Status.Text(token.Status))
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

    /// <summary>Binds the setup and mandate columns (and <c>@token</c>) of <see cref="TokenSql.UpdateTokenSetup"/>.</summary>
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
            .Bind("@setup_status", TokenTexts.SetupStatus.Text(setup.Status))
            .Bind("@setup_intent", setup.SetupIntentId)
            .Bind("@next_action_kind", next is null ? null : TokenTexts.NextActionKind.Text(next.Kind))
            .Bind("@next_action_url", next?.Url)
            .Bind("@next_action_expires_at", next?.ExpiresAt is { } expires ? UnixMicros.From(expires) : null)
            .Bind("@setup_failure_code", setup.FailureCode)
            .Bind("@mandate_id", mandate?.Id)
            .Bind("@mandate_status", mandate is null ? null : TokenTexts.MandateStatus.Text(mandate.Status))
            .Bind("@mandate_type", mandate is null ? null : TokenTexts.MandateType.Text(mandate.Type))
            .Bind("@mandate_accepted_at", mandate?.AcceptedAt is { } accepted ? UnixMicros.From(accepted) : null);
    }

    /// <summary>Reads a row selected with <see cref="TokenSql.TokenColumns"/>.</summary>
    /// <exception cref="InvalidOperationException">The row holds an enum text this build does not know (the message names the column).</exception>
    public static TokenRecord Read(DbDataReader reader)
    {
        var type = TokenTexts.Type.Parse(reader.GetString(2), "tokens.type");
        var last4 = reader.GetNullableString(8);
        var country = reader.GetNullableString(12);
        var fingerprint = reader.GetNullableString(13);
        return new TokenRecord
        {
            Token = reader.GetString(0),
            Gateway = reader.GetString(1),
            Type = type,
            Status = TokenTexts.Status.Parse(reader.GetString(3), "tokens.status"),
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
                TokenTexts.SetupStatus.Parse(reader.GetString(17), "tokens.setup_status"),
                reader.GetNullableString(18),
                reader.GetNullableString(19) is { } kind && reader.GetNullableString(20) is { } url
                    ? new NextAction(
                        TokenTexts.NextActionKind.Parse(kind, "tokens.next_action_kind"),
                        url,
                        reader.GetNullableInt64(21) is { } expires ? UnixMicros.ToDateTimeOffset(expires) : null)
                    : null,
                reader.GetNullableString(22)),
            Mandate = reader.GetNullableString(23) is { } mandateId
                ? new Mandate(
                    mandateId,
                    TokenTexts.MandateStatus.Parse(reader.GetString(24), "tokens.mandate_status"),
                    TokenTexts.MandateType.Parse(reader.GetString(25), "tokens.mandate_type"),
                    reader.GetNullableInt64(26) is { } accepted ? UnixMicros.ToDateTimeOffset(accepted) : null)
                : null,
        };
    }

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
}
