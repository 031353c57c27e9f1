using System.Net.Http.Headers;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Tokenizer.Cli;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Hosting;

namespace Tokenizer.IntegrationTests.Reconciliation;

/// <summary>
/// A real server (Kestrel, TLS, the embedded sandbox over HTTP, a SQLite ledger) whose reconciliation worker polls every
/// second, resumes interrupted runs at once, reports unresolved intents at once (no grace) and paces the gateway at
/// 1000 requests a second, two PaymentMethods a page; plus the ways tests plant
/// discrepancies behind the service's back: Stripe API calls to the sandbox and SQL on the ledger file.
/// </summary>
public class ReconciliationServerFixture : IAsyncLifetime
{
    public ReconciliationServerFixture()
        : this([])
    {
    }

    protected ReconciliationServerFixture(string[] extraArgs)
        : this(null, extraArgs)
    {
    }

    /// <summary>A server on <paramref name="dataDirectory"/> (null: a new temporary one), for restart tests.</summary>
    internal ReconciliationServerFixture(string? dataDirectory, string[] extraArgs)
    {
        Server = new(
            dataDirectory,
            [
                "--Tokenizer:Reconciliation:GatewayRequestsPerSecond=1000",
                "--Tokenizer:Reconciliation:PollSeconds=1",
                "--Tokenizer:Reconciliation:ResumeDelaySeconds=0",
                "--Tokenizer:Reconciliation:GatewayPageSize=2",
                "--Tokenizer:Reconciliation:PendingGraceSeconds=0",
                .. extraArgs,
            ]);
    }

    public TokenizerServerFixture Server { get; }

    public ReconciliationService.ReconciliationServiceClient Finance { get; private set; } = null!;

    public string LedgerPath => Path.Combine(Server.DataDirectory, "ledger", "tokenizer.db");

    /// <summary>The embedded sandbox's key: random per start, handed out in process only.</summary>
    private string SandboxKey => Server.App.Services.GetRequiredService<EmbeddedSandbox>().ApiKey!;

    public virtual async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Finance = new ReconciliationService.ReconciliationServiceClient(Server.ChannelFor("finance"));
    }

    public virtual Task DisposeAsync() => Server.DisposeAsync();

    /// <summary>A Stripe API POST to the sandbox, as someone with the account's key would make it.</summary>
    public async Task StripePostAsync(string path, params (string Name, string Value)[] form)
    {
        using var http = new HttpClient { BaseAddress = Server.Sandbox.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SandboxKey);
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"sandbox POST {path}: {(int)response.StatusCode}");
    }

    /// <summary>Runs one SQL statement on the ledger file, as someone with access to the database could.</summary>
    public async Task LedgerSqlAsync(string sql, string token)
    {
        await using var connection = new SqliteConnection($"Data Source={LedgerPath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("@token", token);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    /// <summary>Starts a run over [from, to) and waits (polling) until it completes or fails.</summary>
    public async Task<GetReconciliationResponse> ReconcileAsync(DateTimeOffset from, DateTimeOffset to, string? customer = null) =>
        await WaitAsync(await StartAsync(from, to, customer), ReconciliationState.Completed);

    /// <summary>Starts a run over [from, to) and returns its id.</summary>
    public async Task<string> StartAsync(DateTimeOffset from, DateTimeOffset to, string? customer = null)
    {
        var started = await Finance.StartReconciliationAsync(new StartReconciliationRequest
        {
            Filter = new ReconciliationFilter
            {
                From = Timestamp.FromDateTimeOffset(from),
                To = Timestamp.FromDateTimeOffset(to),
                CustomerReference = customer ?? string.Empty,
            },
            IdempotencyKey = Requests.NewKey(),
        });
        return started.RunId;
    }

    /// <summary>Polls a run until it reaches <paramref name="state"/> (or a final state); a safety bound, not an assertion on time.</summary>
    public async Task<GetReconciliationResponse> WaitAsync(string runId, ReconciliationState state)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (true)
        {
            var response = await Finance.GetReconciliationAsync(new GetReconciliationRequest { RunId = runId }, cancellationToken: bound.Token);
            var current = response.Reconciliation.State;
            if (current == state || current is ReconciliationState.Completed or ReconciliationState.Failed)
            {
                return response;
            }

            await Task.Delay(100, bound.Token);
        }
    }

    /// <summary>Every item of a run, paged.</summary>
    public async Task<List<ReconciliationItem>> ItemsAsync(string runId, ReconciliationCategory category = ReconciliationCategory.Unspecified, int pageSize = 0)
    {
        var items = new List<ReconciliationItem>();
        var pageToken = string.Empty;
        do
        {
            var page = await Finance.ListReconciliationItemsAsync(new ListReconciliationItemsRequest
            {
                RunId = runId,
                Category = category,
                PageSize = pageSize,
                PageToken = pageToken,
            });
            items.AddRange(page.Items);
            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);
        return items;
    }

    /// <summary>Runs the real <c>tokenizer</c> command against this server; returns its exit code, stdout and stderr.</summary>
    public async Task<(int Code, string Output, string Error)> CliAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await CliApp.BuildRootCommand(TextReader.Null, output, error)
            .Parse([.. args, "--server", Server.Address.ToString().TrimEnd('/'), "--pki", Server.PkiDirectory])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
