using System.Runtime.CompilerServices;
using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The whole-sequence GRU as one autograd node: forward over all time steps and a hand-written
/// backward-through-time, for both of Keras's conventions (<c>reset_after</c> true and false).
/// </summary>
/// <remarks>
/// <para>Inputs, in order: <c>x (batch, timesteps, features)</c>, <c>kernel (features, 3u)</c>,
/// <c>recurrentKernel (u, 3u)</c>, <c>bias</c> or null (<c>(2, 3u)</c>, input and recurrent rows,
/// with reset_after; <c>(3u)</c> without), <c>h0 (batch, u)</c>, and the
/// <see cref="GruFunctionOptions"/>, and the layer's name (for error messages) or null. Gate order z, r, h as in Keras. Output: every hidden state,
/// time-major <c>(timesteps, batch, u)</c>.</para>
/// <para>Forward: the input projections of all steps are one matrix product. Per step, reset_after
/// needs one product, <c>h_{t-1} U + b_rec</c>, kept for backward; reset_before needs two,
/// <c>h_{t-1} U_zr</c> into the gate buffer and then <c>(r ⊙ h_{t-1}) U_h</c>, with
/// <c>r ⊙ h_{t-1}</c> kept. The gate math runs in managed passes over each row
/// (<see cref="GruCellMath"/>). Backward mirrors it step by step; the weight gradients are large
/// products after the loop.</para>
/// </remarks>
internal sealed class GruFunction : autograd.MultiTensorFunction<GruFunction>
{
    public override string Name => "SeqSharp.GRU";

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        BackwardFailure.Remember(ctx, vars, vars[6] as string);
        var x = (Tensor)vars[0];
        var kernel = (Tensor)vars[1];
        var recurrent = (Tensor)vars[2];
        var bias = vars[3] as Tensor;
        var h0 = ((Tensor)vars[4]).contiguous();
        var options = (GruFunctionOptions)vars[5];

        long batch = x.shape[0], steps = x.shape[1], features = x.shape[2], units = recurrent.shape[0];
        var inputBias = bias is null ? null : options.ResetAfter ? bias[0] : bias;
        var xSteps = x.transpose(0, 1).contiguous().view(steps * batch, features);
        var gates = (inputBias is null ? xSteps.mm(kernel) : torch.addmm(inputBias, xSteps, kernel, 1, 1)).view(steps, batch, 3 * units);
        var hidden = torch.empty(new[] { steps, batch, units }, x.dtype);

        // reset_after keeps h_{t-1} U + b_rec of every step (T, B, 3u); reset_before keeps r ⊙ h_{t-1} (T, B, u).
        Tensor kept;
        if (options.ResetAfter)
        {
            kept = bias is null
                ? torch.zeros(new[] { steps, batch, 3 * units }, x.dtype)
                : bias[1].expand(steps, batch, 3 * units).contiguous();
        }
        else
        {
            kept = torch.empty(new[] { steps, batch, units }, x.dtype);
        }

        if (x.dtype == ScalarType.Float64)
            Forward<double>(options, gates, kept, recurrent, hidden, h0);
        else
            Forward<float>(options, gates, kept, recurrent, hidden, h0);

