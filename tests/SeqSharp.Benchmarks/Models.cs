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
        Rnn layer = cell == "lstm"
            ? new SeqSharp.Layers.LSTM(shape.Units, returnSequences: true)
            : new SimpleRNN(shape.Units, returnSequences: true);
        layer.Build([shape.Steps, shape.Features]);
        return layer;
    }

    /// <summary>nn.LSTM / nn.RNN (batch first) with our layer's weights: weight_ih = kernelᵀ, weight_hh = recurrent_kernelᵀ, bias_ih = bias, bias_hh = 0.</summary>
    public static nn.Module<Tensor, Tensor> Native(string cell, Rnn ours)
    {
        var w = ours.Weights;
        long features = w[0].shape[0];
        nn.Module module = cell == "lstm"
            ? nn.LSTM(features, ours.Units, batchFirst: true)
            : nn.RNN(features, ours.Units, batchFirst: true);
        using (no_grad())
        {
            module.get_parameter("weight_ih_l0")!.copy_(w[0].t());
            module.get_parameter("weight_hh_l0")!.copy_(w[1].t());
            module.get_parameter("bias_ih_l0")!.copy_(w[2]);
            module.get_parameter("bias_hh_l0")!.zero_();
        }
        return new SequenceOutput(module);
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
            _ => throw new InvalidOperationException(),
        };
    }
}
