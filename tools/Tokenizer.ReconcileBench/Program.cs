using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Stripe;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Reconciliation;
using Tokenizer.Gateways.Stripe;
using Tokenizer.Ledger;
using Tokenizer.Ledger.Reconciliation;

// The reconciliation benchmark (scripts/bench-reconcile.sh runs it): a standalone sandbox process holds the gateway's
// PaymentMethods, a SQLite ledger file the tokens.
//   seed      --sandbox URL --ledger FILE --tokens N --per-customer M   creates N PaymentMethods at the sandbox (M per
//             Customer) and records them in the ledger, as the service would have.
//   reconcile --sandbox URL --ledger FILE [--rps R]                     reconciles them all in this process and prints
//             the time, the gateway requests and the peak memory of this process.
var command = args.Length > 0 ? args[0] : string.Empty;
string Arg(string name, string? fallback = null)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback ?? throw new ArgumentException($"{name} is required");
}

const string ApiKey = "sk_test_reconcile_bench";
var sandbox = Arg("--sandbox");
var ledgerPath = Arg("--ledger");
var requests = new CountingHandler(new SocketsHttpHandler { MaxConnectionsPerServer = 32 });
var stripe = StripeClientFactory.Create(
    new StripeGatewayOptions { ApiKey = ApiKey, ApiBase = sandbox, MaxNetworkRetries = 2 },
    new HttpClient(requests));
using var ledger = new SqliteTokenLedger(new SqliteLedgerOptions { DatabasePath = ledgerPath }, TimeProvider.System, NullLogger<SqliteTokenLedger>.Instance);
await ledger.InitializeAsync(CancellationToken.None);

switch (command)
{
    case "seed":
        await SeedAsync(stripe, ledgerPath, int.Parse(Arg("--tokens"), CultureInfo.InvariantCulture), int.Parse(Arg("--per-customer"), CultureInfo.InvariantCulture));
        return 0;
    case "reconcile":
        await ReconcileAsync(stripe, ledger, requests, double.Parse(Arg("--rps", "1000"), CultureInfo.InvariantCulture));
        return 0;
    default:
        await Console.Error.WriteLineAsync("usage: seed|reconcile --sandbox URL --ledger FILE [--tokens N --per-customer M] [--rps R]");
        return 2;
}

static async Task SeedAsync(IStripeClient stripe, string ledgerPath, int tokens, int perCustomer)
{
    var clock = Stopwatch.StartNew();
    var customers = (tokens + perCustomer - 1) / perCustomer;
    var write = new SemaphoreSlim(1);
    await using var connection = new SqliteConnection($"Data Source={ledgerPath}");
    await connection.OpenAsync();
    await Parallel.ForEachAsync(Enumerable.Range(0, customers), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (c, ct) =>
    {
        var reference = string.Create(CultureInfo.InvariantCulture, $"bench-{c:D6}");
        var customer = await new CustomerService(stripe).CreateAsync(
            new CustomerCreateOptions { Metadata = new() { [StripeTokenGateway.CustomerReferenceMetadataKey] = reference } },
            cancellationToken: ct);
        var rows = new List<PaymentMethod>();
        for (var i = 0; i < Math.Min(perCustomer, tokens - (c * perCustomer)); i++)
        {
            var created = await new PaymentMethodService(stripe).CreateAsync(
                new PaymentMethodCreateOptions
                {
                    Type = "card",
                    Card = new PaymentMethodCardOptions { Number = "4242424242424242", ExpMonth = 12, ExpYear = 2030, Cvc = "123" },
                },
                cancellationToken: ct);
            rows.Add(await new PaymentMethodService(stripe).AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id }, cancellationToken: ct));
        }

        await write.WaitAsync(ct);
        try
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            Execute(connection, transaction, "INSERT INTO customers (gateway, customer_reference, gateway_customer_id, created_at) VALUES ('stripe', $r, $c, $t)", ("$r", reference), ("$c", customer.Id), ("$t", Micros(DateTimeOffset.UtcNow)));
            foreach (var pm in rows)
            {
                Execute(
                    connection,
                    transaction,
                    """
                    INSERT INTO tokens (token, gateway, type, status, caller_id, customer_reference, gateway_customer_id, brand, last4,
                                        exp_month, exp_year, funding, country, fingerprint, created_at)
                    VALUES ($id, 'stripe', 'card', 'active', 'bench', $r, $c, $brand, $last4, $m, $y, $funding, $country, $fp, $t)
                    """,
                    ("$id", pm.Id), ("$r", reference), ("$c", customer.Id), ("$brand", pm.Card.Brand), ("$last4", pm.Card.Last4),
                    ("$m", pm.Card.ExpMonth), ("$y", pm.Card.ExpYear), ("$funding", pm.Card.Funding), ("$country", pm.Card.Country),
                    ("$fp", pm.Card.Fingerprint), ("$t", Micros(new DateTimeOffset(pm.Created, TimeSpan.Zero))));
            }

            await transaction.CommitAsync(ct);
        }
        finally
        {
            write.Release();
        }
    });
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {tokens} tokens under {customers} customers in {clock.Elapsed.TotalSeconds:0.0} s"));
}

