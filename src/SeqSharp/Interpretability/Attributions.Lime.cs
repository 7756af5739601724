using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

public static partial class Attributions
{
    /// <summary>Ridge penalty of the surrogate, LIME's default (<c>Ridge(alpha=1)</c>).</summary>
    private const double LimeRidge = 1.0;

    /// <summary>
    /// LIME (Ribeiro, Singh &amp; Guestrin 2016) for sequences: explains each sample's chosen output
    /// by a weighted linear surrogate over interpretable features, windows of
    /// <paramref name="segments"/> consecutive time steps per feature (or over all features), each
    /// either kept or switched to the background value.
    /// </summary>
    /// <remarks>
    /// <para><b>Perturbations.</b> For each sample, <paramref name="samples"/> binary vectors
    /// <c>z</c> over the <c>d</c> windows: the first keeps everything, each other switches off a
    /// number of windows drawn uniformly from 1 to <c>d</c>, chosen uniformly (as LIME's text
    /// explainer does). The model is run on the inputs that keep <c>x</c> where <c>z = 1</c> and take
    /// <paramref name="background"/> elsewhere.</para>
    /// <para><b>Weights and fit.</b> Each perturbation is weighted by the exponential kernel
    /// <c>√exp(-d²/width²)</c> on its cosine distance <c>d</c> to the all-kept vector (LIME's image
    /// explainer, whose default width is 0.25), and a ridge regression with intercept
    /// (penalty 1, LIME's default) is fitted by weighted least squares. <see cref="LimeExplanation.Score"/>
    /// is its weighted R².</para>
    /// <para>On a model that is linear in its input the output is exactly linear in <c>z</c>, and the
    /// coefficients are, up to the small ridge shrinkage, each window's
    /// <c>Σ w ⊙ (x - background)</c>.</para>
    /// </remarks>
    /// <param name="model">The model.</param>
    /// <param name="x">The inputs to explain, <c>(batch, timesteps, features)</c>, floating point.</param>
    /// <param name="segments">Time steps per window, in [1, timesteps]; 1 explains every (step, feature) value. Default 5.</param>
    /// <param name="samples">Perturbations per sample, at least one more than the windows; default 2000.</param>
    /// <param name="kernelWidth">Width of the exponential kernel on the cosine distance, positive; default 0.25.</param>
    /// <param name="seed">Seed of the perturbations; null to use the global generator.</param>
    /// <param name="background">The values a switched-off window takes: shaped like one sample <c>(timesteps, features)</c> or broadcastable to it (e.g. <c>(features)</c> means), or a set <c>(n, timesteps, features)</c> whose mean is used; null for zeros.</param>
    /// <param name="perFeature">Windows per feature (default), or whole windows of steps over all features.</param>
    /// <param name="target">Maps the model output <c>(batch, ...)</c> to one value per sample <c>(batch)</c>; or null.</param>
    /// <param name="outputIndex">Index into the per-sample output (negative from the end); or null. Not together with <paramref name="target"/>.</param>
    /// <returns>The coefficients <c>(batch, windows, features or 1)</c>, intercepts and weighted R² per sample.</returns>
    /// <exception cref="ArgumentException">The input or background does not fit, or the output selection is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count or the width is out of range, or <paramref name="samples"/> is below the minimum.</exception>
    /// <exception cref="NotSupportedException">The model has a stateful layer.</exception>
    public static LimeExplanation Lime(Model model, Tensor x, int segments = 5, int samples = 2000, double kernelWidth = 0.25, long? seed = null,
        Tensor? background = null, bool perFeature = true, Func<Tensor, Tensor>? target = null, long[]? outputIndex = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 3)
            throw new ArgumentException($"LIME for sequences expects x of shape (batch, timesteps, features). Received shape {ShapeText.Format(x.shape)}.", nameof(x));
        long steps = x.shape[1], features = x.shape[2];
        if (segments < 1 || segments > steps)
            throw new ArgumentOutOfRangeException(nameof(segments), segments, $"Expected 1 to {steps} time steps per segment (the input's axis 1). Received: segments={segments}.");
        if (!(kernelWidth > 0) || double.IsInfinity(kernelWidth))
            throw new ArgumentOutOfRangeException(nameof(kernelWidth), kernelWidth, $"Expected a positive, finite kernel width. Received: kernelWidth={kernelWidth}.");
        long windows = (steps + segments - 1) / segments;
        long columns = perFeature ? features : 1;
        long interpretable = windows * columns;
        if (samples < interpretable + 1)
            throw new ArgumentOutOfRangeException(nameof(samples), samples,
                $"LIME with {interpretable} interpretable features ({windows} windows of {segments} steps{(perFeature ? $" × {features} features" : "")}) needs at least {interpretable + 1} samples. " +
                $"Received: samples={samples}. Use longer segments or more samples.");

