namespace SeqSharp.Tests.Optimizers;

/// <summary>
/// Keras 3's optimizer step written out in plain double arithmetic, independent of SeqSharp:
/// skip variables without gradient, clip, decay the weights, update each variable, count the step.
/// Subclasses (one per optimizer, in its test class) write the update formula.
/// </summary>
internal abstract class HandOptimizer
{
    public Func<long, double> LearningRate { get; init; } = _ => 0.001;
    public double? WeightDecay { get; init; }
    public double? Clipnorm { get; init; }
    public double? Clipvalue { get; init; }
    public double? GlobalClipnorm { get; init; }
    public long Iterations { get; private set; }

    /// <summary>How many times clipping changed a gradient, so tests can check that it was exercised.</summary>
    public int ClipsApplied { get; private set; }

    public void Step(double[][] weights, double[]?[] gradients)
    {
        double lr = LearningRate(Iterations);
        var indices = Enumerable.Range(0, weights.Length).Where(i => gradients[i] is not null).ToArray();
        var grads = indices.Select(i => (double[])gradients[i]!.Clone()).ToArray();
        Clip(grads);
        if (WeightDecay is double wd)
        {
            foreach (int i in indices)
            {
                for (int j = 0; j < weights[i].Length; j++)
                    weights[i][j] = weights[i][j] - weights[i][j] * wd * lr;
            }
        }
        for (int k = 0; k < indices.Length; k++)
            Update(indices[k], weights[indices[k]], grads[k], lr, Iterations);
        Iterations++;
    }

    /// <summary>Updates <paramref name="w"/> in place; <paramref name="iterations"/> counts the earlier steps.</summary>
    protected abstract void Update(int index, double[] w, double[] g, double lr, long iterations);

    /// <summary>State array <paramref name="name"/> of variable <paramref name="index"/>, created on first use.</summary>
    protected double[] State(string name, int index, int length, double initial = 0.0)
    {
        if (!_state.TryGetValue((name, index), out var s))
            _state[(name, index)] = s = Enumerable.Repeat(initial, length).ToArray();
        return s;
    }

    private readonly Dictionary<(string, int), double[]> _state = [];

    private void Clip(double[][] grads)
    {
        if (Clipnorm is double c)
        {
            foreach (var g in grads)
            {
                double norm = Math.Sqrt(g.Sum(x => x * x));
                if (norm > c)
                    ClipsApplied++;
                for (int j = 0; j < g.Length; j++)
                    g[j] = g[j] * c / Math.Max(norm, c);
            }
        }
        else if (GlobalClipnorm is double gc)
        {
            double norm = Math.Sqrt(grads.Sum(g => g.Sum(x => x * x)));
            if (norm > gc)
                ClipsApplied++;
            double scale = gc * Math.Min(1 / norm, 1 / gc);
            foreach (var g in grads)
            {
                for (int j = 0; j < g.Length; j++)
                    g[j] *= scale;
            }
        }
        else if (Clipvalue is double v)
        {
            foreach (var g in grads)
            {
                for (int j = 0; j < g.Length; j++)
                {
                    if (Math.Abs(g[j]) > v)
                        ClipsApplied++;
                    g[j] = Math.Clamp(g[j], -v, v);
                }
            }
        }
    }
}
