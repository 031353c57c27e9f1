using System.Reflection;
using Tokenizer.Core.Domain;
using Tokenizer.Server.Grpc;
using V1 = Tokenizer.Contracts.V1;

namespace Tokenizer.Server.Tests.Grpc;

/// <summary>
/// Every domain-to-wire enum map of the server (found by reflection, so a new map is checked without being listed):
/// each defined domain value has a wire value other than UNSPECIFIED and reads back, and each defined wire value but
/// UNSPECIFIED (and the map's declared wire-only values) has a domain value.
/// </summary>
public sealed class ProtoEnumsTests
{
    private enum Colour
    {
        Red = 1,
        Green = 2,
        Blue = 3,
    }

    private enum Warm
    {
        Red = 1,
        Green = 2,
    }

    private enum WireColour
    {
        Unspecified = 0,
        Red = 1,
        Green = 2,
        Blue = 3,
    }

    public static TheoryData<string> Maps => [.. FindMaps().Keys];

    [Fact]
    public void Maps_FoundByReflection_CoverEveryWireEnumTheServerMaps()
    {
        // Assert: the theories below cannot pass on an empty list, and a dropped map fails here.
        Assert.Equal(
            [
                "AccountHolderType", "AccountType", "CorrectionOutcome", "ErasureState", "MandateStatus", "MandateType",
                "NextActionKind", "ReconciliationCategory", "ReconciliationState", "SetupStatus", "TokenEventKind",
                "TokenStatus", "TokenType",
            ],
            FindMaps().Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Maps))]
    public void Map_EveryDefinedValueOnEitherSide_HasItsPair(string name)
    {
        // Act
        var problems = Check(FindMaps()[name]);

        // Assert
        Assert.Empty(problems);
    }

    [Fact]
    public void Check_DomainValueMissing_ReportsIt()
    {
        // Arrange: the control for the theory: Blue has no pair.
        var incomplete = new EnumPairs<Colour, WireColour>((Colour.Red, WireColour.Red), (Colour.Green, WireColour.Green));

        // Act
        var problems = CheckTyped(incomplete);

        // Assert
        Assert.Contains("Blue has no wire value", problems);
        Assert.Contains("wire Blue has no domain value", problems);
    }

    [Fact]
    public void Check_CompleteMap_ReportsNothing()
    {
        // Arrange
        var complete = new EnumPairs<Colour, WireColour>(
            (Colour.Red, WireColour.Red), (Colour.Green, WireColour.Green), (Colour.Blue, WireColour.Blue));

        // Act and assert
        Assert.Empty(CheckTyped(complete));
    }

    [Fact]
    public void Check_WireOnlyValue_IsNotReported()
    {
        // Arrange: the wire has Blue, the domain does not; declared wire-only, it is no gap.
        var declared = new EnumPairs<Warm, WireColour>([WireColour.Blue], (Warm.Red, WireColour.Red), (Warm.Green, WireColour.Green));
        var undeclared = new EnumPairs<Warm, WireColour>((Warm.Red, WireColour.Red), (Warm.Green, WireColour.Green));

        // Act and assert
        Assert.Empty(CheckTyped(declared));
        Assert.Equal(["wire Blue has no domain value"], CheckTyped(undeclared));
    }

    [Fact]
    public void Constructor_PairWithUnspecifiedOrTwice_Throws()
    {
        // Act and assert
        Assert.Throws<ArgumentException>(() => new EnumPairs<Colour, WireColour>((Colour.Red, WireColour.Unspecified)));
        Assert.Throws<ArgumentException>(() => new EnumPairs<Colour, WireColour>((Colour.Red, WireColour.Red), (Colour.Green, WireColour.Red)));
        Assert.Throws<ArgumentException>(() => new EnumPairs<Colour, WireColour>((Colour.Red, WireColour.Red), (Colour.Red, WireColour.Green)));
    }

    [Fact]
    public void ToWireAndToDomain_UnknownValues_AreUnspecifiedAndNull()
    {
        // Arrange
        var erasure = (EnumPairs<Core.Privacy.ErasureStep, V1.ErasureState>)FindMaps()["ErasureState"];

        // Act and assert
        Assert.Equal(V1.TokenType.Unspecified, ProtoMapper.ToProto((Core.Domain.TokenType)42));
        Assert.Null(ProtoMapper.ToDomain(V1.TokenType.Unspecified));
        Assert.Null(ProtoMapper.ToDomain((V1.TokenType)42));
        Assert.Null(erasure.ToDomain(V1.ErasureState.None));
    }

    // The command compiles ProtoEnums too (and this project sees both assemblies' internals): take the server's.
    private static Dictionary<string, object> FindMaps() =>
        typeof(ProtoMapper).Assembly.GetType("Tokenizer.Server.Grpc.ProtoEnums", throwOnError: true)!
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.FieldType.IsGenericType && field.FieldType.GetGenericTypeDefinition() == typeof(EnumPairs<,>))
            .ToDictionary(field => field.Name, field => field.GetValue(null)!, StringComparer.Ordinal);

    private static List<string> Check(object map) =>
        (List<string>)typeof(ProtoEnumsTests).GetMethod(nameof(CheckTyped), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(map.GetType().GetGenericArguments())
            .Invoke(null, [map])!;

    private static List<string> CheckTyped<TDomain, TWire>(EnumPairs<TDomain, TWire> map)
        where TDomain : struct, Enum
        where TWire : struct, Enum
    {
        var problems = new List<string>();
        foreach (var value in Enum.GetValues<TDomain>())
        {
            var wire = map.ToWire(value);
            if (wire.Equals(default(TWire)))
            {
                problems.Add($"{value} has no wire value");
            }
            else if (!Equals(map.ToDomain(wire), value))
            {
                problems.Add($"{value} does not read back");
            }
        }

        foreach (var wire in Enum.GetValues<TWire>())
        {
            if (!wire.Equals(default(TWire)) && !map.WireOnly.Contains(wire) && map.ToDomain(wire) is null)
            {
                problems.Add($"wire {wire} has no domain value");
            }
        }

        return problems;
    }
}
