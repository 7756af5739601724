using SeqSharp.Layers;
using SeqSharp.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>
/// How much each input value contributes to one chosen output of a model, per sample: gradient
/// methods (saliency, gradient × input, integrated gradients), occlusion of time steps, and
/// permutation importance of features.
/// </summary>
/// <remarks>
/// <para><b>Which output.</b> The gradient and occlusion methods explain one value per sample. Choose
/// it with <c>outputIndex</c>, an index into the per-sample output (for an output
/// <c>(batch, timesteps, units)</c>, <c>[-1, 0]</c> is the last step's unit 0; negative indices
/// count from the end), or with <c>target</c>, a function from the model output
/// <c>(batch, ...)</c> to one value per sample <c>(batch)</c>, e.g. <c>y => y[.., 9, 0]</c> or a
/// class score. Without either, the output must have one value per sample (e.g. <c>(batch, 1)</c>),
/// which is then explained.</para>
/// <para><b>How it runs.</b> In inference mode (for its own calls: the model's training flag is not touched), on the whole
/// batch at once per evaluation, in the model's element type (build the model with
/// <c>dtype: ScalarType.Float64</c> for double-precision attributions). Samples are independent,
/// so each sample's attribution is that sample's own. Gradients are taken with
/// <c>torch.autograd.grad</c> with respect to the input only: no gradient is left on the weights,
/// and the weights are not changed. Models with stateful layers are refused, since every
/// evaluation would advance their carried states.</para>
/// <para>Every method but <see cref="PermutationImportance"/> returns a tensor shaped like the input,
/// <c>(batch, timesteps, features)</c>.</para>
/// </remarks>
/// <example>
/// <code>
/// var saliency = Attributions.Saliency(model, x, outputIndex: [-1, 0]);     // (batch, timesteps, features)
/// var ig = Attributions.IntegratedGradients(model, x, steps: 100);           // model output (batch, 1)
/// var perStep = Attributions.Occlusion(model, x, window: 3);
/// var importance = Attributions.PermutationImportance(model, x, y, repeats: 10, seed: 1);   // (features)
/// </code>
/// </example>
public static partial class Attributions
{
    /// <summary>
    /// The gradient of the chosen output with respect to the input (Simonyan et al. 2014), signed:
    /// how much the output changes per unit change of each input value. Take <c>.abs()</c> for the
    /// magnitude map of the paper.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="x">The input <c>(batch, timesteps, features)</c>, floating point.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns><c>d output / d x</c>, shaped like <paramref name="x"/>, in the model's element type.</returns>
    /// <exception cref="ArgumentException">The input does not fit the model or is not floating point, the output selection is invalid, or the output has several values per sample and none was chosen.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static Tensor Saliency(Model model, Tensor x, Func<Tensor, Tensor>? target = null, long[]? outputIndex = null) =>
        Run(model, x, target, outputIndex, (input, select) => Gradient(model, input, select));

    /// <summary>
    /// Gradient × input (Shrikumar et al. 2016): the <see cref="Saliency"/> times the input value,
    /// a first-order estimate of each value's contribution relative to zero.
    /// </summary>
    /// <inheritdoc cref="Saliency"/>
    /// <returns><c>x ⊙ d output / d x</c>, shaped like <paramref name="x"/>.</returns>
    public static Tensor GradientTimesInput(Model model, Tensor x, Func<Tensor, Tensor>? target = null, long[]? outputIndex = null) =>
        Run(model, x, target, outputIndex, (input, select) => Gradient(model, input, select) * input);

