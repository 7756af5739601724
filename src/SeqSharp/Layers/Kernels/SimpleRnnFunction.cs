using System.Runtime.CompilerServices;
using System.Numerics;
using SeqSharp.Activations;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The whole-sequence simple RNN, <c>h_t = act(x_t W + h_{t-1} U + b)</c>, as one autograd node.
/// </summary>
/// <remarks>
/// Inputs, in order: <c>x (batch, timesteps, features)</c>, <c>kernel (features, u)</c>,
/// <c>recurrentKernel (u, u)</c>, <c>bias (u)</c> or null, <c>h0 (batch, u)</c>, the
/// <see cref="RecurrentExtras"/> (padding mask, recurrent dropout mask), the <see cref="ActivationKind"/>,
/// and the layer's name (for error messages) or null. Output: every hidden state, time-major <c>(timesteps, batch, u)</c>.
/// The pre-activations of all steps are computed in one product, then each step adds
/// <c>h_{t-1} U</c> in place and applies the activation in place, so the output buffer is the only
/// per-step storage; backward needs only the outputs because the derivative is taken from them.
/// </remarks>
internal sealed class SimpleRnnFunction : autograd.MultiTensorFunction<SimpleRnnFunction>
{
    public override string Name => "SeqSharp.SimpleRNN";

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        BackwardFailure.Remember(ctx, vars, vars[7] as string);
        var x = (Tensor)vars[0];
        var kernel = (Tensor)vars[1];
        var recurrent = (Tensor)vars[2];
        var bias = vars[3] as Tensor;
        var h0 = ((Tensor)vars[4]).contiguous();
        var extras = (RecurrentExtras)vars[5];
        var activation = (ActivationKind)vars[6];
        var (xSteps, hidden, recurrentMasks) = Run(x, kernel, recurrent, bias, h0, activation, extras);

