namespace Tokenizer.Ledger.Postgres;

/// <summary>Settings of <see cref="PostgresTokenLedger"/> (and the audit trail and key repository built on it).</summary>
public sealed class PostgresLedgerOptions
{
    /// <summary>
    /// An Npgsql connection string, from <c>ConnectionStrings:Ledger</c> in the service, e.g.
    /// <c>Host=db.internal;Database=tokenizer;Username=tokenizer;SSL Mode=VerifyFull;Root Certificate=/etc/tokenizer/db-ca.pem</c>.
    /// Required. SSL settings are used exactly as given: <c>VerifyFull</c> encrypts and verifies the server's certificate
    /// chain (against <c>Root Certificate</c>, or the system's roots) and host name; <c>VerifyCA</c> skips the host name;
    /// <c>Require</c> encrypts without verifying who answers; <c>Prefer</c> (Npgsql's default) and <c>Disable</c> may
    /// send everything in clear. Use <c>VerifyFull</c> wherever the database is not on the same host.
    /// <c>Include Error Detail</c> is always turned off (server error details can quote row values).
    /// </summary>
    public string ConnectionString { get; set; } = "";
}
