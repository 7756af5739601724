using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Callbacks;

/// <summary>
/// Writes TensorBoard event files (Keras <c>TensorBoard</c>), through TorchSharp's
/// <c>torch.utils.tensorboard.SummaryWriter</c>: run <c>tensorboard --logdir logs</c> to see them.
/// </summary>
/// <remarks>
/// <para>As in Keras, at each epoch end the training values go to <c>&lt;logDir&gt;/train</c> as scalars
/// <c>epoch_&lt;name&gt;</c> (plus <c>epoch_learning_rate</c>), and the validation values to
/// <c>&lt;logDir&gt;/validation</c> without their <c>val_</c> prefix (<c>epoch_loss</c>, ...), all at step =
/// epoch. Each evaluation (Fit's validation included) also writes
/// <c>evaluation_&lt;name&gt;_vs_iterations</c> to the validation folder at step = optimizer iterations.</para>
/// <para>With <c>histogramFreq</c> N &gt; 0, every N epochs (epochs 0, N, 2N, ...) a histogram of each
/// weight goes to the training folder under <c>&lt;layer&gt;/&lt;weight&gt;/histogram</c>, e.g.
/// <c>dense/kernel/histogram</c> (Keras 3 uses the bare weight name, which repeats across layers).</para>
/// <para>Writers are created on first use, so a run without validation has no validation folder.</para>
/// </remarks>
/// <example>
/// <code>
/// model.Fit(x, y, epochs: 10, validationSplit: 0.2, callbacks: [new TensorBoard("logs", histogramFreq: 1)]);
/// </code>
/// </example>
public sealed class TensorBoard : Callback
{
    private SummaryWriter? _train;
    private SummaryWriter? _validation;

    /// <summary>Creates the callback.</summary>
    /// <param name="logDir">The folder for the event files. Default <c>"logs"</c>.</param>
    /// <param name="histogramFreq">Epochs between weight histograms; 0 (default) for none.</param>
    /// <exception cref="ArgumentException">An empty folder name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="histogramFreq"/> is negative.</exception>
    public TensorBoard(string logDir = "logs", int histogramFreq = 0)
    {
        ArgumentNullException.ThrowIfNull(logDir);
        if (string.IsNullOrWhiteSpace(logDir))
            throw new ArgumentException($"Expected a folder name. Received: logDir='{logDir}'.", nameof(logDir));
        if (histogramFreq < 0)
            throw new ArgumentOutOfRangeException(nameof(histogramFreq), histogramFreq, $"Expected histogramFreq >= 0. Received: histogramFreq={histogramFreq}.");
        LogDir = logDir;
        HistogramFreq = histogramFreq;
    }

    /// <summary>The folder of the event files.</summary>
    public string LogDir { get; }

    /// <summary>Epochs between weight histograms (0 for none).</summary>
    public int HistogramFreq { get; }

    private SummaryWriter TrainWriter => _train ??= torch.utils.tensorboard.SummaryWriter(Path.Combine(LogDir, "train"));

    private SummaryWriter ValidationWriter => _validation ??= torch.utils.tensorboard.SummaryWriter(Path.Combine(LogDir, "validation"));

    /// <inheritdoc />
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _train = null;
        _validation = null;
    }

    /// <inheritdoc />
    public override void OnTestEnd(IDictionary<string, double> logs)
    {
        if (Model?.Optimizer is not { } optimizer)
            return;
        foreach (var (name, value) in logs)
            ValidationWriter.add_scalar($"evaluation_{name}_vs_iterations", (float)value, Step(optimizer.Iterations), WallTime);
    }

    /// <inheritdoc />
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var train = logs.Where(p => !p.Key.StartsWith("val_", StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
        var validation = logs.Where(p => p.Key.StartsWith("val_", StringComparison.Ordinal)).ToList();
        if (train.Count + validation.Count > 0)
        {
            if (Model?.Optimizer is { } optimizer)
                train["learning_rate"] = optimizer.LearningRate;   // once, even when a callback before logged it
            foreach (var (name, value) in train)
                TrainWriter.add_scalar("epoch_" + name, (float)value, epoch, WallTime);
            foreach (var (name, value) in validation)
                ValidationWriter.add_scalar("epoch_" + name[4..], (float)value, epoch, WallTime);
        }
        if (HistogramFreq > 0 && epoch % HistogramFreq == 0)
            LogWeights(epoch);
    }

    private void LogWeights(int epoch)
    {
        if (Model is null)
            return;
        using var scope = torch.NewDisposeScope();
        foreach (var layer in Model.Layers)
        {
            var names = layer.named_parameters().ToDictionary(p => (object)p.parameter, p => p.name[(p.name.LastIndexOf('.') + 1)..], ReferenceEqualityComparer.Instance);
            foreach (var weight in layer.Weights)
            {
                string name = names.TryGetValue(weight, out var n) ? n : "weight";
                TrainWriter.add_histogram($"{layer.Name}/{name}/histogram", weight.detach().cpu().to_type(ScalarType.Float64), epoch, TorchSharp.Utils.tensorboard.Enums.HistogramBinSelector.Tensorflow, WallTime);
            }
        }
    }

    /// <summary>TensorBoard's wall time is in seconds since 1970 (TorchSharp's default is not).</summary>
    private static long WallTime => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static int Step(long iterations) => (int)Math.Min(iterations, int.MaxValue);
}
