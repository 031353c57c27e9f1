using Tokenizer.Cli;

return await CliApp.BuildRootCommand(Console.In, Console.Out, Console.Error).Parse(args).InvokeAsync();
