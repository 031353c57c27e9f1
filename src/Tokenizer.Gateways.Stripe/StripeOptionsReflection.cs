using System.Collections;
using System.Reflection;
using Stripe;

namespace Tokenizer.Gateways.Stripe;

/// <summary>
/// Holds the reflection data of the Stripe.net options types this adapter sends, so the runtime keeps it.
/// </summary>
/// <remarks>
/// Stripe.net form-encodes every request by walking the options object's properties through reflection
/// (<c>GetRuntimeProperties</c>, then <c>PropertyInfo.GetValue</c>). The runtime caches a type's <see cref="PropertyInfo"/>
/// objects, and the fast invoker it emits for <c>GetValue</c>, only while something references them: between requests
/// nothing did, so after a garbage collection the next request built them again and emitted new dynamic methods (about
/// 110 JIT compilations a second and 7% of the server's CPU in their finalizer at 1,200 tokenisations a second, measured
/// with dotnet-counters and dotnet-trace; README "Performance"). Referencing them here keeps one set for the process.
/// </remarks>
internal static class StripeOptionsReflection
{
    private static readonly Type[] Roots =
    [
        typeof(CustomerCreateOptions),
        typeof(CustomerDeleteOptions),
        typeof(PaymentMethodCreateOptions),
        typeof(PaymentMethodAttachOptions),
        typeof(PaymentMethodDetachOptions),
        typeof(PaymentMethodUpdateOptions),
        typeof(CustomerPaymentMethodListOptions),
        typeof(PaymentMethodGetOptions),
    ];

    private static readonly PropertyInfo[] Properties = Collect();

    /// <summary>How many properties are held (for tests); touching it makes sure the walk ran.</summary>
    internal static int Count => Properties.Length;

    private static PropertyInfo[] Collect()
    {
        var seen = new HashSet<Type>();
        var properties = new List<PropertyInfo>();
        var queue = new Queue<Type>(Roots);
        while (queue.TryDequeue(out var type))
        {
            if (!seen.Add(type))
            {
                continue;
            }

            foreach (var property in type.GetRuntimeProperties())
            {
                properties.Add(property);
                foreach (var nested in OptionsTypesIn(property.PropertyType))
                {
                    queue.Enqueue(nested);
                }
            }
        }

        return [.. properties];
    }

    private static IEnumerable<Type> OptionsTypesIn(Type type)
    {
        if (typeof(INestedOptions).IsAssignableFrom(type) && !type.IsInterface)
        {
            yield return type;
        }

        if (type.IsGenericType && (typeof(IEnumerable).IsAssignableFrom(type) || type.Name.StartsWith("AnyOf", StringComparison.Ordinal)))
        {
            foreach (var argument in type.GetGenericArguments())
            {
                foreach (var nested in OptionsTypesIn(argument))
                {
                    yield return nested;
                }
            }
        }

        if (type.IsArray && type.GetElementType() is { } element)
        {
            foreach (var nested in OptionsTypesIn(element))
            {
                yield return nested;
            }
        }
    }
}
