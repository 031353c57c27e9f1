using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;
using Tokenizer.Core.Domain;
using Tokenizer.Core.Errors;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Privacy;
using Tokenizer.Core.Tokenization;
using Tokenizer.Core.Validation;

namespace Tokenizer.Core.Tests.Tokenization;

/// <summary>
/// Which key creates a reference's next gateway Customer: after the last deleted one the ledger records under the
/// subject's pseudonym, never by walking every deletion from the first Customer. The ports are substituted (one class
/// under test); the gateway substitute behaves as Stripe's idempotency does (one Customer per key, replayed).
/// </summary>
public sealed class CustomerSuccessionTests
{
    private const string Reference = "cust-1";
    private static readonly CallerContext Caller = new("default", CallerRoles.Tokenize);
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private readonly RequestHasher hasher = new(Secret);
    private readonly string subject = new SubjectPseudonyms(Secret).Of(Reference);
    private readonly ITokenGateway gateway = Substitute.For<ITokenGateway>();
    private readonly IClaimStore claimStore = Substitute.For<IClaimStore>();
    private readonly ICustomerRepository customerRepository = Substitute.For<ICustomerRepository>();
    private readonly ITokenRepository tokenRepository = Substitute.For<ITokenRepository>();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<string, string> customersByKey = new(StringComparer.Ordinal);
    private readonly HashSet<string> deletedCustomers = new(StringComparer.Ordinal);
    private readonly List<string> recorded = [];
    private readonly TokenizationService service;
    private string? lastDeleted;

    public CustomerSuccessionTests()
    {
        gateway.Name.Returns("stripe");
        claimStore.ClaimAsync(default!, default).ReturnsForAnyArgs(new IdempotencyOutcome(IdempotencyState.Started));
        customerRepository.FindCustomerAsync("stripe", Reference, Arg.Any<CancellationToken>()).Returns((string?)null);
        customerRepository.SaveCustomerAsync("stripe", Reference, Arg.Any<string>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call => (string)call[2]);

        // Stripe's idempotency: the first creation under a key is the one every later request with that key gets.
        gateway.CreateCustomerAsync(Reference, Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            var key = (string)call[1];
            if (!customersByKey.TryGetValue(key, out var id))
            {
                id = "cus_" + (customersByKey.Count + 1);
                customersByKey[key] = id;
            }

            return id;
        });
        gateway.IsCustomerDeletedAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(call => deletedCustomers.Contains((string)call[0]));
        gateway.CreatePaymentMethodAsync(default!, default!, default).ReturnsForAnyArgs(
            new GatewayPaymentMethod("pm_1", TokenType.Card, new CardMetadata("visa", "4242", 12, 2030, "credit", "US", "fp"), null));
        gateway.CreateSetupIntentAsync(default!, default!, default).ReturnsForAnyArgs(new GatewaySetup("seti_1", SetupStatus.Ready, null, null, null, "pm_1"));

