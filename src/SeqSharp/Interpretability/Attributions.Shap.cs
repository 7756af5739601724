using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

public static partial class Attributions
{
    /// <summary>Rows of perturbed inputs sent to the model at once are capped at about this many input values.</summary>
    private const long ValuesPerCall = 1L << 22;

    /// <summary>
    /// Kernel SHAP (Lundberg &amp; Lee 2017): Shapley values of the chosen output, estimated by a
    /// weighted least-squares fit over coalitions of features with the Shapley kernel weights and
    /// the efficiency constraint, so that each sample's values add up to <c>f(x) - E[f(background)]</c>.
    /// </summary>
    /// <remarks>
    /// <para><b>Players.</b> Without <paramref name="groups"/>, every input value (time step,
    /// feature) is one player and the result is shaped like <paramref name="x"/>. A sequence of
    /// 200 × 8 values has 1,600 players, far too many to estimate well; pass
    /// <paramref name="groups"/> (e.g. <see cref="TimeWindowGroups"/>: windows of steps per feature)
    /// and the result is <c>(batch, groups)</c>.</para>
    /// <para><b>Value of a coalition.</b> <c>v(S)</c> is the mean output over the background samples
    /// <c>b</c> of the input that takes <c>x</c>'s values on the cells of the players in <c>S</c>
    /// and <c>b</c>'s elsewhere (the interventional definition of SHAP's <c>KernelExplainer</c>).
    /// <c>v(∅) = E[f(background)]</c> is the base value (<see cref="BaseValue"/>) and
    /// <c>v(all) = f(x)</c>.</para>
    /// <para><b>Coalitions.</b> When <paramref name="samples"/> is at least <c>2^groups - 2</c>,
    /// every coalition is evaluated once with its Shapley kernel weight and the fit gives the exact
    /// Shapley values (up to rounding). Otherwise <paramref name="samples"/> coalitions are drawn in
    /// complementary pairs, sizes with probability proportional to the kernel's total weight per
    /// size, members uniformly; the estimate converges to the Shapley values as
    /// <paramref name="samples"/> grows. Either way the efficiency constraint holds exactly.</para>
    /// <para><b>Cost.</b> <c>batch × coalitions × background</c> forward passes (in batches): keep
    /// the background small (10 to 100 samples, e.g. k-means centres or a random subset).</para>
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The inputs to explain, <c>(batch, timesteps, features)</c>, floating point.</param>
    /// <param name="background">Reference samples <c>(n, timesteps, features)</c>, at least one; a single reference <c>(timesteps, features)</c> is also taken.</param>
    /// <param name="groups">Players as masks <c>(groups, timesteps, features)</c> (bool or 0/1) that cover every input value exactly once; null for one player per value.</param>
    /// <param name="samples">Coalitions to evaluate, at least <c>min(2^groups - 2, groups + 1)</c>; default 2048.</param>
    /// <param name="seed">Seed of the coalition draws; null to use the global generator (<see cref="Utils.SetRandomSeed"/>). Unused when every coalition is enumerated.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>Shapley values shaped like <paramref name="x"/>, or <c>(batch, groups)</c> with <paramref name="groups"/>, in the model's element type.</returns>
    /// <exception cref="ArgumentException">The input, background or groups do not fit, groups overlap or leave values out, or the output selection is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is below the minimum for the number of players.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    /// <example>
    /// <code>
    /// var background = xTrain[..50];
    /// var groups = Attributions.TimeWindowGroups(timesteps: 24, features: 4, window: 6);    // (16, 24, 4)
    /// Tensor shap = Attributions.KernelShap(model, xTest[..5], background, groups, samples: 2048, seed: 1);   // (5, 16)
    /// double baseValue = Attributions.BaseValue(model, background);      // shap.sum(1) + baseValue == f(x)
    /// </code>
    /// </example>
    public static Tensor KernelShap(Model model, Tensor x, Tensor background, Tensor? groups = null, int samples = 2048, long? seed = null,
        Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        ArgumentNullException.ThrowIfNull(background);
        return Run(model, x, target, outputIndex, (input, select) =>
        {
            using var _ = torch.no_grad();
            var references = BackgroundSet(background, input, nameof(background));
            var cells = CellGroups(groups, input);                  // (players, cells) 0/1, float64
            int players = (int)cells.shape[0];
            CheckCoalitionCount(samples, players);
            using var generator = seed is long value ? new Generator(unchecked((ulong)value), torch.CPU) : null;
            var (coalitions, weights) = ShapleyRegression.Coalitions(players, samples, generator);   // (K, players), (K)

            long batch = input.shape[0];
            var baseValue = Evaluate(model, references, select).to_type(ScalarType.Float64).mean();
            var full = Evaluate(model, input, select).to_type(ScalarType.Float64);
            var masks = coalitions.matmul(cells).to_type(input.dtype);              // (K, cells): 1 where x is kept
            var values = torch.zeros(batch, coalitions.shape[0], ScalarType.Float64);
            for (long i = 0; i < batch; i++)
                values[i] = CoalitionValues(model, select, input[i], references, masks);
            var phi = ShapleyRegression.Solve(coalitions, weights, values - baseValue, full - baseValue);   // (batch, players)
            var result = groups is null ? phi.reshape(input.shape) : phi;
            return result.to_type(input.dtype);
        });
    }

