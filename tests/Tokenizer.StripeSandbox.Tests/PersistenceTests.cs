using System.Text;
using Stripe;

namespace Tokenizer.StripeSandbox.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "stripe-sandbox-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_WithDataDirectory_KeepsPaymentMethodCustomerAndFingerprint()
    {
        PaymentMethod attached;
        Customer customer;
        SandboxStats before;
        await using (var first = await SandboxHarness.StartAsync(o => o.DataDirectory = directory))
        {
            var client = SandboxHarness.Client(first);
            customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions { Name = "Persisted" });
            var created = await client.V1.PaymentMethods.CreateAsync(
                SandboxHarness.Card("4242424242424242"), new RequestOptions { IdempotencyKey = "restart-1" });
            attached = await client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
            before = first.GetStats();
        }

        await using var second = await SandboxHarness.StartAsync(o => o.DataDirectory = directory);
        var again = SandboxHarness.Client(second);
        var fetched = await again.V1.PaymentMethods.GetAsync(attached.Id);
        var listed = await again.V1.Customers.PaymentMethods.ListAsync(customer.Id);
        var sameCard = await again.V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"));
        var replayed = await again.V1.PaymentMethods.CreateAsync(
            SandboxHarness.Card("4242424242424242"), new RequestOptions { IdempotencyKey = "restart-1" });

        Assert.Equal(new SandboxStats(1, 1, 1), before);
        Assert.Equal(customer.Id, fetched.CustomerId);
        Assert.Equal("visa", fetched.Card.Brand);
        Assert.Equal("4242", fetched.Card.Last4);
        Assert.Equal(attached.Card.Fingerprint, fetched.Card.Fingerprint);
        Assert.Equal(attached.Card.Fingerprint, sameCard.Card.Fingerprint);
        Assert.Equal(attached.Id, Assert.Single(listed.Data).Id);
        Assert.Equal(attached.Id, replayed.Id);
        Assert.Equal("true", SandboxHarness.Header(replayed, "Idempotent-Replayed"));
        Assert.Equal(new SandboxStats(2, 1, 1), second.GetStats());
    }

    [Fact]
    public async Task Restart_WithDataDirectory_KeepsSetupIntentsMandatesAndWhatTheyAllowToCharge()
    {
        Customer customer;
        PaymentMethod debit;
        SetupIntent setUp;
        SetupIntent awaiting;
        PaymentIntent charge;
        await using (var first = await SandboxHarness.StartAsync(o => o.DataDirectory = directory))
        {
            var client = SandboxHarness.Client(first);
            (customer, debit, setUp) = await SetupHarness.SetUpAsync(client, SandboxHarness.Sepa());
            (_, _, awaiting) = await SetupHarness.SetUpAsync(client, SandboxHarness.UsBank());
            charge = await client.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id));
        }

        await using var second = await SandboxHarness.StartAsync(o => o.DataDirectory = directory);
        var again = SandboxHarness.Client(second);
        var mandate = await again.V1.Mandates.GetAsync(setUp.MandateId);
        var found = await again.V1.SetupIntents.ListAsync(new SetupIntentListOptions { Customer = customer.Id, PaymentMethod = debit.Id, Limit = 1 });
        var settled = await again.V1.PaymentIntents.GetAsync(charge.Id);
        var verified = await again.V1.SetupIntents.VerifyMicrodepositsAsync(awaiting.Id, new SetupIntentVerifyMicrodepositsOptions { DescriptorCode = "SM11AA" });
        var secondCharge = await again.V1.PaymentIntents.CreateAsync(ThreeDSecureTests.Charge(customer.Id, debit.Id));
        var state = await System.IO.File.ReadAllTextAsync(Path.Combine(directory, "state.json"));

        Assert.Equal("active", mandate.Status);
        Assert.Equal(setUp.Id, Assert.Single(found.Data).Id);
        Assert.Equal("203.0.113.7", mandate.CustomerAcceptance.Online.IpAddress);
        Assert.Equal("succeeded", settled.Status);
        Assert.Equal("succeeded", verified.Status);
        Assert.Equal("processing", secondCharge.Status);
        Assert.Equal("succeeded", (await again.V1.SetupIntents.GetAsync(setUp.Id)).Status);
        Assert.DoesNotContain("AT611904300234573201", state, StringComparison.Ordinal);
        Assert.DoesNotContain("000123456789", state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restart_WithoutDataDirectory_StartsEmptyWithNewFingerprints()
    {
        string firstFingerprint;
        await using (var first = await SandboxHarness.StartAsync())
        {
            firstFingerprint = (await SandboxHarness.Client(first).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"))).Card.Fingerprint;
        }

        await using var second = await SandboxHarness.StartAsync();
        var secondFingerprint = (await SandboxHarness.Client(second).V1.PaymentMethods.CreateAsync(SandboxHarness.Card("4242424242424242"))).Card.Fingerprint;

        Assert.NotEqual(firstFingerprint, secondFingerprint);
        Assert.Equal(1, second.GetStats().PaymentMethods);
    }

    [Fact]
    public async Task StartAsync_DataDirectoryInUse_Throws()
    {
        await using var first = await SandboxHarness.StartAsync(o => o.DataDirectory = directory);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SandboxHarness.StartAsync(o => o.DataDirectory = directory));

        Assert.Contains("DataDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataDirectory_AfterTokenising_HoldsNoPanAccountNumberOrIban()
    {
        string[] pans = ["4242424242424242", "5555555555554444", "378282246310005", "4000000000009995", "4242424242424241"];
        string[] accounts = ["000123456", "00012345", "000123456789", "AT611904300234573201", "DE89370400440532013000"];
        var ids = new List<string>();
        await using (var server = await SandboxHarness.StartAsync(o => o.DataDirectory = directory))
        {
            var client = SandboxHarness.Client(server);
            var customer = await client.V1.Customers.CreateAsync(new CustomerCreateOptions());
            foreach (var pan in pans)
            {
                try
                {
                    var created = await client.V1.PaymentMethods.CreateAsync(SandboxHarness.Card(pan), new RequestOptions { IdempotencyKey = "pan-" + pan[^4..] });
                    ids.Add(created.Id);
                    await client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
                }
                catch (StripeException)
                {
                    // Declines and invalid numbers: their stored error bodies are swept too.
                }
            }

            foreach (var options in new[]
            {
                SandboxHarness.AuBecs(account: accounts[0]), SandboxHarness.Bacs(account: accounts[1]), SandboxHarness.UsBank(account: accounts[2]),
                SandboxHarness.Sepa(accounts[3]), SandboxHarness.Sepa(accounts[4]),
            })
            {
                var created = await client.V1.PaymentMethods.CreateAsync(options);
                ids.Add(created.Id);
                await client.V1.PaymentMethods.AttachAsync(created.Id, new PaymentMethodAttachOptions { Customer = customer.Id });
            }

            Assert.Equal(9, server.GetStats().PaymentMethods);
        }

        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories);
        var text = string.Concat(files.Select(f => Encoding.UTF8.GetString(System.IO.File.ReadAllBytes(f))));

        Assert.Contains(Path.Combine(directory, "state.json"), files);
        Assert.Contains(Path.Combine(directory, "fingerprint.key"), files);
        Assert.All(ids, id => Assert.Contains(id, text, StringComparison.Ordinal));
        Assert.All(pans, pan => Assert.DoesNotContain(pan, text, StringComparison.Ordinal));
        Assert.All(accounts, account => Assert.DoesNotContain(account, text, StringComparison.Ordinal));
        Assert.DoesNotContain("pan-4242", text, StringComparison.Ordinal);
    }
}
