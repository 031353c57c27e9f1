using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Npgsql;
using Tokenizer.Contracts.V1;
using Tokenizer.SecurityTests;
using Tokenizer.Server.Security;
using Tokenizer.StripeSandbox;

namespace Tokenizer.IntegrationTests;

/// <summary>
/// Two real server processes on one PostgreSQL database (the throwaway cluster scripts/test.sh starts) and one shared
/// gateway behave as one service: duplicates sent to both give one token, a token made by one is read, listed and
/// revoked through the other (and the owner's token event watch on the first sees the revoke), and the audit chain
/// both append to verifies.
/// </summary>
public sealed class ReplicaTests
{
    [Fact]
    public async Task TwoReplicasOnPostgres_BehaveAsOneService()
    {
        await using var database = await ThrowawayPostgresDatabase.CreateAsync("tkz_replicas_");
        var root = Directory.CreateTempSubdirectory("tokenizer-replicas-").FullName;

        try
        {
            // One gateway for both replicas, as Stripe would be.
            await using var gateway = await StripeSandboxServer.StartAsync(new StripeSandboxOptions(), "Development");
            var pki = Path.Combine(root, "a", "pki");
            DevelopmentPki.EnsureCreated(pki, TimeProvider.System);
            CopyDirectory(pki, Path.Combine(root, "b", "pki"));
            var (certificate, key) = DataProtectionCertificate(root);
            var connection = database.ConnectionString;
            var variables = new Dictionary<string, string>
            {
                ["Stripe__ApiKey"] = "sk_test_replicas",
                ["Tokenizer__RequestHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Tokenizer__AuditHmacSecret"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["ConnectionStrings__Ledger"] = connection,
            };
            string[] args =
            [
                "--Ledger:Provider=Postgres",
                $"--Stripe:ApiBase={gateway.BaseAddress.ToString().TrimEnd('/')}",
                $"--Tokenizer:Tls:CertificatePath={Path.Combine(pki, "server.crt")}",
                $"--Tokenizer:Tls:KeyPath={Path.Combine(pki, "server.key")}",
                $"--Tokenizer:Tls:ClientCaPath={Path.Combine(pki, "ca.crt")}",
                $"--Tokenizer:DataProtection:CertificatePath={certificate}",
                $"--Tokenizer:DataProtection:CertificateKeyPath={key}",
            ];

            await using var a = await ServerProcess.StartAsync(Path.Combine(root, "a"), "Development", variables, args);
            await using var b = await ServerProcess.StartAsync(Path.Combine(root, "b"), "Development", variables, args);
            var billingA = a.Client;
            var billingB = b.Client;
            var financeB = new TokenizerService.TokenizerServiceClient(TestChannels.Create(b.Address, pki, "finance"));
            var adminB = new TokenizerService.TokenizerServiceClient(TestChannels.Create(b.Address, pki, "admin"));
            var auditA = new AuditService.AuditServiceClient(TestChannels.Create(a.Address, pki, "admin"));

            // Concurrent duplicates across replicas: one PaymentMethod, one token.
            var before = gateway.GetStats().PaymentMethods;
            var duplicateKey = Requests.NewKey();
            var calls = Enumerable.Range(0, 20).Select(async i =>
            {
                var client = i % 2 == 0 ? billingA : billingB;
                try
                {
                    return (await client.TokenizeCardAsync(Requests.Card("4242424242424242", duplicateKey, customer: "cust-replicas"))).Token.Token_;
                }
                catch (RpcException error) when (error.StatusCode == StatusCode.Aborted)
                {
                    return "aborted";
                }
            });
            var tokens = (await Task.WhenAll(calls)).Where(t => t != "aborted").Distinct().ToList();
            Assert.Single(tokens);
            Assert.Equal(before + 1, gateway.GetStats().PaymentMethods);

            // A token made by A is read, listed and revoked through B, and A sees the revocation.
            var made = await billingA.TokenizeBankAccountAsync(Requests.Sepa(Requests.NewKey(), customer: "cust-replicas"));
            var read = await financeB.GetTokenAsync(new GetTokenRequest { Token = made.Token.Token_ });
            Assert.Equal(made.Token, read.Token);
            var listed = await financeB.ListTokensAsync(new ListTokensRequest { CustomerReference = "cust-replicas" });
            Assert.Contains(listed.Tokens, t => t.Token_ == made.Token.Token_);
            Assert.Contains(listed.Tokens, t => t.Token_ == tokens[0]);
            // The owner watches token events on A while B revokes: the event recorded by B reaches A's stream.
            var end = (await billingA.ListTokenEventsAsync(new ListTokenEventsRequest { PageSize = 500 })).NextCursor;
            using var watchBound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            using var watchA = billingA.WatchTokenEvents(new WatchTokenEventsRequest { After = end }, cancellationToken: watchBound.Token);
            var revoked = await adminB.RevokeTokenAsync(new RevokeTokenRequest { Token = made.Token.Token_, IdempotencyKey = Requests.NewKey() });
            Assert.Equal(TokenStatus.Revoked, revoked.Token.Status);
            Assert.True(await watchA.ResponseStream.MoveNext(watchBound.Token));
            Assert.Equal((made.Token.Token_, TokenEventKind.Revoked), (watchA.ResponseStream.Current.Token, watchA.ResponseStream.Current.Kind));
            var seenByA = await new TokenizerService.TokenizerServiceClient(TestChannels.Create(a.Address, pki, "finance"))
                .GetTokenAsync(new GetTokenRequest { Token = made.Token.Token_ });
            Assert.Equal(TokenStatus.Revoked, seenByA.Token.Status);

            // Privacy: billing details stored through A (the subject key in the shared database, wrapped with
            // the shared key ring) are exported through B; B erases; A then holds nothing for the subject.
            var subject = Requests.Card("4242424242424242", Requests.NewKey(), customer: "cust-replicas-privacy");
            subject.BillingDetails = new BillingDetails { Name = "Replica Subject", Email = "replica.subject@example.org" };
            var held = (await billingA.TokenizeCardAsync(subject)).Token;
            var privacyA = new PrivacyService.PrivacyServiceClient(TestChannels.Create(a.Address, pki, "admin"));
            var privacyB = new PrivacyService.PrivacyServiceClient(TestChannels.Create(b.Address, pki, "admin"));
            var exportedByB = await privacyB.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = "cust-replicas-privacy" });
            Assert.Equal(held.Token_, Assert.Single(exportedByB.Tokens).Token.Token_);
            Assert.Equal("Replica Subject", exportedByB.Tokens[0].BillingDetails.Name);
            var erasedByB = await privacyB.EraseSubjectAsync(new EraseSubjectRequest { CustomerReference = "cust-replicas-privacy", IdempotencyKey = Requests.NewKey() });
            Assert.Equal(ErasureState.Completed, erasedByB.Status.State);
            var afterErasure = await privacyA.ExportSubjectDataAsync(new ExportSubjectDataRequest { CustomerReference = "cust-replicas-privacy" });
            Assert.Empty(afterErasure.Tokens);
            Assert.Equal(ErasureState.Completed, afterErasure.Erasure.State);

            // Both replicas appended to one chain, and it verifies.
            var verification = await auditA.VerifyAuditTrailAsync(new VerifyAuditTrailRequest());
            Assert.True(verification.Intact, verification.Problem);
            Assert.True(verification.RecordsChecked > 25, $"only {verification.RecordsChecked} records");
        }
        finally
        {
            TokenizerServerFixture.TryDelete(root);
        }
    }

    internal static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    internal static (string Certificate, string Key) DataProtectionCertificate(string directory)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest("CN=Tokenizer Data Protection (replicas test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        var certificatePath = Path.Combine(directory, "dp.crt");
        var keyPath = Path.Combine(directory, "dp.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }
}
