using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.Core;
using Tokenizer.Contracts.V1;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// Every string field of every request of every service, over real gRPC: a PAN written with separators is refused
/// INVALID_ARGUMENT with a field violation naming the field, and nothing is stored. The fields come from the proto
/// descriptors, so a field added later fails here until it goes through the free-text rule or is classified below.
/// </summary>
public sealed class CardDataInEveryFieldTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    /// <summary>The review's writings of one PAN (Luhn-valid 4663 9233 2146 8814).</summary>
    private static readonly string[] Writings = ["4663_9233_2146_8814", "4663/9233/2146/8814", "４６６３９２３３２１４６８８１４", "4663\u20099233\u20092146\u20098814", "㊷㊷㊷㊷㊷㊷㊷㊷"];

    /// <summary>String fields that are not free text, and why a PAN in them cannot rest anywhere.</summary>
    private static readonly Dictionary<string, string> NotFreeText = new()
    {
        ["page_token"] = "server-issued cursor: decoded and re-encoded, refused unless it round-trips",
        ["after"] = "server-issued token event cursor: decoded and re-encoded, refused unless it round-trips",
        ["card.number"] = "the card number itself: card rules, sent to the gateway, never stored",
        ["card.cvc"] = "the CVC itself: 3-4 digits, never stored",
        ["sepa_debit.iban"] = "the IBAN itself",
        ["au_becs_debit.bsb_number"] = "bank data field: 6 digits",
        ["au_becs_debit.account_number"] = "bank data field: digits",
        ["bacs_debit.sort_code"] = "bank data field: 6 digits",
        ["bacs_debit.account_number"] = "bank data field: digits",
        ["us_bank_account.routing_number"] = "bank data field: 9 digits",
        ["us_bank_account.account_number"] = "bank data field: digits",
    };

    public static TheoryData<string, string> StringFields()
    {
        var data = new TheoryData<string, string>();
        foreach (var service in Services)
        {
            foreach (var method in service.Methods)
            {
                foreach (var path in StringPaths(method.InputType, string.Empty))
                {
                    data.Add(method.FullName, path);
                }
            }
        }

        return data;
    }

    [Fact]
    public void StringFields_EveryRequestField_ClassifiedOrFreeText()
    {
        // A control: the enumeration sees the fields the review used.
        var all = StringFields().Select(row => (string)row[1]).ToHashSet();
        Assert.Contains("customer_reference", all);
        Assert.Contains("billing_details.address.line1", all);
        Assert.Contains("reason", all);
        Assert.Contains("filter.customer_reference", all);

        // Idempotency keys are free text too (a CVC must not be kept even inside their keyed HMAC): every RPC's key is
        // tried by the theory below, and there are at least five of them.
        Assert.DoesNotContain("idempotency_key", NotFreeText.Keys);
        Assert.True(StringFields().Count(row => (string)row[1] == "idempotency_key") >= 5);
    }

    [Theory]
    [MemberData(nameof(StringFields))]
    public async Task Call_SeparatedOrUnicodePanInStringField_RefusedNamingField(string method, string path)
    {
        if (NotFreeText.ContainsKey(LastSegments(path)))
        {
            return;
        }

        var descriptor = Services.SelectMany(s => s.Methods).Single(m => m.FullName == method);
        foreach (var writing in Writings)
        {
            // Arrange
            var request = descriptor.InputType.Parser.ParseFrom(ByteString.Empty);
            Set(request, path.Split('.'), writing);

            // Act
            var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(descriptor, request));

            // Assert
            Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{method} {path}: {error.StatusCode}");
            var violations = error.GetRpcStatus()!.Details.Where(d => d.Is(BadRequest.Descriptor))
                .SelectMany(d => d.Unpack<BadRequest>().FieldViolations).ToList();
            var violation = Assert.Single(violations, v => v.Field == path);
            Assert.Contains("card", violation.Description, StringComparison.Ordinal);
            Assert.DoesNotContain("4663", error.Status.Detail + string.Join(" ", violations.Select(v => v.Description)), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Disguises, all printable ASCII without spaces (so every field's shape admits them and
    /// only the card-data rule can refuse them): an IBAN joined by lone letters, a CVC after seven separators, a label
    /// after its number, a label spelled with single and double separators.
    /// </summary>
    private static readonly string[] Disguises = ["NL31xFQGBx1715x4278x05", "cvc:______7391", "8826(acct)", "0471_cvv2", "s_e_c_u_r_i_t_y__c_o_d_e_123"];

    [Theory]
    [MemberData(nameof(StringFields))]
    public async Task Call_DisguisedIbanOrLabelledNumberInStringField_RefusedNamingField(string method, string path)
    {
        if (NotFreeText.ContainsKey(LastSegments(path)))
        {
            return;
        }

        var descriptor = Services.SelectMany(s => s.Methods).Single(m => m.FullName == method);
        foreach (var disguise in Disguises)
        {
            // Arrange
            var request = descriptor.InputType.Parser.ParseFrom(ByteString.Empty);
            Set(request, path.Split('.'), disguise);

            // Act
            var error = await Assert.ThrowsAsync<RpcException>(() => CallAsync(descriptor, request));

            // Assert: refused for the field, by a rule that names card data, never quoting the value.
            Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{method} {path} {disguise}: {error.StatusCode}");
            var violations = error.GetRpcStatus()!.Details.Where(d => d.Is(BadRequest.Descriptor))
                .SelectMany(d => d.Unpack<BadRequest>().FieldViolations).ToList();
            var violation = Assert.Single(violations, v => v.Field == path);
            Assert.Contains("card", violation.Description, StringComparison.Ordinal);
            Assert.DoesNotContain(disguise, error.Status.Detail + string.Join(" ", violations.Select(v => v.Description)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TokenizeCard_SeparatedPanInCustomerReference_InvalidArgumentAndNothingStored()
    {
        // Arrange: a control reference that is stored, to prove the search would see one.
        var control = "it-control-" + Guid.NewGuid().ToString("N")[..8];
        await server.Client.TokenizeCardAsync(Requests.Card("4242424242424242", Requests.NewKey(), control));
        var request = Requests.Card("4242424242424242", Requests.NewKey(), "4663_9233_2146_8814");

        // Act
        var error = await Assert.ThrowsAsync<RpcException>(async () => await server.Client.TokenizeCardAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        var bytes = Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(path => Path.GetFileName(path) != ".lock")
            .Select(ReadShared).SelectMany(b => new[] { Encoding.UTF8.GetString(b), Encoding.Unicode.GetString(b) }).ToList();
        Assert.Contains(bytes, text => text.Contains(control, StringComparison.Ordinal));
        Assert.DoesNotContain(bytes, text => text.Contains("4663_9233", StringComparison.Ordinal) || text.Contains("4663923321468814", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, line => line.Contains("4663_9233", StringComparison.Ordinal));
    }

    private static readonly ServiceDescriptor[] Services =
    [
        TokenizerService.Descriptor, PrivacyService.Descriptor, ReconciliationService.Descriptor, AuditService.Descriptor,
    ];

    private static IEnumerable<string> StringPaths(MessageDescriptor message, string prefix, int depth = 0)
    {
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            var path = prefix + field.Name;
            if (field.FieldType == FieldType.String)
            {
                yield return path;
            }
            else if (field.FieldType == FieldType.Message && !field.IsRepeated && depth < 4
                && !field.MessageType.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal))
            {
                foreach (var inner in StringPaths(field.MessageType, path + ".", depth + 1))
                {
                    yield return inner;
                }
            }
        }
    }

    private static string LastSegments(string path)
    {
        var parts = path.Split('.');
        return parts.Length >= 2 && !NotFreeText.ContainsKey(parts[^1]) ? string.Join('.', parts[^2..]) : parts[^1];
    }

    private static void Set(IMessage message, string[] path, string value)
    {
        var field = message.Descriptor.FindFieldByName(path[0]);
        if (path.Length == 1)
        {
            field.Accessor.SetValue(message, value);
            return;
        }

        var inner = (IMessage?)field.Accessor.GetValue(message);
        if (inner is null)
        {
            inner = field.MessageType.Parser.ParseFrom(ByteString.Empty);
            field.Accessor.SetValue(message, inner);
        }

        Set(inner, path[1..], value);
    }

    private async Task CallAsync(MethodDescriptor descriptor, IMessage request)
    {
        var marshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => descriptor.OutputType.Parser.ParseFrom(bytes));
        var requestMarshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => descriptor.InputType.Parser.ParseFrom(bytes));
        var type = descriptor.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var method = new Method<IMessage, IMessage>(type, descriptor.Service.FullName, descriptor.Name, requestMarshaller, marshaller);
        RpcException? denied = null;
        foreach (var role in new[] { "billing", "finance", "admin" })
        {
            var invoker = server.ChannelFor(role).CreateCallInvoker();
            try
            {
                if (descriptor.IsServerStreaming)
                {
                    using var call = invoker.AsyncServerStreamingCall(method, null, new CallOptions(), request);
                    while (await call.ResponseStream.MoveNext(CancellationToken.None))
                    {
                    }
                }
                else
                {
                    await invoker.AsyncUnaryCall(method, null, new CallOptions(), request);
                }

                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.PermissionDenied)
            {
                denied = e;
            }
        }

        throw denied!;
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
