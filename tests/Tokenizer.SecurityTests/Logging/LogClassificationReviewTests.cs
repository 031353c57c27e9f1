using System.Reflection;
using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Logging;

namespace Tokenizer.SecurityTests.Logging;

/// <summary>
/// Every <c>[LoggerMessage]</c> parameter in src either carries a data classification attribute
/// (<c>Tokenizer.Core.Redaction</c>: CardData, BankData, PersonalData, SecretData, PublicData) or is on the reviewed
/// list below: values that never come from a caller. A new parameter fails this test until someone classifies it or
/// reviews it here, so caller input cannot reach a log line unclassified by accident.
/// </summary>
public class LogClassificationReviewTests
{
    /// <summary>Reviewed unclassified parameters, as Type.Method(parameter), with why each is safe.</summary>
    private static readonly HashSet<string> ReviewedPublic =
    [
        // Ledger on PostgreSQL: SQLSTATE codes and retry counters.
        "Tokenizer.Ledger.Log.TransientRetry(sqlState)",
        "Tokenizer.Ledger.Log.TransientRetry(attempt)",
        "Tokenizer.Ledger.Log.TransientRetry(maxAttempts)",

        // Sandbox fault injection: the action is one of our fixed fault names.
        "Tokenizer.StripeSandbox.Faults.FaultInjector.LogFaultInjected(action)",

        // Sandbox webhook deliveries: Stripe's fixed event type names, ids the sandbox generated (evt_, we_), counters,
        // an HTTP status and one of the fixed words timeout, tls or connection; never the body or the endpoint's URL.
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(eventType)",
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(eventId)",
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(endpointId)",
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(attempt)",
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(status)",
        "Tokenizer.StripeSandbox.Webhooks.SandboxWebhooks.LogDeliveryFailed(error)",

        // A refused client certificate: its SHA-256 thumbprint (never its subject or issuer) and a fixed reason.
        "Tokenizer.Server.Security.SecurityServiceCollectionExtensions.LogClientCertificateRefused(thumbprint)",
        "Tokenizer.Server.Security.SecurityServiceCollectionExtensions.LogClientCertificateRefused(reason)",

        // Development PKI: the directory is the configured data directory (an operator's path) and a fixed verb.
        "Tokenizer.Server.Security.TlsMaterial.LogDevelopmentPki(directory)",
        "Tokenizer.Server.Security.TlsMaterial.LogDevelopmentPki(action)",

        // Start line: the bound addresses (Kestrel's), the configured data directory (an operator's path) and a CLI
        // command built from those two and the development PKI path; no caller input exists before start.
        "Tokenizer.Server.Hosting.StartupBanner.LogStarted(addresses)",
        "Tokenizer.Server.Hosting.StartupBanner.LogStarted(dataDirectory)",
        "Tokenizer.Server.Hosting.StartupBanner.LogStarted(cliLine)",

        // A failed start-up step: its class name and the exception's type name (never its message).
        "Tokenizer.Server.Hosting.StartupSequence.LogStepFailed(service)",
        "Tokenizer.Server.Hosting.StartupSequence.LogStepFailed(errorType)",

        // Secrets: where they came from, Key Vault secret names and versions, certificate thumbprints and expiry, counts,
        // local file names and paths, and fixed failure reasons; never a secret value.
        "Tokenizer.Server.Secrets.Log.SecretsLoaded(source)",
        "Tokenizer.Server.Secrets.Log.SecretsLoaded(thumbprint)",
        "Tokenizer.Server.Secrets.Log.SecretsLoaded(notAfter)",
        "Tokenizer.Server.Secrets.Log.SecretsLoaded(previousCertificateCount)",
        "Tokenizer.Server.Secrets.Log.LocalSecretGenerated(secretFile)",
        "Tokenizer.Server.Secrets.Log.LocalSecretGenerated(path)",
        "Tokenizer.Server.Secrets.Log.StripeApiKeyRotated(secretName)",
        "Tokenizer.Server.Secrets.Log.StripeApiKeyRotated(version)",
        "Tokenizer.Server.Secrets.Log.RefreshFailed(reason)",
        "Tokenizer.Server.Secrets.Log.PreviousCertificatesUnavailable(secretName)",
        "Tokenizer.Server.Secrets.Log.PreviousCertificatesUnavailable(reason)",
        "Tokenizer.Server.Secrets.Log.PreviousCertificateSkipped(secretName)",
        "Tokenizer.Server.Secrets.Log.PreviousCertificateSkipped(version)",
        "Tokenizer.Server.Secrets.Log.PreviousCertificateSkipped(reason)",

        // Audit: the action is a gRPC route or a fixed configuration action; exception type names hold no values.
        "Tokenizer.Server.Audit.AuditLog.AppendFailed(action)",
        "Tokenizer.Server.Audit.AuditLog.AppendFailed(exceptionType)",
        "Tokenizer.Server.Audit.AuditLog.StopNotRecorded(exceptionType)",

        // Stripe webhooks: the listener's configured address and fixed path, the sandbox's generated endpoint id,
        // exception type names, counts, and of an event that passed its signature check (or came from Stripe's own
        // event list) its Stripe id, type and attempt counter; never a body.
        "Tokenizer.Server.Webhooks.WebhookListener.LogListening(address)",
        "Tokenizer.Server.Webhooks.WebhookListener.LogListening(path)",
        "Tokenizer.Server.Webhooks.WebhookListener.LogRegistered(endpointId)",
        "Tokenizer.Server.Webhooks.WebhookReceiver.LogInboxUnavailable(exceptionType)",
        "Tokenizer.Server.Webhooks.WebhookRefusalAudit.LogNotRecorded(count)",
        "Tokenizer.Server.Webhooks.WebhookRefusalAudit.LogNotRecorded(exceptionType)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailed(eventId)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailed(type)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailed(attempt)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailed(exceptionType)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailed(retryDelaySeconds)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailingRepeatedly(eventId)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailingRepeatedly(type)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailingRepeatedly(attempt)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailingRepeatedly(exceptionType)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogEventFailingRepeatedly(retryDelaySeconds)",
        "Tokenizer.Server.Webhooks.WebhookWorker.LogPassFailed(exceptionType)",
        "Tokenizer.Server.Webhooks.WebhookCatchUpWorker.LogCaughtUp(count)",
        "Tokenizer.Server.Webhooks.WebhookCatchUpWorker.LogPassFailed(exceptionType)",

        // Append-only guards put back at start: the guard's fixed name (a trigger or privilege of our schema), and the
        // exception type name when that failed.
        "Tokenizer.Server.Audit.AuditLog.GuardRestored(guard)",
        "Tokenizer.Server.Audit.AuditLog.GuardsNotRestored(exceptionType)",
        // A count and an exception type name.
        "Tokenizer.Server.Audit.AuditLog.RefusedCallsNotRecorded(calls)",
        "Tokenizer.Server.Audit.AuditLog.RefusedCallsNotRecorded(exceptionType)",
        // Anchor: the store is a fixed description (a file path under the data directory, or a Key Vault secret name);
        // sequences are counts; exception type names hold no values.
        "Tokenizer.Server.Audit.AuditLog.AnchorFailed(store)",
        "Tokenizer.Server.Audit.AuditLog.AnchorFailed(exceptionType)",
        "Tokenizer.Server.Audit.AuditLog.AnchorAheadOfTrail(store)",
        "Tokenizer.Server.Audit.AuditLog.AnchorAheadOfTrail(anchoredSequence)",
        "Tokenizer.Server.Audit.AuditLog.AnchorAheadOfTrail(headSequence)",
        "Tokenizer.Server.Audit.AuditLog.AnchorInvalid(store)",
        "Tokenizer.Server.Audit.AuditLog.AnchorMissing(store)",
        // Key checks: the secret's setting name (configuration key names only), never a value.
        "Tokenizer.Server.Audit.AuditLog.KeyCheckStored(secret)",
        "Tokenizer.Server.Audit.AuditLog.KeyCheckAdopted(secret)",
        "Tokenizer.Server.Audit.AuditLog.TrailEmptied(store)",
        "Tokenizer.Server.Audit.AuditLog.AnchorMissing(headSequence)",

        // The ledger file's path, from configuration (the data directory).
        "Tokenizer.Ledger.Log.FileMoved(path)",

        // Tokenisation: token ids come from the gateway (pm_...) or from the ledger after a lookup; the type is an enum.
        "Tokenizer.Core.Tokenization.TokenizationService.LogTokenized(token)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogTokenized(type)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogRevoked(token)",

        // Recovery: tokens are pm_ ids the gateway listed; intent ids are tkz_{40 hex}_intent, keyed HMACs of caller and
        // key (never the key itself); error type names and counts hold no values.
        "Tokenizer.Core.Tokenization.RecoveryService.LogCompleted(token)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogCompleted(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogClosed(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogDetached(token)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogDetached(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogEscalated(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogDeferred(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogDeferred(errorType)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogLostClaim(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogInterruptedAuditFailed(errorType)",
        "Tokenizer.Gateways.Stripe.Log.CustomerMissing(requestId)",
        "Tokenizer.Gateways.Stripe.Log.CustomerNotFound(operation)",
        "Tokenizer.Gateways.Stripe.Log.CustomerNotFound(requestId)",
        "Tokenizer.Gateways.Stripe.Log.PaymentMethodNotAttached(operation)",
        "Tokenizer.Gateways.Stripe.Log.PaymentMethodNotAttached(requestId)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogCustomerReplaced(deletedCustomer)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogCustomerReplaced(customer)",

        // Issue #13: a SetupIntent id (seti_..., the gateway's, like a token id), a token id, our own error reason code,
        // and Stripe's decline code and request id, both passed through SafeDeclineCode / SafeRequestId.
        "Tokenizer.Core.Tokenization.TokenizationService.LogAuthenticationRequired(setupIntent)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogRefreshFailed(token)",
        "Tokenizer.Core.Tokenization.TokenizationService.LogRefreshFailed(reason)",
        "Tokenizer.Gateways.Stripe.Log.SetupRefused(declineCode)",
        "Tokenizer.Gateways.Stripe.Log.SetupRefused(requestId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogAuditFailed(action)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogAuditFailed(intentId)",
        "Tokenizer.Core.Tokenization.RecoveryService.LogAuditFailed(errorType)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(completed)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(released)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(detached)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(escalated)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(deferred)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPass(interrupted)",
        "Tokenizer.Server.Hosting.RecoveryWorker.LogPassFailed(errorType)",

        // Privacy: tokens are pm_ ids from the ledger or the gateway's list; reasons are ErrorReasons
        // constants; the subject is its keyed pseudonym (subj_ + 32 letters), never the reference; counts and error
        // type names hold no values.
        "Tokenizer.Core.Privacy.PrivacyCorrection.LogCorrectionRefused(token)",
        "Tokenizer.Core.Privacy.PrivacyCorrection.LogCorrectionRefused(reason)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogClearRefused(token)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogClearRefused(reason)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErased(subject)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErased(detached)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErasureWaitsForSetups(subject)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErasureWaitsForSetups(processing)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogTokenisedDuringErasure(subject)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErasureWaitsForTokenisations(subject)",
        "Tokenizer.Core.Privacy.PrivacyErasure.LogErasureWaitsForTokenisations(inFlight)",
        "Tokenizer.Server.Privacy.RetentionWorker.LogPurged(revokedTokens)",
        "Tokenizer.Server.Privacy.RetentionWorker.LogPurged(idempotencyRecords)",
        "Tokenizer.Server.Privacy.RetentionWorker.LogPurged(tokenEvents)",
        "Tokenizer.Server.Privacy.RetentionWorker.LogPurgeFailed(errorType)",

        // Ledger: schema versions and names are constants; attempts are counters; the token is a recorded pm_ id.
        "Tokenizer.Ledger.Log.MigrationApplied(version)",
        "Tokenizer.Ledger.Log.MigrationApplied(name)",
        "Tokenizer.Ledger.Log.BusyRetry(attempt)",
        "Tokenizer.Ledger.Log.BusyRetry(maxAttempts)",
        "Tokenizer.Ledger.Log.CompletedWithoutPendingClaim(token)",
        // SQLite's numeric result codes only.
        "Tokenizer.Ledger.Log.Unavailable(sqliteErrorCode)",
        "Tokenizer.Ledger.Log.Unavailable(sqliteExtendedErrorCode)",

        // Metrics listener: its own validated loopback address and the constant scrape path.
        "Tokenizer.Server.Telemetry.MetricsEndpoint.LogListening(address)",
        "Tokenizer.Server.Telemetry.MetricsEndpoint.LogListening(path)",

        // gRPC errors: the method is the route of a mapped service; kind and reason are domain enums and constants;
        // exception type names and stack traces hold code locations, never values (messages are not logged).
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogDomainError(method)",
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogDomainError(kind)",
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogDomainError(reason)",
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogUnexpected(method)",
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogUnexpected(exceptionType)",
        // The routed method path: only a mapped method reaches an interceptor.
        "Tokenizer.Server.Grpc.MalformedRequestInterceptor.LogMalformed(method)",
        "Tokenizer.Server.Grpc.ErrorMappingInterceptor.LogUnexpected(stackTrace)",

        // Reconciliation: run ids are ours (rec_ and random letters), reasons are stable error reasons, the day is a date the
        // schedule computed, the rest are counts; exception type names hold no values.
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Completed(runId)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Completed(items)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(runId)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(discrepancies)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(items)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(missingAtGateway)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(missingInLedger)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(statusMismatch)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(fieldMismatch)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Discrepancies(pending)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Interrupted(runId)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Interrupted(reason)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Failed(runId)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Failed(reason)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Scheduled(runId)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.Scheduled(day)",
        "Tokenizer.Server.Reconciliation.ReconciliationLog.WorkerError(exceptionType)",

        // Stripe adapter: our operation enum, HTTP status, and Stripe's type/code/decline code/param name/request id,
        // each sanitised by StripeErrorMapper; "problem" is one of our fixed strings. Never Stripe's message or a body.
        "Tokenizer.Gateways.Stripe.Log.RawCardDataNotEnabled(operation)",
        "Tokenizer.Gateways.Stripe.Log.RawCardDataNotEnabled(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.RawCardDataNotEnabled(requestId)",
        "Tokenizer.Gateways.Stripe.Log.AuthenticationFailed(operation)",
        "Tokenizer.Gateways.Stripe.Log.AuthenticationFailed(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.AuthenticationFailed(errorType)",
        "Tokenizer.Gateways.Stripe.Log.AuthenticationFailed(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.AuthenticationFailed(requestId)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(operation)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(errorType)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(param)",
        "Tokenizer.Gateways.Stripe.Log.RequestRejected(requestId)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyConflict(operation)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyConflict(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyConflict(errorType)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyConflict(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyConflict(requestId)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyReused(operation)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyReused(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyReused(errorType)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyReused(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyReused(requestId)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyInFlight(operation)",
        "Tokenizer.Gateways.Stripe.Log.IdempotencyKeyInFlight(requestId)",
        "Tokenizer.Gateways.Stripe.Log.Unavailable(operation)",
        "Tokenizer.Gateways.Stripe.Log.Unavailable(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.Unavailable(errorType)",
        "Tokenizer.Gateways.Stripe.Log.Unavailable(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.Unavailable(requestId)",
        "Tokenizer.Gateways.Stripe.Log.TransportFailed(operation)",
        "Tokenizer.Gateways.Stripe.Log.TransportFailed(exceptionType)",
        "Tokenizer.Gateways.Stripe.Log.TimedOut(operation)",
        "Tokenizer.Gateways.Stripe.Log.CardDeclined(operation)",
        "Tokenizer.Gateways.Stripe.Log.CardDeclined(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.CardDeclined(declineCode)",
        "Tokenizer.Gateways.Stripe.Log.CardDeclined(requestId)",
        "Tokenizer.Gateways.Stripe.Log.InputRejected(operation)",
        "Tokenizer.Gateways.Stripe.Log.InputRejected(errorType)",
        "Tokenizer.Gateways.Stripe.Log.InputRejected(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.InputRejected(param)",
        "Tokenizer.Gateways.Stripe.Log.InputRejected(requestId)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(operation)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(statusCode)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(errorType)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(param)",
        "Tokenizer.Gateways.Stripe.Log.UnexpectedError(requestId)",
        "Tokenizer.Gateways.Stripe.Log.InvalidResponse(operation)",
        "Tokenizer.Gateways.Stripe.Log.InvalidResponse(problem)",
        "Tokenizer.Gateways.Stripe.Log.InvalidResponse(requestId)",
        "Tokenizer.Gateways.Stripe.Log.AlreadyDetached(errorCode)",
        "Tokenizer.Gateways.Stripe.Log.AlreadyDetached(requestId)",
        // Resilience pipeline: an outcome is "status NNN" or an exception type name (StripeResilience.Describe), never
        // a message, header or body; the rest are counts and durations.
        "Tokenizer.Gateways.Stripe.Log.Retrying(method)",
        "Tokenizer.Gateways.Stripe.Log.Retrying(outcome)",
        "Tokenizer.Gateways.Stripe.Log.Retrying(attempt)",
        "Tokenizer.Gateways.Stripe.Log.Retrying(delayMilliseconds)",
        "Tokenizer.Gateways.Stripe.Log.Retrying(idempotencyKey)",
        "Tokenizer.Gateways.Stripe.Log.CircuitOpened(outcome)",
        "Tokenizer.Gateways.Stripe.Log.CircuitOpened(breakMilliseconds)",
        "Tokenizer.Gateways.Stripe.Log.CircuitOpenRejected(operation)",

        // Stripe sandbox (a test double; its logs carry no request data): exception type names, its own address and mode.
        "Tokenizer.StripeSandbox.Api.RequestPipeline.LogHandlerFault(exceptionType)",
        "Tokenizer.StripeSandbox.Hosting.SandboxLog.Started(baseAddress)",
        "Tokenizer.StripeSandbox.Hosting.SandboxLog.Started(mode)",
    ];

