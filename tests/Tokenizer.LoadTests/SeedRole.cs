using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Tokenizer.LoadTests;

/// <summary>
/// Fills a stopped server's SQLite ledger (<c>--ledger</c>, created by a first start so the schema exists) with
/// <c>--count</c> masked tokens and their completed idempotency records and intents, as a year of traffic would leave
/// them: the growth scenario's starting point. Masked metadata only (Stripe test last4s); no card data.
/// </summary>
internal static class SeedRole
{
    public static async Task<int> RunAsync(IConfiguration settings)
    {
        var path = settings["ledger"] ?? throw new ArgumentException("--ledger is required");
        var count = settings.GetValue("count", 1_000_000);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite }.ToString());
        await connection.OpenAsync();
        var start = DateTimeOffset.UtcNow.AddDays(-365);
        const int Batch = 50_000;
        for (var done = 0; done < count; done += Batch)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
            using var token = connection.CreateCommand();
            token.Transaction = transaction;
            token.CommandText = """
                INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, gateway_customer_id, brand, last4,
                                    exp_month, exp_year, funding, country, fingerprint, bank_identifier, created_at, revoked_at)
                VALUES ($token, 'stripe', 'card', 'active', 'billing', $customer, $cus, 'visa', '4242', 12, 2031, 'credit', 'US', $fp, NULL, $at, NULL)
                """;
            using var claim = connection.CreateCommand();
            claim.Transaction = transaction;
            claim.CommandText = """
                INSERT INTO idempotency_records (caller_id, idempotency_key, operation, request_hmac, state, response, created_at, updated_at)
                VALUES ('billing', $key, 'tokenize_card', $hmac, 'completed', $response, $at, $at)
                """;
            using var intent = connection.CreateCommand();
            intent.Transaction = transaction;
            intent.CommandText = """
                INSERT INTO intents (caller_id, idempotency_key, intent_id, operation, customer_reference, request_hmac, state, token, created_at, updated_at)
                VALUES ('billing', $key, $intent, 'tokenize_card', $customer, $hmac, 'completed', $token, $at, $at)
                """;
            foreach (var command in new[] { token, claim, intent })
            {
                foreach (var name in new[] { "$token", "$customer", "$cus", "$fp", "$at", "$key", "$hmac", "$response", "$intent" })
                {
                    if (command.CommandText.Contains(name, StringComparison.Ordinal))
                    {
                        command.Parameters.Add(new SqliteParameter(name, null));
                    }
                }

                command.Prepare();
            }

            for (var i = done; i < Math.Min(count, done + Batch); i++)
            {
                var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
                var customer = "seed-" + (i % 50_000).ToString(CultureInfo.InvariantCulture);
                var at = (start.AddSeconds(i * 31.536).ToUnixTimeMilliseconds()) * 1000;
                var key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
                var hmac = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
                Set(token, ("$token", "pm_seed" + id), ("$customer", customer), ("$cus", "cus_seed" + (i % 50_000)), ("$fp", "fp" + id[..8]), ("$at", at));
                Set(claim, ("$key", key), ("$hmac", hmac), ("$response", "{\"token\":\"pm_seed" + id + "\"}"), ("$at", at));
                Set(intent, ("$key", key), ("$intent", "tkz_" + id + "_intent"), ("$customer", customer), ("$hmac", hmac), ("$token", "pm_seed" + id), ("$at", at));
                await token.ExecuteNonQueryAsync();
                await claim.ExecuteNonQueryAsync();
                await intent.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            Console.WriteLine($"seeded {Math.Min(count, done + Batch)} of {count}");
        }

        return 0;
    }

    private static void Set(SqliteCommand command, params (string Name, object Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            command.Parameters[name].Value = value;
        }
    }
}
