using System.Reflection;
using System.Text.RegularExpressions;
using Tokenizer.Core.Domain;
using Tokenizer.Ledger.Webhooks;

namespace Tokenizer.Ledger.Tests;

/// <summary>
/// Every enum-to-text map of Core and Ledger (found by reflection, so a new map is checked without being listed): a text
/// for every defined value, unique lower_snake texts, round trips, and errors that name the field and rule but never the
/// text. The stored texts are pinned: rows already in a ledger must keep reading.
/// </summary>
public sealed partial class EnumTextTests
{
    /// <summary>What the ledger has always stored (and Stripe sends, and metrics export), map by map, in declaration order.</summary>
    private static readonly Dictionary<string, string[]> Pinned = new(StringComparer.Ordinal)
    {
        ["TokenTexts.Type"] = ["card", "au_becs_debit", "sepa_debit", "bacs_debit", "us_bank_account"],
        ["TokenTexts.Status"] = ["active", "revoked"],
        ["TokenTexts.SetupStatus"] = ["ready", "requires_action", "processing", "failed", "not_set_up"],
        ["TokenTexts.NextActionKind"] = ["redirect_to_url", "verify_with_microdeposits"],
        ["TokenTexts.MandateStatus"] = ["active", "pending", "inactive"],
        ["TokenTexts.MandateType"] = ["online", "offline"],
        ["BankAccountTexts.HolderType"] = ["individual", "company"],
        ["BankAccountTexts.AccountType"] = ["checking", "savings"],
        ["AuditTexts.Outcome"] = ["success", "failure", "denied"],
        ["IntentTexts.State"] = ["pending", "completed", "failed", "closed", "detaching"],
        ["TokenEventKinds.Texts"] =
        [
            "setup_succeeded", "setup_failed", "requires_action", "mandate_inactive", "card_updated", "detached_at_gateway",
            "customer_deleted", "revoked",
        ],
        ["ErasureTexts.Step"] = ["detaching", "deleting_customer", "destroying_key", "completed"],
        ["ReconciliationTexts.Category"] =
            ["matched", "missing_at_gateway", "missing_in_ledger", "status_mismatch", "field_mismatch", "pending"],
        ["ReconciliationTexts.State"] = ["running", "interrupted", "completed", "failed"],
        ["ReconciliationTexts.Phase"] = ["customers", "ledger_sweep", "pending", "done"],
        ["WebhookTexts.Source"] = ["delivery", "catch_up"],
        ["WebhookTexts.State"] = ["pending", "processed", "ignored"],
        ["TokenizerMetrics.OperationTexts"] =
        [
            "create_payment_method", "attach", "create_setup_intent", "get_setup_intent", "get_mandate", "detach",
            "create_customer", "list_payment_methods", "update_payment_method", "delete_customer", "get_customer",
        ],
        ["TokenizerMetrics.ErrorKindTexts"] =
        [
            "invalid_argument", "failed_precondition", "not_found", "already_exists", "aborted", "unavailable", "internal",
            "permission_denied", "unauthenticated", "resource_exhausted", "deadline_exceeded",
        ],
    };

    /// <summary>A card number shaped text: an error that echoed its input would show it.</summary>
    private const string Unknown = "zz_4242424242424242";

    private enum Fruit
    {
        Apple = 1,
        Pear = 2,
        Plum = 3,
    }

    public static TheoryData<string> Maps => [.. FindMaps().Keys];