        ctx.save_for_backward([xSteps, kernel, recurrent, gates, kept, hidden, h0]);
        ctx.save_data("inputNeedsGrad", x.requires_grad);
        ctx.save_data("options", options);
        ctx.save_data("hasBias", bias is not null);
        return [hidden];
    }

    /// <summary>
    /// Backward through time. Never throws: it runs inside a native callback, where an exception would
    /// end the process; <see cref="BackwardFailure"/> carries failures to the caller of <c>backward()</c>.
    /// </summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs) =>
        BackwardFailure.Run(ctx, "GRU", () => BackwardThroughTime(ctx, gradOutputs));

    private static List<Tensor> BackwardThroughTime(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        Tensor xSteps = saved[0], kernel = saved[1], recurrent = saved[2], gates = saved[3], kept = saved[4], hidden = saved[5], h0 = saved[6];
        var options = (GruFunctionOptions)ctx.get_data("options");
        bool hasBias = (bool)ctx.get_data("hasBias");

        long steps = gates.shape[0], batch = gates.shape[1], units = recurrent.shape[0], features = xSteps.shape[1];
        var gradHidden = gradOutputs[0].contiguous();
        var gradGates = torch.empty_like(gates);
        var gradRecurrentGates = options.ResetAfter ? torch.empty_like(gates) : null;
        var gradState = torch.zeros(new[] { batch, units }, gates.dtype);

        if (gates.dtype == ScalarType.Float64)
            Backward<double>(options, gates, kept, recurrent, hidden, h0, gradHidden, gradGates, gradRecurrentGates, gradState);
        else
            Backward<float>(options, gates, kept, recurrent, hidden, h0, gradHidden, gradGates, gradRecurrentGates, gradState);

        var gradGates2d = gradGates.view(steps * batch, 3 * units);
        // Skipped when x needs no gradient (the first layer): one large product fewer.
        var gradX = (bool)ctx.get_data("inputNeedsGrad") ? gradGates2d.mm(kernel.t()).view(steps, batch, features).transpose(0, 1) : null;
        var gradKernel = xSteps.t().mm(gradGates2d);
        var previous = PreviousHidden(hidden, h0);
        Tensor gradRecurrent;
        Tensor? gradBias = null;
        if (options.ResetAfter)
        {
            var gradRecurrent2d = gradRecurrentGates!.view(steps * batch, 3 * units);
            gradRecurrent = previous.t().mm(gradRecurrent2d);
            if (hasBias)
                gradBias = torch.stack([gradGates2d.sum(dim: 0), gradRecurrent2d.sum(dim: 0)], 0);
        }
        else
        {
            gradRecurrent = torch.cat([
                previous.t().mm(gradGates2d.narrow(1, 0, 2 * units)),
                kept.view(steps * batch, units).t().mm(gradGates2d.narrow(1, 2 * units, units))], 1);
            if (hasBias)
                gradBias = gradGates2d.sum(dim: 0);
        }
        return [gradX!, gradKernel, gradRecurrent, gradBias!, gradState, null!, null!];
    }

    /// <summary>h_{t-1} of every step, <c>(timesteps · batch, u)</c>: h0 then all hidden states but the last.</summary>
    private static Tensor PreviousHidden(Tensor hidden, Tensor h0)
    {
        long steps = hidden.shape[0], batch = hidden.shape[1], units = hidden.shape[2];
        return steps == 1 ? h0 : torch.cat([h0, hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch)], 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Forward<T>(GruFunctionOptions options, Tensor gates, Tensor kept, Tensor recurrent, Tensor hidden, Tensor h0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0], batch = gates.shape[1];
        int units = (int)recurrent.shape[0];
        T* g = TensorMemory.Pointer<T>(gates), k = TensorMemory.Pointer<T>(kept), h = TensorMemory.Pointer<T>(hidden), hStart = TensorMemory.Pointer<T>(h0);
        long gateStride = 3L * units * batch, stateStride = (long)units * batch, keptRow = options.ResetAfter ? 3L * units : units;
        using var recurrentZr = recurrent.narrow(1, 0, 2 * units);
        using var recurrentH = recurrent.narrow(1, 2 * units, units);

        for (long t = 0; t < steps; t++)
        {
            using var previous = t == 0 ? h0.alias() : hidden[t - 1];
            T* hPrevious = t == 0 ? hStart : h + (t - 1) * stateStride;
            if (options.ResetAfter)
            {
                using (var step = kept[t])
                    step.addmm_(previous, recurrent, 1, 1);
                for (long b = 0; b < batch; b++)
                {
                    GruCellMath.ForwardResetAfter(options, units,
                        new Span<T>(g + t * gateStride + 3 * units * b, 3 * units),
                        new ReadOnlySpan<T>(k + t * batch * keptRow + keptRow * b, 3 * units),
                        new ReadOnlySpan<T>(hPrevious + units * b, units),
                        new Span<T>(h + t * stateStride + units * b, units));
                }
                continue;
            }

            using (var step = gates[t])
            using (var zr = step.narrow(1, 0, 2 * units))
                zr.addmm_(previous, recurrentZr, 1, 1);
            for (long b = 0; b < batch; b++)
            {
                GruCellMath.ForwardGatesResetBefore(options, units,
                    new Span<T>(g + t * gateStride + 3 * units * b, 3 * units),
                    new ReadOnlySpan<T>(hPrevious + units * b, units),
                    new Span<T>(k + t * stateStride + units * b, units));
            }
            using (var step = gates[t])
            using (var candidate = step.narrow(1, 2 * units, units))
            using (var resetHidden = kept[t])
                candidate.addmm_(resetHidden, recurrentH, 1, 1);
            for (long b = 0; b < batch; b++)
            {
                GruCellMath.ForwardOutputResetBefore(options, units,
                    new Span<T>(g + t * gateStride + 3 * units * b, 3 * units),
                    new ReadOnlySpan<T>(hPrevious + units * b, units),
                    new Span<T>(h + t * stateStride + units * b, units));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Backward<T>(GruFunctionOptions options, Tensor gates, Tensor kept, Tensor recurrent, Tensor hidden, Tensor h0,
        Tensor gradHidden, Tensor gradGates, Tensor? gradRecurrentGates, Tensor gradState)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0], batch = gates.shape[1];
        int units = (int)recurrent.shape[0];
        T* g = TensorMemory.Pointer<T>(gates), k = TensorMemory.Pointer<T>(kept), h = TensorMemory.Pointer<T>(hidden), hStart = TensorMemory.Pointer<T>(h0);
        T* dOut = TensorMemory.Pointer<T>(gradHidden), dg = TensorMemory.Pointer<T>(gradGates), dState = TensorMemory.Pointer<T>(gradState);
        T* dgRec = gradRecurrentGates is null ? null : TensorMemory.Pointer<T>(gradRecurrentGates);
        long gateStride = 3L * units * batch, stateStride = (long)units * batch;
        var scratch = new T[units];
        using var recurrentT = recurrent.t();
        using var recurrentZrT = recurrent.narrow(1, 0, 2 * units).t();
        using var recurrentHT = recurrent.narrow(1, 2 * units, units).t();
        using var gradResetHidden = options.ResetAfter ? null : torch.empty(new[] { batch, (long)units }, gates.dtype);
        T* dResetHidden = gradResetHidden is null ? null : TensorMemory.Pointer<T>(gradResetHidden);

        for (long t = steps - 1; t >= 0; t--)
        {
            T* hPrevious = t == 0 ? hStart : h + (t - 1) * stateStride;
            if (options.ResetAfter)
            {
                for (long b = 0; b < batch; b++)
                {
                    long row = 3 * units * b;
                    GruCellMath.BackwardResetAfter(options, units,
                        new ReadOnlySpan<T>(g + t * gateStride + row, 3 * units),
                        new ReadOnlySpan<T>(k + t * gateStride + row + 2 * units, units),
                        new ReadOnlySpan<T>(hPrevious + units * b, units),
                        new ReadOnlySpan<T>(dOut + t * stateStride + units * b, units),
                        new Span<T>(dState + units * b, units),
                        new Span<T>(dg + t * gateStride + row, 3 * units),
                        new Span<T>(dgRec + t * gateStride + row, 3 * units),
                        scratch);
                }
                using var stepGrad = gradRecurrentGates![t];
                gradState.addmm_(stepGrad, recurrentT, 1, 1);
                continue;
            }

            for (long b = 0; b < batch; b++)
            {
                GruCellMath.BackwardOutputResetBefore(options, units,
                    new ReadOnlySpan<T>(g + t * gateStride + 3 * units * b, 3 * units),
                    new ReadOnlySpan<T>(hPrevious + units * b, units),
                    new ReadOnlySpan<T>(dOut + t * stateStride + units * b, units),
                    new Span<T>(dState + units * b, units),
                    new Span<T>(dg + t * gateStride + 3 * units * b, 3 * units),
                    scratch);
            }
            using (var step = gradGates[t])
            using (var candidate = step.narrow(1, 2 * units, units))
                gradResetHidden!.addmm_(candidate, recurrentHT, 0, 1);
            for (long b = 0; b < batch; b++)
            {
                GruCellMath.BackwardGatesResetBefore(options, units,
                    new ReadOnlySpan<T>(g + t * gateStride + 3 * units * b, 3 * units),
                    new ReadOnlySpan<T>(hPrevious + units * b, units),
                    new ReadOnlySpan<T>(dResetHidden + units * b, units),
                    new Span<T>(dState + units * b, units),
                    new Span<T>(dg + t * gateStride + 3 * units * b, 3 * units));
            }
            using (var step = gradGates[t])
            using (var zr = step.narrow(1, 0, 2 * units))
                gradState.addmm_(zr, recurrentZrT, 1, 1);
        }
    }
}
