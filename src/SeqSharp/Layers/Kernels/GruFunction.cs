using System.Runtime.CompilerServices;
using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
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
/// with reset_after; <c>(3u)</c> without), <c>h0 (batch, u)</c>, the <see cref="RecurrentExtras"/>
/// (padding mask, per-gate dropout masks), the <see cref="GruFunctionOptions"/>, and the layer's name
/// (for error messages) or null. Gate order z, r, h as in Keras. Output: every hidden state,
/// time-major <c>(timesteps, batch, u)</c>.</para>
/// <para>Forward: the input projections of all steps are one matrix product. Per step, reset_after
/// needs one product, <c>h_{t-1} U + b_rec</c>, kept for backward; reset_before needs two,
/// <c>h_{t-1} U_zr</c> into the gate buffer and then <c>(r ⊙ h_{t-1}) U_h</c>, with
/// <c>r ⊙ h_{t-1}</c> kept. As in the LSTM kernel, each batch slice runs the whole sequence for its
/// rows on its own thread, with the per-step products as direct single-threaded BLAS calls; the gate
/// math runs in managed passes over each row (<see cref="GruCellMath"/>). Backward mirrors it step
/// by step; the weight gradients are large products after the loop.</para>
/// </remarks>
internal sealed class GruFunction : autograd.MultiTensorFunction<GruFunction>
{
    public override string Name => "SeqSharp.GRU";

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        BackwardFailure.Remember(ctx, vars, vars[7] as string);
        var x = (Tensor)vars[0];
        var kernel = (Tensor)vars[1];
        var recurrent = (Tensor)vars[2];
        var bias = vars[3] as Tensor;
        var h0 = ((Tensor)vars[4]).contiguous();
        var extras = (RecurrentExtras)vars[5];
        var options = (GruFunctionOptions)vars[6];
        var run = Run(x, kernel, recurrent, bias, h0, options, extras);

