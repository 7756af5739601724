using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The parts of a fused kernel outside its time loop that per-gate dropout masks change: the input
/// projection and the weight and input gradients, as large tensor products (<see cref="LargeProducts"/>
/// where they apply).
/// </summary>
internal static class GateProducts
{
    /// <summary>
    /// The input, step-major: <c>(timesteps · batch, features)</c>; with per-gate input masks,
    /// <c>(gates, timesteps · batch, features)</c>, one masked copy per gate.
    /// </summary>
    public static Tensor InputSteps(Tensor x, Tensor? inputMasks)
    {
        long batch = x.shape[0], steps = x.shape[1], features = x.shape[2];
        if (inputMasks is null)
            return x.transpose(0, 1).contiguous().view(steps * batch, features);
        return (x.unsqueeze(0) * inputMasks.unsqueeze(2)).transpose(1, 2).contiguous().view(inputMasks.shape[0], steps * batch, features);
    }

    /// <summary>The input projection of every step, <c>xSteps · kernel + bias</c>, per gate block when the input is masked per gate.</summary>
    public static Tensor Project(Tensor xSteps, Tensor kernel, Tensor? bias)
    {
        if (xSteps.dim() == 2)
            return LargeProducts.Product(xSteps, kernel, bias);
        long gates = xSteps.shape[0], units = kernel.shape[1] / gates;
        var blocks = new Tensor[gates];
        for (long g = 0; g < gates; g++)
            blocks[g] = xSteps[g].mm(kernel.narrow(1, g * units, units));
        var projected = torch.cat(blocks, 1);
        return bias is null ? projected : projected.add_(bias);
    }

    /// <summary>dL/dkernel from the step-major input and the gate gradients <c>(timesteps · batch, gates · units)</c>.</summary>
    public static Tensor KernelGradient(Tensor xSteps, Tensor gradGates)
    {
        if (xSteps.dim() == 2)
            return LargeProducts.Product(xSteps.t(), gradGates);
        long gates = xSteps.shape[0], units = gradGates.shape[1] / gates;
        return torch.cat(Enumerable.Range(0, (int)gates).Select(g => xSteps[g].t().mm(gradGates.narrow(1, g * units, units))).ToArray(), 1);
    }

    /// <summary>dL/dx <c>(batch, timesteps, features)</c> from the gate gradients, through the per-gate input masks when there are.</summary>
    public static Tensor InputGradient(Tensor gradGates, Tensor kernel, Tensor? inputMasks, long steps, long batch)
    {
        long features = kernel.shape[0];
        if (inputMasks is null)
            return LargeProducts.Product(gradGates, kernel.t()).view(steps, batch, features).transpose(0, 1);
        long gates = inputMasks.shape[0], units = kernel.shape[1] / gates;
        Tensor? sum = null;
        for (long g = 0; g < gates; g++)
        {
            var part = gradGates.narrow(1, g * units, units).mm(kernel.narrow(1, g * units, units).t()).view(steps, batch, features) * inputMasks[g];
            sum = sum is null ? part : sum.add_(part);
        }
        return sum!.transpose(0, 1);
    }

    /// <summary>
    /// dL/drecurrentKernel, <c>Σ_t h_{t-1}ᵀ dz_t</c>, from the previous states <c>(timesteps · batch, units)</c>
    /// and the gradients of the recurrent products <c>(timesteps · batch, gates · units)</c>; with
    /// recurrent masks <c>(gates, batch, units)</c> each gate block sees its own masked states.
    /// </summary>
    public static Tensor RecurrentGradient(Tensor previous, Tensor gradGates, Tensor? recurrentMasks, long steps, long batch)
    {
        if (recurrentMasks is null)
            return LargeProducts.Product(previous.t(), gradGates);
        long gates = recurrentMasks.shape[0], units = previous.shape[1];
        var byStep = previous.view(steps, batch, units);
        return torch.cat(Enumerable.Range(0, (int)gates).Select(g =>
            (byStep * recurrentMasks[g]).view(steps * batch, units).t().mm(gradGates.narrow(1, g * units, units))).ToArray(), 1);
    }
}
