using Tokenizer.Security.Scanner;

return ScannerApp.Run(args, Console.Out, Console.Error);
