using SeqSharp.Losses;
using SeqSharp.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// The loss of a model with several outputs (Keras's compiled loss over a structure): the sum over
/// outputs of each output's loss times its weight. Per sample: each output's loss values averaged
/// over the sample's own axes (the values its mask keeps), weighted, summed; the training loop then
/// applies sample weights and the mean over the batch, which gives Keras's total.
/// </summary>
internal sealed class MultiOutputLoss : Loss
{
    private readonly Model _model;

    public MultiOutputLoss(Model model, IReadOnlyList<Loss?> losses, IReadOnlyList<double> weights) : base("loss", "sum_over_batch_size")
    {
        _model = model;
        Losses = losses;
        Weights = weights;
    }

    /// <summary>Each output's loss (null for an output without one), in output order.</summary>
    public IReadOnlyList<Loss?> Losses { get; }

    /// <summary>Each output's weight (Keras <c>loss_weights</c>).</summary>
    public IReadOnlyList<double> Weights { get; }

    public override Tensor Compute(Tensor yTrue, Tensor yPred) => ComputeWithMask(yTrue, yPred).Values;

    protected override (Tensor Values, Tensor? Mask) ComputeWithMask(Tensor yTrue, Tensor yPred)
    {
        var targets = _model.UnpackTargets(yTrue);
        var predictions = _model.UnpackPredictions(yPred);
        Tensor? total = null;
        for (int k = 0; k < Losses.Count; k++)
        {
            if (Losses[k] is not { } loss || Weights[k] == 0)
                continue;
            var (values, mask) = loss.ComputeValuesAndMask(targets[k], predictions[k]);
            var perSample = PerSample(values, mask) * Weights[k];
            total = total is null ? perSample : total + perSample;
        }
        return (total ?? zeros([yPred.shape[0]], yPred.dtype), null);
    }

    /// <summary>One value per sample: the mean of the values a sample has (those its mask keeps).</summary>
    internal static Tensor PerSample(Tensor values, Tensor? mask)
    {
        if (values.dim() == 1)
            return mask is null ? values : values * mask.to_type(values.dtype);
        var flat = values.reshape(values.shape[0], -1);
        if (mask is null)
            return flat.mean([1]);
        var keep = mask.reshape(values.shape[0], -1).to_type(values.dtype);
        return (flat * keep).sum([1]) / keep.sum([1]).clamp_min(1);
    }
}

/// <summary>A metric of one output of a model with several outputs, logged as <c>{output}_{metric}</c> as Keras logs it.</summary>
internal sealed class OutputMetric : Metric
{
    private readonly Model _model;

    public OutputMetric(Model model, int output, string outputName, Metric inner) : base($"{outputName}_{inner.Name}")
    {
        _model = model;
        Output = output;
        Inner = inner;
    }

    public int Output { get; }

    public Metric Inner { get; }

    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null) =>
        Inner.UpdateState(_model.UnpackTargets(yTrue)[Output], _model.UnpackPredictions(yPred)[Output], sampleWeight);

    public override double Result() => Inner.Result();

    public override void ResetState() => Inner.ResetState();

    internal override IEnumerable<(string Key, double Value)> LogEntries() =>
        Inner.LogEntries().Select(e => ($"{Name[..^Inner.Name.Length]}{e.Key}", e.Value));

    protected internal override double[]? SummableState() => Inner.SummableState();

    protected internal override void LoadSummableState(double[] state) => Inner.LoadSummableState(state);
}

/// <summary>One output's loss as a metric, logged as <c>{output}_loss</c> (Keras 3 reports each output's unweighted loss).</summary>
internal sealed class OutputLossMetric : Metric
{
    private readonly Model _model;
    private double _sum;
    private double _count;

    public OutputLossMetric(Model model, int output, string outputName, Loss loss) : base($"{outputName}_loss")
    {
        _model = model;
        Output = output;
        Loss = loss;
    }

    public int Output { get; }

    public Loss Loss { get; }

    public override void UpdateState(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        using var scope = torch.NewDisposeScope();
        var (values, mask) = Loss.ComputeValuesAndMask(_model.UnpackTargets(yTrue)[Output], _model.UnpackPredictions(yPred)[Output]);
        var perSample = MultiOutputLoss.PerSample(values, mask);
        if (sampleWeight is not null)
            perSample = perSample * sampleWeight.reshape(sampleWeight.shape[0], -1).mean([1]).to_type(perSample.dtype);
        _sum += perSample.sum().ToDouble();
        _count += perSample.shape[0];
    }

    public override double Result() => _count == 0 ? 0 : _sum / _count;

    public override void ResetState() => (_sum, _count) = (0, 0);

    protected internal override double[]? SummableState() => [_sum, _count];

    protected internal override void LoadSummableState(double[] state) => (_sum, _count) = (state[0], state[1]);
}
