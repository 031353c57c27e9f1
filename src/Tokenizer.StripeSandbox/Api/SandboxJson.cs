using System.Text.Json.Serialization;
using Tokenizer.StripeSandbox.Faults;
using Tokenizer.StripeSandbox.State;

namespace Tokenizer.StripeSandbox.Api;

/// <summary>Source-generated System.Text.Json metadata: Stripe's snake_case names, nulls written as Stripe writes them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PaymentMethodObject))]
[JsonSerializable(typeof(CustomerObject))]
[JsonSerializable(typeof(DeletedObject))]
[JsonSerializable(typeof(ListObject<PaymentMethodObject>))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(SetupIntentObject))]
[JsonSerializable(typeof(ListObject<SetupIntentObject>))]
[JsonSerializable(typeof(MandateObject))]
[JsonSerializable(typeof(PaymentIntentObject))]
[JsonSerializable(typeof(StatsObject))]
[JsonSerializable(typeof(StateFile))]
[JsonSerializable(typeof(Webhooks.AutomaticUpdateJson))]
[JsonSerializable(typeof(Webhooks.DeleteCustomerJson))]
[JsonSerializable(typeof(Webhooks.DeletedCustomersJson))]
[JsonSerializable(typeof(Webhooks.WebhookModeJson))]
[JsonSerializable(typeof(Webhooks.WebhookReleaseJson))]
[JsonSerializable(typeof(Webhooks.WebhookControlJson))]
[JsonSerializable(typeof(Webhooks.DeliveryListJson))]
[JsonSerializable(typeof(Webhooks.WebhookEndpointObject))]
[JsonSerializable(typeof(ListObject<Webhooks.WebhookEndpointObject>))]
[JsonSerializable(typeof(List<FaultRuleJson>))]
[JsonSerializable(typeof(ListObject<PendingFaultJson>))]
[JsonSerializable(typeof(ListObject<RecordedRequestJson>))]
internal sealed partial class SandboxJson : JsonSerializerContext;