        ctx.save_for_backward([xSteps, kernel, recurrent, hidden, h0, extras.InputMasks ?? torch.empty(0), recurrentMasks ?? torch.empty(0)]);
        ctx.save_data("inputNeedsGrad", x.requires_grad);
        ctx.save_data("activation", activation);
        ctx.save_data("hasBias", bias is not null);
        ctx.save_data("mask", extras.Mask!);
        ctx.save_data("hasInputMasks", extras.InputMasks is not null);
        ctx.save_data("hasRecurrentMasks", recurrentMasks is not null);
        return [hidden];
    }

    /// <summary>The forward pass without an autograd node, for inference: every hidden state, time-major.</summary>
    public static Tensor Infer(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor h0, ActivationKind activation, RecurrentExtras extras) =>
        Run(x, kernel, recurrent, bias, h0.contiguous(), activation, extras).Hidden;

    private static (Tensor XSteps, Tensor Hidden, Tensor? RecurrentMasks) Run(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor h0,
        ActivationKind activation, RecurrentExtras extras)
    {
        long batch = x.shape[0], steps = x.shape[1], units = recurrent.shape[0];
        var xSteps = GateProducts.InputSteps(x, extras.InputMasks);
        var hidden = GateProducts.Project(xSteps, kernel, bias).view(steps, batch, units);
        var recurrentMasks = extras.RecurrentMasks?.contiguous();
        if (x.dtype == ScalarType.Float64)
            Forward<double>(activation, hidden, recurrent, h0, extras.Mask, recurrentMasks);
        else
            Forward<float>(activation, hidden, recurrent, h0, extras.Mask, recurrentMasks);
        return (xSteps, hidden, recurrentMasks);
    }

    /// <summary>
    /// Backward through time. Never throws: it runs inside a native callback, where an exception would
    /// end the process; <see cref="BackwardFailure"/> carries failures to the caller of <c>backward()</c>.
    /// </summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs) =>
        BackwardFailure.Run(ctx, "SimpleRNN", () => BackwardThroughTime(ctx, gradOutputs));

    private static List<Tensor> BackwardThroughTime(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        Tensor xSteps = saved[0], kernel = saved[1], recurrent = saved[2], hidden = saved[3], h0 = saved[4];
        var activation = (ActivationKind)ctx.get_data("activation");
        bool hasBias = (bool)ctx.get_data("hasBias");
        var mask = ctx.get_data("mask") as StepMask;
        Tensor? inputMasks = (bool)ctx.get_data("hasInputMasks") ? saved[5] : null;
        Tensor? recurrentMasks = (bool)ctx.get_data("hasRecurrentMasks") ? saved[6] : null;

        long steps = hidden.shape[0], batch = hidden.shape[1], units = hidden.shape[2];
        // The loop overwrites the gradient in place: copy it once (contiguous() already copies a strided view).
        var incoming = gradOutputs[0];
        var gradPre = incoming.is_contiguous() ? incoming.clone() : incoming.contiguous();
        var gradRecurrentState = torch.zeros(new[] { batch, units }, hidden.dtype);

        if (hidden.dtype == ScalarType.Float64)
            Backward<double>(activation, hidden, gradPre, gradRecurrentState, recurrent, mask, recurrentMasks);
        else
            Backward<float>(activation, hidden, gradPre, gradRecurrentState, recurrent, mask, recurrentMasks);

        var gradPre2d = gradPre.view(steps * batch, units);
        // Skipped when x needs no gradient (the first layer): one large product fewer.
        var gradX = (bool)ctx.get_data("inputNeedsGrad") ? GateProducts.InputGradient(gradPre2d, kernel, inputMasks, steps, batch) : null;
        var gradKernel = GateProducts.KernelGradient(xSteps, gradPre2d);
        Tensor gradRecurrent;
        if (recurrentMasks is null)
        {
            gradRecurrent = LargeProducts.Product(h0.t(), gradPre[0]);
            if (steps > 1)
            {
                var previous = hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch);
                LargeProducts.AddProduct(gradRecurrent, previous.t(), gradPre2d.narrow(0, batch, (steps - 1) * batch));
            }
        }
        else
        {
            var previous = steps == 1 ? h0 : torch.cat([h0, hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch)], 0);
            gradRecurrent = GateProducts.RecurrentGradient(previous, gradPre2d, recurrentMasks, steps, batch);
        }
        var gradBias = hasBias ? gradPre2d.sum(dim: 0) : null;
        return [gradX!, gradKernel, gradRecurrent, gradBias!, gradRecurrentState, null!, null!, null!];
    }

    private static unsafe void Forward<T>(ActivationKind activation, Tensor hidden, Tensor recurrent, Tensor h0, StepMask? mask, Tensor? recurrentMasks)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = hidden.shape[0];
        int batch = (int)hidden.shape[1], units = (int)hidden.shape[2];
        if (!Blas.Available)
        {
            // Masks and recurrent dropout need the direct BLAS (the layer runs such calls op by op without it).
            if (mask is not null || recurrentMasks is not null)
                throw new InvalidOperationException("Internal error: the fused SimpleRNN got a mask or recurrent dropout without the direct BLAS.");
            T* h = TensorMemory.Pointer<T>(hidden);
            int stride = batch * units;
            for (long t = 0; t < steps; t++)
            {
                using (var step = hidden[t])
                using (var previous = t == 0 ? h0.alias() : hidden[t - 1])
                    step.addmm_(previous, recurrent, 1, 1);
                ActivationMath.Apply(activation, new Span<T>(h + t * stride, stride));
            }
            return;
        }
        nint hAddress = (nint)TensorMemory.Pointer<T>(hidden), h0Address = (nint)TensorMemory.Pointer<T>(h0), uAddress = (nint)TensorMemory.Pointer<T>(recurrent);
        nint mAddress = recurrentMasks is null ? 0 : (nint)TensorMemory.Pointer<T>(recurrentMasks);
        BatchParallel.For(batch, BatchParallel.Slices(batch, steps * batch * units), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, first, rows) =>
        {
            long stride = (long)batch * units;
            T* h = (T*)hAddress + (long)first * units, hStart = (T*)h0Address + (long)first * units, u = (T*)uAddress;
            T* masks = mAddress == 0 ? null : (T*)mAddress + (long)first * units;
            using var packs = new PackCache<T>(rows);
            if (mask is null && masks == null)
            {
                for (long t = 0; t < steps; t++)
                {
                    T* z = h + t * stride;
                    StepProducts.Product(packs, false, rows, units, units, t == 0 ? hStart : z - stride, units, u, units, T.One, z, units);
                    ActivationMath.Apply(activation, new Span<T>(z, rows * units));
                }
                return;
            }
            using var scratchBuffer = new AlignedScratch<T>(rows * units);
            T* scratch = scratchBuffer.Pointer;
            for (long t = 0; t < steps; t++)
            {
                T* z = h + t * stride, hPrevious = t == 0 ? hStart : z - stride;
                var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
                if (end > start)
                {
                    long at = (long)start * units;
                    StepProducts.Forward(hPrevious + at, u, masks == null ? null : masks + at, stride, scratch, z + at, units, end - start, units, 1,
                        packs: packs);
                }
                if (mask is null)
                {
                    ActivationMath.Apply(activation, new Span<T>(z, rows * units));
                    continue;
                }
                for (int r = start; mask.NextRun(t, first, ref r, end, out int count); r += count)
                    ActivationMath.Apply(activation, new Span<T>(z + (long)r * units, count * units));
                // A masked row keeps its state.
                for (int r = 0; r < rows; r++)
                {
                    if (!mask.Keeps(t, first + r))
                        StepProducts.Copy(hPrevious + (long)r * units, z + (long)r * units, units);
                }
            }
        });
        // The loops used raw addresses; keep the tensors alive until they have finished.
        GC.KeepAlive(hidden);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(h0);
        GC.KeepAlive(recurrentMasks);
    }

    /// <summary>Turns <paramref name="grad"/> (dL/dh from the output) into dL/dz, step by step from the end.</summary>
    private static unsafe void Backward<T>(ActivationKind activation, Tensor hidden, Tensor grad, Tensor gradRecurrentState, Tensor recurrent,
        StepMask? mask, Tensor? recurrentMasks) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = hidden.shape[0];
        int batch = (int)hidden.shape[1], units = (int)hidden.shape[2];
        nint hAddress = (nint)TensorMemory.Pointer<T>(hidden), dAddress = (nint)TensorMemory.Pointer<T>(grad);
        nint recAddress = (nint)TensorMemory.Pointer<T>(gradRecurrentState), uAddress = (nint)TensorMemory.Pointer<T>(recurrent);
        nint mAddress = recurrentMasks is null ? 0 : (nint)TensorMemory.Pointer<T>(recurrentMasks);
        BatchParallel.For(batch, BatchParallel.Slices(batch, steps * batch * units), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (_, first, rows) =>
        {
            long stride = (long)batch * units, offset = (long)first * units;
            T* h = (T*)hAddress + offset, d = (T*)dAddress + offset, dRec = (T*)recAddress + offset, u = (T*)uAddress;
            T* masks = mAddress == 0 ? null : (T*)mAddress + offset;
            int count = rows * units;
            using var packs = new PackCache<T>(rows);
            if (mask is null && masks == null)
            {
                for (long t = steps - 1; t >= 0; t--)
                {
                    var step = new Span<T>(d + t * stride, count);
                    System.Numerics.Tensors.TensorPrimitives.Add(step, new ReadOnlySpan<T>(dRec, count), step);
                    ActivationMath.MultiplyByDerivative(activation, new ReadOnlySpan<T>(h + t * stride, count), step);
                    if (Blas.Available)
                    {
                        StepProducts.Product(packs, true, rows, units, units, d + t * stride, units, u, units, T.Zero, dRec, units);
                    }
                    else
                    {
                        using var stepGrad = grad[t];
                        gradRecurrentState.addmm_(stepGrad, recurrent.t(), 0, 1);
                    }
                }
                return;
            }
            using var scratchBuffer = new AlignedScratch<T>(count);
            T* scratch = scratchBuffer.Pointer;
            for (long t = steps - 1; t >= 0; t--)
            {
                T* dt = d + t * stride, ht = h + t * stride;
                var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
                if (mask is null)
                {
                    StepProducts.Add(dRec, dt, count);
                    ActivationMath.MultiplyByDerivative(activation, new ReadOnlySpan<T>(ht, count), new Span<T>(dt, count));
                }
                else
                {
                    for (int r = start; mask.NextRun(t, first, ref r, end, out int run); r += run)
                    {
                        long at = (long)r * units;
                        StepProducts.Add(dRec + at, dt + at, run * units);
                        ActivationMath.MultiplyByDerivative(activation, new ReadOnlySpan<T>(ht + at, run * units), new Span<T>(dt + at, run * units));
                        new Span<T>(dRec + at, run * units).Clear();
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        if (mask.Keeps(t, first + r))
                            continue;
                        // h_t = h_{t-1}: the gradient passes on; this step's pre-activation gets none.
                        long at = (long)r * units;
                        StepProducts.Add(dt + at, dRec + at, units);
                        new Span<T>(dt + at, units).Clear();
                    }
                }
                if (end > start)
                {
                    long at = (long)start * units;
                    StepProducts.Backward(dt + at, units, u, masks == null ? null : masks + at, stride, scratch, dRec + at, end - start, units, 1,
                        accumulate: mask is not null, packs: packs);
                }
            }
        });
        // The loops used raw addresses; keep the tensors alive until they have finished.
        GC.KeepAlive(hidden);
        GC.KeepAlive(grad);
        GC.KeepAlive(gradRecurrentState);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(recurrentMasks);
    }
}