        // The ledger's compare-and-set on the subject's last deleted Customer.
        customerRepository.FindLastDeletedCustomerAsync("stripe", subject, Arg.Any<CancellationToken>()).Returns(_ => lastDeleted);
        customerRepository.RecordDeletedCustomerAsync("stripe", subject, Arg.Any<string?>(), Arg.Any<string>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                if ((string?)call[2] != lastDeleted)
                {
                    return false;
                }

                lastDeleted = (string)call[3];
                recorded.Add(lastDeleted);
                return true;
            });

        service = new TokenizationService(
            new RequestValidator(time),
            gateway,
            claimStore,
            customerRepository,
            tokenRepository,
            hasher,
            time,
            new TokenizationSettings { DuplicateWait = TimeSpan.Zero },
            NullLogger<TokenizationService>.Instance,
            pseudonyms: new SubjectPseudonyms(Secret));
    }

    [Fact]
    public async Task TokenizeCard_ErasedTwelveTimes_EachTokenisationCreatesTwoCustomersAtMostAndRecordsTheDeletedOne()
    {
        // Arrange: the first tokenisation, then twelve rounds of an erasure (Customer deleted, mapping dropped) and a
        // tokenisation.
        var creations = new List<int>();
        for (var round = 0; round <= 12; round++)
        {
            gateway.ClearReceivedCalls();

            // Act
            var token = (await service.TokenizeCardAsync(Caller, Card("key-" + round), CancellationToken.None)).Token;

            // Assert: a live Customer, one no earlier round had.
            Assert.DoesNotContain(token.GatewayCustomerId!, deletedCustomers);
            creations.Add(gateway.ReceivedCalls().Count(c => c.GetMethodInfo().Name == nameof(ITokenGateway.CreateCustomerAsync)));
            deletedCustomers.Add(token.GatewayCustomerId!);
        }

        // Assert: one creation the first time (nothing deleted yet), then two each round whatever the number of erasures
        // before it (the replay of the Customer deleted since, then its successor); every deleted one recorded in order.
        Assert.Equal([1, .. Enumerable.Repeat(2, 12)], creations);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => "cus_" + i), recorded);
    }

    [Fact]
    public async Task TokenizeCard_LastDeletedCustomerRecorded_CreatesUnderTheKeyDerivedFromItOnly()
    {
        // Arrange: the ledger records cus_9 as the subject's last deleted Customer.
        lastDeleted = "cus_9";

        // Act
        var token = (await service.TokenizeCardAsync(Caller, Card("key-1"), CancellationToken.None)).Token;

        // Assert: created once, under the key after cus_9; the reference's first key (which Stripe would replay as a
        // deleted Customer) never sent.
        Assert.Equal("cus_1", token.GatewayCustomerId);
        await gateway.Received(1).CreateCustomerAsync(Reference, hasher.ReplacementCustomerKey("stripe", Reference, "cus_9"), Arg.Any<CancellationToken>());
        await gateway.DidNotReceive().CreateCustomerAsync(Reference, hasher.CustomerKey("stripe", Reference), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task TokenizeCard_CustomersDeletedFasterThanTheRequestReplacesThem_UnavailableBeforeAnyPaymentMethodAndARetryGoesOn()
    {
        // Arrange: the next six Customers the succession would reach are deleted already (created and deleted while
        // the request runs).
        for (var i = 0; i < 6; i++)
        {
            var key = i == 0 ? hasher.CustomerKey("stripe", Reference) : hasher.ReplacementCustomerKey("stripe", Reference, "cus_" + i);
            customersByKey[key] = "cus_" + (i + 1);
            deletedCustomers.Add("cus_" + (i + 1));
        }

        // Act
        var error = await Assert.ThrowsAsync<TokenizerException>(() => service.TokenizeCardAsync(Caller, Card("key-1"), CancellationToken.None));

        // Assert: UNAVAILABLE with its own reason, before any PaymentMethod (nothing with the caller's details left at
        // the gateway); the five deleted Customers met recorded, so the retry goes on after them and succeeds.
        Assert.Equal((ErrorKind.Unavailable, ErrorReasons.CustomerReplacementIncomplete), (error.Kind, error.Reason));
        await gateway.DidNotReceiveWithAnyArgs().CreatePaymentMethodAsync(default!, default!, default);
        Assert.Equal("cus_5", lastDeleted);

        var token = (await service.TokenizeCardAsync(Caller, Card("key-1"), CancellationToken.None)).Token;
        Assert.Equal("cus_7", token.GatewayCustomerId);
        await gateway.ReceivedWithAnyArgs(1).CreatePaymentMethodAsync(default!, default!, default);
    }

    [Fact]
    public async Task TokenizeCard_MappedCustomerDeletedAtTheGateway_RecordedAsTheLastDeletedAndReplacedAfterIt()
    {
        // Arrange: the reference maps to cus_1 (created under the first key), deleted at Stripe; the SetupIntent hears 404.
        customersByKey[hasher.CustomerKey("stripe", Reference)] = "cus_1";
        deletedCustomers.Add("cus_1");
        customerRepository.FindCustomerAsync("stripe", Reference, Arg.Any<CancellationToken>()).Returns("cus_1");
        customerRepository.ReplaceCustomerAsync("stripe", Reference, "cus_1", Arg.Any<string>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call => (string)call[3]);
        gateway.CreateSetupIntentAsync(Arg.Is<SetupIntentRequest>(r => r.CustomerId == "cus_1"), Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Throws(new TokenizerException(ErrorKind.Internal, ErrorReasons.GatewayCustomerMissing, "the gateway does not know the customer"));

        // Act
        var token = (await service.TokenizeCardAsync(Caller, Card("key-1"), CancellationToken.None)).Token;

        // Assert: cus_1 recorded (a later request whose mapping is dropped starts after it), its successor mapped.
        Assert.Equal("cus_2", token.GatewayCustomerId);
        Assert.Equal(["cus_1"], recorded);
        await gateway.Received(1).CreateCustomerAsync(Reference, hasher.ReplacementCustomerKey("stripe", Reference, "cus_1"), Arg.Any<CancellationToken>());
    }

    private static TokenizeCardCommand Card(string key) => new(key, Reference, new CardInput("4242424242424242", 12, 2030, "123"), null, null);
}