static async Task ReconcileAsync(IStripeClient stripe, SqliteTokenLedger ledger, CountingHandler requests, double rps)
{
    var store = new RelationalReconciliationStore(ledger);
    var gateway = new StripeTokenGateway(stripe, new FixedStripeApiKey(ApiKey), NullLogger<StripeTokenGateway>.Instance);
    var permits = Math.Max(1, (int)Math.Ceiling(rps * 0.05));
    using var pacer = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
    {
        TokenLimit = permits,
        TokensPerPeriod = permits,
        ReplenishmentPeriod = TimeSpan.FromSeconds(permits / rps),
        QueueLimit = 1000,
        AutoReplenishment = true,
    });
    var timedGateway = new TimedGateway(gateway);
    var timedStore = new TimedStore(store);
    var reconciler = new Reconciler(timedStore, ledger.Intents, timedGateway, pacer, TimeProvider.System, new ReconcilerSettings());
    var now = DateTimeOffset.UtcNow;
    var (run, _) = await store.CreateRunAsync(
        new ReconciliationRun
        {
            RunId = "rec_bench_" + Guid.NewGuid().ToString("N")[..12],
            Filter = new ReconciliationFilter(now.AddDays(-1), now.AddDays(1), null, null),
            State = ReconciliationState.Running,
            StartedBy = "bench",
            CreatedAt = now,
            UpdatedAt = now,
            Cursor = ReconciliationCursor.Start,
        },
        Guid.NewGuid().ToString("N"),
        CancellationToken.None);
    var claimed = await store.ClaimRunAsync(run, "bench", DateTimeOffset.UtcNow, CancellationToken.None) ?? throw new InvalidOperationException("claim lost");

    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var baselineHeap = GC.GetTotalMemory(forceFullCollection: true);
    var baselineRequests = requests.Count;
    var peakHeap = baselineHeap;
    using var sampling = new CancellationTokenSource();
    var sampler = Task.Run(async () =>
    {
        while (!sampling.IsCancellationRequested)
        {
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            await Task.Delay(20, CancellationToken.None);
        }
    });

    var clock = Stopwatch.StartNew();
    var state = await reconciler.RunAsync(claimed, "bench", CancellationToken.None);
    clock.Stop();
    await sampling.CancelAsync();
    await sampler;

    var result = await store.GetRunAsync(run.RunId, CancellationToken.None) ?? throw new InvalidOperationException("run vanished");
    using var process = Process.GetCurrentProcess();
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"| {result.ItemsTotal} | {result.CustomersTotal} | {state} | {clock.Elapsed.TotalSeconds:0.0} s | {result.ItemsTotal / clock.Elapsed.TotalSeconds:0} | {result.GatewayRequests} | {requests.Count - baselineRequests} | {rps:0} | {timedGateway.Elapsed.TotalSeconds:0.0} s | {timedStore.Reads.TotalSeconds:0.0} s | {timedStore.Writes.TotalSeconds:0.0} s | {peakHeap / 1048576.0:0.0} MiB | {process.PeakWorkingSet64 / 1048576.0:0} MiB | {result.Discrepancies} |"));
}

