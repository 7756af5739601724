using System.Diagnostics;
using SeqSharp.Activations;
using SeqSharp.Layers.Kernels;

namespace SeqSharp.Benchmarks;

/// <summary>The LSTM gate pass alone (one step, rows × units cells), ns per cell: <c>--child cells</c> (diagnostics).</summary>
internal static unsafe class CellProbe
{
    public static void Run()
    {
        Console.WriteLine($"Vector<float>.Count {System.Numerics.Vector<float>.Count}, accelerated {System.Numerics.Vector.IsHardwareAccelerated}, Avx2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, Fma {System.Runtime.Intrinsics.X86.Fma.IsSupported}");
        ProbeSigmoid();
        var step = LstmCellMath.Forward<float>(new LstmFunctionOptions(ActivationKind.Tanh, ActivationKind.Sigmoid));
        foreach (var (rows, units) in new[] { (32, 64), (32, 128), (32, 256) })
        {
            var gates = new float[rows * 4 * units];
            var c0 = new float[rows * units];
            var c1 = new float[rows * units];
            var h = new float[rows * units];
            var random = new Random(1);
            var source = new float[gates.Length];
            for (int i = 0; i < source.Length; i++)
                source[i] = (float)(random.NextDouble() * 4 - 2);
            fixed (float* g = gates, cp = c0, cn = c1, hp = h)
            {
                int repeats = 2000;
                var clock = new Stopwatch();
                for (int round = 0; round < 2; round++)
                {
                    clock.Restart();
                    for (int r = 0; r < repeats; r++)
                    {
                        source.CopyTo(gates, 0);
                        step(g, cp, cn, hp, null, rows, units);
                    }
                    clock.Stop();
                }
                var copy = Stopwatch.StartNew();
                for (int r = 0; r < repeats; r++)
                    source.CopyTo(gates, 0);
                copy.Stop();
                double ns = (clock.Elapsed.TotalNanoseconds - copy.Elapsed.TotalNanoseconds) / repeats / (rows * units);
                Console.WriteLine($"rows {rows} units {units}: {ns:F2} ns per cell (gate pass only)");
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining | System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void ProbeSigmoid()
    {
        var data = new float[4096];
        for (int i = 0; i < data.Length; i++)
            data[i] = (i % 97) / 25f - 2f;
        var acc = System.Numerics.Vector<float>.Zero;
        var clock = new Stopwatch();
        for (int round = 0; round < 3; round++)
        {
            clock.Restart();
            for (int r = 0; r < 2000; r++)
            {
                for (int i = 0; i <= data.Length - 8; i += 8)
                    acc += SigmoidOp.Apply(new System.Numerics.Vector<float>(data, i));
            }
            clock.Stop();
        }
        Console.WriteLine($"sigmoid alone: {clock.Elapsed.TotalNanoseconds / 2000 / data.Length:F2} ns per element ({acc[0]})");
        clock.Restart();
        for (int r = 0; r < 2000; r++)
        {
            for (int i = 0; i <= data.Length - 8; i += 8)
                acc += VectorMath.ExpSingle(new System.Numerics.Vector<float>(data, i));
        }
        clock.Stop();
        Console.WriteLine($"exp alone: {clock.Elapsed.TotalNanoseconds / 2000 / data.Length:F2} ns per element ({acc[0]})");
    }
}
