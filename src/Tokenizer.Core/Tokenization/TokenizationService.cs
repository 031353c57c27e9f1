using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Idempotency;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tokenization;

/// <summary>Tunables of the tokenisation path.</summary>
public sealed class TokenizationSettings
{
    /// <summary>How long a pending idempotency claim blocks duplicates before a retry may take it over.</summary>
    public TimeSpan PendingLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a duplicate waits for the first request to finish before it gets ABORTED.</summary>
    public TimeSpan DuplicateWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a waiting duplicate looks again.</summary>
    public TimeSpan DuplicatePollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Test hook (Development only, see Tokenizer:FailPoint): called with a <see cref="FailPoints"/> name at that point
    /// of the path, e.g. to kill the process between the gateway's success and the ledger commit.
    /// </summary>
    public Action<string>? FailPoint { get; set; }
}

/// <summary>
/// The operations of the tokenisation path's idempotency claims (<c>idempotency_records.operation</c>,
/// <c>intents.operation</c>); the request HMAC of a revoke is keyed by its operation too.
/// </summary>
public static class TokenizationOperations
{
    /// <summary>TokenizeCard.</summary>
    public const string TokenizeCard = "tokenize_card";

    /// <summary>TokenizeBankAccount.</summary>
    public const string TokenizeBankAccount = "tokenize_bank_account";

    /// <summary>RevokeToken.</summary>
    public const string RevokeToken = "revoke_token";
}

/// <summary>Named points on the tokenisation path where crash tests stop the process.</summary>
public static class FailPoints
{
    /// <summary>The gateway created and set up the PaymentMethod; the ledger has not committed the token yet.</summary>
    public const string AfterGatewaySuccess = "after-gateway-success";

    /// <summary>
    /// The gateway's SetupIntent answered (succeeded: the PaymentMethod is attached to the Customer); the mandate is not
    /// read yet and the ledger has not committed the token.
    /// </summary>
    public const string AfterSetupIntent = "after-setup-intent";
}