    /// <summary>
    /// GradientSHAP, also called expected gradients (Erion et al. 2021; SHAP's <c>GradientExplainer</c>):
    /// integrated gradients averaged over baselines drawn from a background set, each draw at one
    /// random point of the path: the mean over draws of <c>(x - b) ⊙ ∇f(b + α (x - b))</c>,
    /// <c>b</c> from the background, <c>α ~ U(0, 1)</c>.
    /// </summary>
    /// <remarks>
    /// <para>Each sample's values add up to <c>f(x) - E[f(background)]</c> on average over the draws
    /// (completeness in expectation); the error of one run falls as <c>1/√samples</c>. The
    /// background samples are used in turn (a fresh random order per round), so when
    /// <paramref name="samples"/> is a multiple of the background size every reference is used
    /// equally often, and on a linear model the result is exactly
    /// <c>w ⊙ (x - mean(background))</c>, the Shapley values.</para>
    /// <para>Cost: <paramref name="samples"/> gradient evaluations of the batch (in batches of
    /// several draws at once).</para>
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The inputs to explain, <c>(batch, timesteps, features)</c>, floating point.</param>
    /// <param name="background">Reference samples <c>(n, timesteps, features)</c>, at least one; a single reference <c>(timesteps, features)</c> is also taken.</param>
    /// <param name="samples">Draws of (reference, path point) per sample, positive; default 200.</param>
    /// <param name="seed">Seed of the draws; null to use the global generator.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>The attributions, shaped like <paramref name="x"/>, in the model's element type.</returns>
    /// <exception cref="ArgumentException">The input or background does not fit, or the output selection is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is not positive.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static Tensor GradientShap(Model model, Tensor x, Tensor background, int samples = 200, long? seed = null,
        Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        ArgumentNullException.ThrowIfNull(background);
        if (samples <= 0)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, $"Expected a positive number of samples. Received: samples={samples}.");
        return Run(model, x, target, outputIndex, (input, select) =>
        {
            var references = BackgroundSet(background, input, nameof(background));
            using var generator = seed is long value ? new Generator(unchecked((ulong)value), torch.CPU) : null;
            long batch = input.shape[0], n = references.shape[0];
            // Reference of draw d for sample i: its own random order of the background, round after round.
            var order = torch.empty(batch, samples, ScalarType.Int64);
            for (long start = 0; start < samples; start += n)
            {
                long take = Math.Min(n, samples - start);
                order[.., TensorIndex.Slice(start, start + take)] = torch.rand(batch, n, generator: generator).argsort(1)[.., ..(int)take];
            }
            var alphas = torch.rand(batch, samples, ScalarType.Float64, generator: generator).to_type(input.dtype);

            var total = torch.zeros_like(input);
            long perDraw = input.numel();
            long draws = Math.Max(1, Math.Min(samples, ValuesPerCall / Math.Max(1, perDraw)));
            for (long start = 0; start < samples; start += draws)
            {
                using var scope = torch.NewDisposeScope();
                long take = Math.Min(draws, samples - start);
                var chosen = references.index_select(0, order[.., TensorIndex.Slice(start, start + take)].reshape(-1))
                    .reshape([batch, take, .. input.shape[1..]]);                           // (batch, take, ...)
                var alpha = alphas[.., TensorIndex.Slice(start, start + take)].reshape([batch, take, .. Enumerable.Repeat(1L, (int)input.dim() - 1)]);
                var difference = input.unsqueeze(1) - chosen;
                var points = (chosen + alpha * difference).reshape([batch * take, .. input.shape[1..]]);
                var gradient = Gradient(model, points, select).reshape(difference.shape);
                total.add_((difference * gradient).sum(1));
            }
            return total / samples;
        });
    }

    /// <summary>
    /// The base value of SHAP explanations: the mean of the chosen output over the background,
    /// <c>E[f(background)]</c>. <see cref="KernelShap"/>'s values of a sample add up to
    /// <c>f(x) - BaseValue</c>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="background">Reference samples <c>(n, timesteps, features)</c>.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>The mean output, computed in double precision from the model's outputs.</returns>
    /// <exception cref="ArgumentException">The background does not fit, or the output selection is invalid.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static double BaseValue(Model model, Tensor background, Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        using var scope = torch.NewDisposeScope();
        var outputs = Run(model, background, target, outputIndex, (input, select) =>
        {
            using var _ = torch.no_grad();
            return Evaluate(model, input, select);
        });
        return outputs.to_type(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>
    /// Players for <see cref="KernelShap"/>: windows of <paramref name="window"/> consecutive time
    /// steps, one group per (window, feature) or, with <paramref name="perFeature"/> false, one per
    /// window over all features. Group <c>k · features + f</c> is window <c>k</c> of feature
    /// <c>f</c> (or group <c>k</c> is window <c>k</c>); the last window may be shorter.
    /// </summary>
    /// <param name="timesteps">Steps of the input, positive.</param>
    /// <param name="features">Features of the input, positive.</param>
    /// <param name="window">Steps per window, in [1, timesteps].</param>
    /// <param name="perFeature">One group per (window, feature) (default), or per window.</param>
    /// <returns>Boolean masks <c>(groups, timesteps, features)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or the window is longer than the input.</exception>
    public static Tensor TimeWindowGroups(long timesteps, long features, int window, bool perFeature = true)
    {
        if (timesteps <= 0 || features <= 0)
            throw new ArgumentOutOfRangeException(timesteps <= 0 ? nameof(timesteps) : nameof(features),
                $"Expected positive sizes. Received: timesteps={timesteps}, features={features}.");
        if (window < 1 || window > timesteps)
            throw new ArgumentOutOfRangeException(nameof(window), window, $"Expected a window of 1 to {timesteps} steps. Received: window={window}.");
        long windows = (timesteps + window - 1) / window;
        var masks = torch.zeros(perFeature ? windows * features : windows, timesteps, features, ScalarType.Bool);
        for (long k = 0; k < windows; k++)
        {
            var steps = TensorIndex.Slice(k * window, Math.Min(timesteps, (k + 1) * window));
            if (!perFeature)
            {
                masks[k, steps] = true;
                continue;
            }
            for (long f = 0; f < features; f++)
                masks[k * features + f, steps, f] = true;
        }
        return masks;
    }

    /// <summary>Mean output over the background for each coalition mask, for one sample <paramref name="xi"/>; float64 (K).</summary>
    private static Tensor CoalitionValues(Model model, Func<Tensor, Tensor> select, Tensor xi, Tensor references, Tensor masks)
    {
        long coalitions = masks.shape[0], n = references.shape[0];
        var shape = xi.shape;
        var flatX = xi.reshape(1, 1, -1);
        var flatB = references.reshape(1, n, -1);
        var values = torch.empty(coalitions, ScalarType.Float64);
        long chunk = Math.Max(1, ValuesPerCall / Math.Max(1, n * xi.numel()));
        for (long start = 0; start < coalitions; start += chunk)
        {
            using var scope = torch.NewDisposeScope();
            long take = Math.Min(chunk, coalitions - start);
            var m = masks.narrow(0, start, take).unsqueeze(1);                        // (take, 1, cells)
            var mixed = (m * flatX + (1 - m) * flatB).reshape([take * n, .. shape]);
            var outputs = Evaluate(model, mixed, select).to_type(ScalarType.Float64).reshape(take, n);
            values.narrow(0, start, take).copy_(outputs.mean([1]));
        }
        return values;
    }

    /// <summary>The background as <c>(n, ...)</c> in the input's type; a single reference shaped like one sample is taken as n = 1.</summary>
    private static Tensor BackgroundSet(Tensor background, Tensor input, string argument)
    {
        var sampleShape = input.shape[1..];
        var shape = background.shape;
        bool single = shape.SequenceEqual(sampleShape);
        bool set = shape.Length == input.dim() && shape[1..].SequenceEqual(sampleShape);
        if (!single && !set)
            throw new ArgumentException(
                $"Expected a background of reference samples shaped [n, {string.Join(", ", sampleShape)}] (or one reference {ShapeText.Format(sampleShape)}), " +
                $"matching the input {ShapeText.Format(input.shape)}. Received shape {ShapeText.Format(shape)}.", argument);
        if (set && shape[0] == 0)
            throw new ArgumentException($"Expected at least one background sample. Received an empty background, shape {ShapeText.Format(shape)}.", argument);
        if (!background.is_floating_point())
            throw new ArgumentException($"Expected a floating-point background. Received dtype {background.dtype}.", argument);
        var cast = background.detach().to_type(input.dtype, copy: true);
        if (!cast.isfinite().all().item<bool>())
            throw new ArgumentException("Expected finite background values. Received NaN or infinity.", argument);
        return single ? cast.unsqueeze(0) : cast;
    }

    /// <summary>
    /// The players as 0/1 rows over the flattened cells of one sample, float64 <c>(players, cells)</c>:
    /// one per cell when <paramref name="groups"/> is null, else the checked masks.
    /// </summary>
    private static Tensor CellGroups(Tensor? groups, Tensor input)
    {
        var sampleShape = input.shape[1..];
        long cells = sampleShape.Aggregate(1L, (a, b) => a * b);
        if (groups is null)
            return torch.eye(cells, dtype: ScalarType.Float64);
        if (groups.dim() != sampleShape.Length + 1 || !groups.shape[1..].SequenceEqual(sampleShape) || groups.shape[0] == 0)
            throw new ArgumentException(
                $"Expected groups as masks shaped {ShapeText.Format([-1, .. sampleShape]).Replace("-1", "groups")}, one per group over a sample's values {ShapeText.Format(sampleShape)}, at least one. " +
                $"Received shape {ShapeText.Format(groups.shape)}.", nameof(groups));
        var masks = groups.to_type(ScalarType.Float64).reshape(groups.shape[0], cells);
        if (!(masks.eq(0) | masks.eq(1)).all().item<bool>())
            throw new ArgumentException("Expected group masks of booleans or 0/1 values. Received other values.", nameof(groups));
        var cover = masks.sum([0]);
        long overlap = cover.gt(1).sum().item<long>(), missing = cover.eq(0).sum().item<long>();
        if (overlap > 0 || missing > 0)
        {
            long first = (overlap > 0 ? cover.gt(1) : cover.eq(0)).nonzero()[0, 0].item<long>();
            string where = ShapeText.Format(Unravel(first, sampleShape));
            throw new ArgumentException(overlap > 0
                ? $"Groups must not overlap: each input value belongs to exactly one group. Received {overlap} values in several groups, the first at {where} (in {cover[first].item<double>():F0} groups)."
                : $"Groups must cover the input: each input value belongs to exactly one group. Received {missing} values in no group, the first at {where}.",
                nameof(groups));
        }
        var empty = masks.sum([1]).eq(0);
        if (empty.any().item<bool>())
            throw new ArgumentException($"Expected every group to hold at least one input value. Received an empty group {empty.nonzero()[0, 0].item<long>()}.", nameof(groups));
        return masks;
    }

    private static long[] Unravel(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            index[axis] = flat % shape[axis];
            flat /= shape[axis];
        }
        return index;
    }

    private static void CheckCoalitionCount(int samples, int players)
    {
        long minimum = ShapleyRegression.MinimumSamples(players);
        if (samples < minimum)
            throw new ArgumentOutOfRangeException(nameof(samples), samples,
                $"Kernel SHAP with {players} players needs at least {minimum} coalition samples (one more than the players, or all {(players < 62 ? ((1L << players) - 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : "2^players - 2")} coalitions when fewer). " +
                $"Received: samples={samples}. Group the input (groups, e.g. TimeWindowGroups) or raise samples.");
    }
}
