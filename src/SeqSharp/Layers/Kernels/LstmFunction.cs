using System.Runtime.CompilerServices;
using System.Numerics;
using SeqSharp.Activations;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The whole-sequence LSTM as one autograd node: forward over all time steps and a hand-written
/// backward-through-time.
/// </summary>
/// <remarks>
/// <para>Inputs, in order: <c>x (batch, timesteps, features)</c>, <c>kernel (features, 4u)</c>,
/// <c>recurrentKernel (u, 4u)</c>, <c>bias (4u)</c> or null, <c>peephole (3, u)</c> or null,
/// <c>h0 (batch, u)</c>, <c>c0 (batch, u)</c>, the <see cref="RecurrentExtras"/> (padding mask, per-gate dropout masks),
/// the <see cref="LstmFunctionOptions"/>, and the layer's name (for error messages) or null.
/// Gate order i, f, c, o as in Keras; peephole rows i, f, o.</para>
/// <para>Outputs: every hidden state, time-major <c>(timesteps, batch, u)</c>, and the last cell
/// state <c>(batch, u)</c>.</para>
/// <para>Forward: the input projections of all steps are one matrix product; each step adds
/// <c>h_{t-1} U</c> with one in-place product and evaluates the gates in one managed pass over the
/// step's memory. Backward: per step, one managed pass computes the gate gradients and one product
/// carries the gradient to <c>h_{t-1}</c>; the weight gradients are large products after the loop.</para>
/// </remarks>
internal sealed class LstmFunction : autograd.MultiTensorFunction<LstmFunction>
{
    public override string Name => "SeqSharp.LSTM";

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        BackwardFailure.Remember(ctx, vars, vars[9] as string);
        var x = (Tensor)vars[0];
        var kernel = (Tensor)vars[1];
        var recurrent = (Tensor)vars[2];
        var bias = vars[3] as Tensor;
        var peephole = vars[4] as Tensor;
        var extras = (RecurrentExtras)vars[7];
        var options = (LstmFunctionOptions)vars[8];
        var run = Run(x, kernel, recurrent, bias, peephole, (Tensor)vars[5], (Tensor)vars[6], options, extras);

