using System.Collections.Frozen;
using Tokenizer.Core.Tokenization;

namespace Tokenizer.Server.Security;

/// <summary>
/// Which roles may call which RPC, by full method name. Every mapped gRPC method must be listed: the endpoint convention
/// in <see cref="SecurityServiceCollectionExtensions"/> refuses to start the server otherwise, so a new RPC cannot ship
/// without a policy.
/// </summary>
public static class RpcPolicies
{
    /// <summary>Allowed roles (any of) per full method name, <c>package.Service/Method</c>.</summary>
    public static FrozenDictionary<string, string[]> Roles { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["tokenizer.v1.TokenizerService/TokenizeCard"] = [CallerRoles.Tokenize],
        ["tokenizer.v1.TokenizerService/TokenizeBankAccount"] = [CallerRoles.Tokenize],
        ["tokenizer.v1.TokenizerService/GetToken"] = [CallerRoles.Tokenize, CallerRoles.Finance],
        ["tokenizer.v1.TokenizerService/ListTokens"] = [CallerRoles.Finance],
        ["tokenizer.v1.TokenizerService/RevokeToken"] = [CallerRoles.Admin],

        // Token events: the billing service reads its own tokens' events, finance every caller's (TokenEventFeed scopes).
        ["tokenizer.v1.TokenizerService/ListTokenEvents"] = [CallerRoles.Tokenize, CallerRoles.Finance],
        ["tokenizer.v1.TokenizerService/WatchTokenEvents"] = [CallerRoles.Tokenize, CallerRoles.Finance],
        ["tokenizer.v1.AuditService/VerifyAuditTrail"] = [CallerRoles.Admin],
        ["tokenizer.v1.AuditService/ExportAuditEvents"] = [CallerRoles.Admin],

        // Reconciliation: finance only.
        ["tokenizer.v1.ReconciliationService/StartReconciliation"] = [CallerRoles.Finance],
        ["tokenizer.v1.ReconciliationService/GetReconciliation"] = [CallerRoles.Finance],
        ["tokenizer.v1.ReconciliationService/ListReconciliationItems"] = [CallerRoles.Finance],
        ["tokenizer.v1.ReconciliationService/ListReconciliations"] = [CallerRoles.Finance],

        // Privacy: data-subject requests, admin only.
        ["tokenizer.v1.PrivacyService/ExportSubjectData"] = [CallerRoles.Admin],
        ["tokenizer.v1.PrivacyService/CorrectSubjectData"] = [CallerRoles.Admin],
        ["tokenizer.v1.PrivacyService/EraseSubject"] = [CallerRoles.Admin],
        ["tokenizer.v1.PrivacyService/GetErasureStatus"] = [CallerRoles.Admin],
        ["grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"] = [CallerRoles.Admin],
        ["grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] = [CallerRoles.Admin],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Methods anyone may call without a client certificate: the gRPC health checking protocol only. Load balancers and
    /// orchestrators probe it without client certificates, and its answer is one of SERVING / NOT_SERVING /
    /// SERVICE_UNKNOWN, nothing else (no caller, no data, no detail). These calls are not audited (they carry no caller
    /// and would flood the trail, and fail with it when the ledger is down) but are counted in metrics. Never add a
    /// tokenizer.v1 method here: SecurityTests' AuthorizationMatrixTests refuses it.
    /// </summary>
    public static FrozenSet<string> Anonymous { get; } = new[]
    {
        "grpc.health.v1.Health/Check",
        "grpc.health.v1.Health/Watch",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The roles for <paramref name="fullMethodName"/>; throws when the method has no policy.</summary>
    public static string[] For(string fullMethodName) =>
        Roles.TryGetValue(fullMethodName.TrimStart('/'), out var roles)
            ? roles
            : throw new InvalidOperationException($"gRPC method {fullMethodName} has no authorisation policy in RpcPolicies");

    /// <summary>Whether <paramref name="fullMethodName"/> (with or without a leading slash) is in <see cref="Anonymous"/>.</summary>
    public static bool IsAnonymous(string? fullMethodName) =>
        fullMethodName is not null && Anonymous.Contains(fullMethodName.TrimStart('/'));

    /// <summary>Whether <paramref name="fullMethodName"/> has a policy, role-based or anonymous.</summary>
    public static bool IsKnown(string? fullMethodName) =>
        fullMethodName is not null && (Roles.ContainsKey(fullMethodName.TrimStart('/')) || IsAnonymous(fullMethodName));
}
