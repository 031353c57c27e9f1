using Google.Protobuf.WellKnownTypes;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Tokenization;
using Domain = Tokenizer.Core.Domain;
using V1 = Tokenizer.Contracts.V1;

namespace Tokenizer.Server.Grpc;

/// <summary>Maps between the wire contract (tokenizer.v1) and the domain. No validation here: the domain validates.</summary>
internal static class ProtoMapper
{
    /// <summary>A stored token event as the wire message; the card only for CARD_UPDATED, absent fields empty.</summary>
    public static V1.TokenEvent ToProto(Tokenizer.Core.Ports.TokenEvent item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var message = new V1.TokenEvent
        {
            Cursor = Tokenizer.Core.Events.TokenEventFeed.EncodeCursor(item.Sequence),
            Token = item.Token,
            Kind = ProtoEnums.TokenEventKind.ToWire(item.Kind),
            OccurredAt = Timestamp.FromDateTimeOffset(item.OccurredAt),
            CallerId = item.CallerId,
        };
        if (item.Card is { } card)
        {
            message.Card = new V1.UpdatedCard
            {
                Brand = card.Brand ?? string.Empty,
                Last4 = card.Last4 ?? string.Empty,
                ExpMonth = card.ExpMonth ?? 0,
                ExpYear = card.ExpYear ?? 0,
                Fingerprint = card.Fingerprint ?? string.Empty,
            };
        }

        return message;
    }

    public static TokenizeCardCommand ToCommand(V1.TokenizeCardRequest request) => new(
        request.IdempotencyKey,
        request.CustomerReference,
        request.Card is null ? null : new CardInput(request.Card.Number, request.Card.ExpMonth, request.Card.ExpYear, request.Card.Cvc),
        ToDomain(request.BillingDetails),
        request.ReturnUrl);

    public static TokenizeBankAccountCommand ToCommand(V1.TokenizeBankAccountRequest request)
    {
        BankAccountInput? account = request.AccountCase switch
        {
            V1.TokenizeBankAccountRequest.AccountOneofCase.AuBecsDebit =>
                new AuBecsDebitInput(request.AuBecsDebit.BsbNumber, request.AuBecsDebit.AccountNumber),
            V1.TokenizeBankAccountRequest.AccountOneofCase.SepaDebit => new SepaDebitInput(request.SepaDebit.Iban),
            V1.TokenizeBankAccountRequest.AccountOneofCase.BacsDebit =>
                new BacsDebitInput(request.BacsDebit.SortCode, request.BacsDebit.AccountNumber),
            V1.TokenizeBankAccountRequest.AccountOneofCase.UsBankAccount => new UsBankAccountInput(
                request.UsBankAccount.RoutingNumber,
                request.UsBankAccount.AccountNumber,
                ProtoEnums.AccountHolderType.ToDomain(request.UsBankAccount.AccountHolderType),
                ProtoEnums.AccountType.ToDomain(request.UsBankAccount.AccountType)),
            _ => null,
        };
        return new(request.IdempotencyKey, request.CustomerReference, account, ToDomain(request.BillingDetails), ToDomain(request.MandateAcceptance));
    }

    /// <summary>A wire mandate acceptance in the domain (unvalidated); an out-of-range accepted_at is INVALID_ARGUMENT.</summary>
    public static MandateAcceptanceInput? ToDomain(V1.MandateAcceptance? acceptance) => acceptance is null
        ? null
        : new MandateAcceptanceInput(
            ToTime(acceptance.AcceptedAt, "mandate_acceptance.accepted_at"),
            acceptance.TypeCase == V1.MandateAcceptance.TypeOneofCase.Online
                ? new OnlineAcceptanceInput(acceptance.Online.IpAddress, acceptance.Online.UserAgent)
                : null,
            acceptance.TypeCase == V1.MandateAcceptance.TypeOneofCase.Offline);

    public static ListTokensCommand ToCommand(V1.ListTokensRequest request) => new(
        request.CustomerReference,
        ProtoEnums.TokenStatus.ToDomain(request.Status),
        ToTime(request.CreatedAfter, "created_after"),
        ToTime(request.CreatedBefore, "created_before"),
        request.PageSize,
        request.PageToken);

