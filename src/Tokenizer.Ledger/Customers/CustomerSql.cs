namespace Tokenizer.Ledger.Customers;

/// <summary>
/// The statements on <c>customers</c> and <c>customer_successions</c>: the only SQL that writes those tables. SQL that SQLite and PostgreSQL both run unchanged;
/// every value is a parameter (<c>@name</c>), no statement is built from input. Times are unix microseconds UTC.
/// </summary>
internal static class CustomerSql
{
    /// <summary>The recorded gateway Customer of a reference.</summary>
    public const string SelectCustomer =
        "SELECT gateway_customer_id FROM customers WHERE gateway = @gateway AND customer_reference = @customer_reference";

    /// <summary>Records a Customer unless one is recorded (the first writer wins).</summary>
    public const string InsertCustomer = """
        INSERT INTO customers (gateway, customer_reference, gateway_customer_id, created_at)
        VALUES (@gateway, @customer_reference, @gateway_customer_id, @now)
        ON CONFLICT (gateway, customer_reference) DO NOTHING
        """;

    /// <summary>Forgets a reference's mapping only while it still names the given (deleted) Customer.</summary>
    public const string DeleteCustomerIfMapped = """
        DELETE FROM customers
        WHERE gateway = @gateway AND customer_reference = @customer_reference AND gateway_customer_id = @deleted_customer_id
        """;

    /// <summary>The last deleted Customer recorded for a subject.</summary>
    public const string SelectLastDeletedCustomer =
        "SELECT deleted_customer_id FROM customer_successions WHERE gateway = @gateway AND subject = @subject";

    /// <summary>Records a subject's first deleted Customer unless one is recorded (the first writer wins).</summary>
    public const string InsertDeletedCustomer = """
        INSERT INTO customer_successions (gateway, subject, deleted_customer_id, updated_at)
        VALUES (@gateway, @subject, @deleted_customer_id, @now)
        ON CONFLICT (gateway, subject) DO NOTHING
        """;

    /// <summary>Moves a subject's last deleted Customer on, only from the one the caller read (compare-and-set).</summary>
    public const string AdvanceDeletedCustomer = """
        UPDATE customer_successions SET deleted_customer_id = @deleted_customer_id, updated_at = @now
        WHERE gateway = @gateway AND subject = @subject AND deleted_customer_id = @expected
        """;

    public const string DeleteCustomer = "DELETE FROM customers WHERE gateway = @gateway AND customer_reference = @customer_reference";

    // A webhook's updates: what the gateway reports about a token or Customer (RelationalWebhookStore runs them).
    // The Customer is gone at the gateway: the next tokenisation for this reference makes a new one.
    public const string DeleteCustomerMapping = "DELETE FROM customers WHERE gateway = @gateway AND gateway_customer_id = @id";
}
