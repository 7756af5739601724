using SeqSharp.Layers;
using GRU = SeqSharp.Layers.GRU;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.TestSupport;

/// <summary>SeqSharp recurrent layers paired with LibTorch's modules holding the same weights.</summary>
internal static class RecurrentPairs
{
    /// <summary>
    /// A SeqSharp recurrent layer ("lstm", "simple_rnn" or "gru") returning sequences, built for
    /// <paramref name="steps"/> × <paramref name="features"/> with a random bias, the LibTorch module call with
    /// the same weights, and that module's weight gradients in Keras's layout.
    /// </summary>
    public static (Layer Layer, Func<Tensor, Tensor> Native, Func<int, Tensor> ToKeras) Create(string cell, int features, int units, int steps = 7)
    {
        switch (cell)
        {
            case "lstm":
            {
                var layer = new LSTM(units, returnSequences: true);
                layer.Build([steps, features]);
                using (no_grad()) layer.Weights[2].uniform_(-0.5, 0.5);
                var native = NativeModules.Lstm(layer);
                return (layer, x => native.call(x).Item1, k => k switch
                {
                    0 => NativeModules.Grad(native, "weight_ih_l0").t(),
                    1 => NativeModules.Grad(native, "weight_hh_l0").t(),
                    _ => NativeModules.Grad(native, "bias_ih_l0"),
                });
            }
            case "simple_rnn":
            {
                var layer = new SimpleRNN(units, returnSequences: true);
                layer.Build([steps, features]);
                using (no_grad()) layer.Weights[2].uniform_(-0.5, 0.5);
                var native = NativeModules.Rnn(layer);
                return (layer, x => native.call(x).Item1, k => k switch
                {
                    0 => NativeModules.Grad(native, "weight_ih_l0").t(),
                    1 => NativeModules.Grad(native, "weight_hh_l0").t(),
                    _ => NativeModules.Grad(native, "bias_ih_l0"),
                });
            }
            default:
            {
                var layer = new GRU(units, returnSequences: true);
                layer.Build([steps, features]);
                using (no_grad()) layer.Weights[2].uniform_(-0.5, 0.5);
                var native = NativeModules.Gru(layer);
                return (layer, x => native.call(x).Item1, k => k switch
                {
                    0 => NativeModules.KerasToTorchGates(NativeModules.Grad(native, "weight_ih_l0").t()),
                    1 => NativeModules.KerasToTorchGates(NativeModules.Grad(native, "weight_hh_l0").t()),
                    _ => stack([
                        NativeModules.KerasToTorchGates(NativeModules.Grad(native, "bias_ih_l0")),
                        NativeModules.KerasToTorchGates(NativeModules.Grad(native, "bias_hh_l0"))], 0),
                });
            }
        }
    }
}
