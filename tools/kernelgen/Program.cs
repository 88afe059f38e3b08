using KernelGen.Tool;

return KernelGenCli.Run(args, System.Console.Out, System.Console.Error);
