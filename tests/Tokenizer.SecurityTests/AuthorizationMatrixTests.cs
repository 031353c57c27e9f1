using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.IntegrationTests;
using Tokenizer.Server.Security;

namespace Tokenizer.SecurityTests;

/// <summary>
/// Every method of every tokenizer.v1 service, enumerated from the descriptors: without a client certificate it answers
/// UNAUTHENTICATED, with a certificate of a role it does not allow PERMISSION_DENIED. A new RPC cannot ship without a
/// policy: RpcPolicies must name it (or the server does not start) and this matrix then covers it.
/// </summary>
public sealed class AuthorizationMatrixTests(TokenizerServerFixture server) : IClassFixture<TokenizerServerFixture>
{
    private static readonly string[] RoleCertificates = ["billing", "finance", "admin"];
    private static readonly Dictionary<string, string> RoleOf = new(StringComparer.Ordinal)
    {
        ["billing"] = "tokenize",
        ["finance"] = "finance",
        ["admin"] = "admin",
    };

    public static TheoryData<string> Methods()
    {
        var data = new TheoryData<string>();
        foreach (var method in AllMethods())
        {
            data.Add(PolicyName(method));
        }

        return data;
    }

    [Fact]
    public void RpcPolicies_CoverEveryContractMethod()
    {
        var missing = AllMethods().Select(PolicyName).Where(name => !RpcPolicies.Roles.ContainsKey(name)).ToList();

        Assert.NotEmpty(AllMethods());
        Assert.Empty(missing);
    }

    /// <summary>
    /// The only anonymous methods are the gRPC health protocol's (grpc.health.v1.Health, outside tokenizer.v1, so not
    /// in the matrix above); HealthTests proves they answer a status and nothing else.
    /// </summary>
    [Fact]
    public void RpcPolicies_AnonymousMethods_OnlyTheHealthProtocol()
    {
        var contract = AllMethods().Select(PolicyName).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(["grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch"], RpcPolicies.Anonymous.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(RpcPolicies.Anonymous, contract.Contains);
        Assert.DoesNotContain(RpcPolicies.Anonymous, RpcPolicies.Roles.ContainsKey);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Call_NoClientCertificate_Unauthenticated(string fullName)
    {
        var method = AllMethods().Single(m => PolicyName(m) == fullName);

        var status = await CallAsync(method, server.ChannelFor(null));

        Assert.Equal(StatusCode.Unauthenticated, status);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Call_CertificateOfAnotherRole_PermissionDenied(string fullName)
    {
        var method = AllMethods().Single(m => PolicyName(m) == fullName);
        var allowed = RpcPolicies.For(fullName);
        var outsider = RoleCertificates.FirstOrDefault(c => !allowed.Contains(RoleOf[c]));
        Assert.True(outsider is not null, $"{fullName} is open to every role; give it a narrower policy");

        var status = await CallAsync(method, server.ChannelFor(outsider));

        Assert.Equal(StatusCode.PermissionDenied, status);
    }

    [Fact]
    public async Task Call_CertificateFromAnotherCa_Unauthenticated()
    {
        var foreign = Directory.CreateTempSubdirectory("tokenizer-foreign-pki-").FullName;
        try
        {
            DevelopmentPki.EnsureCreated(foreign, TimeProvider.System);
            File.Copy(Path.Combine(server.PkiDirectory, "ca.crt"), Path.Combine(foreign, "ca.crt"), overwrite: true);
            using var channel = TestChannels.Create(server.Address, foreign, "billing");
            var client = new TokenizerService.TokenizerServiceClient(channel);

            var error = await Assert.ThrowsAsync<RpcException>(() => client.GetTokenAsync(new GetTokenRequest { Token = "pm_x" }).ResponseAsync);

            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }
        finally
        {
            TokenizerServerFixture.TryDelete(foreign);
        }
    }

    [Fact]
    public async Task Call_ChainedButUnmappedCertificate_Unauthenticated()
    {
        DevelopmentPki.IssueClient(server.PkiDirectory, "stranger", "CN=stranger", TimeProvider.System);
        var client = new TokenizerService.TokenizerServiceClient(server.ChannelFor("stranger"));

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetTokenAsync(new GetTokenRequest { Token = "pm_x" }).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    private static string PolicyName(MethodDescriptor method) => $"{method.Service.FullName}/{method.Name}";

    private static IEnumerable<MethodDescriptor> AllMethods() =>
        new[] { TokenizerReflection.Descriptor, AuditReflection.Descriptor, PrivacyReflection.Descriptor }
            .SelectMany(file => file.Services)
            .SelectMany(service => service.Methods);

    /// <summary>Calls <paramref name="method"/> with an empty request, generically, and returns the status it ends with.</summary>
    private static async Task<StatusCode> CallAsync(MethodDescriptor method, Grpc.Net.Client.GrpcChannel channel)
    {
        var request = Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => method.InputType.Parser.ParseFrom(bytes));
        var response = Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => method.OutputType.Parser.ParseFrom(bytes));
        var type = method.IsServerStreaming ? MethodType.ServerStreaming : MethodType.Unary;
        var grpcMethod = new Method<IMessage, IMessage>(type, method.Service.FullName, method.Name, request, response);
        var invoker = channel.CreateCallInvoker();
        var input = method.InputType.Parser.ParseFrom(ByteString.Empty);
        try
        {
            if (method.IsServerStreaming)
            {
                using var call = invoker.AsyncServerStreamingCall(grpcMethod, null, new CallOptions(), input);
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            else
            {
                using var call = invoker.AsyncUnaryCall(grpcMethod, null, new CallOptions(), input);
                await call.ResponseAsync;
            }

            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }
}
