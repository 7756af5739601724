using SeqSharp.Layers;
using TorchSharp.Modules;
using LSTM = SeqSharp.Layers.LSTM;

namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// An independent training reference for <c>Fit</c>: LibTorch's own <c>nn.LSTM</c>, <c>nn.RNN</c> and
/// <c>nn.Linear</c> with weights copied from a model, Keras's mean squared error written out, torch
/// autograd gradients and plain gradient descent <c>w -= lr * g</c>.
/// </summary>
/// <remarks>
/// Only the LibTorch parameters that map onto Keras weights are trained: <c>bias_hh</c> stays zero
/// (Keras has one recurrent bias, <c>bias_ih + bias_hh</c>; training both would move it twice).
/// Dense layers must be linear.
/// </remarks>
internal sealed class NativeTrainer
{
    private readonly List<Func<Tensor, Tensor>> _stages = [];
    private readonly List<(Parameter Value, bool Transposed)> _weights = [];

    public NativeTrainer(Sequential model)
    {
        foreach (var layer in model.Layers)
        {
            switch (layer)
            {
                case LSTM lstm:
                    var nativeLstm = NativeModules.Lstm(lstm);
                    AddRecurrent(x => nativeLstm.call(x).Output, lstm.ReturnSequences, nativeLstm.Module, lstm.Cell.UseBias);
                    break;
                case SimpleRNN rnn:
                    var nativeRnn = NativeModules.Rnn(rnn);
                    AddRecurrent(x => nativeRnn.call(x).Item1, rnn.ReturnSequences, nativeRnn, rnn.Cell.UseBias);
                    break;
                case Dense dense:
                    Assert.Equal("linear", dense.Activation.Name);
                    var linear = NativeModules.Linear(dense);
                    _stages.Add(x => linear.call(x));
                    _weights.Add((linear.get_parameter("weight")!, true));
                    if (dense.UseBias)
                        _weights.Add((linear.get_parameter("bias")!, false));
                    break;
                default:
                    throw new NotSupportedException($"No native reference for {layer}.");
            }
        }
    }

    private void AddRecurrent(Func<Tensor, Tensor> sequence, bool returnSequences, nn.Module module, bool useBias)
    {
        _stages.Add(x =>
        {
            var all = sequence(x);
            return returnSequences ? all : all.select(1, all.shape[1] - 1);
        });
        _weights.Add((module.get_parameter("weight_ih_l0")!, true));
        _weights.Add((module.get_parameter("weight_hh_l0")!, true));
        if (useBias)
        {
            _weights.Add((module.get_parameter("bias_ih_l0")!, false));
            module.get_parameter("bias_hh_l0")!.requires_grad_(false);
        }
    }

    /// <summary>The model's output for <paramref name="x"/>, differentiable in the native weights.</summary>
    public Tensor Forward(Tensor x)
    {
        foreach (var stage in _stages)
            x = stage(x);
        return x;
    }

    /// <summary>
    /// Keras's mean squared error: the mean over the last axis, each sample's values times its weight,
    /// then the sum divided by the number of values ("sum_over_batch_size").
    /// </summary>
    public static Tensor Mse(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        var values = (prediction - target).square().mean([-1]);
        if (sampleWeight is not null)
        {
            var w = sampleWeight;
            while (w.dim() < values.dim())
                w = w.unsqueeze(-1);
            values = values * w;
        }
        return values.sum() / values.numel();
    }

    /// <summary>One gradient-descent step on a batch; returns the batch's loss before the step.</summary>
    public double SgdStep(Tensor x, Tensor y, double learningRate, Tensor? sampleWeight = null)
    {
        foreach (var (w, _) in _weights)
            w.grad = null;
        var loss = Mse(Forward(x), y, sampleWeight);
        loss.backward();
        using (no_grad())
        {
            foreach (var (w, _) in _weights)
                w.sub_(w.grad! * learningRate);
        }
        return loss.ToDouble();
    }

    /// <summary>
    /// One epoch in order (no shuffling) in batches of <paramref name="batchSize"/>, the last one
    /// possibly smaller; returns each batch's loss and size.
    /// </summary>
    public List<(double Loss, long Count)> SgdEpoch(Tensor x, Tensor y, int batchSize, double learningRate, Tensor? sampleWeight = null)
    {
        var losses = new List<(double, long)>();
        long n = x.shape[0];
        for (long start = 0; start < n; start += batchSize)
        {
            long count = Math.Min(batchSize, n - start);
            losses.Add((SgdStep(x.narrow(0, start, count), y.narrow(0, start, count), learningRate,
                sampleWeight?.narrow(0, start, count)), count));
        }
        return losses;
    }

    /// <summary>The native weights in Keras's order and layout (kernels transposed back).</summary>
    public List<Tensor> KerasWeights() =>
        _weights.Select(w => (w.Transposed ? w.Value.detach().t() : w.Value.detach()).contiguous()).ToList();
}
