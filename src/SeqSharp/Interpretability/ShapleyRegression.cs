using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>
/// The regression behind Kernel SHAP (Lundberg &amp; Lee 2017): which coalitions are evaluated, with
/// what weight, and the weighted least-squares fit under the efficiency constraint.
/// </summary>
internal static class ShapleyRegression
{
    /// <summary>Players up to which every coalition may be enumerated (2^20 - 2 coalitions).</summary>
    private const int MaxEnumerated = 20;

    /// <summary>The fewest coalitions that determine the fit: all of them when there are fewer than players + 1, else players + 1.</summary>
    public static long MinimumSamples(int players) =>
        players == 1 ? 1 : players <= MaxEnumerated ? Math.Min((1L << players) - 2, players + 1L) : players + 1L;

    /// <summary>
    /// The coalitions <c>(K, players)</c> (1 = the player's values come from x) and their weights
    /// <c>(K)</c>, float64. Every coalition but the empty and the full one with its Shapley kernel
    /// weight when <paramref name="samples"/> allows; else <paramref name="samples"/> (rounded down
    /// to even) coalitions in complementary pairs, sizes drawn with probability proportional to the
    /// kernel's total weight per size, <c>1 / (s (players - s))</c>, members uniformly, weights 1.
    /// </summary>
    public static (Tensor Coalitions, Tensor Weights) Coalitions(int players, int samples, Generator? generator)
    {
        if (players == 1)
            return (torch.zeros(0, 1, ScalarType.Float64), torch.zeros(0, ScalarType.Float64));
        if (players <= MaxEnumerated && samples >= (1L << players) - 2)
            return Enumerate(players);

        int pairs = samples / 2;
        var sizeWeights = torch.tensor(Enumerable.Range(1, players - 1).Select(s => 1.0 / (s * (double)(players - s))).ToArray(), ScalarType.Float64);
        var sizes = torch.multinomial(sizeWeights, pairs, replacement: true, generator: generator) + 1;            // (pairs) in 1 .. players-1
        var ranks = torch.rand(pairs, players, ScalarType.Float64, generator: generator).argsort(1).argsort(1);      // a random order per pair
        var chosen = ranks.lt(sizes.unsqueeze(1)).to_type(ScalarType.Float64);
        var coalitions = torch.cat([chosen, 1 - chosen], 0);
        return (coalitions, torch.ones(coalitions.shape[0], ScalarType.Float64));
    }

    /// <summary>All 2^players - 2 proper non-empty coalitions with the Shapley kernel weight (players - 1) / (C(players, s) s (players - s)).</summary>
    private static (Tensor Coalitions, Tensor Weights) Enumerate(int players)
    {
        long count = (1L << players) - 2;
        var masks = new double[count * players];
        var weights = new double[count];
        for (long code = 1; code <= count; code++)
        {
            int size = 0;
            for (int j = 0; j < players; j++)
            {
                if (((code >> j) & 1) == 1)
                {
                    masks[(code - 1) * players + j] = 1;
                    size++;
                }
            }
            weights[code - 1] = (players - 1) / (Math.Exp(LogChoose(players, size)) * size * (players - size));
        }
        return (torch.tensor(masks, [count, players], ScalarType.Float64), torch.tensor(weights, ScalarType.Float64));
    }

    private static double LogChoose(int n, int k)
    {
        double sum = 0;
        for (int i = 1; i <= k; i++)
            sum += Math.Log(n - k + i) - Math.Log(i);
        return sum;
    }

    /// <summary>
    /// Minimises <c>Σ_k w_k (y_k - z_k · φ)²</c> subject to <c>Σ φ = Δ</c> for every row of
    /// <paramref name="values"/>: the Lagrange (KKT) system <c>[ZᵀWZ 1; 1ᵀ 0] [φ; λ] = [ZᵀWy; Δ]</c>,
    /// solved directly, or by least squares when a coalition set leaves the fit under-determined, which
    /// then gives the minimum-norm solution that meets the constraint.
    /// </summary>
    /// <param name="coalitions">(K, players), float64.</param>
    /// <param name="weights">(K), float64.</param>
    /// <param name="values"><c>v(S) - v(∅)</c> per sample and coalition, (batch, K).</param>
    /// <param name="total"><c>v(all) - v(∅)</c> per sample, (batch).</param>
    /// <returns>φ, (batch, players), float64.</returns>
    public static Tensor Solve(Tensor coalitions, Tensor weights, Tensor values, Tensor total)
    {
        long players = coalitions.shape[1], batch = values.shape[0];
        if (players == 1)
            return total.reshape(batch, 1).clone();
        var weighted = coalitions * weights.unsqueeze(1);                       // W Z, (K, players)
        var system = torch.zeros(players + 1, players + 1, ScalarType.Float64);
        system[..(int)players, ..(int)players] = weighted.t().matmul(coalitions);
        system[..(int)players, (int)players] = 1.0;
        system[(int)players, ..(int)players] = 1.0;
        var rhs = torch.cat([weighted.t().matmul(values.t()), total.reshape(1, batch)], 0);   // (players + 1, batch)
        // A well-conditioned system (every coalition enumerated, or enough drawn) is solved directly, which
        // repeats bit for bit; only a rank-deficient one goes to least squares (LAPACK's, not bit-reproducible).
        var solution = torch.linalg.cond(system).item<double>() < 1e10
            ? torch.linalg.solve(system, rhs)
            : torch.linalg.lstsq(system, rhs).Solution;
        return solution[..(int)players].t().contiguous();
    }
}
