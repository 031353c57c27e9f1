using Tokenizer.Core.Domain;
using Tokenizer.Core.Ports;
using Tokenizer.Core.Telemetry;

namespace Tokenizer.Server.Telemetry;

/// <summary>
/// Times every gateway call (<c>tokenizer.gateway.duration</c>, tags <c>operation</c> and <c>outcome</c>) around the
/// gateway it decorates, and otherwise passes everything through unchanged. Registered outermost, so a call's time
/// includes any retries inside it (each retry is counted by <c>tokenizer.gateway.retries</c>).
/// </summary>
internal sealed class MeteredTokenGateway(ITokenGateway inner, TokenizerMetrics metrics, TimeProvider timeProvider) : ITokenGateway
{
    public string Name => inner.Name;

    public Task<string> CreateCustomerAsync(string customerReference, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.CreateCustomer, () => inner.CreateCustomerAsync(customerReference, idempotencyKey, cancellationToken));

    public Task<GatewayPaymentMethod> CreatePaymentMethodAsync(PaymentMethodRequest request, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.CreatePaymentMethod, () => inner.CreatePaymentMethodAsync(request, idempotencyKey, cancellationToken));

    public Task AttachAsync(string paymentMethodId, string customerId, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.Attach, async () =>
        {
            await inner.AttachAsync(paymentMethodId, customerId, idempotencyKey, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<GatewaySetup> CreateSetupIntentAsync(SetupIntentRequest request, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.CreateSetupIntent, () => inner.CreateSetupIntentAsync(request, idempotencyKey, cancellationToken));

    public Task<GatewaySetup> GetSetupIntentAsync(string setupIntentId, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.GetSetupIntent, () => inner.GetSetupIntentAsync(setupIntentId, cancellationToken));

    public Task<GatewaySetup?> FindSetupIntentAsync(string customerId, string paymentMethodId, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.GetSetupIntent, () => inner.FindSetupIntentAsync(customerId, paymentMethodId, cancellationToken));

    public Task CancelSetupIntentAsync(string setupIntentId, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.CreateSetupIntent, async () =>
        {
            await inner.CancelSetupIntentAsync(setupIntentId, idempotencyKey, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<Mandate> GetMandateAsync(string mandateId, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.GetMandate, () => inner.GetMandateAsync(mandateId, cancellationToken));

    public Task DetachAsync(string paymentMethodId, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.Detach, async () =>
        {
            await inner.DetachAsync(paymentMethodId, idempotencyKey, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<GatewayPaymentMethodPage> ListCustomerPaymentMethodsAsync(string customerId, string? startingAfter, int limit, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.ListPaymentMethods, () => inner.ListCustomerPaymentMethodsAsync(customerId, startingAfter, limit, cancellationToken));

    public Task UpdateBillingDetailsAsync(string paymentMethodId, BillingDetails billing, string idempotencyKey, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.UpdatePaymentMethod, async () =>
        {
            await inner.UpdateBillingDetailsAsync(paymentMethodId, billing, idempotencyKey, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public Task<bool> IsCustomerDeletedAsync(string customerId, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.GetCustomer, () => inner.IsCustomerDeletedAsync(customerId, cancellationToken));

    public Task DeleteCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        MeasureAsync(GatewayOperation.DeleteCustomer, async () =>
        {
            await inner.DeleteCustomerAsync(customerId, cancellationToken).ConfigureAwait(false);
            return true;
        });

    private async Task<T> MeasureAsync<T>(GatewayOperation operation, Func<Task<T>> call)
    {
        var started = timeProvider.GetTimestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            metrics.RecordGatewayCall(operation, TokenizerMetrics.Success, timeProvider.GetElapsedTime(started));
            return result;
        }
        catch (Exception error)
        {
            metrics.RecordGatewayCall(operation, TokenizerMetrics.OutcomeOf(error), timeProvider.GetElapsedTime(started));
            throw;
        }
    }
}