    [Fact]
    public void Maps_FoundByReflection_AreExactlyThePinnedOnes()
    {
        // Assert: a map nobody pinned, or a pinned map that is gone, fails here (and the theories cannot pass empty).
        Assert.Equal(Pinned.Keys.Order(StringComparer.Ordinal), FindMaps().Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Maps))]
    public void Map_EveryDefinedValue_RoundTripsThroughAUniqueText(string name)
    {
        // Act
        var problems = Check(FindMaps()[name]);

        // Assert
        Assert.Empty(problems);
    }

    [Theory]
    [MemberData(nameof(Maps))]
    public void Map_Texts_AreThePinnedStoredTexts(string name)
    {
        // Act
        var texts = Texts(FindMaps()[name]);

        // Assert: byte for byte what rows already in a ledger hold.
        Assert.Equal(Pinned[name], texts);
    }

    [Theory]
    [MemberData(nameof(Maps))]
    public void Parse_UnknownText_NamesFieldAndRuleNeverTheText(string name)
    {
        // Act
        var error = ParseError(FindMaps()[name], Unknown, "some_table.some_column");

        // Assert
        Assert.IsType<InvalidOperationException>(error);
        Assert.StartsWith("some_table.some_column holds a text that is not a ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Unknown, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("4242", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MapMissingAValue_ReportsTheValue()
    {
        // Arrange: the control for the round-trip theory: Plum has no text.
        var incomplete = new EnumText<Fruit>("fruit", (Fruit.Apple, "apple"), (Fruit.Pear, "pear"));

        // Act
        var problems = Check(incomplete);

        // Assert
        Assert.Contains("Plum has no text", problems);
    }

    [Fact]
    public void Check_CompleteMap_ReportsNothing()
    {
        // Arrange
        var complete = new EnumText<Fruit>("fruit", (Fruit.Apple, "apple"), (Fruit.Pear, "pear"), (Fruit.Plum, "plum"));

        // Act and assert
        Assert.Empty(Check(complete));
    }

    [Fact]
    public void Check_TextNotLowerSnake_ReportsIt()
    {
        // Arrange
        var shouting = new EnumText<Fruit>("fruit", (Fruit.Apple, "APPLE"), (Fruit.Pear, "pear"), (Fruit.Plum, "plum"));

        // Act and assert
        Assert.Contains("Apple's text is not lower_snake", Check(shouting));
    }

    [Theory]
    [InlineData("apple", "pear", "apple")]
    [InlineData("apple", "pear", "pear")]
    public void Constructor_DuplicateText_Throws(string apple, string pear, string plum)
    {
        // Act
        var error = Record.Exception(() => new EnumText<Fruit>("fruit", (Fruit.Apple, apple), (Fruit.Pear, pear), (Fruit.Plum, plum)));

        // Assert
        Assert.IsType<ArgumentException>(error);
        Assert.Contains("listed twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DuplicateValue_Throws()
    {
        // Act and assert
        Assert.Throws<ArgumentException>(() => new EnumText<Fruit>("fruit", (Fruit.Apple, "apple"), (Fruit.Apple, "pome")));
    }

    [Fact]
    public void Text_UndefinedValue_ThrowsArgumentOutOfRange()
    {
        // Act and assert
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => WebhookTexts.State.Text((WebhookState)42));
        Assert.Contains("webhook state", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TextOr_UndefinedValue_IsTheFallback()
    {
        // Act and assert
        Assert.Equal("other", WebhookTexts.State.TextOr((WebhookState)42, "other"));
        Assert.Equal("ignored", WebhookTexts.State.TextOr(WebhookState.Ignored, "other"));
    }

    [Fact]
    public void Find_UnknownOrNull_IsNull()
    {
        // Act and assert
        Assert.Null(TokenTexts.Type.Find(Unknown));
        Assert.Null(TokenTexts.Type.Find(null));
        Assert.Null(TokenTexts.Type.Find("CARD"));
        Assert.Equal(TokenType.Card, TokenTexts.Type.Find("card"));
    }

    /// <summary>Every public static EnumText field of Core and Ledger, by "Class.Field".</summary>
    private static Dictionary<string, object> FindMaps() =>
        new[] { typeof(EnumText<>).Assembly, typeof(WebhookTexts).Assembly }
            .SelectMany(assembly => assembly.GetExportedTypes())
            .SelectMany(type => type.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(field => field.FieldType.IsGenericType && field.FieldType.GetGenericTypeDefinition() == typeof(EnumText<>))
            .ToDictionary(field => field.DeclaringType!.Name + "." + field.Name, field => field.GetValue(null)!, StringComparer.Ordinal);

    private static List<string> Check(object map) => Invoke<List<string>>(nameof(CheckTyped), map);

    private static string[] Texts(object map) => Invoke<string[]>(nameof(TextsTyped), map);

    private static Exception? ParseError(object map, string text, string field) => Invoke<Exception?>(nameof(ParseErrorTyped), map, text, field);

    private static T Invoke<T>(string method, object map, params object[] more) =>
        (T)typeof(EnumTextTests).GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(map.GetType().GetGenericArguments()[0])
            .Invoke(null, [map, .. more])!;

    private static List<string> CheckTyped<TEnum>(EnumText<TEnum> map)
        where TEnum : struct, Enum
    {
        var problems = new List<string>();
        foreach (var value in Enum.GetValues<TEnum>())
        {
            string text;
            try
            {
                text = map.Text(value);
            }
            catch (ArgumentOutOfRangeException)
            {
                problems.Add($"{value} has no text");
                continue;
            }

            if (!LowerSnake().IsMatch(text))
            {
                problems.Add($"{value}'s text is not lower_snake");
            }

            if (!map.Parse(text, "test").Equals(value) || !Equals(map.Find(text), value))
            {
                problems.Add($"{value} does not read back");
            }
        }

        var texts = map.Pairs.Select(p => p.Text).ToList();
        if (texts.Distinct(StringComparer.Ordinal).Count() != texts.Count)
        {
            problems.Add("a text is used twice");
        }

        if (map.Pairs.Any(p => !Enum.IsDefined(p.Value)))
        {
            problems.Add("a text is given to an undefined value");
        }

        return problems;
    }

    private static string[] TextsTyped<TEnum>(EnumText<TEnum> map)
        where TEnum : struct, Enum => [.. map.Pairs.Select(p => p.Text)];

    private static Exception? ParseErrorTyped<TEnum>(EnumText<TEnum> map, string text, string field)
        where TEnum : struct, Enum => Record.Exception(() => map.Parse(text, field));

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex LowerSnake();
}