/// <summary>
/// The one path: request in, validate, idempotency claim, gateway, ledger, token out.
/// Throws <see cref="TokenizerException"/> only; its messages never contain input values.
/// </summary>
public sealed partial class TokenizationService(
    RequestValidator validator,
    ITokenGateway gateway,
    IClaimStore claimStore,
    ICustomerRepository customerRepository,
    ITokenRepository tokenRepository,
    RequestHasher currentHasher,
    TimeProvider timeProvider,
    TokenizationSettings settings,
    ILogger<TokenizationService> logger,
    Privacy.PersonalDataVault? personalData = null,
    ITokenEventLog? tokenEvents = null,
    Privacy.SubjectPseudonyms? pseudonyms = null)
{
    /// <summary>The prefix of a revoke's token event SourceId: "revoke:" + token, so each token has one Revoked event.</summary>
    public const string RevokeSourcePrefix = "revoke:";

    internal const string MetadataIntentKey = "tokenizer_intent";
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 100;
    private const int MaxReasonLength = 200;

    // Deleted Customers one request passes before its PaymentMethod exists. Each deletion is recorded as it is met, so a
    // request normally passes at most two (the mapped Customer's predecessor and the mapped Customer); more means the
    // reference's Customers are being deleted while it runs.
    private const int MaxReplacementSteps = 5;

    private static readonly JsonSerializerOptions Json = TokenJson.Options;

    /// <summary>Tokenises a card. Same caller, key and request again: the first result with Replayed = true.</summary>
    public async Task<TokenizeResult> TokenizeCardAsync(
        CallerContext caller,
        TokenizeCardCommand command,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var request = validator.ValidateCard(command);
        var card = request.Card;
        var hasher = await ClaimHasherAsync(caller, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
        // No CVC among the inputs: the HMAC is kept for the retention period, and a keyed hash of 3-4 digits gives the CVC
        // back to whoever holds the key and the PAN; PCI DSS 3.3.1.2 allows no form of it after authorisation. A retry
        // that differs only in the CVC is the same request.
        var hmac = hasher.HashRequest(
            TokenizationOperations.TokenizeCard,
            request.CustomerReference,
            card.Pan,
            card.ExpMonth.ToString(CultureInfo.InvariantCulture),
            card.ExpYear.ToString(CultureInfo.InvariantCulture),
            Canonical(request.BillingDetails),
            request.ReturnUrl ?? string.Empty);

        var intent = Intent(hasher, caller, request.IdempotencyKey, request.CustomerReference);
        return await RunIdempotentAsync(
            hasher,
            caller,
            request.IdempotencyKey,
            TokenizationOperations.TokenizeCard,
            hmac,
            intent,
            ct => CreateTokenAsync(
                hasher,
                caller,
                request.IdempotencyKey,
                request.CustomerReference,
                new PaymentMethodRequest(card, null, request.BillingDetails, Metadata(intent)),
                new SetupOptions(request.ReturnUrl, null),
                ct),
            cancellationToken);
    }

    /// <summary>Tokenises a direct-debit bank account (AU BECS, SEPA, Bacs, ACH) under the customer's mandate acceptance.</summary>
    public async Task<TokenizeResult> TokenizeBankAccountAsync(
        CallerContext caller,
        TokenizeBankAccountCommand command,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var request = validator.ValidateBankAccount(command);
        var hasher = await ClaimHasherAsync(caller, request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
        var hmac = hasher.HashRequest(
            TokenizationOperations.TokenizeBankAccount,
            request.CustomerReference,
            CanonicalAccount(request.Account),
            Canonical(request.BillingDetails),
            CanonicalMandate(request.MandateAcceptance));

        var intent = Intent(hasher, caller, request.IdempotencyKey, request.CustomerReference);
        return await RunIdempotentAsync(
            hasher,
            caller,
            request.IdempotencyKey,
            TokenizationOperations.TokenizeBankAccount,
            hmac,
            intent,
            ct => CreateTokenAsync(
                hasher,
                caller,
                request.IdempotencyKey,
                request.CustomerReference,
                new PaymentMethodRequest(null, request.Account, request.BillingDetails, Metadata(intent)),
                new SetupOptions(null, request.MandateAcceptance),
                ct),
            cancellationToken);
    }

    /// <summary>
    /// One token by id. Unknown tokens, and tokens another caller created when the caller may not read all tokens
    /// (no finance role), answer the same NOT_FOUND (TOKEN_NOT_FOUND): no oracle on which tokens exist. An active token
    /// whose setup is still REQUIRES_ACTION or PROCESSING is refreshed from the gateway first (Stripe API GET
    /// /v1/setup_intents/{id}, then GET /v1/mandates/{id} for a debit with a mandate) and the new state is stored; when
    /// the gateway cannot be reached the stored state is returned as it is (a read never fails for the gateway's sake).
    /// </summary>
    public async Task<TokenRecord> GetTokenAsync(CallerContext caller, string? token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        RequireTokenId(token);
        var record = await tokenRepository.GetTokenAsync(token!, cancellationToken).ConfigureAwait(false);
        if (record is null || !(caller.CanReadAllTokens || record.CallerId == caller.CallerId))
        {
            throw NotFound();
        }

        return record.Status == TokenStatus.Active && record.Setup.IsPending && record.Setup.SetupIntentId is not null
            ? await RefreshSetupAsync(record, cancellationToken).ConfigureAwait(false)
            : record;
    }

    private async Task<TokenRecord> RefreshSetupAsync(TokenRecord record, CancellationToken cancellationToken)
    {
        TokenRecord refreshed;
        try
        {
            var setup = await gateway.GetSetupIntentAsync(record.Setup.SetupIntentId!, cancellationToken).ConfigureAwait(false);
            var mandate = record.Type != TokenType.Card && setup.MandateId is { } mandateId
                ? await gateway.GetMandateAsync(mandateId, cancellationToken).ConfigureAwait(false)
                : record.Mandate;
            refreshed = record with { Setup = ToSetup(setup), Mandate = mandate };
        }
        catch (TokenizerException error)
        {
            LogRefreshFailed(logger, record.Token, error.Reason);
            return record;
        }

        if (refreshed.Setup == record.Setup && refreshed.Mandate == record.Mandate)
        {
            return record;
        }

        // Fenced on the stored setup: a concurrent refresh that stored a newer outcome first is not overwritten.
        if (await tokenRepository.UpdateSetupAsync(refreshed, cancellationToken).ConfigureAwait(false))
        {
            return refreshed;
        }

        return await tokenRepository.GetTokenAsync(record.Token, cancellationToken).ConfigureAwait(false) ?? refreshed;
    }

    /// <summary>Lists tokens newest first; page size 1-100, 0 means 50.</summary>
    public Task<TokenPage> ListTokensAsync(CallerContext caller, ListTokensCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(command);
        if (!caller.CanReadAllTokens)
        {
            // The authorisation policy already requires finance; this keeps the rule true if a policy is ever loosened.
            throw TokenizerErrors.ListingNeedsFinance();
        }

        var violations = new List<FieldViolation>();
        if (command.PageSize is < 0 or > MaxPageSize)
        {
            violations.Add(new("page_size", "must be between 0 and 100"));
        }

        if (command.CreatedAfter is { } after && command.CreatedBefore is { } before && after >= before)
        {
            violations.Add(new("created_before", "must be after created_after"));
        }

        if (command.CustomerReference is { Length: > 0 } reference)
        {
            InputRules.CheckReference(reference, "customer_reference", violations);
        }

        if (command.PageToken is { Length: > 512 })
        {
            violations.Add(new("page_token", "malformed"));
        }

        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }

        var query = new TokenQuery(
            string.IsNullOrEmpty(command.CustomerReference) ? null : command.CustomerReference,
            command.Status,
            command.CreatedAfter,
            command.CreatedBefore,
            command.PageSize == 0 ? DefaultPageSize : command.PageSize,
            string.IsNullOrEmpty(command.PageToken) ? null : command.PageToken);
        return tokenRepository.ListTokensAsync(query, cancellationToken);
    }

    /// <summary>
    /// Detaches the PaymentMethod at the gateway and marks the token revoked; a setup still REQUIRES_ACTION or PROCESSING
    /// is cancelled first (<see cref="PendingSetup.CancelAsync"/>: Stripe API POST /v1/setup_intents/{id}/cancel, then GET
    /// to read the outcome), so the customer cannot attach it afterwards; one still processing (Stripe cannot cancel it)
    /// keeps that setup status on the revoked token.
    /// Revoking a revoked token returns it unchanged. Unknown: NOT_FOUND. Appends a <see cref="TokenEventKind.Revoked"/>
    /// token event for the token's owner (once per token, SourceId "revoke:" + token).
    /// </summary>
    public async Task<TokenRecord> RevokeTokenAsync(CallerContext caller, RevokeTokenCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(command);
        var violations = new List<FieldViolation>();
        if (!InputRules.IsValidTokenId(command.Token))
        {
            violations.Add(new("token", InputRules.TokenIdRule));
        }

        InputRules.CheckIdempotencyKey(command.IdempotencyKey, "idempotency_key", violations);

        var reason = FreeTextRule.Check(command.Reason, "reason", MaxReasonLength, violations);

        if (violations.Count > 0)
        {
            throw TokenizerErrors.Invalid(violations);
        }

        var key = command.IdempotencyKey!;
        var hasher = await ClaimHasherAsync(caller, key, cancellationToken).ConfigureAwait(false);
        var hmac = hasher.HashRequest(TokenizationOperations.RevokeToken, command.Token, reason);
        var moved = false;
        var result = await RunIdempotentAsync(
            hasher,
            caller,
            key,
            TokenizationOperations.RevokeToken,
            hmac,
            intent: null,
            async ct =>
            {
                var token = await tokenRepository.GetTokenAsync(command.Token!, ct).ConfigureAwait(false) ?? throw NotFound();
                if (token.Status == TokenStatus.Revoked)
                {
                    // Already never chargeable again (revoked here, detached at Stripe, or its Customer deleted): this
                    // revoke changes nothing, so it has no event of its own; the token's final event is already there.
                    return token;
                }

                // Committed before Stripe is asked: the payment_method.detached event this detach causes may be
                // processed before this revoke's own ledger update, and must read as this revoke, not as a detach
                // behind our back.
                await tokenRepository.MarkRevokeRequestedAsync(token.Token, Now(), ct).ConfigureAwait(false);
                var setup = token.Setup;
                if (setup.IsPending && setup.SetupIntentId is not null)
                {
                    // A setup still waiting for the customer would attach the PaymentMethod once completed: cancel it
                    // first, and record what the gateway then holds (FAILED, canceled; or still PROCESSING, which Stripe
                    // cannot cancel).
                    setup = await PendingSetup.CancelAsync(gateway, setup, hasher.GatewayKey(caller.CallerId, key, "seti_cancel"), ct).ConfigureAwait(false);
                }

                await gateway.DetachAsync(token.Token, hasher.GatewayKey(caller.CallerId, key, "detach"), ct).ConfigureAwait(false);
                LogRevoked(logger, token.Token);
                moved = true;
                return token with { Status = TokenStatus.Revoked, RevokedAt = Now(), Setup = setup };
            },
            cancellationToken,
            resource: command.Token).ConfigureAwait(false);
        if (moved || result.Replayed)
        {
            await AppendRevokedAsync(result.Token).ConfigureAwait(false);
        }

        return result.Token;
    }

    /// <summary>
    /// Tells the token's owner (through the token event log) that it was revoked. The relational ledger already appends
    /// this event in the transaction that records the revoke, so there this is a no-op; it stays for a ledger that does
    /// not. Runs when this call moved the token from active to revoked (never for a token already revoked, such as one
    /// detached at Stripe) and on replays (so a retry completes an append that failed); the append is idempotent, so a
    /// token revoked twice has one event.
    /// </summary>
    private async Task AppendRevokedAsync(TokenRecord token)
    {
        if (tokenEvents is null || token.Status != TokenStatus.Revoked)
        {
            return;
        }

        // Not the call's token: the revoke has happened at the gateway and in the ledger, so its event is written too.
        await tokenEvents.AppendAsync(
            new TokenEventDraft(token.Token, token.CallerId, TokenEventKind.Revoked, RevokeSourcePrefix + token.Token, token.RevokedAt ?? Now(), Card: null),
            CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// The hasher a request with this key continues under: the previous secret's when its claim was made before a
    /// rotation (found by that secret's key id), else the current one.
    /// </summary>
    private async Task<RequestHasher> ClaimHasherAsync(CallerContext caller, string key, CancellationToken cancellationToken)
    {
        foreach (var previous in currentHasher.Previous)
        {
            if (await claimStore.HasClaimAsync(caller.CallerId, previous.IdempotencyKeyId(key), cancellationToken).ConfigureAwait(false))
            {
                return previous;
            }
        }

        return currentHasher;
    }

    /// <summary>
    /// A tokenisation or revoke through the idempotency runner. Its answer is a token, recorded with the claim
    /// (<see cref="IClaimStore.CompleteWithTokenAsync"/>) whoever holds the claim by then: the gateway holds the token, so
    /// the ledger must know it; the claim itself completes only while pending, so a first answer is never replaced.
    /// </summary>
    private static readonly IdempotentOperation<TokenRecord> TokenOperation = new()
    {
        ReadAnswer = TokenJson.Deserialize,
        Complete = async (store, ticket, token, ct) =>
        {
            await store.CompleteWithTokenAsync(ticket.CallerId, ticket.Key, TokenJson.Serialize(token), token, ct).ConfigureAwait(false);
            return true;
        },
        ReleaseAs = IntentOutcomeOf,
    };

    private async Task<TokenizeResult> RunIdempotentAsync(
        RequestHasher hasher,
        CallerContext caller,
        string key,
        string operation,
        byte[] hmac,
        IntentInfo? intent,
        Func<CancellationToken, Task<TokenRecord>> work,
        CancellationToken cancellationToken,
        string? resource = null)
    {
        var runner = new IdempotencyRunner(claimStore, timeProvider, settings.DuplicateWait, settings.DuplicatePollInterval);
        var claim = new IdempotencyClaim(caller.CallerId, hasher.IdempotencyKeyId(key), operation, hmac, timeProvider.GetUtcNow(), settings.PendingLease, intent, Resource: resource);
        var result = await runner.RunAsync(
            claim,
            TokenOperation,
            async (_, ct) =>
            {
                var token = await work(ct).ConfigureAwait(false);
                settings.FailPoint?.Invoke(FailPoints.AfterGatewaySuccess);
                return token;
            },
            cancellationToken).ConfigureAwait(false);
        return new TokenizeResult(result.Answer, result.Replayed);
    }

    /// <summary>
    /// Customer, PaymentMethod, then a confirmed SetupIntent (which attaches the PaymentMethod to the Customer when it
    /// succeeds), then the Mandate for a debit. Outcomes: succeeded READY; requires_action REQUIRES_ACTION with the next
    /// action; processing PROCESSING. A card that needs authentication when the request gave no return_url is refused
    /// FAILED_PRECONDITION AUTHENTICATION_REQUIRED naming return_url: its SetupIntent did not succeed and is cancelled, so
    /// the PaymentMethod is not attached and nothing chargeable is left.
    /// </summary>
    private async Task<TokenRecord> CreateTokenAsync(
        RequestHasher hasher,
        CallerContext caller,
        string key,
        string customerReference,
        PaymentMethodRequest request,
        SetupOptions setupOptions,
        CancellationToken cancellationToken)
    {
        var customerId = await EnsureCustomerAsync(customerReference, cancellationToken).ConfigureAwait(false);
        var paymentMethod = await gateway.CreatePaymentMethodAsync(request, hasher.GatewayKey(caller.CallerId, key, "pm"), cancellationToken)
            .ConfigureAwait(false);
        Task<GatewaySetup> SetUpAsync(string customer) => gateway.CreateSetupIntentAsync(
            new SetupIntentRequest(customer, paymentMethod.Id, paymentMethod.Type, request.Metadata, setupOptions.ReturnUrl, setupOptions.Mandate),
            hasher.SetupIntentKey(caller.CallerId, key, customer),
            cancellationToken);

        GatewaySetup setup;
        try
        {
            setup = await SetUpAsync(customerId).ConfigureAwait(false);
        }
        catch (TokenizerException missing) when (missing.Reason == ErrorReasons.GatewayCustomerMissing)
        {
            // The mapped Customer was deleted at the gateway (Dashboard, API, an erasure) and its customer.deleted event
            // is not processed yet: replace it and set up once more under the new one.
            var replacement = await ReplaceDeletedCustomerAsync(customerReference, customerId, cancellationToken)
                .ConfigureAwait(false);
            if (replacement is null)
            {
                throw;
            }

            customerId = replacement;
            setup = await SetUpAsync(customerId).ConfigureAwait(false);
        }

        settings.FailPoint?.Invoke(FailPoints.AfterSetupIntent);
        if (setup.Status == SetupStatus.RequiresAction && paymentMethod.Type == TokenType.Card && setupOptions.ReturnUrl is null)
        {
            LogAuthenticationRequired(logger, setup.Id);

            // Nobody will complete it (no URL is handed out), but cancelling makes sure nothing can ever attach it.
            await gateway.CancelSetupIntentAsync(setup.Id, hasher.GatewayKey(caller.CallerId, key, "seti_cancel"), cancellationToken)
                .ConfigureAwait(false);
            throw TokenizerErrors.AuthenticationRequired();
        }

        var mandate = paymentMethod.Type != TokenType.Card && setup.MandateId is { } mandateId
            ? await gateway.GetMandateAsync(mandateId, cancellationToken).ConfigureAwait(false)
            : null;
        LogTokenized(logger, paymentMethod.Id, paymentMethod.Type);

        // Whatever the gateway derived, the ledger stores and the caller gets no more than VisibleDigits allows for the
        // number actually sent (a 4-digit account's last4 is the whole account).

        // Privacy: the billing details are held only encrypted under the subject's own data key; so are the
        // mandate acceptance's IP address and user agent.
        if (personalData is not null)
        {
            await personalData.SaveAsync(customerReference, paymentMethod.Id, request.Billing, cancellationToken).ConfigureAwait(false);
            if (setupOptions.Mandate?.Online is { } online)
            {
                await personalData.SaveMandateAcceptanceAsync(customerReference, paymentMethod.Id, online, cancellationToken).ConfigureAwait(false);
            }
        }

        return new TokenRecord
        {
            Token = paymentMethod.Id,
            Gateway = gateway.Name,
            Type = paymentMethod.Type,
            Status = TokenStatus.Active,
            CallerId = caller.CallerId,
            CustomerReference = customerReference,
            GatewayCustomerId = customerId,
            Card = paymentMethod.Card is { } card && request.Card is { } sent
                ? card with { Last4 = VisibleDigits.Mask(card.Last4, sent.Pan.Length) }
                : paymentMethod.Card,
            BankAccount = paymentMethod.BankAccount is { } bank && request.BankAccount is { } account
                ? bank with { Last4 = VisibleDigits.Mask(bank.Last4, account.NumberLength) }
                : paymentMethod.BankAccount,
            CreatedAt = Now(),
            Setup = ToSetup(setup),
            Mandate = mandate,
        };
    }

    /// <summary>A gateway SetupIntent as the token's setup.</summary>
    internal static TokenSetup ToSetup(GatewaySetup setup) => new(
        setup.Status,
        setup.Id,
        setup.Status == SetupStatus.RequiresAction ? setup.NextAction : null,
        setup.Status == SetupStatus.Failed ? setup.FailureCode : null);

    /// <summary>
    /// The reference's Customer: the mapped one, else a live one found or created at the gateway (Stripe API POST
    /// /v1/customers, then GET /v1/customers/{id}) and mapped. Runs before the PaymentMethod is created, so a refusal here
    /// leaves nothing with the caller's details at the gateway.
    /// </summary>
    /// <exception cref="TokenizerException">
    /// UNAVAILABLE <see cref="ErrorReasons.CustomerReplacementIncomplete"/>: the reference's Customers kept being deleted
    /// while this request replaced them (more than <see cref="MaxReplacementSteps"/>); the steps made are recorded, so a
    /// retry goes on from there. INTERNAL <see cref="ErrorReasons.GatewayCustomerMissing"/>: the gateway answered a
    /// Customer this request had already passed as deleted (it does not honour idempotency keys).
    /// </exception>
    private async Task<string> EnsureCustomerAsync(string customerReference, CancellationToken cancellationToken)
    {
        var existing = await customerRepository.FindCustomerAsync(gateway.Name, customerReference, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        // No mapping: the reference's first Customer, or (after an erasure or a deletion at the gateway dropped the
        // mapping) the one after its last deleted Customer. Concurrent first requests for the reference read the same
        // succession and send the same key, so the gateway creates one Customer; a retry after a crash replays it.
        var succession = await ReadSuccessionAsync(customerReference, cancellationToken).ConfigureAwait(false);
        var created = await LiveCustomerAsync(succession, succession.LastDeleted, MaxReplacementSteps, cancellationToken).ConfigureAwait(false)
            ?? throw TokenizerErrors.CustomerReplacementIncomplete();
        return await customerRepository.SaveCustomerAsync(gateway.Name, customerReference, created, timeProvider.GetUtcNow(), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// When the gateway confirms <paramref name="missingCustomerId"/> is deleted (Stripe API GET /v1/customers/{id}:
    /// <c>deleted: true</c>), the live Customer after it (created under a key derived from it, so every request replacing
    /// it, and a retry of this one, gets the same one), mapped in its place; the id the ledger then records (another
    /// request's replacement when it came first). Null when the Customer is not deleted: the caller rethrows.
    /// </summary>
    /// <remarks>
    /// The PaymentMethod exists by now, so this walk has no step bound: giving up would leave it unattached with the
    /// caller's details. Each step is a Customer created and deleted since this request read its mapping; the walk ends
    /// at the first key the gateway has not used, and the call's cap (Tokenizer:Limits:CallTimeoutSeconds) bounds it.
    /// </remarks>
    private async Task<string?> ReplaceDeletedCustomerAsync(
        string customerReference, string missingCustomerId, CancellationToken cancellationToken)
    {
        if (!await gateway.IsCustomerDeletedAsync(missingCustomerId, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var succession = await ReadSuccessionAsync(customerReference, cancellationToken).ConfigureAwait(false);
        await RecordDeletedAsync(succession, missingCustomerId, cancellationToken).ConfigureAwait(false);

        // Keyed by the deleted Customer, not by this request: concurrent requests meeting it all get one replacement.
        var created = await LiveCustomerAsync(succession, missingCustomerId, maxSteps: null, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("an unbounded walk ended without a Customer");
        var recorded = await customerRepository.ReplaceCustomerAsync(
            gateway.Name, customerReference, missingCustomerId, created, timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        LogCustomerReplaced(logger, missingCustomerId, recorded);
        return recorded;
    }

    /// <summary>UTC now at microsecond precision, what the ledgers store, so a replayed response equals a later read.</summary>
    private DateTimeOffset Now()
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new DateTimeOffset(now.Ticks - (now.Ticks % 10), TimeSpan.Zero);
    }

    private static IntentInfo Intent(RequestHasher hasher, CallerContext caller, string key, string customerReference) =>
        new(hasher.GatewayKey(caller.CallerId, key, "intent"), customerReference);

    private static Dictionary<string, string> Metadata(IntentInfo intent) =>
        new(StringComparer.Ordinal) { [MetadataIntentKey] = intent.IntentId };

    /// <summary>
    /// A refusal (the gateway or the ledger answered no) leaves nothing attached at the gateway: the intent is closed.
    /// Anything else (timeout, lost response, unavailable, cancelled, a bug) may have attached a PaymentMethod we never
    /// heard of: the intent is failed, for the orphan sweep.
    /// </summary>
    internal static IntentState IntentOutcomeOf(Exception error) => error is TokenizerException
    {
        Kind: ErrorKind.InvalidArgument or ErrorKind.FailedPrecondition or ErrorKind.NotFound or ErrorKind.AlreadyExists
            or ErrorKind.PermissionDenied,
    }
        ? IntentState.Closed
        : IntentState.Failed;

    private static string Canonical(BillingDetails billing) =>
        JsonSerializer.Serialize(billing, Json);

    private static string CanonicalAccount(BankAccountDetails account) => account switch
    {
        AuBecsDebitDetails a => $"au_becs_debit|{a.BsbNumber}|{a.AccountNumber}",
        SepaDebitDetails s => $"sepa_debit|{s.Iban}",
        BacsDebitDetails b => $"bacs_debit|{b.SortCode}|{b.AccountNumber}",
        UsBankAccountDetails u => $"us_bank_account|{u.RoutingNumber}|{u.AccountNumber}|{u.AccountHolderType}|{u.AccountType}",
        _ => throw new ArgumentOutOfRangeException(nameof(account), "unknown account type"),
    };

    // The whole acceptance: the same key with another acceptance is another request (keyed HMAC, nothing stored in clear).
    private static string CanonicalMandate(MandateAcceptance mandate) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{mandate.Type}|{mandate.AcceptedAt.ToUnixTimeSeconds()}|{mandate.Online?.IpAddress}|{mandate.Online?.UserAgent}");

    private static void RequireTokenId(string? token)
    {
        if (!InputRules.IsValidTokenId(token))
        {
            throw TokenizerErrors.Invalid([new FieldViolation("token", InputRules.TokenIdRule)]);
        }
    }

    private static TokenizerException NotFound() => TokenizerErrors.TokenNotFound();

    // Debug, not Information: the audit trail already records every tokenisation (durable, chained); the per-call line
    // cost 3-4% of the server's CPU and most of its lock contention in the console logger's queue (README "Performance").
    [LoggerMessage(EventId = 1001, EventName = "Tokenized", Level = LogLevel.Debug, Message = "Tokenized {Token} ({Type})")]
    private static partial void LogTokenized(ILogger logger, string token, TokenType type);

    [LoggerMessage(EventId = 1003, EventName = "AuthenticationRequiredWithoutReturnUrl", Level = LogLevel.Information, Message = "SetupIntent {SetupIntent} needs the cardholder's authentication and the request gave no return_url: refused")]
    private static partial void LogAuthenticationRequired(ILogger logger, string setupIntent);

    [LoggerMessage(EventId = 1004, EventName = "SetupRefreshFailed", Level = LogLevel.Warning, Message = "Could not refresh the setup of {Token} from the gateway ({Reason}); answered the stored state")]
    private static partial void LogRefreshFailed(ILogger logger, string token, string reason);

    /// <summary>What the SetupIntent carries beyond the PaymentMethod: a card's return URL or a debit's mandate acceptance.</summary>
    private sealed record SetupOptions(string? ReturnUrl, MandateAcceptance? Mandate);

    // Warning: not a defect, but the ledger mapped a reference to a Customer deleted at the gateway until now. No
    // reference: Customer ids are the gateway's, like token ids.
    [LoggerMessage(EventId = 1005, EventName = "DeletedCustomerReplaced", Level = LogLevel.Warning, Message = "Customer {DeletedCustomer} is deleted at the gateway: replaced by {Customer} and set up again")]
    private static partial void LogCustomerReplaced(ILogger logger, string deletedCustomer, string customer);

    [LoggerMessage(EventId = 1002, EventName = "Revoked", Level = LogLevel.Information, Message = "Revoked {Token}")]
    private static partial void LogRevoked(ILogger logger, string token);
}