    /// <summary>
    /// Integrated gradients (Sundararajan et al. 2017): <c>(x - x') ⊙ ∫₀¹ ∇f(x' + α (x - x')) dα</c>
    /// for a baseline <c>x'</c>, the integral taken by the trapezoid rule on <paramref name="steps"/>
    /// equal intervals (<c>steps + 1</c> gradient evaluations, the two ends weighted ½).
    /// </summary>
    /// <remarks>
    /// The attributions of a sample add up to <c>f(x) - f(x')</c> (completeness) up to the
    /// quadrature error, which falls as <c>1/steps²</c> for smooth models; check
    /// <c>attributions.sum([1, 2])</c> against the two outputs to choose <paramref name="steps"/>.
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The input <c>(batch, timesteps, features)</c>, floating point.</param>
    /// <param name="baseline">The reference input <c>x'</c>, shaped like <paramref name="x"/> or broadcastable to it (e.g. <c>(features)</c> per-feature means); null for zeros.</param>
    /// <param name="steps">Number of intervals of the path, positive; default 50.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>The attributions, shaped like <paramref name="x"/>.</returns>
    /// <exception cref="ArgumentException">The input or baseline does not fit, or the output selection is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> is not positive.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static Tensor IntegratedGradients(Model model, Tensor x, Tensor? baseline = null, int steps = 50,
        Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        if (steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Expected a positive number of steps. Received: steps={steps}.");
        return Run(model, x, target, outputIndex, (input, select) =>
        {
            var reference = Baseline(baseline, input);
            var difference = input - reference;
            var total = torch.zeros_like(input);
            for (int k = 0; k <= steps; k++)
            {
                using var step = torch.NewDisposeScope();
                double weight = k == 0 || k == steps ? 0.5 : 1.0;
                var gradient = Gradient(model, reference + difference * ((double)k / steps), select);
                total.add_(gradient, alpha: weight);
            }
            return difference * total / steps;
        });
    }

