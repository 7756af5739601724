using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// Several tensors with the same samples as one <c>(samples, total)</c> tensor, and back: how the
/// training loop, which moves one input and one target tensor per batch (slicing, shuffling,
/// validation splits, data-parallel shards), carries a multi-input or multi-output model's data.
/// </summary>
internal sealed class PackLayout
{
    private PackLayout(IReadOnlyList<long[]> shapes, IReadOnlyList<ScalarType> dtypes, ScalarType packType)
    {
        Shapes = shapes;
        DTypes = dtypes;
        PackType = packType;
    }

    /// <summary>The sample shape of each part.</summary>
    public IReadOnlyList<long[]> Shapes { get; }

    /// <summary>The element type of each part.</summary>
    public IReadOnlyList<ScalarType> DTypes { get; }

    /// <summary>The packed tensor's type: float32 when every part is float32, else float64 (exact for float32 and for integers below 2^53).</summary>
    public ScalarType PackType { get; }

    public static (Tensor Packed, PackLayout Layout) Pack(IReadOnlyList<Tensor> parts)
    {
        var packType = parts.All(p => p.dtype == ScalarType.Float32) ? ScalarType.Float32 : ScalarType.Float64;
        var layout = new PackLayout(parts.Select(p => p.shape[1..]).ToList(), parts.Select(p => p.dtype).ToList(), packType);
        using var scope = torch.NewDisposeScope();
        var flat = parts.Select(p => p.reshape(p.shape[0], -1).to_type(packType)).ToList();
        return (torch.cat(flat, 1).MoveToOuterDisposeScope(), layout);
    }

    public IReadOnlyList<Tensor> Unpack(Tensor packed)
    {
        long batch = packed.shape[0], offset = 0;
        var parts = new List<Tensor>();
        for (int k = 0; k < Shapes.Count; k++)
        {
            long size = Shapes[k].Aggregate(1L, (a, d) => a * d);
            var part = packed.narrow(1, offset, size).reshape([batch, .. Shapes[k]]);
            parts.Add(part.dtype == DTypes[k] ? part : part.to_type(DTypes[k]));
            offset += size;
        }
        return parts;
    }
}

public partial class Model
{
    // The layouts of the call in progress on this thread (one training call at a time per model; Predict may run on many threads).
    private readonly AsyncLocal<PackLayout?> _inputLayout = new();
    private readonly AsyncLocal<PackLayout?> _outputLayout = new();

    private IReadOnlyList<Tensor> UnpackInputs(Tensor packed) =>
        (_inputLayout.Value ?? throw new ArgumentException(
            $"Model '{Name}' has {_inputs.Count} inputs ({string.Join(", ", _inputs.Select(i => i.Name))}): pass one tensor per input, as a list, e.g. Predict([x1, x2]).")).Unpack(packed);

    private Tensor PackOutputs(IReadOnlyList<Tensor> outputs)
    {
        var (packed, layout) = PackLayout.Pack(outputs.Select(o => o.dtype == ScalarType.Float32 || o.dtype == ScalarType.Float64 ? o : o.to_type(ScalarType.Float32)).ToList());
        _outputLayout.Value = layout;
        return packed;
    }

    private IReadOnlyList<long[]> CurrentInputShapes() =>
        (_inputLayout.Value ?? throw new ArgumentException(
            $"Model '{Name}' has {_inputs.Count} inputs ({string.Join(", ", _inputs.Select(i => i.Name))}): pass one tensor per input, as a list.")).Shapes;

    /// <summary>Packs one tensor per input for the training loop (checking their count and samples) and sets the layout for this call.</summary>
    private protected Tensor PackInputs(IReadOnlyList<Tensor> x, string what)
    {
        ArgumentNullException.ThrowIfNull(x, what);
        if (x.Count != _inputs.Count)
            throw new ArgumentException(
                $"Model '{Name}' has {_inputs.Count} input(s) ({string.Join(", ", _inputs.Select(i => i.Name))}); '{what}' holds {x.Count} array(s). Pass one per input, in that order.", what);
        for (int i = 0; i < x.Count; i++)
        {
            if (x[i] is null)
                throw new ArgumentException($"'{what}'[{i}] (input '{_inputs[i].Name}') is null.", what);
            if (x[i].dim() < 1)
                throw new ArgumentException($"'{what}'[{i}] (input '{_inputs[i].Name}') needs a samples axis. Received a scalar.", what);
            if (!FitsInput(i, x[i]))
                throw new ArgumentException(
                    $"'{what}'[{i}] (input '{_inputs[i].Name}') must have shape {ShapeText.WithBatch(_inputs[i].SampleShape)}. Received: {ShapeText.Format(x[i].shape)}.", what);
            if (x[i].shape[0] != x[0].shape[0])
                throw new ArgumentException(
                    $"The inputs in '{what}' must have the same number of samples. Received: {string.Join(", ", x.Select((t, k) => $"{_inputs[k].Name}: {t.shape[0]}"))}.", what);
        }
        if (x.Count == 1)
            return x[0].alias();
        var (packed, layout) = PackLayout.Pack(x);
        _inputLayout.Value = layout;
        return packed;
    }
}