[System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Callers pass constant statements; values are bound parameters.")]
static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
{
    using var command = connection.CreateCommand();
    command.Transaction = transaction;
    command.CommandText = sql;
    foreach (var (name, value) in parameters)
    {
        command.Parameters.AddWithValue(name, value);
    }

    command.ExecuteNonQuery();
}

static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

/// <summary>Time spent in gateway list calls (including the sandbox's own work).</summary>
internal sealed class TimedGateway(ITokenGateway inner) : ITokenGateway
{
    private long ticks;

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref ticks));

    public string Name => inner.Name;

    public async Task<GatewayPaymentMethodPage> ListCustomerPaymentMethodsAsync(string customerId, string? startingAfter, int limit, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ListCustomerPaymentMethodsAsync(customerId, startingAfter, limit, cancellationToken);
        }
        finally
        {
            Interlocked.Add(ref ticks, Stopwatch.GetElapsedTime(start).Ticks);
        }
    }

    public Task<string> CreateCustomerAsync(string customerReference, string idempotencyKey, CancellationToken cancellationToken) => inner.CreateCustomerAsync(customerReference, idempotencyKey, cancellationToken);

    public Task<GatewayPaymentMethod> CreatePaymentMethodAsync(PaymentMethodRequest request, string idempotencyKey, CancellationToken cancellationToken) => inner.CreatePaymentMethodAsync(request, idempotencyKey, cancellationToken);

    public Task AttachAsync(string paymentMethodId, string customerId, string idempotencyKey, CancellationToken cancellationToken) => inner.AttachAsync(paymentMethodId, customerId, idempotencyKey, cancellationToken);

    public Task<GatewaySetup> CreateSetupIntentAsync(SetupIntentRequest request, string idempotencyKey, CancellationToken cancellationToken) => inner.CreateSetupIntentAsync(request, idempotencyKey, cancellationToken);

    public Task<GatewaySetup> GetSetupIntentAsync(string setupIntentId, CancellationToken cancellationToken) => inner.GetSetupIntentAsync(setupIntentId, cancellationToken);

    public Task<GatewaySetup?> FindSetupIntentAsync(string customerId, string paymentMethodId, CancellationToken cancellationToken) => inner.FindSetupIntentAsync(customerId, paymentMethodId, cancellationToken);

    public Task CancelSetupIntentAsync(string setupIntentId, string idempotencyKey, CancellationToken cancellationToken) => inner.CancelSetupIntentAsync(setupIntentId, idempotencyKey, cancellationToken);

    public Task<Tokenizer.Core.Domain.Mandate> GetMandateAsync(string mandateId, CancellationToken cancellationToken) => inner.GetMandateAsync(mandateId, cancellationToken);

    public Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken) => inner.DetachAsync(paymentMethodId, idempotencyKey, cancellationToken);

    public Task UpdateBillingDetailsAsync(string paymentMethodId, BillingDetails billing, string idempotencyKey, CancellationToken cancellationToken) =>
        inner.UpdateBillingDetailsAsync(paymentMethodId, billing, idempotencyKey, cancellationToken);

    public Task DeleteCustomerAsync(string customerId, CancellationToken cancellationToken) => inner.DeleteCustomerAsync(customerId, cancellationToken);
}

/// <summary>Time spent in the store's per-page reads (ledger lookups, sweep) and writes (saving a page).</summary>
internal sealed class TimedStore(IReconciliationStore inner) : IReconciliationStore
{
    private readonly StrongBox<long> readTicks = new();
    private readonly StrongBox<long> writeTicks = new();

    public TimeSpan Reads => TimeSpan.FromTicks(Interlocked.Read(ref readTicks.Value));

    public TimeSpan Writes => TimeSpan.FromTicks(Interlocked.Read(ref writeTicks.Value));

