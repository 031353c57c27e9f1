using Tokenizer.Server.Hosting;

var app = TokenizerHost.Build(args);
await app.RunAsync();
