using Google.Protobuf;
using Tokenizer.Contracts.V1;
using Tokenizer.Core.Audit;

namespace Tokenizer.Server.Audit;

/// <summary>
/// An <see cref="AuditVerification"/> as the wire's <see cref="VerifyAuditTrailResponse"/>. One mapping for the server's
/// VerifyAuditTrail and the CLI's <c>audit verify --offline</c> (this file is compiled into both), so the two reports
/// never differ.
/// </summary>
internal static class AuditVerificationResponses
{
    /// <summary>The verdict of a walk checked against <paramref name="anchor"/> (null: none).</summary>
    public static VerifyAuditTrailResponse From(AuditVerification result, AuditAnchor? anchor)
    {
        ArgumentNullException.ThrowIfNull(result);
        var response = new VerifyAuditTrailResponse
        {
            AnchorSequence = anchor?.Sequence ?? 0,
            Intact = result.Intact,
            RecordsChecked = result.RecordsChecked,
            FirstBrokenSequence = result.FirstBrokenSequence,
            Problem = result.Problem ?? string.Empty,
            HeadSequence = result.HeadSequence,
            HeadMac = ByteString.CopyFrom(result.HeadMac),
            BrokenCount = result.BrokenCount,
        };
        AddBroken(response, result);
        return response;
    }

    /// <summary>
    /// The verdict when the stored anchor fails its seal: the walk without it (<paramref name="unanchored"/>), and the
    /// anchor named broken (<see cref="AuditProblems.AnchorInvalid"/> at the head when the walk itself was intact).
    /// </summary>
    public static VerifyAuditTrailResponse AnchorInvalid(AuditVerification unanchored)
    {
        ArgumentNullException.ThrowIfNull(unanchored);

        // Only the table changed (its problems are listed on their own): every record verified.
        var walkIntact = unanchored.Intact || unanchored.Problem == AuditProblems.TableChanged;
        var invalid = new VerifyAuditTrailResponse
        {
            Intact = false,
            RecordsChecked = unanchored.RecordsChecked,
            FirstBrokenSequence = walkIntact ? unanchored.HeadSequence : unanchored.FirstBrokenSequence,
            Problem = walkIntact ? AuditProblems.AnchorInvalid : unanchored.Problem,
            HeadSequence = unanchored.HeadSequence,
            HeadMac = ByteString.CopyFrom(unanchored.HeadMac),
            BrokenCount = unanchored.BrokenCount,
        };
        AddBroken(invalid, unanchored);
        if (walkIntact)
        {
            invalid.Broken.Add(new BrokenAuditRecord { Sequence = unanchored.HeadSequence, Problem = AuditProblems.AnchorInvalid });
            invalid.BrokenCount = 1;
        }

        return invalid;
    }

    private static void AddBroken(VerifyAuditTrailResponse response, AuditVerification result)
    {
        response.Broken.AddRange(result.Broken.Select(b => new BrokenAuditRecord { Sequence = b.Sequence, Problem = b.Problem }));
        response.TableProblems.AddRange(result.TableProblems);
    }
}
