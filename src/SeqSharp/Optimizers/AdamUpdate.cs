using static TorchSharp.torch;

namespace SeqSharp.Optimizers;

/// <summary>Keras's Adam step for one variable, shared by <see cref="Adam"/> and <see cref="AdamW"/> (AdamW is Adam with weight decay).</summary>
internal static class AdamUpdate
{
    /// <summary>
    /// <c>m += (g - m)(1 - β1); v += (g² - v)(1 - β2)</c>; with AMSGrad <c>v̂ = max(v̂, v)</c> replaces <c>v</c>;
    /// <c>w -= α m / (sqrt(v) + ε)</c> with <c>α = lr sqrt(1 - β2^t) / (1 - β1^t)</c>, <c>t = iterations + 1</c>.
    /// </summary>
    public static void Apply(Tensor gradient, Tensor variable, Tensor m, Tensor v, Tensor? vHat,
        double learningRate, long iterations, double beta1, double beta2, double epsilon)
    {
        double t = iterations + 1;
        double alpha = learningRate * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
        m.add_(gradient.sub(m).mul_(1 - beta1));
        v.add_(gradient.square().sub_(v).mul_(1 - beta2));
        if (vHat is not null)
        {
            vHat.copy_(vHat.maximum(v));
            v = vHat;
        }
        variable.sub_(m.mul(alpha).div_(v.sqrt().add_(epsilon)));
    }
}