    public Task<(ReconciliationRun Run, bool Created)> CreateRunAsync(ReconciliationRun run, string requestKeyId, CancellationToken cancellationToken) => inner.CreateRunAsync(run, requestKeyId, cancellationToken);

    public Task<ReconciliationRun?> GetRunAsync(string runId, CancellationToken cancellationToken) => inner.GetRunAsync(runId, cancellationToken);

    public Task<ReconciliationRunPage> ListRunsAsync(int pageSize, string? pageToken, CancellationToken cancellationToken) => inner.ListRunsAsync(pageSize, pageToken, cancellationToken);

    public Task<IReadOnlyList<ReconciliationRun>> ListResumableRunsAsync(DateTimeOffset runningStaleBefore, DateTimeOffset interruptedBefore, int limit, CancellationToken cancellationToken) =>
        inner.ListResumableRunsAsync(runningStaleBefore, interruptedBefore, limit, cancellationToken);

    public Task<ReconciliationRun?> ClaimRunAsync(ReconciliationRun seen, string owner, DateTimeOffset now, CancellationToken cancellationToken) => inner.ClaimRunAsync(seen, owner, now, cancellationToken);

    public Task<bool> SaveProgressAsync(string runId, string owner, ReconciliationProgress progress, DateTimeOffset now, CancellationToken cancellationToken) =>
        Time(writeTicks, () => inner.SaveProgressAsync(runId, owner, progress, now, cancellationToken));

    public Task<bool> FinishRunAsync(string runId, string owner, ReconciliationState state, string? errorReason, DateTimeOffset now, CancellationToken cancellationToken) =>
        Time(writeTicks, () => inner.FinishRunAsync(runId, owner, state, errorReason, now, cancellationToken));

    public Task SetCustomersTotalAsync(string runId, long total, CancellationToken cancellationToken) => inner.SetCustomersTotalAsync(runId, total, cancellationToken);

    public Task<long> CountCustomersAsync(string gateway, string? customerReference, CancellationToken cancellationToken) => inner.CountCustomersAsync(gateway, customerReference, cancellationToken);

    public Task<IReadOnlyList<CustomerMapping>> ListCustomersAsync(string gateway, string? customerReference, string? afterReference, int limit, CancellationToken cancellationToken) =>
        Time(readTicks, () => inner.ListCustomersAsync(gateway, customerReference, afterReference, limit, cancellationToken));

    public Task<IReadOnlyDictionary<string, TokenRecord>> GetTokensAsync(IReadOnlyCollection<string> tokens, CancellationToken cancellationToken) =>
        Time(readTicks, () => inner.GetTokensAsync(tokens, cancellationToken));

    public Task<IReadOnlyList<TokenRecord>> ListUnseenTokensAsync(string runId, ReconciliationFilter filter, string? afterToken, int limit, CancellationToken cancellationToken) =>
        Time(readTicks, () => inner.ListUnseenTokensAsync(runId, filter, afterToken, limit, cancellationToken));

    public Task<ReconciliationItemPage> ListItemsAsync(string runId, ReconciliationCategory? category, int pageSize, string? pageToken, CancellationToken cancellationToken) =>
        inner.ListItemsAsync(runId, category, pageSize, pageToken, cancellationToken);

    public Task<IReadOnlyList<ReconciliationCount>> CountItemsAsync(string runId, CancellationToken cancellationToken) => inner.CountItemsAsync(runId, cancellationToken);

    public Task<IReadOnlyList<ReconciliationDailyCount>> CountItemsByDayAsync(string runId, CancellationToken cancellationToken) => inner.CountItemsByDayAsync(runId, cancellationToken);

    private static async Task<T> Time<T>(StrongBox<long> ticks, Func<Task<T>> call)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await call();
        Interlocked.Add(ref ticks.Value, Stopwatch.GetElapsedTime(start).Ticks);
        return result;
    }
}

/// <summary>Counts the HTTP requests the gateway sends (every attempt).</summary>
internal sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private long count;

    public long Count => Interlocked.Read(ref count);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref count);
        return base.SendAsync(request, cancellationToken);
    }
}