    private static readonly string[] SourceAssemblies =
        ["Tokenizer.Core", "Tokenizer.Gateways.Stripe", "Tokenizer.Ledger", "Tokenizer.Server", "Tokenizer.StripeSandbox"];

    [Fact]
    public void LoggerMessageParameters_InSrc_ClassifiedOrReviewed()
    {
        // Arrange
        var parameters = LoggerMessageParameters().ToList();

        // Act
        var unreviewed = parameters
            .Where(p => p.Parameter.GetCustomAttributes<DataClassificationAttribute>(inherit: true).Any() is false)
            .Select(p => p.Name)
            .Where(name => !ReviewedPublic.Contains(name))
            .ToList();

        // Assert
        Assert.NotEmpty(parameters);
        Assert.True(unreviewed.Count == 0, "classify these [LoggerMessage] parameters or review them here: " + string.Join(", ", unreviewed));
    }

    [Fact]
    public void ReviewedPublic_EveryEntry_StillExists()
    {
        // Arrange
        var names = LoggerMessageParameters().Select(p => p.Name).ToHashSet();

        // Act
        var stale = ReviewedPublic.Where(name => !names.Contains(name)).ToList();

        // Assert: a stale entry would silently approve a future parameter of the same name.
        Assert.True(stale.Count == 0, "remove stale review entries: " + string.Join(", ", stale));
    }

