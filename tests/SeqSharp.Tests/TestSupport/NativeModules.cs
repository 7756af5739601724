using SeqSharp.Layers;
using TorchSharp.Modules;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;
using NonLinearities = TorchSharp.torch.nn.NonLinearities;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// LibTorch's own modules with weights copied from SeqSharp layers, using the mapping from Keras's
/// layout: <c>weight_ih = kernelᵀ</c>, <c>weight_hh = recurrent_kernelᵀ</c>, <c>bias_ih = bias</c>, <c>bias_hh = 0</c>.
/// </summary>
internal static class NativeModules
{
    /// <summary>
    /// The layer's weights in LibTorch's <c>nn.LSTM</c>, wrapped so that inference never runs oneDNN's
    /// float32 LSTM primitive (wrong on some AVX-512 CPUs; see <see cref="ReferenceLstm"/>).
    /// </summary>
    public static ReferenceLstm Lstm(LSTM layer)
    {
        var w = layer.Weights;
        var reference = new ReferenceLstm(layer.DType, dtype => nn.LSTM(w[0].shape[0], layer.Units, batchFirst: true, bias: layer.Cell.UseBias, dtype: dtype));
        var native = reference.Module;
        Copy(native, "weight_ih_l0", w[0].t());
        Copy(native, "weight_hh_l0", w[1].t());
        if (layer.Cell.UseBias)
        {
            Copy(native, "bias_ih_l0", w[2]);
            Copy(native, "bias_hh_l0", zeros_like(w[2]));
        }
        return reference;
    }

    public static TorchSharp.Modules.RNN Rnn(SimpleRNN layer, NonLinearities nonLinearity = NonLinearities.Tanh)
    {
        var w = layer.Weights;
        var native = nn.RNN(w[0].shape[0], layer.Units, nonLinearity: nonLinearity, batchFirst: true, bias: layer.Cell.UseBias, dtype: layer.DType);
        Copy(native, "weight_ih_l0", w[0].t());
        Copy(native, "weight_hh_l0", w[1].t());
        if (layer.Cell.UseBias)
        {
            Copy(native, "bias_ih_l0", w[2]);
            Copy(native, "bias_hh_l0", zeros_like(w[2]));
        }
        return native;
    }

    /// <summary>
    /// LibTorch's GRU with a SeqSharp GRU's weights (resetAfter only, PyTorch's form). PyTorch's gate
    /// order is r, z, n where Keras's is z, r, h: blocks are swapped on the way in and out.
    /// </summary>
    public static TorchSharp.Modules.GRU Gru(GRU layer)
    {
        Assert.True(layer.Cell.ResetAfter, "PyTorch's GRU is the resetAfter form.");
        var w = layer.Weights;
        var native = nn.GRU(w[0].shape[0], layer.Units, batchFirst: true, bias: layer.Cell.UseBias, dtype: layer.DType);
        Copy(native, "weight_ih_l0", KerasToTorchGates(w[0]).t());
        Copy(native, "weight_hh_l0", KerasToTorchGates(w[1]).t());
        if (layer.Cell.UseBias)
        {
            Copy(native, "bias_ih_l0", KerasToTorchGates(w[2][0]));
            Copy(native, "bias_hh_l0", KerasToTorchGates(w[2][1]));
        }
        return native;
    }

    /// <summary>
    /// LibTorch's bidirectional LSTM with a Bidirectional(LSTM)'s two sets of weights (the backward layer's go to
    /// the <c>_reverse</c> parameters), wrapped like <see cref="Lstm"/>.
    /// </summary>
    public static ReferenceLstm BidirectionalLstm(Bidirectional layer)
    {
        var (forward, backward) = ((LSTM)layer.ForwardLayer, (LSTM)layer.BackwardLayer);
        var reference = new ReferenceLstm(layer.DType, dtype => nn.LSTM(forward.Weights[0].shape[0], forward.Units, batchFirst: true, bidirectional: true, dtype: dtype));
        var native = reference.Module;
        foreach (var (source, suffix) in new[] { (forward, ""), (backward, "_reverse") })
        {
            Copy(native, "weight_ih_l0" + suffix, source.Weights[0].t());
            Copy(native, "weight_hh_l0" + suffix, source.Weights[1].t());
            Copy(native, "bias_ih_l0" + suffix, source.Weights[2]);
            Copy(native, "bias_hh_l0" + suffix, zeros_like(source.Weights[2]));
        }
        return reference;
    }

    /// <summary>LibTorch's bidirectional GRU with a Bidirectional(GRU)'s two sets of weights, gate blocks reordered.</summary>
    public static TorchSharp.Modules.GRU BidirectionalGru(Bidirectional layer)
    {
        var (forward, backward) = ((GRU)layer.ForwardLayer, (GRU)layer.BackwardLayer);
        var native = nn.GRU(forward.Weights[0].shape[0], forward.Units, batchFirst: true, bidirectional: true, dtype: layer.DType);
        foreach (var (source, suffix) in new[] { (forward, ""), (backward, "_reverse") })
        {
            Copy(native, "weight_ih_l0" + suffix, KerasToTorchGates(source.Weights[0]).t());
            Copy(native, "weight_hh_l0" + suffix, KerasToTorchGates(source.Weights[1]).t());
            Copy(native, "bias_ih_l0" + suffix, KerasToTorchGates(source.Weights[2][0]));
            Copy(native, "bias_hh_l0" + suffix, KerasToTorchGates(source.Weights[2][1]));
        }
        return native;
    }

    /// <summary>Swaps the first two blocks of the last axis: Keras [z r h] ↔ PyTorch [r z n] (the swap is its own inverse).</summary>
    public static Tensor KerasToTorchGates(Tensor t)
    {
        var blocks = t.chunk(3, -1);
        return cat([blocks[1], blocks[0], blocks[2]], -1);
    }

    public static TorchSharp.Modules.Linear Linear(Dense layer)
    {
        var w = layer.Weights;
        var native = nn.Linear(w[0].shape[0], layer.Units, hasBias: layer.UseBias, dtype: layer.DType);
        Copy(native, "weight", w[0].t());
        if (layer.UseBias)
            Copy(native, "bias", w[1]);
        return native;
    }

    public static Tensor Grad(nn.Module module, string name) => module.get_parameter(name)!.grad!;

    public static Tensor Grad(ReferenceLstm reference, string name) => Grad(reference.Module, name);

    private static void Copy(nn.Module module, string name, Tensor value)
    {
        using var _ = no_grad();
        module.get_parameter(name)!.copy_(value);
    }
}