        var packed = Run(model, x, target, outputIndex, (input, select) =>
        {
            using var _ = torch.no_grad();
            var reference = LimeBackground(background, input);                          // (timesteps, features)
            var windowCells = perFeature
                ? TimeWindowGroups(steps, features, segments, perFeature: true)
                : TimeWindowGroups(steps, features, segments, perFeature: false);
            var cells = windowCells.to_type(ScalarType.Float64).reshape(interpretable, steps * features);
            using var generator = seed is long value ? new Generator(unchecked((ulong)value), torch.CPU) : null;
            long batch = input.shape[0];
            var result = torch.zeros(batch, interpretable + 2, ScalarType.Float64);
            for (long i = 0; i < batch; i++)
            {
                using var scope = torch.NewDisposeScope();
                var z = LimePerturbations(samples, interpretable, generator);           // (samples, d)
                var masks = z.matmul(cells).to_type(input.dtype).reshape([samples, steps, features]);
                var outputs = torch.empty(samples, ScalarType.Float64);
                long chunk = Math.Max(1, ValuesPerCall / Math.Max(1, steps * features));
                for (long start = 0; start < samples; start += chunk)
                {
                    using var inner = torch.NewDisposeScope();
                    long take = Math.Min(chunk, samples - start);
                    var m = masks.narrow(0, start, take);
                    var mixed = m * input[i].unsqueeze(0) + (1 - m) * reference.unsqueeze(0);
                    outputs.narrow(0, start, take).copy_(Evaluate(model, mixed, select).to_type(ScalarType.Float64));
                }
                var kept = z.sum([1]);
                var distance = torch.where(kept.gt(0), 1 - (kept / interpretable).sqrt(), torch.ones_like(kept));
                var weights = (-(distance.square()) / (kernelWidth * kernelWidth)).exp().sqrt();
                var (coefficients, intercept, score) = WeightedRidge(z, outputs, weights, LimeRidge);
                result[i, ..(int)interpretable] = coefficients;
                result[i, interpretable] = intercept;
                result[i, interpretable + 1] = score;
            }
            return result.to_type(input.dtype);
        });
        using var unpack = torch.NewDisposeScope();
        var explanation = new LimeExplanation(
            packed[.., ..(int)interpretable].reshape(packed.shape[0], windows, columns).contiguous().MoveToOuterDisposeScope(),
            packed[.., interpretable].contiguous().MoveToOuterDisposeScope(),
            packed[.., interpretable + 1].contiguous().MoveToOuterDisposeScope(),
            segments);
        packed.Dispose();
        return explanation;
    }

    /// <summary>Row 0 keeps all <paramref name="d"/> features; each other row switches off k ~ U{1..d} of them, chosen uniformly. float64 (samples, d).</summary>
    private static Tensor LimePerturbations(int samples, long d, Generator? generator)
    {
        var off = torch.randint(1, d + 1, [samples, 1], ScalarType.Int64, generator: generator);
        var ranks = torch.rand(samples, d, ScalarType.Float64, generator: generator).argsort(1).argsort(1);
        var z = ranks.ge(off).to_type(ScalarType.Float64);
        z[0] = 1.0;
        return z;
    }

    /// <summary>
    /// Weighted ridge regression with an unpenalised intercept (centering by the weighted means, as
    /// scikit-learn's <c>Ridge</c> with <c>sample_weight</c> does) and its weighted R² on the same data.
    /// </summary>
    private static (Tensor Coefficients, double Intercept, double Score) WeightedRidge(Tensor z, Tensor y, Tensor w, double alpha)
    {
        double total = w.sum().item<double>();
        var zMean = (z * w.unsqueeze(1)).sum([0]) / total;
        double yMean = (y * w).sum().item<double>() / total;
        var zc = z - zMean;
        var yc = y - yMean;
        var gram = (zc * w.unsqueeze(1)).t().matmul(zc) + alpha * torch.eye(z.shape[1], dtype: ScalarType.Float64);
        var coefficients = torch.linalg.solve(gram, (zc * w.unsqueeze(1)).t().matmul(yc));
        double intercept = yMean - zMean.dot(coefficients).item<double>();
        var residual = y - (z.matmul(coefficients) + intercept);
        double ssRes = (w * residual.square()).sum().item<double>();
        double ssTot = (w * yc.square()).sum().item<double>();
        double score = ssTot > 0 ? 1 - ssRes / ssTot : ssRes == 0 ? 1.0 : 0.0;
        return (coefficients, intercept, score);
    }

    /// <summary>LIME's replacement values as one sample <c>(timesteps, features)</c> in the input's type: zeros, a broadcastable tensor, or the mean of a set.</summary>
    private static Tensor LimeBackground(Tensor? background, Tensor input)
    {
        var sampleShape = input.shape[1..];
        if (background is null)
            return torch.zeros(sampleShape, input.dtype);
        if (!background.is_floating_point())
            throw new ArgumentException($"Expected a floating-point background. Received dtype {background.dtype}.", nameof(background));
        var values = background.detach().to_type(input.dtype);
        if (values.dim() == input.dim() && values.shape[1..].SequenceEqual(sampleShape))
        {
            if (values.shape[0] == 0)
                throw new ArgumentException($"Expected at least one background sample. Received an empty background, shape {ShapeText.Format(values.shape)}.", nameof(background));
            values = values.mean([0]);
        }
        var shape = values.shape;
        bool fits = shape.Length <= sampleShape.Length && shape.Select((d, k) => d == 1 || d == sampleShape[sampleShape.Length - shape.Length + k]).All(ok => ok);
        if (!fits)
            throw new ArgumentException(
                $"Expected a background shaped like one sample {ShapeText.Format(sampleShape)}, broadcastable to it (e.g. [{sampleShape[^1]}], one value per feature), or a set (n, {string.Join(", ", sampleShape)}). " +
                $"Received shape {ShapeText.Format(background.shape)}.", nameof(background));
        var result = values.expand(sampleShape).contiguous();
        if (!result.isfinite().all().item<bool>())
            throw new ArgumentException("Expected finite background values. Received NaN or infinity.", nameof(background));
        return result;
    }
}
