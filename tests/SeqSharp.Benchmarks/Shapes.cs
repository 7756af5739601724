namespace SeqSharp.Benchmarks;

/// <summary>One benchmark shape: batch, timesteps, input features, units.</summary>
internal sealed record Shape(string Name, int Batch, int Steps, int Features, int Units)
{
    public static readonly IReadOnlyList<Shape> All =
    [
        new("S", 32, 10, 1, 64),        // the document's example
        new("M", 64, 50, 32, 128),
        new("L", 64, 100, 256, 256),
        new("long", 16, 1000, 8, 64),
        new("b1", 1, 100, 8, 64),       // batch-1 latency
        new("P", 64, 100, 16, 64),      // the masked / dropout paths of issue 15
    ];

    public static Shape Get(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"Unknown shape '{name}'. Known: {string.Join(", ", All.Select(s => s.Name))}.");

    public override string ToString() => $"{Name} (B {Batch}, T {Steps}, in {Features}, units {Units})";

    /// <summary>
    /// Matrix-product FLOPs of one training step of a first recurrent layer with <paramref name="gates"/>
    /// gates: forward <c>x W + h U</c>, backward the weight gradients of both and <c>dz Uᵀ</c>; the input
    /// gradient <c>dz Wᵀ</c> is not needed (the input requires none) and neither implementation computes it.
    /// </summary>
    public double TrainingFlops(int gates) => 2.0 * Steps * Batch * (double)gates * Units * (2.0 * Features + 3.0 * Units);
}
