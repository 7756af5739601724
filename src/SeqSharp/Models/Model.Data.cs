using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Checks x, y and sample weights against each other and the model (without building it) and
    /// returns them in the model's element type. Throws before anything changes.
    /// </summary>
    private protected Dataset PrepareData(Tensor x, Tensor y, Tensor? sampleWeight, Loss loss, string xName, string yName)
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        ArgumentNullException.ThrowIfNull(y, yName);
        RequireLayers();
        bool packedTargets = _outputs.Count > 1;
        if (packedTargets && _targetLayout.Value is null)
            throw new ArgumentException(
                $"Model '{Name}' has {_outputs.Count} outputs ({string.Join(", ", OutputNames)}): pass one target array per output, as a list, e.g. Fit(x, [y1, y2]).", yName);
        if (x.dim() < 2)
            throw new ArgumentException($"Expected '{xName}' of rank >= 2 with the samples first. Received shape {ShapeText.Format(x.shape)}.", xName);
        long samples = x.shape[0];
        if (samples == 0)
            throw new ArgumentException($"'{xName}' has no samples (shape {ShapeText.Format(x.shape)}).", xName);
        if (y.dim() < 1 || y.shape[0] != samples)
            throw new ArgumentException(
                $"'{xName}' and '{yName}' must have the same number of samples. Received: {xName} has {samples} (shape {ShapeText.Format(x.shape)}), {yName} has {(y.dim() < 1 ? 0 : y.shape[0])} (shape {ShapeText.Format(y.shape)}).",
                yName);

        if (x.is_complex() || y.is_complex())
            throw new ArgumentException(
                $"Expected real-valued '{xName}' and '{yName}'. Received: {xName}.dtype={x.dtype}, {yName}.dtype={y.dtype}.", x.is_complex() ? xName : yName);
        var dtype = InputDType;
        // A multi-input model's packed inputs keep their own types, restored when unpacked.
        var xs = x.is_floating_point() && _inputs.Count <= 1 ? x.to_type(dtype) : x.alias();
        RequireFinite(xs, xName);
        var ys = packedTargets ? y.alias() : y.to_type(dtype);
        RequireFinite(ys, yName);

        long[] output = [samples, .. InferOutputShape(x.shape[1..], samples)];
        if (!packedTargets)
        {
            // (A multi-output model's targets were checked output by output before they were packed.)
            ys = MatchTargets(ys, output, loss, yName);
            // Targets the loss or a metric cannot take are refused here, before any weight changes,
            // rather than by the first batch that holds one (or by LibTorch, with C++ frames).
            loss.CheckTargets(ys, output, yName);
            foreach (var metric in _metrics)
                metric.CheckTargets(ys, output, yName);
        }

        Tensor? weights = null;
        if (sampleWeight is not null)
        {
            weights = sampleWeight.to_type(dtype);
            int maxRank = Math.Max(1, output.Length - 1);
            if (weights.dim() < 1 || weights.dim() > maxRank || !weights.shape.SequenceEqual(output[..(int)weights.dim()]))
                throw new ArgumentException(
                    $"Expected sampleWeight of shape [{samples}] (or a prefix of the output shape {ShapeText.Format(output)} without its last axis). Received: {ShapeText.Format(sampleWeight.shape)}.",
                    nameof(sampleWeight));
            RequireFinite(weights, nameof(sampleWeight));
        }
        return new Dataset(xs, ys, weights);
    }

    /// <summary>
    /// Checks one batch from a data source and returns it in the model's element type, with class
    /// weights applied; the message of a bad batch names it and says what was expected.
    /// </summary>
    private protected (Tensor X, Tensor Y, Tensor? SampleWeight) CheckBatch(Batch batch, int index, string what, Loss loss, IReadOnlyDictionary<int, double>? classWeight)
    {
        string where = $"Batch {index} of the {what} data";
        string expected = InputShape is { } input
            ? $" Expected batches (X, Y) with X of shape {ShapeText.WithBatch(input)}{(OutputShape is { } output ? $" and Y of shape {ShapeText.WithBatch(output)}" : "")}."
            : " Expected batches (X, Y) with the samples first in both.";
        if (batch.X is null)
            throw new ArgumentException($"{where} has no inputs (X is null).{expected}");
        if (batch.Y is null)
            throw new ArgumentException($"{where} has no targets (Y is null).{expected}");
        try
        {
            var (x, y) = Packed(batch, loss);
            var data = PrepareData(x, y!, batch.SampleWeight, loss, "X", "Y");
            if (classWeight is not null)
                data = WithClassWeights(data, classWeight);
            return (data.X, data.Y, data.SampleWeight);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{where} was refused: {e.Message}{expected}", e);
        }
    }

    /// <summary>Accepts targets shaped like the output, or (as Keras does) without the output's trailing axis of 1; sparse losses take class indices.</summary>
    private protected static Tensor MatchTargets(Tensor y, long[] output, Loss loss, string yName)
    {
        if (y.shape.SequenceEqual(output))
            return y;
        bool withoutLastAxis = y.shape.SequenceEqual(output[..^1]);
        if (loss is SparseCategoricalCrossentropy)
        {
            if (withoutLastAxis || y.shape.SequenceEqual([.. output[..^1], 1]))
                return y;
        }
        else if (withoutLastAxis && output[^1] == 1)
        {
            return y.unsqueeze(-1);
        }
        throw new ArgumentException(
            $"Targets '{yName}' of shape {ShapeText.Format(y.shape)} do not match the model's output shape {ShapeText.WithBatch(output[1..])} for {output[0]} samples.",
            yName);
    }

    private protected static void RequireFinite(Tensor values, string name)
    {
        if (!values.is_floating_point())
            return;
        using var scope = torch.NewDisposeScope();
        var bad = values.isfinite().logical_not();
        if (!bad.any().item<bool>())
            return;
        long first = bad.reshape(values.shape[0], -1).any(1).nonzero()[0][0].item<long>();
        throw new ArgumentException($"'{name}' contains NaN or infinite values (the first in sample {first}). Clean or impute the data before training.", name);
    }

    /// <summary>Sample weights from a class-weight map: class = argmax of a one-hot target, else the target's value.</summary>
    private protected static Dataset WithClassWeights(Dataset data, IReadOnlyDictionary<int, double> classWeight)
    {
        var y = data.Y;
        var classes = y.dim() >= 2 && y.shape[^1] > 1 ? y.argmax(-1) : (y.dim() >= 2 ? y.squeeze(-1) : y).round().to_type(ScalarType.Int64);
        var flat = classes.reshape(-1);
        var values = new double[flat.shape[0]];
        var labels = flat.data<long>().ToArray();
        for (int k = 0; k < labels.Length; k++)
        {
            if (!classWeight.TryGetValue((int)labels[k], out values[k]))
                throw new ArgumentException(
                    $"classWeight has no entry for class {labels[k]} (found in the targets). Received classes: {string.Join(", ", classWeight.Keys.Order())}.", nameof(classWeight));
        }
        var weights = torch.tensor(values, classes.shape, data.X.is_floating_point() ? data.X.dtype : data.Y.dtype);
        if (data.SampleWeight is not null)
            weights = weights * data.SampleWeight;
        return new Dataset(data.X, data.Y, weights);
    }
}
