using System.Text.Json;
using Grpc.Core;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// An erasure interrupted halfway: the real server process is killed (SIGKILL, fail point
/// <c>kill-erasure-after-first-detach</c>) after the first of two PaymentMethods is detached; after a restart, the next
/// EraseSubject call finishes it from the stored progress.
/// </summary>
public sealed class ErasureCrashTests
{
    [Fact]
    public async Task EraseSubject_KilledAfterTheFirstDetach_NextCallAfterRestartFinishesIt()
    {
        var directory = Directory.CreateTempSubdirectory("tokenizer-erase-crash-").FullName;
        try
        {
            const string reference = "cust-erase-crash";
            var tokens = new List<string>();
            var erase = new EraseSubjectRequest { CustomerReference = reference, IdempotencyKey = Requests.NewKey(), Reason = "crash test" };

            // The first attempt: two tokens, then the erasure dies after detaching the first.
            await using (var doomed = await ServerProcess.StartAsync(directory, "--Tokenizer:FailPoint=kill-erasure-after-first-detach"))
            {
                foreach (var number in new[] { "4242424242424242", "5555555555554444" })
                {
                    var request = Requests.Card(number, Requests.NewKey(), customer: reference);
                    request.BillingDetails = new BillingDetails { Name = "Crash Erasable Person", Email = "crash.erasable@example.org" };
                    tokens.Add((await doomed.Client.TokenizeCardAsync(request)).Token.Token_);
                }

                var privacy = new PrivacyService.PrivacyServiceClient(TestChannels.Create(doomed.Address, Path.Combine(directory, "pki"), "admin"));
                var lost = await Assert.ThrowsAsync<RpcException>(() => privacy.EraseSubjectAsync(erase).ResponseAsync);
                Assert.Contains(lost.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal, StatusCode.Unknown });
                await doomed.WaitForExitAsync();
            }

            // Halfway: exactly one of the two is detached at the gateway.
            Assert.Equal(1, tokens.Count(token => AttachedCustomer(directory, token) is null));

            // The cut-off call's claim holds its key for the claim's lease (as a tokenisation's does): a short one here,
            // so the same call again takes the claim over instead of waiting two minutes.
            await using (var server = await ServerProcess.StartAsync(directory, "--Tokenizer:PendingLeaseSeconds=2"))
            {
                var privacy = new PrivacyService.PrivacyServiceClient(TestChannels.Create(server.Address, Path.Combine(directory, "pki"), "admin"));
                var before = await privacy.GetErasureStatusAsync(new GetErasureStatusRequest { CustomerReference = reference });
                Assert.Equal((ErasureState.Detaching, 1), (before.Status.State, before.Status.PaymentMethodsDetached));

                // Act: the same call again.
                var finished = await privacy.EraseSubjectAsync(erase);

                // Assert
                Assert.Equal(ErasureState.Completed, finished.Status.State);
                Assert.Equal(2, finished.Status.PaymentMethodsDetached);
                Assert.Equal(before.Status.RequestedAt, finished.Status.RequestedAt);
                var export = await privacy.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = reference });
                Assert.Empty(export.Tokens);
                Assert.Empty(export.GatewayCustomerIds);
                await server.StopAsync();
            }

            Assert.All(tokens, token => Assert.Null(AttachedCustomer(directory, token)));
            Assert.Equal(0, CustomersAtTheGateway(directory));
        }
        finally
        {
            TokenizerServerFixture.TryDelete(directory);
        }
    }

    /// <summary>The Customer a PaymentMethod is attached to in the embedded sandbox's persisted state, or null.</summary>
    private static string? AttachedCustomer(string directory, string paymentMethod)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sandbox", "state.json")));
        var view = state.RootElement.GetProperty("payment_methods").EnumerateArray()
            .Select(p => p.GetProperty("view"))
            .Single(v => v.GetProperty("id").GetString() == paymentMethod);
        return view.GetProperty("customer").GetString();
    }

    private static int CustomersAtTheGateway(string directory)
    {
        using var state = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "sandbox", "state.json")));
        return state.RootElement.GetProperty("customers").GetArrayLength();
    }
}