    public static V1.Token ToProto(Domain.TokenRecord token)
    {
        var proto = new V1.Token
        {
            Token_ = token.Token,
            Gateway = token.Gateway,
            Type = ToProto(token.Type),
            Status = ProtoEnums.TokenStatus.ToWire(token.Status),
            CustomerReference = token.CustomerReference,
            CreatedAt = Timestamp.FromDateTimeOffset(token.CreatedAt),
            RevokedAt = token.RevokedAt is { } revoked ? Timestamp.FromDateTimeOffset(revoked) : null,
            GatewayCustomer = token.GatewayCustomerId ?? string.Empty,
            Setup = ToProto(token.Setup),
            Mandate = token.Mandate is { } mandate ? ToProto(mandate) : null,
        };
        if (token.Card is { } card)
        {
            proto.Card = new V1.CardMetadata
            {
                Brand = card.Brand,
                Last4 = card.Last4,
                ExpMonth = card.ExpMonth,
                ExpYear = card.ExpYear,
                Funding = card.Funding ?? string.Empty,
                Country = card.Country ?? string.Empty,
                Fingerprint = card.Fingerprint ?? string.Empty,
            };
        }

        if (token.BankAccount is { } bank)
        {
            proto.BankAccount = new V1.BankAccountMetadata
            {
                Last4 = bank.Last4,
                BankIdentifier = bank.BankIdentifier ?? string.Empty,
                Country = bank.Country ?? string.Empty,
                Fingerprint = bank.Fingerprint ?? string.Empty,
            };
        }

        return proto;
    }

    /// <summary>A token's setup on the wire.</summary>
    public static V1.TokenSetup ToProto(Domain.TokenSetup setup)
    {
        var proto = new V1.TokenSetup
        {
            Status = ProtoEnums.SetupStatus.ToWire(setup.Status),
            SetupIntent = setup.SetupIntentId ?? string.Empty,
            FailureCode = setup.FailureCode ?? string.Empty,
        };
        if (setup.NextAction is { } next)
        {
            proto.NextAction = new V1.NextAction
            {
                Kind = ProtoEnums.NextActionKind.ToWire(next.Kind),
                Url = next.Url,
                ExpiresAt = next.ExpiresAt is { } expires ? Timestamp.FromDateTimeOffset(expires) : null,
            };
        }

        return proto;
    }

    /// <summary>A mandate on the wire.</summary>
    public static V1.Mandate ToProto(Domain.Mandate mandate) => new()
    {
        Id = mandate.Id,
        Status = ProtoEnums.MandateStatus.ToWire(mandate.Status),
        Type = ProtoEnums.MandateType.ToWire(mandate.Type),
        AcceptedAt = mandate.AcceptedAt is { } accepted ? Timestamp.FromDateTimeOffset(accepted) : null,
    };

    /// <summary>A token type on the wire.</summary>
    public static V1.TokenType ToProto(Domain.TokenType type) => ProtoEnums.TokenType.ToWire(type);

    /// <summary>A wire token type in the domain; UNSPECIFIED (and unknown values) are null.</summary>
    public static Domain.TokenType? ToDomain(V1.TokenType type) => ProtoEnums.TokenType.ToDomain(type);

    /// <summary>A Timestamp as a time, or INVALID_ARGUMENT naming <paramref name="field"/> when it is out of range.</summary>
    public static DateTimeOffset? ToTime(Timestamp? timestamp, string field)
    {
        if (timestamp is null)
        {
            return null;
        }

        // Timestamp's valid range (google/protobuf/timestamp.proto): 0001-01-01 to 9999-12-31, nanos 0..999,999,999.
        if (timestamp.Seconds is < -62135596800 or > 253402300799 || timestamp.Nanos is < 0 or > 999_999_999)
        {
            throw TokenizerException.Invalid([new FieldViolation(field, "must be a valid timestamp")]);
        }

        return timestamp.ToDateTimeOffset();
    }

    public static Domain.BillingDetails? ToDomain(V1.BillingDetails? billing) => billing is null
        ? null
        : new Domain.BillingDetails(
            billing.Name,
            billing.Email,
            billing.Phone,
            billing.Address is null
                ? null
                : new Domain.Address(
                    billing.Address.Line1,
                    billing.Address.Line2,
                    billing.Address.City,
                    billing.Address.State,
                    billing.Address.PostalCode,
                    billing.Address.Country));
}
