using Tokenizer.StripeSandbox;

// Standalone: dotnet run --project src/Tokenizer.StripeSandbox -- --urls http://127.0.0.1:12111 [--DataDirectory=...] [--ApiKey=sk_test_...]
// Fault injection over HTTP: STRIPE_SANDBOX_ControlToken=<32+ chars> in the environment (see README.md); --AllowFaultHeader=true.
// The environment comes from --environment, ASPNETCORE_ENVIRONMENT or DOTNET_ENVIRONMENT (Development when none is set).
var configuration = new ConfigurationBuilder().AddEnvironmentVariables("STRIPE_SANDBOX_").AddCommandLine(args).Build();
var options = new StripeSandboxOptions();
configuration.Bind(options);
var environment = configuration["environment"]
    ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT")
    ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT")
    ?? Environments.Development;

try
{
    await using var server = await StripeSandboxServer.StartAsync(options, environment);
    await server.WaitForShutdownAsync();
    return 0;
}
catch (Exception e) when (e is InvalidOperationException or IOException)
{
    await Console.Error.WriteLineAsync($"stripe-sandbox: {e.Message}");
    return 1;
}