        // Absent optional tensors are saved as empty placeholders: a saved null cannot be unpacked.
        ctx.save_for_backward([run.XSteps, kernel, recurrent, run.Gates, run.Hidden, run.Cells, run.H0, run.C0, run.Peephole ?? torch.empty(0),
            extras.InputMasks ?? torch.empty(0), run.RecurrentMasks ?? torch.empty(0)]);
        ctx.save_data("inputNeedsGrad", x.requires_grad);
        ctx.save_data("options", options);
        ctx.save_data("hasBias", bias is not null);
        ctx.save_data("hasPeephole", peephole is not null);
        ctx.save_data("mask", extras.Mask!);
        ctx.save_data("hasInputMasks", extras.InputMasks is not null);
        ctx.save_data("hasRecurrentMasks", extras.RecurrentMasks is not null);
        return [run.Hidden, run.Cells[run.Cells.shape[0] - 1]];
    }

    /// <summary>
    /// The forward pass without an autograd node, for inference: returns every hidden state,
    /// time-major, and the last cell state. The arguments are those of the function.
    /// </summary>
    /// <remarks>
    /// Nothing is kept for backward, so each batch slice projects its own rows of <c>x</c> a chunk of
    /// steps at a time (about 1 MiB of gates per thread) instead of projecting all steps up front, and
    /// keeps only the current cell state: the working memory is bounded whatever the sequence length,
    /// rather than <c>(timesteps, batch, 4u)</c>.
    /// </remarks>
    public static (Tensor Hidden, Tensor LastCell) Infer(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor? peephole,
        Tensor h0, Tensor c0, LstmFunctionOptions options, RecurrentExtras extras)
    {
        // Dropout masks only come with training calls; those without gradients take the training forward.
        if (!Blas.Available || extras.InputMasks is not null || extras.RecurrentMasks is not null)
        {
            var run = Run(x, kernel, recurrent, bias, peephole, h0, c0, options, extras);
            return (run.Hidden, run.Cells[run.Cells.shape[0] - 1]);
        }
        long batch = x.shape[0], steps = x.shape[1], units = recurrent.shape[0];
        x = x.contiguous();
        var hidden = torch.empty(new[] { steps, batch, units }, x.dtype);
        var lastCell = c0.contiguous().clone();
        var inputs = new InferenceInputs(x, kernel.contiguous(), recurrent.contiguous(), bias?.contiguous(), peephole?.contiguous(), h0.contiguous());
        if (x.dtype == ScalarType.Float64)
            InferRows<double>(options, inputs, extras.Mask, hidden, lastCell);
        else
            InferRows<float>(options, inputs, extras.Mask, hidden, lastCell);
        return (hidden, lastCell);
    }

    private sealed record InferenceInputs(Tensor X, Tensor Kernel, Tensor Recurrent, Tensor? Bias, Tensor? Peephole, Tensor H0);

    private static unsafe void InferRows<T>(LstmFunctionOptions options, InferenceInputs inputs, StepMask? mask, Tensor hidden, Tensor cell)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = (int)inputs.X.shape[0], steps = (int)inputs.X.shape[1], features = (int)inputs.X.shape[2], units = (int)inputs.Recurrent.shape[0];
        var step = LstmCellMath.Forward<T>(options);
        nint x = Address<T>(inputs.X), w = Address<T>(inputs.Kernel), u = Address<T>(inputs.Recurrent), b = Address<T>(inputs.Bias);
        nint p = Address<T>(inputs.Peephole), h0 = Address<T>(inputs.H0), h = Address<T>(hidden), c = Address<T>(cell);
        BatchParallel.For(batch, BatchParallel.Slices(batch, (long)steps * batch * units), (_, first, rows) =>
            InferSlice(step, mask, (T*)x, (T*)w, (T*)u, (T*)b, (T*)p, (T*)h0, (T*)h, (T*)c, steps, batch, features, units, first, rows));
        // The loops above used raw addresses: keep the tensors (some are copies made here) alive until they finish.
        GC.KeepAlive(inputs);
        GC.KeepAlive(hidden);
        GC.KeepAlive(cell);
    }

    /// <summary>
    /// Elements of gate pre-activations each inference slice holds at once (1 MiB of float32): the
    /// input projections of that many steps are one product.
    /// </summary>
    internal static int InferenceChunkElements { get; set; } = 1 << 18;

    /// <summary>The whole sequence for batch rows [first, first + rows); <paramref name="c"/> holds c_0 in and c_T out.</summary>
    /// <remarks>
    /// Steps are taken in chunks: the chunk's rows of x are gathered step-major into a small buffer
    /// and projected with one product (<c>chunk·rows × features</c> by <c>features × 4u</c>, large
    /// enough for the BLAS to run near its peak), then each step adds <c>h_{t-1} U</c> into its part
    /// of the chunk and applies the cell.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void InferSlice<T>(LstmCellMath.StepForward<T> step, StepMask? mask, T* x, T* w, T* u, T* bias, T* peephole, T* h0, T* h, T* c,
        int steps, int batch, int features, int units, int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int gateWidth = 4 * units;
        int chunk = (int)Math.Clamp(InferenceChunkElements / ((long)rows * gateWidth), 1, steps);
        // Native scratch, aligned as tensors are (see AlignedScratch): a chunk can be up to 1 MiB,
        // which as a new array every call would be a zeroed large-object allocation. Every element
        // used is written before it is read.
        using var gateBuffer = new AlignedScratch<T>(chunk * rows * gateWidth);
        using var inputBuffer = new AlignedScratch<T>(chunk * rows * features);
        using var cellBuffer = new AlignedScratch<T>(rows * units);
        using var recurrent = new PackedRight<T>(rows, gateWidth, units, u, gateWidth, transpose: false);
        using var input = new PackedRight<T>(chunk * rows, gateWidth, features, w, gateWidth, transpose: false);
        T* zChunk = gateBuffer.Pointer, xChunk = inputBuffer.Pointer, cNext = cellBuffer.Pointer;
        T* cCurrent = c + (long)first * units;
        long stateStride = (long)batch * units;
        for (int t0 = 0; t0 < steps; t0 += chunk)
        {
            int count = Math.Min(chunk, steps - t0);
            // Gather x[first + r, t0 + k, :] into row k·rows + r, and start every gate row from the bias.
            for (int k = 0; k < count; k++)
            {
                for (int r = 0; r < rows; r++)
                {
                    long target = (long)k * rows + r;
                    new ReadOnlySpan<T>(x + (((long)(first + r) * steps) + t0 + k) * features, features)
                        .CopyTo(new Span<T>(xChunk + target * features, features));
                    var gateRow = new Span<T>(zChunk + target * gateWidth, gateWidth);
                    if (bias != null)
                        new ReadOnlySpan<T>(bias, gateWidth).CopyTo(gateRow);
                    else
                        gateRow.Clear();
                }
            }
            input.Multiply(count * rows, xChunk, features, T.One, zChunk, gateWidth);
            for (int k = 0; k < count; k++)
            {
                int t = t0 + k;
                T* z = zChunk + (long)k * rows * gateWidth;
                T* hPrevious = t == 0 ? h0 + (long)first * units : h + (t - 1) * stateStride + (long)first * units;
                T* hOut = h + t * stateStride + (long)first * units;
                if (mask is null)
                {
                    recurrent.Multiply(rows, hPrevious, units, T.One, z, gateWidth);
                    step(z, cCurrent, cNext, hOut, peephole, rows, units);
                    StepProducts.Copy(cNext, cCurrent, rows * units);
                    continue;
                }
                // Masked rows keep h and c; the product and the cell run on the range of updated rows.
                var (start, end) = mask.Range(t, first, rows);
                if (end > start)
                {
                    recurrent.Multiply(end - start, hPrevious + (long)start * units, units, T.One, z + (long)start * gateWidth, gateWidth);
                }
                for (int r = start; mask.NextRun(t, first, ref r, end, out int run); r += run)
                {
                    long at = (long)r * units;
                    step(z + (long)r * gateWidth, cCurrent + at, cNext + at, hOut + at, peephole, run, units);
                    StepProducts.Copy(cNext + at, cCurrent + at, run * units);
                }
                for (int r = 0; r < rows; r++)
                {
                    if (!mask.Keeps(t, first + r))
                        StepProducts.Copy(hPrevious + (long)r * units, hOut + (long)r * units, units);
                }
            }
        }
    }

    private sealed record Forwarded(Tensor XSteps, Tensor Gates, Tensor Hidden, Tensor Cells, Tensor H0, Tensor C0, Tensor? Peephole, Tensor? RecurrentMasks);

    private static Forwarded Run(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor? peephole, Tensor h0, Tensor c0,
        LstmFunctionOptions options, RecurrentExtras extras)
    {
        long batch = x.shape[0], steps = x.shape[1], units = recurrent.shape[0];
        var xSteps = GateProducts.InputSteps(x, extras.InputMasks);
        var gates = GateProducts.Project(xSteps, kernel, bias).view(steps, batch, 4 * units);
        var hidden = torch.empty(new[] { steps, batch, units }, x.dtype);
        var cells = torch.empty(new[] { steps, batch, units }, x.dtype);
        h0 = h0.contiguous();
        c0 = c0.contiguous();
        var peepholes = peephole?.contiguous();
        var recurrentMasks = extras.RecurrentMasks?.contiguous();
        var loop = new Loop(extras.Mask, recurrentMasks);
        if (x.dtype == ScalarType.Float64)
            Forward<double>(options, loop, gates, recurrent, hidden, cells, h0, c0, peepholes);
        else
            Forward<float>(options, loop, gates, recurrent, hidden, cells, h0, c0, peepholes);
        return new Forwarded(xSteps, gates, hidden, cells, h0, c0, peepholes, recurrentMasks);
    }

    /// <summary>The padding mask and the recurrent dropout masks <c>(4, batch, u)</c> of a call, either of which may be null.</summary>
    private sealed record Loop(StepMask? Mask, Tensor? RecurrentMasks)
    {
        /// <summary>Whether the plain loop (no mask, no dropout) runs.</summary>
        public bool Plain => Mask is null && RecurrentMasks is null;
    }

    /// <summary>
    /// Backward through time. Never throws: it runs inside a native callback, where an exception would
    /// end the process; <see cref="BackwardFailure"/> carries failures to the caller of <c>backward()</c>.
    /// </summary>
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs) =>
        BackwardFailure.Run(ctx, "LSTM", () => BackwardThroughTime(ctx, gradOutputs));

    private static List<Tensor> BackwardThroughTime(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        Tensor xSteps = saved[0], kernel = saved[1], recurrent = saved[2], gates = saved[3], hidden = saved[4], cells = saved[5], h0 = saved[6], c0 = saved[7];
        var options = (LstmFunctionOptions)ctx.get_data("options");
        bool hasBias = (bool)ctx.get_data("hasBias");
        Tensor? peephole = (bool)ctx.get_data("hasPeephole") ? saved[8] : null;
        Tensor? inputMasks = (bool)ctx.get_data("hasInputMasks") ? saved[9] : null;
        Tensor? recurrentMasks = (bool)ctx.get_data("hasRecurrentMasks") ? saved[10] : null;
        var loop = new Loop(ctx.get_data("mask") as StepMask, recurrentMasks);

        long steps = gates.shape[0], batch = gates.shape[1], units = recurrent.shape[0];
        var gradHidden = gradOutputs[0].contiguous();
        var gradCell = gradOutputs[1].contiguous().clone();
        // Masked steps leave their gate gradients untouched: they must start at zero.
        var gradGates = loop.Mask is null ? torch.empty_like(gates) : torch.zeros_like(gates);
        var gradRecurrentState = torch.zeros(new[] { batch, units }, gates.dtype);
        var gradPeephole = peephole is null ? null : torch.zeros_like(peephole);

        if (gates.dtype == ScalarType.Float64)
            Backward<double>(options, loop, gates, cells, c0, hidden, gradHidden, gradCell, gradGates, gradRecurrentState, recurrent, peephole, gradPeephole);
        else
            Backward<float>(options, loop, gates, cells, c0, hidden, gradHidden, gradCell, gradGates, gradRecurrentState, recurrent, peephole, gradPeephole);

        var gradGates2d = gradGates.view(steps * batch, 4 * units);
        // Skipped when x needs no gradient (the first layer): one large product fewer.
        var gradX = (bool)ctx.get_data("inputNeedsGrad") ? GateProducts.InputGradient(gradGates2d, kernel, inputMasks, steps, batch) : null;
        var gradKernel = GateProducts.KernelGradient(xSteps, gradGates2d);
        Tensor gradRecurrent;
        if (recurrentMasks is null)
        {
            gradRecurrent = LargeProducts.Product(h0.t(), gradGates[0]);
            if (steps > 1)
            {
                var previous = hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch);
                LargeProducts.AddProduct(gradRecurrent, previous.t(), gradGates2d.narrow(0, batch, (steps - 1) * batch));
            }
        }
        else
        {
            var previous = steps == 1 ? h0 : torch.cat([h0, hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch)], 0);
            gradRecurrent = GateProducts.RecurrentGradient(previous, gradGates2d, recurrentMasks, steps, batch);
        }
        var gradBias = hasBias ? gradGates2d.sum(dim: 0) : null;
        return [gradX!, gradKernel, gradRecurrent, gradBias!, gradPeephole!, gradRecurrentState, gradCell, null!, null!, null!];
    }

    private static unsafe void Forward<T>(LstmFunctionOptions options, Loop loop, Tensor gates, Tensor recurrent, Tensor hidden, Tensor cells,
        Tensor h0, Tensor c0, Tensor? peephole) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)recurrent.shape[0];
        var step = LstmCellMath.Forward<T>(options);
        var memory = new Saved<T>(gates, hidden, cells, h0, c0, recurrent, peephole);
        if (!Blas.Available)
        {
            // Masks and recurrent dropout need the direct BLAS (the layer runs such calls op by op without it).
            if (!loop.Plain)
                throw new InvalidOperationException("Internal error: the fused LSTM got a mask or recurrent dropout without the direct BLAS.");
            ForwardWithViews(step, memory, gates, recurrent, hidden, h0, steps, batch, units);
            return;
        }
        nint masks = Address<T>(loop.RecurrentMasks);
        int slices = BatchParallel.Slices(batch, steps * batch * units);
        BatchParallel.For(batch, slices, (_, first, rows) =>
        {
            if (loop.Plain)
                ForwardRows(step, memory, steps, batch, units, first, rows);
            else
                ForwardMaskedRows(step, memory, loop.Mask, (T*)masks, steps, batch, units, first, rows);
        });
        // The loops used raw addresses; keep the tensors alive until they have finished.
        GC.KeepAlive(gates);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(hidden);
        GC.KeepAlive(cells);
        GC.KeepAlive(h0);
        GC.KeepAlive(c0);
        GC.KeepAlive(peephole);
        GC.KeepAlive(loop);
    }

    /// <summary>The time loop for batch rows [first, first + rows): each step's product, then the cell.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardRows<T>(LstmCellMath.StepForward<T> step, Saved<T> memory, long steps, int batch, int units, int first, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        T* g = memory.Gates + 4L * units * first, h = memory.Hidden + (long)units * first, c = memory.Cells + (long)units * first;
        T* h0 = memory.H0 + (long)units * first, c0 = memory.C0 + (long)units * first;
        using var recurrent = new PackedRight<T>(rows, 4 * units, units, memory.Recurrent, 4 * units, transpose: false);
        for (long t = 0; t < steps; t++)
        {
            // z_t += h_{t-1} U: all four gates in one product.
            T* z = g + t * gateStride;
            recurrent.Multiply(rows, t == 0 ? h0 : h + (t - 1) * stateStride, units, T.One, z, 4 * units);
            step(z, t == 0 ? c0 : c + (t - 1) * stateStride, c + t * stateStride, h + t * stateStride, memory.Peephole, rows, units);
        }
    }

    /// <summary>
    /// The time loop with a padding mask and/or recurrent dropout masks (pointing at gate 0, row 0;
    /// null without dropout). A masked row copies h and c from the previous step; the product and
    /// the cell run on the range of rows the step updates.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardMaskedRows<T>(LstmCellMath.StepForward<T> step, Saved<T> memory, StepMask? mask, T* dropout,
        long steps, int batch, int units, int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch, maskStride = (long)batch * units;
        T* g = memory.Gates + 4L * units * first, h = memory.Hidden + (long)units * first, c = memory.Cells + (long)units * first;
        T* h0 = memory.H0 + (long)units * first, c0 = memory.C0 + (long)units * first;
        T* masks = dropout == null ? null : dropout + (long)units * first;
        using var scratchBuffer = new AlignedScratch<T>(rows * units);
        using var packs = new PackCache<T>(rows);
        T* scratch = scratchBuffer.Pointer;
        for (long t = 0; t < steps; t++)
        {
            T* z = g + t * gateStride, hOut = h + t * stateStride, cOut = c + t * stateStride;
            T* hPrevious = t == 0 ? h0 : h + (t - 1) * stateStride, cPrevious = t == 0 ? c0 : c + (t - 1) * stateStride;
            var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
            if (end > start)
            {
                long at = (long)start * units;
                StepProducts.Forward(hPrevious + at, memory.Recurrent, masks == null ? null : masks + at, maskStride, scratch,
                    z + 4 * at, 4 * units, end - start, units, 4, packs: packs);
            }
            if (mask is null)
            {
                step(z, cPrevious, cOut, hOut, memory.Peephole, rows, units);
                continue;
            }
            for (int r = start; mask.NextRun(t, first, ref r, end, out int count); r += count)
            {
                long at = (long)r * units;
                step(z + 4 * at, cPrevious + at, cOut + at, hOut + at, memory.Peephole, count, units);
            }
            for (int r = 0; r < rows; r++)
            {
                if (mask.Keeps(t, first + r))
                    continue;
                long at = (long)r * units;
                StepProducts.Copy(hPrevious + at, hOut + at, units);
                StepProducts.Copy(cPrevious + at, cOut + at, units);
            }
        }
    }

    /// <summary>The same loop with TorchSharp products on views, where the direct BLAS is not available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ForwardWithViews<T>(LstmCellMath.StepForward<T> step, Saved<T> memory, Tensor gates, Tensor recurrent, Tensor hidden,
        Tensor h0, long steps, int batch, int units) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        for (long t = 0; t < steps; t++)
        {
            using (var z = gates[t])
            using (var previous = t == 0 ? h0.alias() : hidden[t - 1])
                z.addmm_(previous, recurrent, 1, 1);
            T* cPrevious = t == 0 ? memory.C0 : memory.Cells + (t - 1) * stateStride;
            step(memory.Gates + t * gateStride, cPrevious, memory.Cells + t * stateStride, memory.Hidden + t * stateStride, memory.Peephole, batch, units);
        }
    }

    private static unsafe void Backward<T>(LstmFunctionOptions options, Loop loop, Tensor gates, Tensor cells, Tensor c0, Tensor hidden,
        Tensor gradHidden, Tensor gradCell, Tensor gradGates, Tensor gradRecurrentState, Tensor recurrent,
        Tensor? peephole, Tensor? gradPeephole) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)hidden.shape[2];
        var step = LstmCellMath.Backward<T>(options);
        var memory = new Saved<T>(gates, hidden, cells, c0, c0, recurrent, peephole);
        var grads = new Gradients<T>(gradGates, gradHidden, gradCell, gradRecurrentState, gradPeephole);
        nint masks = Address<T>(loop.RecurrentMasks);
        int slices = BatchParallel.Slices(batch, steps * batch * units);
        // Each slice accumulates its own peephole gradient; they are added up afterwards.
        var partial = gradPeephole is null || slices == 1 ? null : Enumerable.Range(0, slices).Select(_ => torch.zeros_like(gradPeephole)).ToArray();
        BatchParallel.For(batch, slices, (slice, first, rows) =>
        {
            var peepholeGrad = partial is null ? grads.Peephole : TensorMemory.Pointer<T>(partial[slice]);
            if (!Blas.Available)
                BackwardWithViews(step, memory, grads, gradGates, gradRecurrentState, recurrent, steps, batch, units);
            else if (loop.Plain)
                BackwardRows(step, memory, grads, peepholeGrad, steps, batch, units, first, rows);
            else
                BackwardMaskedRows(step, memory, grads, peepholeGrad, loop.Mask, (T*)masks, steps, batch, units, first, rows);
        });
        if (partial is not null)
        {
            foreach (var p in partial)
                gradPeephole!.add_(p);
        }
        // The loops used raw addresses; keep the tensors alive until they have finished.
        GC.KeepAlive(gates);
        GC.KeepAlive(cells);
        GC.KeepAlive(c0);
        GC.KeepAlive(hidden);
        GC.KeepAlive(gradHidden);
        GC.KeepAlive(gradCell);
        GC.KeepAlive(gradGates);
        GC.KeepAlive(gradRecurrentState);
        GC.KeepAlive(recurrent);
        GC.KeepAlive(peephole);
        GC.KeepAlive(gradPeephole);
        GC.KeepAlive(loop);
    }

    /// <summary>Backward through time for batch rows [first, first + rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardRows<T>(LstmCellMath.StepBackward<T> step, Saved<T> memory, Gradients<T> grads, T* gradPeephole,
        long steps, int batch, int units, int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        long gateOffset = 4L * units * first, stateOffset = (long)units * first;
        T* g = memory.Gates + gateOffset, c = memory.Cells + stateOffset, c0 = memory.C0 + stateOffset;
        T* dg = grads.Gates + gateOffset, dh = grads.Output + stateOffset, dc = grads.Cell + stateOffset, dhRec = grads.Recurrent + stateOffset;
        using var recurrentT = new PackedRight<T>(rows, units, 4 * units, memory.Recurrent, 4 * units, transpose: true);
        for (long t = steps - 1; t >= 0; t--)
        {
            step(g + t * gateStride, c + t * stateStride, t == 0 ? c0 : c + (t - 1) * stateStride, dh + t * stateStride, dhRec, dc,
                dg + t * gateStride, memory.Peephole, gradPeephole, rows, units);
            // dL/dh_{t-1} from this step: dz_t Uᵀ.
            recurrentT.Multiply(rows, dg + t * gateStride, 4 * units, T.Zero, dhRec, units);
        }
    }

    /// <summary>
    /// Backward through time with a padding mask and/or recurrent dropout masks. A masked row's
    /// gate gradients stay zero, and the gradients of its h and c pass to the previous step unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardMaskedRows<T>(LstmCellMath.StepBackward<T> step, Saved<T> memory, Gradients<T> grads, T* gradPeephole,
        StepMask? mask, T* dropout, long steps, int batch, int units, int first, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch, maskStride = (long)batch * units;
        long gateOffset = 4L * units * first, stateOffset = (long)units * first;
        T* g = memory.Gates + gateOffset, c = memory.Cells + stateOffset, c0 = memory.C0 + stateOffset;
        T* dg = grads.Gates + gateOffset, dh = grads.Output + stateOffset, dc = grads.Cell + stateOffset, dhRec = grads.Recurrent + stateOffset;
        T* masks = dropout == null ? null : dropout + stateOffset;
        using var scratchBuffer = new AlignedScratch<T>(rows * units);
        using var packs = new PackCache<T>(rows);
        T* scratch = scratchBuffer.Pointer;
        for (long t = steps - 1; t >= 0; t--)
        {
            T* gt = g + t * gateStride, ct = c + t * stateStride, cPrevious = t == 0 ? c0 : c + (t - 1) * stateStride;
            T* dgt = dg + t * gateStride, dht = dh + t * stateStride;
            var (start, end) = mask?.Range(t, first, rows) ?? (0, rows);
            if (mask is null)
            {
                step(gt, ct, cPrevious, dht, dhRec, dc, dgt, memory.Peephole, gradPeephole, rows, units);
            }
            else
            {
                for (int r = start; mask.NextRun(t, first, ref r, end, out int count); r += count)
                {
                    long at = (long)r * units;
                    step(gt + 4 * at, ct + at, cPrevious + at, dht + at, dhRec + at, dc + at, dgt + 4 * at, memory.Peephole, gradPeephole, count, units);
                    // Consumed: the rows' dL/dh_{t-1} is the product below.
                    new Span<T>(dhRec + at, count * units).Clear();
                }
                for (int r = 0; r < rows; r++)
                {
                    // h_t = h_{t-1} and c_t = c_{t-1}: dL/dc passes as it is; dL/dh gains the output's gradient.
                    if (!mask.Keeps(t, first + r))
                        StepProducts.Add(dht + (long)r * units, dhRec + (long)r * units, units);
                }
            }
            if (end > start)
            {
                long at = (long)start * units;
                StepProducts.Backward(dgt + 4 * at, 4 * units, memory.Recurrent, masks == null ? null : masks + at, maskStride, scratch,
                    dhRec + at, end - start, units, 4, accumulate: mask is not null, packs: packs);
            }
        }
    }

    /// <summary>The same loop with TorchSharp products on views, where the direct BLAS is not available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void BackwardWithViews<T>(LstmCellMath.StepBackward<T> step, Saved<T> memory, Gradients<T> grads,
        Tensor gradGates, Tensor gradRecurrentState, Tensor recurrent, long steps, int batch, int units) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        for (long t = steps - 1; t >= 0; t--)
        {
            T* cPrevious = t == 0 ? memory.C0 : memory.Cells + (t - 1) * stateStride;
            step(memory.Gates + t * gateStride, memory.Cells + t * stateStride, cPrevious, grads.Output + t * stateStride, grads.Recurrent, grads.Cell,
                grads.Gates + t * gateStride, memory.Peephole, grads.Peephole, batch, units);
            using var stepGrad = gradGates[t];
            gradRecurrentState.addmm_(stepGrad, recurrent.t(), 0, 1);
        }
    }

    /// <summary>
    /// Raw pointers to the forward buffers (valid while the tensors live), so that the time loops
    /// can run on worker threads without touching tensors.
    /// </summary>
    private readonly unsafe struct Saved<T>(Tensor gates, Tensor hidden, Tensor cells, Tensor h0, Tensor c0, Tensor recurrent, Tensor? peephole)
        where T : unmanaged
    {
        private readonly nint _gates = Address<T>(gates), _hidden = Address<T>(hidden), _cells = Address<T>(cells);
        private readonly nint _h0 = Address<T>(h0), _c0 = Address<T>(c0), _recurrent = Address<T>(recurrent), _peephole = Address<T>(peephole);

        /// <summary>(T, B, 4u) gates: pre-activations in, activated gates out.</summary>
        public T* Gates => (T*)_gates;
        /// <summary>(T, B, u) outputs.</summary>
        public T* Hidden => (T*)_hidden;
        /// <summary>(T, B, u) cell states.</summary>
        public T* Cells => (T*)_cells;
        /// <summary>(B, u) initial output.</summary>
        public T* H0 => (T*)_h0;
        /// <summary>(B, u) initial cell state.</summary>
        public T* C0 => (T*)_c0;
        /// <summary>(u, 4u) recurrent kernel.</summary>
        public T* Recurrent => (T*)_recurrent;
        /// <summary>(3, u) peepholes, or null.</summary>
        public T* Peephole => (T*)_peephole;
    }

    /// <summary>Raw pointers to the backward buffers.</summary>
    private readonly unsafe struct Gradients<T>(Tensor gates, Tensor output, Tensor cell, Tensor recurrent, Tensor? peephole)
        where T : unmanaged
    {
        private readonly nint _gates = Address<T>(gates), _output = Address<T>(output), _cell = Address<T>(cell);
        private readonly nint _recurrent = Address<T>(recurrent), _peephole = Address<T>(peephole);

        /// <summary>(T, B, 4u) dL/dz, written.</summary>
        public T* Gates => (T*)_gates;
        /// <summary>(T, B, u) dL/dh from the layer's output.</summary>
        public T* Output => (T*)_output;
        /// <summary>(B, u) dL/dc carried backwards; dL/dc_0 at the end.</summary>
        public T* Cell => (T*)_cell;
        /// <summary>(B, u) dL/dh carried backwards through U; dL/dh_0 at the end.</summary>
        public T* Recurrent => (T*)_recurrent;
        /// <summary>(3, u) dL/dpeephole, accumulated, or null.</summary>
        public T* Peephole => (T*)_peephole;
    }

    private static unsafe nint Address<T>(Tensor? tensor) where T : unmanaged => tensor is null ? 0 : (nint)TensorMemory.Pointer<T>(tensor);
}
