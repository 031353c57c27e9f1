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
        };
    }

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
