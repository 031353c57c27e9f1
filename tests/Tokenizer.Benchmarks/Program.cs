using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Tokenizer.Benchmarks.HotPaths).Assembly).Run(args);
