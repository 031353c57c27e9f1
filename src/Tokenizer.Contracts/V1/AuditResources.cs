// Each RPC's request message declares which resource its call acts on, so the audit record names it without a type
// switch over messages that a new RPC could silently miss: Server.Tests' AuditResourceDeclarationTests fails for any
// request type of any tokenizer.v1 service that does not implement IAuditResource. A response declares one only when it
// names the resource the call created or acted on (it came from the ledger, so it wins over the request's).
namespace Tokenizer.Contracts.V1;

/// <summary>
/// The resource an audit record names for a call carrying this message: a token id or a reconciliation run id, as the
/// message holds it. The server records it only when it is shaped like such an id (callers control request fields).
/// </summary>
public interface IAuditResource
{
    /// <summary>The resource id, or null when the call acts on no single token or run (listings, new tokens before the response).</summary>
    string? AuditResource { get; }
}

public sealed partial class TokenizeCardRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>None yet: the response names the new token.</remarks>
    public string? AuditResource => null;
}

public sealed partial class TokenizeCardResponse : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token?.Token_;
}

public sealed partial class TokenizeBankAccountRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>None yet: the response names the new token.</remarks>
    public string? AuditResource => null;
}

public sealed partial class TokenizeBankAccountResponse : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token?.Token_;
}

public sealed partial class GetTokenRequest : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token;
}

public sealed partial class GetTokenResponse : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token?.Token_;
}

public sealed partial class ListTokensRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>A listing; its customer reference is never recorded.</remarks>
    public string? AuditResource => null;
}

public sealed partial class RevokeTokenRequest : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token;
}

public sealed partial class RevokeTokenResponse : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => Token?.Token_;
}

public sealed partial class ListTokenEventsRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>A listing.</remarks>
    public string? AuditResource => null;
}

public sealed partial class WatchTokenEventsRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>A stream of many tokens' events.</remarks>
    public string? AuditResource => null;
}

public sealed partial class VerifyAuditTrailRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>The whole trail.</remarks>
    public string? AuditResource => null;
}

public sealed partial class ExportAuditEventsRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>A range of the trail.</remarks>
    public string? AuditResource => null;
}

public sealed partial class StartReconciliationRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>None yet: the response names the new run.</remarks>
    public string? AuditResource => null;
}

public sealed partial class StartReconciliationResponse : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => RunId;
}

public sealed partial class GetReconciliationRequest : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => RunId;
}

public sealed partial class ListReconciliationItemsRequest : IAuditResource
{
    /// <inheritdoc />
    public string? AuditResource => RunId;
}

public sealed partial class ListReconciliationsRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>A listing.</remarks>
    public string? AuditResource => null;
}

public sealed partial class ExportSubjectDataRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>The subject's keyed pseudonym, which the handler sets on the call; never the reference in clear.</remarks>
    public string? AuditResource => null;
}

public sealed partial class CorrectSubjectDataRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>The subject's keyed pseudonym, which the handler sets on the call; never the reference in clear.</remarks>
    public string? AuditResource => null;
}

public sealed partial class EraseSubjectRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>The subject's keyed pseudonym, which the handler sets on the call; never the reference in clear.</remarks>
    public string? AuditResource => null;
}

public sealed partial class GetErasureStatusRequest : IAuditResource
{
    /// <inheritdoc />
    /// <remarks>The subject's keyed pseudonym, which the handler sets on the call; never the reference in clear.</remarks>
    public string? AuditResource => null;
}
