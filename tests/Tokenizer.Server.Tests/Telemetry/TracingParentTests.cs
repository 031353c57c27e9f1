using System.Diagnostics;
using CsCheck;
using Grpc.Core;
using Tokenizer.Core.Validation;
using Tokenizer.Server.Telemetry;

namespace Tokenizer.Server.Tests.Telemetry;

/// <summary>
/// What the server span takes from the caller's W3C trace context (<see cref="TracingInterceptor.ParentOf"/>): the ids
/// and flags of <c>traceparent</c>, never <c>tracestate</c>, and no ids that read as a card number.
/// </summary>
public sealed class TracingParentTests
{
    private const string Hex = "0123456789abcdef";

    [Fact]
    public void ParentOf_TraceStateWithCardAndBankData_IdsAdoptedStateNeverRead()
    {
        var headers = new Metadata
        {
            { "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
            { "tracestate", "pan=4242424242424242,cvc=123,iban=NL91ABNA0417164300" },
        };

        var parent = TracingInterceptor.ParentOf(headers);

        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", parent.TraceId.ToHexString());
        Assert.Equal("00f067aa0ba902b7", parent.SpanId.ToHexString());
        Assert.Equal(ActivityTraceFlags.Recorded, parent.TraceFlags);
        Assert.True(parent.IsRemote);
        Assert.Null(parent.TraceState);
    }

    [Fact]
    public void ParentOf_GeneratedPanInTheTraceIdOrTheParentId_StartsANewTrace()
    {
        // A Luhn-valid 12-16 digit number at any place of the trace id (32 hex) or the parent id (16 hex), in random hex.
        var pan = Gen.Int[12, 16].SelectMany(length => Gen.Char['0', '9'].Array[length - 1])
            .Select(payload => new string(payload) + Luhn.ComputeCheckDigit(payload));
        var hex = Gen.String[Gen.Char[Hex], 32, 32];
        Gen.Select(pan, hex, hex, Gen.Bool, Gen.Int[0, 1000]).Sample((number, traceHex, parentHex, inTraceId, where) =>
        {
            var width = inTraceId ? 32 : 16;
            var at = where % (width - number.Length + 1);
            var id = (inTraceId ? traceHex : parentHex[..16]).Remove(at, number.Length).Insert(at, number);
            var traceparent = inTraceId ? $"00-{id}-{parentHex[..16]}-01" : $"00-{traceHex}-{id}-01";
            if (!ActivityContext.TryParse(traceparent, null, out _))
            {
                return; // all-zero ids are invalid W3C ids, refused before the detector
            }

            Assert.Equal(default, TracingInterceptor.ParentOf(new Metadata { { "traceparent", traceparent } }));
        });
    }

    [Fact]
    public void ParentOf_RandomTraceparents_AdoptedWithTheirIds()
    {
        // The control: ordinary random ids are taken as they are. A random hex id holds a Luhn-valid run of 12 or more
        // decimal digits by chance and then starts a new trace: 1.3% of 20,000 random traceparents when measured.
        var adopted = 0;
        const int Count = 20_000;
        for (var i = 0; i < Count; i++)
        {
            var traceId = ActivityTraceId.CreateRandom().ToHexString();
            var spanId = ActivitySpanId.CreateRandom().ToHexString();
            var flags = i % 2 == 0 ? "00" : "01";
            var parent = TracingInterceptor.ParentOf(new Metadata { { "traceparent", $"00-{traceId}-{spanId}-{flags}" } });
            if (parent != default)
            {
                Assert.Equal(traceId, parent.TraceId.ToHexString());
                Assert.Equal(spanId, parent.SpanId.ToHexString());
                adopted++;
            }
        }

        Assert.True(adopted >= Count * 97 / 100, $"adopted {adopted} of {Count}");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")]
    [InlineData("00-00000000000000000000000000000000-00f067aa0ba902b7-01")]
    [InlineData("zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    public void ParentOf_AbsentOrMalformed_NewTrace(string? traceparent)
    {
        var headers = new Metadata();
        if (traceparent is not null)
        {
            headers.Add("traceparent", traceparent);
        }

        Assert.Equal(default, TracingInterceptor.ParentOf(headers));
    }
}
