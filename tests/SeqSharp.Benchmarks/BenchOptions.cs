namespace SeqSharp.Benchmarks;

/// <summary>Command-line options.</summary>
internal sealed record BenchOptions(
    IReadOnlyList<string> Configs, IReadOnlyList<string> Cells, bool Quick, bool Memory, bool FlatMemory,
    int? Threads, string? OutputDirectory, string[]? Child, bool Paths = false, bool Table = false, bool ConfigsGiven = false, bool Examples = false)
{
    public static BenchOptions Parse(string[] args)
    {
        var configs = new List<string> { "S", "M", "L", "long", "b1" };
        var cells = new List<string> { "lstm", "rnn" };
        bool quick = false, memory = true, flat = true, paths = false, table = false, configsGiven = false, examples = false;
        int? threads = null;
        string? output = null;
        string[]? child = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--configs": configs = args[++i].Split(',').ToList(); configsGiven = true; break;
                case "--cells": cells = args[++i].Split(',').ToList(); break;
                case "--quick": quick = true; break;
                case "--paths": paths = true; break;
                case "--examples": examples = true; break;
                case "--table": table = true; quick = true; memory = false; flat = false; break;
                case "--no-memory": memory = false; flat = false; break;
                case "--no-flat": flat = false; break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--out": output = args[++i]; break;
                case "--child": child = args[(i + 1)..]; i = args.Length; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'. Options: --configs S,M,L,long,b1 --cells lstm,rnn,gru --quick --paths --table --examples --no-memory --no-flat --threads N --out DIR");
            }
        }
        if (threads is int t)
            TorchSharp.torch.set_num_threads(t);
        return new BenchOptions(configs, cells, quick, memory, flat, threads, output, child, paths, table, configsGiven, examples);
    }
}
