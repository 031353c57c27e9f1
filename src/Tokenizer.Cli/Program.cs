using Tokenizer.Cli;

// Standard output goes through the card-data scrubber; error messages on standard error are scrubbed where they are
// written (CliErrors), since they may quote a path or address the user typed.
using var output = new ScrubbingTextWriter(Console.Out);
return await CliApp.RunAsync(args, Console.In, output, Console.Error);
