using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;

namespace Tokenizer.Ledger.Tests;

/// <summary>Builders for claims and masked token records.</summary>
internal static class TestData
{
    public const string Caller = "caller_a";
    public const string Operation = "tokenize_card";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public static TimeSpan Lease { get; } = TimeSpan.FromMinutes(2);

    /// <summary>A 32-byte HMAC stand-in, different per seed.</summary>
    public static byte[] Hmac(byte seed) => SHA256.HashData([seed]);

    public static IdempotencyClaim Claim(
        string key,
        byte[] hmac,
        DateTimeOffset now,
        string operation = Operation,
        string caller = Caller,
        TimeSpan? lease = null) =>
        new(caller, key, operation, hmac, now, lease ?? Lease);

    /// <summary>The masked record as the service serialises it for replays.</summary>
    public static string Response(TokenRecord token) => JsonSerializer.Serialize(token, Json);

    public static TokenRecord Card(
        string token,
        DateTimeOffset createdAt,
        string customer = "cust_1",
        TokenStatus status = TokenStatus.Active) =>
        new()
        {
            Token = token,
            Gateway = "stripe",
            Type = TokenType.Card,
            Status = status,
            CallerId = Caller,
            CustomerReference = customer,
            GatewayCustomerId = "cus_" + customer,
            Card = new CardMetadata("visa", "4242", 12, 2034, "credit", "US", "fp_card_1"),
            CreatedAt = createdAt,
            RevokedAt = status == TokenStatus.Revoked ? createdAt.AddMinutes(1) : null,
        };

    public static TokenRecord Bank(string token, TokenType type, DateTimeOffset createdAt, string customer = "cust_1") =>
        new()
        {
            Token = token,
            Gateway = "stripe",
            Type = type,
            Status = TokenStatus.Active,
            CallerId = Caller,
            CustomerReference = customer,
            GatewayCustomerId = "cus_" + customer,
            BankAccount = new BankAccountMetadata("6789", "000000", "AU", "fp_bank_1"),
            CreatedAt = createdAt,
        };
}
