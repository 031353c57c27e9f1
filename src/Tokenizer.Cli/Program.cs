using Tokenizer.Cli;

// Standard output goes through the card-data scrubber; standard error carries fixed messages and rule texts only.
using var output = new ScrubbingTextWriter(Console.Out);
return await CliApp.RunAsync(args, Console.In, output, Console.Error);
