using System.Text.Json.Serialization;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>Source-generated System.Text.Json metadata: Stripe's snake_case names, nulls written as Stripe writes them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PaymentMethodObject))]
[JsonSerializable(typeof(CustomerObject))]
[JsonSerializable(typeof(ListObject<PaymentMethodObject>))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(StatsObject))]
[JsonSerializable(typeof(StateFile))]
internal sealed partial class SandboxJson : JsonSerializerContext;