    [Fact]
    public void LoggerMessageEventIds_InSrc_EachNamesOneEvent()
    {
        // Arrange: operators alert and search on EventId; two events sharing one make a query or an alert lie.
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var events = SourceAssemblies.Select(Assembly.Load)
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(all).Select(m => (Method: $"{t.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(e => e.Attribute is { EventId: > 0 })
            .ToList();

        // Act: one id may be logged from several places only under one event name.
        var shared = events
            .GroupBy(e => e.Attribute!.EventId)
            .Where(g => g.Select(e => e.Attribute!.EventName ?? e.Method).Distinct().Count() > 1)
            .Select(g => g.Key + ": " + string.Join(", ", g.Select(e => e.Method)))
            .ToList();

        // Assert
        Assert.True(events.Count > 50, "the scan found too few [LoggerMessage] methods: " + events.Count);
        Assert.True(shared.Count == 0, "event ids shared by different events: " + string.Join("; ", shared));
    }

    private static IEnumerable<(string Name, ParameterInfo Parameter)> LoggerMessageParameters()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var assembly in SourceAssemblies.Select(Assembly.Load))
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var method in type.GetMethods(all).Where(m => m.GetCustomAttribute<LoggerMessageAttribute>() is not null))
                {
                    foreach (var parameter in method.GetParameters())
                    {
                        if (typeof(ILogger).IsAssignableFrom(parameter.ParameterType) || typeof(Exception).IsAssignableFrom(parameter.ParameterType)
                            || parameter.ParameterType == typeof(LogLevel))
                        {
                            continue;
                        }

                        yield return ($"{type.FullName}.{method.Name}({parameter.Name})", parameter);
                    }
                }
            }
        }
    }
}
