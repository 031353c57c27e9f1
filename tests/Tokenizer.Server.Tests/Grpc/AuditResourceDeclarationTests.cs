using System.Reflection;
using Google.Protobuf.Reflection;
using Tokenizer.Contracts.V1;
using Tokenizer.Server.Security;

namespace Tokenizer.Server.Tests.Grpc;

public sealed class AuditResourceDeclarationTests
{
    [Fact]
    public void EveryRpcOfEveryService_RequestDeclaresItsAuditResource()
    {
        // Arrange: every .proto file compiled into Contracts (a new file is found too), every service, every method.
        var methods = typeof(IAuditResource).Assembly.GetTypes()
            .Select(type => type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static))
            .Where(property => property?.PropertyType == typeof(FileDescriptor))
            .Select(property => (FileDescriptor)property!.GetValue(null)!)
            .SelectMany(file => file.Services)
            .SelectMany(service => service.Methods)
            .ToList();

        // Act
        var undeclared = methods
            .Where(method => !typeof(IAuditResource).IsAssignableFrom(method.InputType.ClrType))
            .Select(method => $"{method.FullName}({method.InputType.Name})")
            .ToList();

        // Assert: the walk saw every tokenizer.v1 RPC the policy table serves, and each request declares its resource.
        Assert.Equal(
            RpcPolicies.Roles.Keys.Where(name => name.StartsWith("tokenizer.v1.", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            methods.Select(method => method.Service.FullName + "/" + method.Name).Order(StringComparer.Ordinal));
        Assert.Empty(undeclared);
    }
}