        ctx.save_for_backward([run.XSteps, kernel, recurrent, run.Gates, run.Kept, run.Hidden, h0,
            extras.InputMasks ?? torch.empty(0), run.RecurrentMasks ?? torch.empty(0)]);
        ctx.save_data("inputNeedsGrad", x.requires_grad);
        ctx.save_data("options", options);
        ctx.save_data("hasBias", bias is not null);
        ctx.save_data("mask", extras.Mask!);
        ctx.save_data("hasInputMasks", extras.InputMasks is not null);
        ctx.save_data("hasRecurrentMasks", run.RecurrentMasks is not null);
        return [run.Hidden];
    }

    /// <summary>The forward pass without an autograd node, for inference: every hidden state, time-major. The arguments are those of the function.</summary>
    public static Tensor Infer(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor h0, GruFunctionOptions options, RecurrentExtras extras) =>
        Run(x, kernel, recurrent, bias, h0.contiguous(), options, extras).Hidden;

    private sealed record Forwarded(Tensor XSteps, Tensor Gates, Tensor Kept, Tensor Hidden, Tensor? RecurrentMasks);

    private static Forwarded Run(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor h0, GruFunctionOptions options, RecurrentExtras extras)
    {
        long batch = x.shape[0], steps = x.shape[1], units = recurrent.shape[0];
        var inputBias = bias is null ? null : options.ResetAfter ? bias[0] : bias;
        var xSteps = GateProducts.InputSteps(x, extras.InputMasks);
        var gates = GateProducts.Project(xSteps, kernel, inputBias).view(steps, batch, 3 * units);
        var hidden = torch.empty(new[] { steps, batch, units }, x.dtype);

        // reset_after keeps h_{t-1} U + b_rec of every step (T, B, 3u); reset_before keeps r ⊙ h_{t-1} (T, B, u),
        // zeros at masked steps (the weight gradient reads it there).
        Tensor kept;
        if (options.ResetAfter)
        {
            kept = bias is null
                ? torch.zeros(new[] { steps, batch, 3 * units }, x.dtype)
                : bias[1].expand(steps, batch, 3 * units).contiguous();
        }
        else
        {
            kept = extras.Mask is null ? torch.empty(new[] { steps, batch, units }, x.dtype) : torch.zeros(new[] { steps, batch, units }, x.dtype);
        }
        var recurrentMasks = extras.RecurrentMasks?.contiguous();
        if (x.dtype == ScalarType.Float64)
            Forward<double>(options, extras.Mask, recurrentMasks, gates, kept, recurrent.contiguous(), hidden, h0);
        else
            Forward<float>(options, extras.Mask, recurrentMasks, gates, kept, recurrent.contiguous(), hidden, h0);
        return new Forwarded(xSteps, gates, kept, hidden, recurrentMasks);
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
        var mask = ctx.get_data("mask") as StepMask;
        Tensor? inputMasks = (bool)ctx.get_data("hasInputMasks") ? saved[7] : null;
        Tensor? recurrentMasks = (bool)ctx.get_data("hasRecurrentMasks") ? saved[8] : null;

        long steps = gates.shape[0], batch = gates.shape[1], units = recurrent.shape[0];
        var gradHidden = gradOutputs[0].contiguous();
        // Masked steps leave their gate gradients untouched: they must start at zero.
        var gradGates = mask is null ? torch.empty_like(gates) : torch.zeros_like(gates);
        var gradRecurrentGates = !options.ResetAfter ? null : mask is null ? torch.empty_like(gates) : torch.zeros_like(gates);
        var gradState = torch.zeros(new[] { batch, units }, gates.dtype);

        if (gates.dtype == ScalarType.Float64)
            Backward<double>(options, mask, recurrentMasks, gates, kept, recurrent.contiguous(), hidden, h0, gradHidden, gradGates, gradRecurrentGates, gradState);
        else
            Backward<float>(options, mask, recurrentMasks, gates, kept, recurrent.contiguous(), hidden, h0, gradHidden, gradGates, gradRecurrentGates, gradState);

        var gradGates2d = gradGates.view(steps * batch, 3 * units);
        // Skipped when x needs no gradient (the first layer): one large product fewer.
        var gradX = (bool)ctx.get_data("inputNeedsGrad") ? GateProducts.InputGradient(gradGates2d, kernel, inputMasks, steps, batch) : null;
        var gradKernel = GateProducts.KernelGradient(xSteps, gradGates2d);
        var previous = PreviousHidden(hidden, h0);
        Tensor gradRecurrent;
        Tensor? gradBias = null;
        if (options.ResetAfter)
        {
            var gradRecurrent2d = gradRecurrentGates!.view(steps * batch, 3 * units);
            gradRecurrent = GateProducts.RecurrentGradient(previous, gradRecurrent2d, recurrentMasks, steps, batch);
            if (hasBias)
                gradBias = torch.stack([gradGates2d.sum(dim: 0), gradRecurrent2d.sum(dim: 0)], 0);
        }
        else
        {
            gradRecurrent = torch.cat([
                GateProducts.RecurrentGradient(previous, gradGates2d.narrow(1, 0, 2 * units), recurrentMasks?.narrow(0, 0, 2), steps, batch),
                kept.view(steps * batch, units).t().mm(gradGates2d.narrow(1, 2 * units, units))], 1);
            if (hasBias)
                gradBias = gradGates2d.sum(dim: 0);
        }
        return [gradX!, gradKernel, gradRecurrent, gradBias!, gradState, null!, null!, null!];
    }

    /// <summary>h_{t-1} of every step, <c>(timesteps · batch, u)</c>: h0 then all hidden states but the last.</summary>
    private static Tensor PreviousHidden(Tensor hidden, Tensor h0)
    {
        long steps = hidden.shape[0], batch = hidden.shape[1], units = hidden.shape[2];
        return steps == 1 ? h0 : torch.cat([h0, hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch)], 0);
    }

    /// <summary>Raw pointers to a call's buffers (valid while the tensors live), for the slice loops.</summary>
    private readonly unsafe struct Memory<T>(Tensor gates, Tensor kept, Tensor recurrent, Tensor hidden, Tensor h0, Tensor? recurrentMasks)
        where T : unmanaged
    {
        private readonly nint _gates = (nint)TensorMemory.Pointer<T>(gates), _kept = (nint)TensorMemory.Pointer<T>(kept);
        private readonly nint _recurrent = (nint)TensorMemory.Pointer<T>(recurrent), _hidden = (nint)TensorMemory.Pointer<T>(hidden);
        private readonly nint _h0 = (nint)TensorMemory.Pointer<T>(h0), _masks = recurrentMasks is null ? 0 : (nint)TensorMemory.Pointer<T>(recurrentMasks);

        /// <summary>(T, B, 3u) input projections in, activated gates [z r n] out.</summary>
        public T* Gates => (T*)_gates;
        /// <summary>(T, B, 3u) recurrent projections (reset_after) or (T, B, u) r ⊙ h_{t-1} (reset_before).</summary>
        public T* Kept => (T*)_kept;
        /// <summary>(u, 3u) recurrent kernel.</summary>
        public T* Recurrent => (T*)_recurrent;
        /// <summary>(T, B, u) outputs.</summary>
        public T* Hidden => (T*)_hidden;
        /// <summary>(B, u) initial state.</summary>
        public T* H0 => (T*)_h0;
        /// <summary>(3, B, u) recurrent dropout masks, or null.</summary>
        public T* Masks => (T*)_masks;
    }

    private static unsafe void Forward<T>(GruFunctionOptions options, StepMask? mask, Tensor? recurrentMasks, Tensor gates, Tensor kept, Tensor recurrent,
        Tensor hidden, Tensor h0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Blas.Available)
        {
            // Masks and recurrent dropout need the direct BLAS (the layer runs such calls op by op without it).
            if (mask is not null || recurrentMasks is not null)
                throw new InvalidOperationException("Internal error: the fused GRU got a mask or recurrent dropout without the direct BLAS.");
            ForwardWithViews<T>(options, gates, kept, recurrent, hidden, h0);
            return;
        }
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)recurrent.shape[0];
        var memory = new Memory<T>(gates, kept, recurrent, hidden, h0, recurrentMasks);
        BatchParallel.For(batch, BatchParallel.Slices(batch, steps * batch * units), (_, first, rows) =>
            ForwardRows(options, mask, memory, steps, batch, units, first, rows));
        GC.KeepAlive(gates);
        GC.KeepAlive(kept);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(hidden);
        GC.KeepAlive(h0);
        GC.KeepAlive(recurrentMasks);
    }

    /// <summary>
    /// The time loop for batch rows [first, first + rows): the recurrent products as direct BLAS calls
    /// on the rows the step updates, the gate math row by row (<see cref="GruCellMath"/>); a masked
    /// row copies its state.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardRows<T>(GruFunctionOptions options, StepMask? mask, Memory<T> memory, long steps, int batch, int units,
        int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = 3 * units;
        long gateStride = (long)width * batch, stateStride = (long)units * batch;
        long keptRow = options.ResetAfter ? width : units, keptStride = keptRow * batch;
        T* g = memory.Gates + (long)width * first, k = memory.Kept + keptRow * first, h = memory.Hidden + (long)units * first;
        T* h0 = memory.H0 + (long)units * first, masks = memory.Masks == null ? null : memory.Masks + (long)units * first;
        using var scratchBuffer = new AlignedScratch<T>(rows * units);
        using var maskedBuffer = new AlignedScratch<T>(units);
        using var packs = new PackCache<T>(rows);
        T* scratch = scratchBuffer.Pointer, masked = maskedBuffer.Pointer;
        for (long t = 0; t < steps; t++)
        {
            T* gt = g + t * gateStride, kt = k + t * keptStride, hOut = h + t * stateStride;
            T* hPrevious = t == 0 ? h0 : h + (t - 1) * stateStride;
            var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
            int count = end - start;
            if (options.ResetAfter)
            {
                // kept = b_rec + h_{t-1} U (per gate on the masked state with recurrent dropout).
                if (count > 0)
                {
                    StepProducts.Forward(hPrevious + (long)start * units, memory.Recurrent, masks == null ? null : masks + (long)start * units, stateStride,
                        scratch, kt + (long)start * width, width, count, units, 3, packs: packs);
                }
                for (int r = start; r < end; r++)
                {
                    if (mask is not null && !mask.Keeps(t, first + r))
                        continue;
                    GruCellMath.ForwardResetAfter(options, units, new Span<T>(gt + (long)r * width, width), new ReadOnlySpan<T>(kt + (long)r * width, width),
                        new ReadOnlySpan<T>(hPrevious + (long)r * units, units), new Span<T>(hOut + (long)r * units, units));
                }
            }
            else
            {
                // z and r blocks += h_{t-1} U_zr; kept = r ⊙ h_{t-1} (⊙ the candidate's dropout mask); candidate += kept U_h.
                if (count > 0)
                {
                    StepProducts.Forward(hPrevious + (long)start * units, memory.Recurrent, masks == null ? null : masks + (long)start * units, stateStride,
                        scratch, gt + (long)start * width, width, count, units, 2, ldr: width, packs: packs);
                }
                for (int r = start; r < end; r++)
                {
                    if (mask is not null && !mask.Keeps(t, first + r))
                        continue;
                    T* hRow = hPrevious + (long)r * units;
                    if (masks != null)
                    {
                        TensorPrimitives.Multiply(new ReadOnlySpan<T>(hRow, units), new ReadOnlySpan<T>(masks + 2 * stateStride + (long)r * units, units),
                            new Span<T>(masked, units));
                        hRow = masked;
                    }
                    GruCellMath.ForwardGatesResetBefore(options, units, new Span<T>(gt + (long)r * width, width), new ReadOnlySpan<T>(hRow, units),
                        new Span<T>(kt + (long)r * units, units));
                }
                if (count > 0)
                {
                    StepProducts.Product(packs, false, count, units, units, kt + (long)start * units, units, memory.Recurrent + 2 * units, width, T.One,
                        gt + (long)start * width + 2 * units, width);
                }
                for (int r = start; r < end; r++)
                {
                    if (mask is not null && !mask.Keeps(t, first + r))
                        continue;
                    GruCellMath.ForwardOutputResetBefore(options, units, new Span<T>(gt + (long)r * width, width),
                        new ReadOnlySpan<T>(hPrevious + (long)r * units, units), new Span<T>(hOut + (long)r * units, units));
                }
            }
            if (mask is null)
                continue;
            for (int r = 0; r < rows; r++)
            {
                if (!mask.Keeps(t, first + r))
                    StepProducts.Copy(hPrevious + (long)r * units, hOut + (long)r * units, units);
            }
        }
    }

    private static unsafe void Backward<T>(GruFunctionOptions options, StepMask? mask, Tensor? recurrentMasks, Tensor gates, Tensor kept, Tensor recurrent,
        Tensor hidden, Tensor h0, Tensor gradHidden, Tensor gradGates, Tensor? gradRecurrentGates, Tensor gradState)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Blas.Available)
        {
            BackwardWithViews<T>(options, gates, kept, recurrent, hidden, h0, gradHidden, gradGates, gradRecurrentGates, gradState);
            return;
        }
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)recurrent.shape[0];
        var memory = new Memory<T>(gates, kept, recurrent, hidden, h0, recurrentMasks);
        nint dOut = (nint)TensorMemory.Pointer<T>(gradHidden), dg = (nint)TensorMemory.Pointer<T>(gradGates), dState = (nint)TensorMemory.Pointer<T>(gradState);
        nint dgRec = gradRecurrentGates is null ? 0 : (nint)TensorMemory.Pointer<T>(gradRecurrentGates);
        BatchParallel.For(batch, BatchParallel.Slices(batch, steps * batch * units), (_, first, rows) =>
            BackwardRows(options, mask, memory, (T*)dOut, (T*)dg, (T*)dgRec, (T*)dState, steps, batch, units, first, rows));
        GC.KeepAlive(gates);
        GC.KeepAlive(kept);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(hidden);
        GC.KeepAlive(h0);
        GC.KeepAlive(recurrentMasks);
        GC.KeepAlive(gradHidden);
        GC.KeepAlive(gradGates);
        GC.KeepAlive(gradRecurrentGates);
        GC.KeepAlive(gradState);
    }

    /// <summary>
    /// Backward through time for batch rows [first, first + rows). A masked row's gate gradients stay
    /// zero and the gradient of its state passes to the previous step with the output's added.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardRows<T>(GruFunctionOptions options, StepMask? mask, Memory<T> memory, T* gradOutput, T* gradGates,
        T* gradRecurrentGates, T* gradState, long steps, int batch, int units, int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = 3 * units;
        long gateStride = (long)width * batch, stateStride = (long)units * batch;
        long keptRow = options.ResetAfter ? width : units, keptStride = keptRow * batch;
        long gateOffset = (long)width * first, stateOffset = (long)units * first;
        T* g = memory.Gates + gateOffset, k = memory.Kept + keptRow * first, h = memory.Hidden + stateOffset, h0 = memory.H0 + stateOffset;
        T* masks = memory.Masks == null ? null : memory.Masks + stateOffset;
        T* dOut = gradOutput + stateOffset, dg = gradGates + gateOffset, dgRec = gradRecurrentGates == null ? null : gradRecurrentGates + gateOffset;
        T* dState = gradState + stateOffset;
        using var scratchBuffer = new AlignedScratch<T>(rows * units);
        using var resetBuffer = new AlignedScratch<T>(rows * units);
        var rowBuffer = new T[units];
        using var packs = new PackCache<T>(rows);
        T* scratch = scratchBuffer.Pointer, dResetHidden = resetBuffer.Pointer;
        for (long t = steps - 1; t >= 0; t--)
        {
            T* gt = g + t * gateStride, kt = k + t * keptStride, dgt = dg + t * gateStride, dOutT = dOut + t * stateStride;
            T* hPrevious = t == 0 ? h0 : h + (t - 1) * stateStride;
            var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
            int count = end - start;
            if (options.ResetAfter)
            {
                T* dgRecT = dgRec + t * gateStride;
                for (int r = start; r < end; r++)
                {
                    if (mask is not null && !mask.Keeps(t, first + r))
                        continue;
                    GruCellMath.BackwardResetAfter(options, units,
                        new ReadOnlySpan<T>(gt + (long)r * width, width),
                        new ReadOnlySpan<T>(kt + (long)r * width + 2 * units, units),
                        new ReadOnlySpan<T>(hPrevious + (long)r * units, units),
                        new ReadOnlySpan<T>(dOutT + (long)r * units, units),
                        new Span<T>(dState + (long)r * units, units),
                        new Span<T>(dgt + (long)r * width, width),
                        new Span<T>(dgRecT + (long)r * width, width),
                        rowBuffer);
                }
                PassMaskedRows(mask, t, first, rows, dOutT, dState, units);
                // dL/dh_{t-1} += dL/d(h_{t-1} U) Uᵀ, per gate through the dropout masks.
                if (count > 0)
                {
                    StepProducts.Backward(dgRecT + (long)start * width, width, memory.Recurrent, masks == null ? null : masks + (long)start * units,
                        stateStride, scratch, dState + (long)start * units, count, units, 3, accumulate: true, packs: packs);
                }
                continue;
            }

            for (int r = start; r < end; r++)
            {
                if (mask is not null && !mask.Keeps(t, first + r))
                    continue;
                GruCellMath.BackwardOutputResetBefore(options, units,
                    new ReadOnlySpan<T>(gt + (long)r * width, width),
                    new ReadOnlySpan<T>(hPrevious + (long)r * units, units),
                    new ReadOnlySpan<T>(dOutT + (long)r * units, units),
                    new Span<T>(dState + (long)r * units, units),
                    new Span<T>(dgt + (long)r * width, width),
                    rowBuffer);
            }
            PassMaskedRows(mask, t, first, rows, dOutT, dState, units);
            if (count == 0)
                continue;
            // d(r ⊙ h_{t-1} ⊙ m_h) = dn U_hᵀ; through the candidate's dropout mask to r and h_{t-1}.
            StepProducts.Product(packs, true, count, units, units, dgt + (long)start * width + 2 * units, width, memory.Recurrent + 2 * units, width,
                T.Zero, dResetHidden + (long)start * units, units);
            if (masks != null)
            {
                int n = count * units;
                var part = new Span<T>(dResetHidden + (long)start * units, n);
                TensorPrimitives.Multiply(part, new ReadOnlySpan<T>(masks + 2 * stateStride + (long)start * units, n), part);
            }
            for (int r = start; r < end; r++)
            {
                if (mask is not null && !mask.Keeps(t, first + r))
                    continue;
                GruCellMath.BackwardGatesResetBefore(options, units,
                    new ReadOnlySpan<T>(gt + (long)r * width, width),
                    new ReadOnlySpan<T>(hPrevious + (long)r * units, units),
                    new ReadOnlySpan<T>(dResetHidden + (long)r * units, units),
                    new Span<T>(dState + (long)r * units, units),
                    new Span<T>(dgt + (long)r * width, width));
            }
            StepProducts.Backward(dgt + (long)start * width, width, memory.Recurrent, masks == null ? null : masks + (long)start * units,
                stateStride, scratch, dState + (long)start * units, count, units, 2, accumulate: true, ldr: width, packs: packs);
        }
    }

    /// <summary>At a masked row h_t = h_{t-1}: the carried gradient gains the output's and passes on.</summary>
    private static unsafe void PassMaskedRows<T>(StepMask? mask, long t, int first, int rows, T* gradOutput, T* gradState, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (mask is null)
            return;
        for (int r = 0; r < rows; r++)
        {
            if (!mask.Keeps(t, first + r))
                StepProducts.Add(gradOutput + (long)r * units, gradState + (long)r * units, units);
        }
    }

    /// <summary>The forward loop with TorchSharp products on views, where the direct BLAS is not available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardWithViews<T>(GruFunctionOptions options, Tensor gates, Tensor kept, Tensor recurrent, Tensor hidden, Tensor h0)
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

    /// <summary>The backward loop with TorchSharp products on views, where the direct BLAS is not available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardWithViews<T>(GruFunctionOptions options, Tensor gates, Tensor kept, Tensor recurrent, Tensor hidden, Tensor h0,
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
