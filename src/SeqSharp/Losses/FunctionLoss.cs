using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// A loss around a named C# function of <c>(y_true, y_pred)</c> (Keras's <c>LossFunctionWrapper</c>
/// around a user function): made by <see cref="Loss.FromFunction"/>, saved by its name.
/// </summary>
internal sealed class FunctionLoss : Loss
{
    private readonly Func<Tensor, Tensor, Tensor> _function;

    public FunctionLoss(string name, Func<Tensor, Tensor, Tensor> function, string reduction) : base(name, reduction)
    {
        _function = function;
    }

    /// <summary>
    /// As Keras: <c>y_true</c> takes <c>y_pred</c>'s type, a trailing size-1 axis on one side is
    /// squeezed (<c>squeeze_or_expand_to_same_rank</c>), then the function gives the per-sample values.
    /// </summary>
    public override Tensor Compute(Tensor yTrue, Tensor yPred)
    {
        var (t, p) = LossInputs.Cast(yTrue, yPred, Who);
        (t, p) = LossInputs.SqueezeOrExpandToSameRank(t, p);
        return _function(t, p) ?? throw new InvalidOperationException($"{Who}: the function returned null; expected a tensor of per-sample values.");
    }
}
