using Microsoft.Extensions.Configuration;
using Tokenizer.LoadTests;

// One program, one role per process; scripts/bench.sh runs them. Settings are --name value pairs.
if (args.Length == 0)
{
    await Console.Error.WriteLineAsync("usage: Tokenizer.LoadTests sandbox|echo|load|seed|report [--name value ...]");
    return 2;
}

var settings = new ConfigurationBuilder().AddCommandLine(args[1..]).Build();
return args[0] switch
{
    "sandbox" => await SandboxRole.RunAsync(settings),
    "echo" => await EchoRole.RunAsync(settings),
    "load" => await LoadRole.RunAsync(settings),
    "seed" => await SeedRole.RunAsync(settings),
    "report" => ReportRole.Run(settings),
    _ => 2,
};
