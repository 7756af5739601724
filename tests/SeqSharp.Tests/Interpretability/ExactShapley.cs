namespace SeqSharp.Tests.Interpretability;

/// <summary>
/// Shapley values by their definition, for tests: every coalition of the players enumerated,
/// <c>φ_j = Σ_{S ∌ j} |S|! (p - |S| - 1)! / p! · (v(S ∪ {j}) - v(S))</c>, with
/// <c>v(S)</c> the mean model output over the background of the input that takes x's values on
/// S's cells and the background's elsewhere. Written without any of Kernel SHAP's machinery.
/// </summary>
internal static class ExactShapley
{
    /// <param name="model">A model with one output value per sample (or choose it with <paramref name="select"/>).</param>
    /// <param name="x">One sample, e.g. (timesteps, features).</param>
    /// <param name="background">(n, timesteps, features).</param>
    /// <param name="groups">Boolean masks (players, timesteps, features); null for one player per value.</param>
    public static double[] Values(Sequential model, Tensor x, Tensor background, Tensor? groups = null, Func<Tensor, Tensor>? select = null)
    {
        select ??= y => y.reshape(y.shape[0]);
        long cells = x.numel();
        var players = groups is null
            ? Enumerable.Range(0, (int)cells).Select(c => new[] { (long)c }).ToArray()
            : Enumerable.Range(0, (int)groups.shape[0]).Select(g => groups[g].reshape(-1).nonzero().reshape(-1).data<long>().ToArray()).ToArray();
        int p = players.Length;
        Assert.True(p <= 12, "the exact helper enumerates 2^players coalitions");
        int n = (int)background.shape[0];
        var flatX = x.reshape(-1).to_type(ScalarType.Float64).data<double>().ToArray();
        var flatB = background.reshape(n, -1).to_type(ScalarType.Float64);

        // Every coalition's inputs, background by background, in one batch.
        int coalitions = 1 << p;
        var inputs = new double[coalitions * n * cells];
        for (int code = 0; code < coalitions; code++)
        {
            for (int b = 0; b < n; b++)
            {
                long offset = ((long)code * n + b) * cells;
                var row = flatB[b].data<double>().ToArray();
                for (int j = 0; j < p; j++)
                {
                    if (((code >> j) & 1) == 1)
                    {
                        foreach (long c in players[j])
                            row[c] = flatX[c];
                    }
                }
                Array.Copy(row, 0, inputs, offset, cells);
            }
        }
        var dtype = model.Layers[0].DType;
        double[] value;
        using (no_grad())
        {
            var batch = tensor(inputs, [coalitions * n, .. x.shape], ScalarType.Float64).to_type(dtype);
            value = select(model.Call(batch)).to_type(ScalarType.Float64).reshape(coalitions, n).mean([1]).data<double>().ToArray();
        }

        var factorial = new double[p + 1];
        factorial[0] = 1;
        for (int k = 1; k <= p; k++)
            factorial[k] = factorial[k - 1] * k;
        var phi = new double[p];
        for (int j = 0; j < p; j++)
        {
            for (int code = 0; code < coalitions; code++)
            {
                if (((code >> j) & 1) == 1)
                    continue;
                int size = System.Numerics.BitOperations.PopCount((uint)code);
                phi[j] += factorial[size] * factorial[p - size - 1] / factorial[p] * (value[code | (1 << j)] - value[code]);
            }
        }
        return phi;
    }
}
