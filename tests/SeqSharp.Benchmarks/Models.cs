using SeqSharp.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SeqSharp.Benchmarks;

/// <summary>Builds our recurrent layer and LibTorch's native equivalent with the same weights.</summary>
internal static class Models
{
    public static Rnn Ours(string cell, Shape shape)
    {
        Rnn layer = cell switch
        {
            "lstm" => new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true),
            "rnn" => new SimpleRNN(shape.Units, returnSequences: true),
            "gru" => new SeqSharp.Layers.GRU(shape.Units, returnSequences: true),
            _ => throw new ArgumentException($"Unknown cell '{cell}'. Known: lstm, rnn, gru."),
        };
        layer.Build([shape.Steps, shape.Features]);
        return layer;
    }

    /// <summary>
    /// nn.LSTM / nn.RNN / nn.GRU (batch first) with our layer's weights: weight_ih = kernelᵀ,
    /// weight_hh = recurrent_kernelᵀ, bias_ih = bias, bias_hh = 0; for GRU (Keras's resetAfter form,
    /// PyTorch's) the gate blocks go from Keras's z, r, h to PyTorch's r, z, n and the bias's two rows
    /// to bias_ih and bias_hh.
    /// </summary>
    /// <param name="cell">"lstm", "rnn" or "gru".</param>
    /// <param name="ours">The layer whose weights the module takes.</param>
    /// <param name="dtype">The module's dtype: float32 to time, float64 for the reference that checks both sides.</param>
    public static nn.Module<Tensor, Tensor> Native(string cell, Rnn ours, ScalarType dtype = ScalarType.Float32)
    {
        var w = ours.Weights;
        long features = w[0].shape[0];
        nn.Module module = cell switch
        {
            "lstm" => nn.LSTM(features, ours.Units, batchFirst: true, dtype: dtype),
            "rnn" => nn.RNN(features, ours.Units, batchFirst: true, dtype: dtype),
            _ => nn.GRU(features, ours.Units, batchFirst: true, dtype: dtype),
        };
        using (no_grad())
        {
            if (cell == "gru")
            {
                module.get_parameter("weight_ih_l0")!.copy_(TorchGateOrder(w[0]).t());
                module.get_parameter("weight_hh_l0")!.copy_(TorchGateOrder(w[1]).t());
                module.get_parameter("bias_ih_l0")!.copy_(TorchGateOrder(w[2][0]));
                module.get_parameter("bias_hh_l0")!.copy_(TorchGateOrder(w[2][1]));
            }
            else
            {
                module.get_parameter("weight_ih_l0")!.copy_(w[0].t());
                module.get_parameter("weight_hh_l0")!.copy_(w[1].t());
                module.get_parameter("bias_ih_l0")!.copy_(w[2]);
                module.get_parameter("bias_hh_l0")!.zero_();
            }
        }
        return new SequenceOutput(module);
    }

    /// <summary>Keras's GRU gate blocks z, r, h along the last axis, reordered to PyTorch's r, z, n.</summary>
    private static Tensor TorchGateOrder(Tensor t)
    {
        var blocks = t.chunk(3, -1);
        return cat([blocks[1], blocks[0], blocks[2]], -1);
    }

    /// <summary>Wraps nn.LSTM / nn.RNN so both return only the output sequence.</summary>
    private sealed class SequenceOutput : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module _inner;

        public SequenceOutput(nn.Module inner) : base("native")
        {
            _inner = inner;
            register_module("inner", inner);
        }

        public override Tensor forward(Tensor x) => _inner switch
        {
            TorchSharp.Modules.LSTM lstm => lstm.call(x).Item1,
            TorchSharp.Modules.RNN rnn => rnn.call(x).Item1,
            TorchSharp.Modules.GRU gru => gru.call(x).Item1,
            _ => throw new InvalidOperationException(),
        };
    }
}
