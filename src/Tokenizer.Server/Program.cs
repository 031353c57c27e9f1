using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

try
{
    // First, in every environment: no kernel core file of this process (it would hold card data), whatever limit it
    // inherited. Then, before anything else is resolved, outside Development no memory image may be possible at all.
    var coreDumpFailure = KernelCoreDump.TurnOff();
    var app = TokenizerHost.Build(args, builder => MemoryImagePosture.EnsureOff(builder.Environment, coreDumpFailure));
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (StartupException.Find(error) is { } startup)
{
    // A cause we named ourselves (data directory in use, TLS file missing...): one line, no stack trace.
    Console.Error.WriteLine($"tokenizer: failed to start: {startup.Message}");
    return 1;
}
catch (Exception error) when (error is OptionsValidationException or InvalidOperationException or IOException)
{
    // One clear line instead of an unhandled-exception dump. Our own messages name the setting, never its value; the
    // configuration binder's conversion errors can quote a value, so only the type of anything else is printed.
    var message = error is OptionsValidationException options ? string.Join(" ", options.Failures) : error.Message;
    string[] ours = ["Urls:", "Tokenizer:", "Stripe:", "KeyVault:", "Ledger:", "ConnectionStrings:", "Kestrel:", "DOTNET_"];
    var safe = error is OptionsValidationException || ours.Any(prefix => message.StartsWith(prefix, StringComparison.Ordinal)) || error is IOException
        ? message
        : $"{error.GetType().Name} while starting; check the configuration";
    Console.Error.WriteLine($"tokenizer: failed to start: {safe}");
    return 1;
}