    /// <summary>
    /// Occlusion over time (Zeiler &amp; Fergus 2014): replaces a window of <paramref name="window"/>
    /// consecutive time steps (all features) by the baseline and records the drop of the output,
    /// <c>f(x) - f(x with the window occluded)</c>, for every window position (stride 1).
    /// </summary>
    /// <remarks>
    /// Each value receives the average drop of the windows that cover its time step (with the
    /// default window of 1, exactly the drop of occluding its own step). Every feature of a step
    /// gets the same value: read <c>attributions[.., t, 0]</c>, not a sum over features. A positive
    /// value means the step raised the output. The time axis is axis 1 of the input.
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The input <c>(batch, timesteps, features)</c>.</param>
    /// <param name="window">Time steps occluded at once, in [1, timesteps]; default 1.</param>
    /// <param name="baseline">The values put in place of the occluded steps, shaped like <paramref name="x"/> or broadcastable to it (e.g. <c>(features)</c> means); null for zeros.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>The drops, shaped like <paramref name="x"/>.</returns>
    /// <exception cref="ArgumentException">The input or baseline does not fit, or the output selection is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is outside [1, timesteps].</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static Tensor Occlusion(Model model, Tensor x, int window = 1, Tensor? baseline = null,
        Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() >= 2 && (window < 1 || window > x.shape[1]))
            throw new ArgumentOutOfRangeException(nameof(window), window,
                $"Expected a window of 1 to {x.shape[1]} time steps (the input's axis 1). Received: window={window}.");
        return Run(model, x, target, outputIndex, (input, select) =>
        {
            using var _ = torch.no_grad();
            var reference = Baseline(baseline, input);
            long steps = input.shape[1];
            var original = Evaluate(model, input, select);
            var sum = torch.zeros_like(input);
            var count = torch.zeros(steps, input.dtype);
            for (long start = 0; start + window <= steps; start++)
            {
                using var scope = torch.NewDisposeScope();
                var occluded = input.clone();
                occluded.narrow(1, start, window).copy_(reference.narrow(1, start, window));
                var drop = original - Evaluate(model, occluded, select);
                sum.narrow(1, start, window).add_(drop.reshape([drop.shape[0], .. Enumerable.Repeat(1L, (int)input.dim() - 1)]));
                count.narrow(0, start, window).add_(1);
            }
            return sum / count.reshape([1, steps, .. Enumerable.Repeat(1L, (int)input.dim() - 2)]);
        });
    }

    /// <summary>
    /// Permutation feature importance (Breiman 2001; scikit-learn's <c>permutation_importance</c>):
    /// for each feature (last input axis), the rise of the loss when that feature's values are
    /// shuffled across samples (each sample's whole sequence of the feature moves together), averaged
    /// over <paramref name="repeats"/> shuffles.
    /// </summary>
    /// <remarks>
    /// <para>Unlike the other methods this is one number per feature for the whole data set, not a
    /// per-sample map: the result is a <c>(features)</c> vector. For a map shaped like the input,
    /// broadcast it: <c>importance.expand(x.shape)</c>.</para>
    /// <para>0 means the model ignores the feature (or shuffling it does not matter); a negative value
    /// means shuffling happened to help. Needs at least 2 samples; more give steadier values.</para>
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The input <c>(samples, timesteps, features)</c> (or <c>(samples, features)</c>).</param>
    /// <param name="y">The targets, shaped like the model output (a trailing axis of 1 may be left out, as for <c>Fit</c>).</param>
    /// <param name="loss">The loss to compare, by object or by name (e.g. <c>"mae"</c>); default <c>"mse"</c>.</param>
    /// <param name="repeats">Shuffles per feature, positive; default 5.</param>
    /// <param name="seed">Seed of the shuffles; null to use the global generator (<see cref="Utils.SetRandomSeed"/>).</param>
    /// <returns>The mean loss increase per feature, <c>(features)</c>, in the model's element type.</returns>
    /// <exception cref="ArgumentException">The input does not fit, has fewer than 2 samples, or the targets do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="repeats"/> is not positive.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static Tensor PermutationImportance(Model model, Tensor x, Tensor y, Loss? loss = null, int repeats = 5, long? seed = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (repeats <= 0)
            throw new ArgumentOutOfRangeException(nameof(repeats), repeats, $"Expected a positive number of repeats. Received: repeats={repeats}.");
        ModelInput.Check(model, x, nameof(x));
        ModelInput.ThrowIfStateful(model);
        long samples = x.shape[0];
        if (samples < 2)
            throw new ArgumentException($"Permutation importance shuffles samples: it needs at least 2. Received {samples} (shape {ShapeText.Format(x.shape)}).", nameof(x));
        if (y.dim() < 1 || y.shape[0] != samples)
            throw new ArgumentException(
                $"'x' and 'y' must have the same number of samples. Received: x has {samples} (shape {ShapeText.Format(x.shape)}), y has {(y.dim() < 1 ? 0 : y.shape[0])} (shape {ShapeText.Format(y.shape)}).",
                nameof(y));
        loss ??= Loss.Get("mse");
        using var generator = seed is long value ? new Generator(unchecked((ulong)value), torch.CPU) : null;
        // Inference mode for these calls only, not by switching the model's shared training flag.
        using (Layers.CallMode.Use(training: false))
        {
            using var scope = torch.NewDisposeScope();
            using var _ = torch.no_grad();
            var input = ModelInput.Cast(model, x, nameof(x));
            var targets = y.to_type(input.dtype);
            double Score(Tensor data) => loss.Call(targets, model.Call(data)).to_type(ScalarType.Float64).item<double>();
            double original = Score(input);
            long features = input.shape[^1];
            var importance = new double[features];
            for (long feature = 0; feature < features; feature++)
            {
                for (int r = 0; r < repeats; r++)
                {
                    using var step = torch.NewDisposeScope();
                    var order = torch.randperm(samples, generator: generator);
                    var shuffled = input.clone();
                    shuffled.select(-1, feature).copy_(input.select(-1, feature).index_select(0, order));
                    importance[feature] += (Score(shuffled) - original) / repeats;
                }
            }
            return torch.tensor(importance, input.dtype).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Checks, then runs <paramref name="body"/> on the cast input in inference mode and a dispose scope.</summary>
    private static Tensor Run(Model model, Tensor x, Func<Tensor, Tensor>? target, long[]? outputIndex, Func<Tensor, Func<Tensor, Tensor>, Tensor> body)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        var outputShape = ModelInput.Check(model, x, nameof(x));
        ModelInput.ThrowIfStateful(model);
        var select = Selector(outputShape, target, outputIndex);
        // Inference mode for these calls only, not by switching the model's shared training flag.
        using (Layers.CallMode.Use(training: false))
        {
            using var scope = torch.NewDisposeScope();
            var input = ModelInput.Cast(model, x, nameof(x));
            return body(input, select).detach().MoveToOuterDisposeScope();
        }
    }

    /// <summary>The gradient of the selected outputs' sum with respect to <paramref name="x"/> (each sample's own, as samples are independent).</summary>
    private static Tensor Gradient(Model model, Tensor x, Func<Tensor, Tensor> select)
    {
        using var _ = torch.enable_grad();
        var input = x.detach().requires_grad_(true);
        var values = Evaluate(model, input, select);
        // An output that does not depend on the input (no graph, or none through the input) has a zero gradient.
        if (!values.requires_grad)
            return torch.zeros_like(input);
        var gradient = Layers.Kernels.BackwardFailure.Grad([values.sum()], [input], allowUnused: true)[0];
        return gradient is null || gradient.Handle == IntPtr.Zero ? torch.zeros_like(input) : gradient;
    }

    /// <summary>The selected output, one value per sample.</summary>
    private static Tensor Evaluate(Model model, Tensor x, Func<Tensor, Tensor> select)
    {
        var values = select(model.Call(x));
        if (values is null || !values.shape.SequenceEqual([x.shape[0]]))
            throw new ArgumentException(
                $"The target must map the model output to one value per sample, shape [{x.shape[0]}]. Received: {(values is null ? "null" : $"shape {ShapeText.Format(values.shape)}")}.",
                "target");
        return values;
    }

    /// <summary>The function choosing one output value per sample; see the class remarks.</summary>
    private static Func<Tensor, Tensor> Selector(long[] outputShape, Func<Tensor, Tensor>? target, long[]? outputIndex)
    {
        if (target is not null && outputIndex is not null)
            throw new ArgumentException("Choose the output to explain with either target or outputIndex, not both.", nameof(outputIndex));
        if (target is not null)
            return target;
        string shape = ShapeText.WithBatch(outputShape);
        if (outputIndex is not null)
        {
            if (outputIndex.Length != outputShape.Length)
                throw new ArgumentException(
                    $"Expected an outputIndex with {outputShape.Length} entries, one per axis of the per-sample output (the model output is {shape}). Received: [{string.Join(", ", outputIndex)}].",
                    nameof(outputIndex));
            var index = new long[outputIndex.Length];
            for (int axis = 0; axis < index.Length; axis++)
            {
                long size = outputShape[axis], i = outputIndex[axis];
                if (i < -size || i >= size)
                    throw new ArgumentException(
                        $"outputIndex [{string.Join(", ", outputIndex)}] is out of range for the model output {shape}: entry {axis} must be in [{-size}, {size - 1}].",
                        nameof(outputIndex));
                index[axis] = i < 0 ? i + size : i;
            }
            return y =>
            {
                foreach (long i in index)
                    y = y.select(1, i);
                return y;
            };
        }
        long perSample = outputShape.Aggregate(1L, (a, b) => a * b);
        if (perSample != 1)
            throw new ArgumentException(
                $"The model output {shape} has {perSample} values per sample; choose the one to explain with outputIndex " +
                $"(e.g. [{string.Join(", ", outputShape.Select(d => d - 1))}] for the last) or with target (a function from the output to one value per sample).",
                nameof(outputIndex));
        return y => y.reshape(y.shape[0]);
    }

    /// <summary>The baseline broadcast to the input's shape and type (zeros when null).</summary>
    private static Tensor Baseline(Tensor? baseline, Tensor x)
    {
        if (baseline is null)
            return torch.zeros_like(x);
        var shape = baseline.shape;
        bool fits = shape.Length <= x.dim() && shape.Select((d, k) => d == 1 || d == x.shape[x.dim() - shape.Length + k]).All(ok => ok);
        if (!fits)
            throw new ArgumentException(
                $"Expected a baseline shaped like the input {ShapeText.Format(x.shape)} or broadcastable to it (e.g. [{x.shape[^1]}], one value per feature). Received shape {ShapeText.Format(shape)}.",
                nameof(baseline));
        return baseline.to_type(x.dtype).expand(x.shape).contiguous();
    }
}
