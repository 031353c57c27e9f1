using Microsoft.Extensions.Options;
using Tokenizer.Server.Hosting;

try
{
    var app = TokenizerHost.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (error is OptionsValidationException or InvalidOperationException or IOException)
{
    // One clear line instead of an unhandled-exception dump. Our own messages name the setting, never its value; the
    // configuration binder's conversion errors can quote a value, so only the type of anything else is printed.
    var message = error is OptionsValidationException options ? string.Join(" ", options.Failures) : error.Message;
    var safe = error is OptionsValidationException || message.StartsWith("Urls:", StringComparison.Ordinal)
        || message.StartsWith("Tokenizer:", StringComparison.Ordinal) || error is IOException
        ? message
        : $"{error.GetType().Name} while starting; check the configuration";
    Console.Error.WriteLine($"tokenizer: failed to start: {safe}");
    return 1;
}
