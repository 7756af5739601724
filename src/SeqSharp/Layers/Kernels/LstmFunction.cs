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
/// <c>h0 (batch, u)</c>, <c>c0 (batch, u)</c>, and the <see cref="LstmFunctionOptions"/>.
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
        var x = (Tensor)vars[0];
        var kernel = (Tensor)vars[1];
        var recurrent = (Tensor)vars[2];
        var bias = vars[3] as Tensor;
        var peephole = vars[4] as Tensor;
        var options = (LstmFunctionOptions)vars[7];
        var run = Run(x, kernel, recurrent, bias, peephole, (Tensor)vars[5], (Tensor)vars[6], options);

        // Absent optional tensors are saved as empty placeholders: a saved null cannot be unpacked.
        ctx.save_for_backward([run.XSteps, kernel, recurrent, run.Gates, run.Hidden, run.Cells, run.H0, run.C0, run.Peephole ?? torch.empty(0)]);
        ctx.save_data("options", options);
        ctx.save_data("hasBias", bias is not null);
        ctx.save_data("hasPeephole", peephole is not null);
        return [run.Hidden, run.Cells[run.Cells.shape[0] - 1]];
    }

    /// <summary>
    /// The forward pass without an autograd node, for inference: returns every hidden state,
    /// time-major, and the last cell state. The arguments are those of the function.
    /// </summary>
    public static (Tensor Hidden, Tensor LastCell) Infer(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor? peephole,
        Tensor h0, Tensor c0, LstmFunctionOptions options)
    {
        var run = Run(x, kernel, recurrent, bias, peephole, h0, c0, options);
        return (run.Hidden, run.Cells[run.Cells.shape[0] - 1]);
    }

    private sealed record Forwarded(Tensor XSteps, Tensor Gates, Tensor Hidden, Tensor Cells, Tensor H0, Tensor C0, Tensor? Peephole);

    private static Forwarded Run(Tensor x, Tensor kernel, Tensor recurrent, Tensor? bias, Tensor? peephole, Tensor h0, Tensor c0, LstmFunctionOptions options)
    {
        long batch = x.shape[0], steps = x.shape[1], features = x.shape[2], units = recurrent.shape[0];
        var xSteps = x.transpose(0, 1).contiguous().view(steps * batch, features);
        var gates = (bias is null ? xSteps.mm(kernel) : torch.addmm(bias, xSteps, kernel, 1, 1)).view(steps, batch, 4 * units);
        var hidden = torch.empty(new[] { steps, batch, units }, x.dtype);
        var cells = torch.empty(new[] { steps, batch, units }, x.dtype);
        h0 = h0.contiguous();
        c0 = c0.contiguous();
        var peepholes = peephole?.contiguous();
        if (x.dtype == ScalarType.Float64)
            Forward<double>(options, gates, recurrent, hidden, cells, h0, c0, peepholes);
        else
            Forward<float>(options, gates, recurrent, hidden, cells, h0, c0, peepholes);
        return new Forwarded(xSteps, gates, hidden, cells, h0, c0, peepholes);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        Tensor xSteps = saved[0], kernel = saved[1], recurrent = saved[2], gates = saved[3], hidden = saved[4], cells = saved[5], h0 = saved[6], c0 = saved[7];
        var options = (LstmFunctionOptions)ctx.get_data("options");
        bool hasBias = (bool)ctx.get_data("hasBias");
        Tensor? peephole = (bool)ctx.get_data("hasPeephole") ? saved[8] : null;

        long steps = gates.shape[0], batch = gates.shape[1], units = recurrent.shape[0], features = xSteps.shape[1];
        var gradHidden = gradOutputs[0].contiguous();
        var gradCell = gradOutputs[1].contiguous().clone();
        var gradGates = torch.empty_like(gates);
        var gradRecurrentState = torch.zeros(new[] { batch, units }, gates.dtype);
        var gradPeephole = peephole is null ? null : torch.zeros_like(peephole);

        if (gates.dtype == ScalarType.Float64)
            Backward<double>(options, gates, cells, c0, hidden, gradHidden, gradCell, gradGates, gradRecurrentState, recurrent, peephole, gradPeephole);
        else
            Backward<float>(options, gates, cells, c0, hidden, gradHidden, gradCell, gradGates, gradRecurrentState, recurrent, peephole, gradPeephole);

        var gradGates2d = gradGates.view(steps * batch, 4 * units);
        var gradX = gradGates2d.mm(kernel.t()).view(steps, batch, features).transpose(0, 1);
        var gradKernel = xSteps.t().mm(gradGates2d);
        var gradRecurrent = h0.t().mm(gradGates[0]);
        if (steps > 1)
        {
            var previous = hidden.view(steps * batch, units).narrow(0, 0, (steps - 1) * batch);
            gradRecurrent.addmm_(previous.t(), gradGates2d.narrow(0, batch, (steps - 1) * batch), 1, 1);
        }
        var gradBias = hasBias ? gradGates2d.sum(dim: 0) : null;
        return [gradX, gradKernel, gradRecurrent, gradBias!, gradPeephole!, gradRecurrentState, gradCell, null!];
    }

    private static unsafe void Forward<T>(LstmFunctionOptions options, Tensor gates, Tensor recurrent, Tensor hidden, Tensor cells,
        Tensor h0, Tensor c0, Tensor? peephole) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)recurrent.shape[0];
        var step = LstmCellMath.Forward<T>(options);
        T* g = TensorMemory.Pointer<T>(gates), h = TensorMemory.Pointer<T>(hidden), c = TensorMemory.Pointer<T>(cells);
        T* cStart = TensorMemory.Pointer<T>(c0), hStart = TensorMemory.Pointer<T>(h0), u = TensorMemory.Pointer<T>(recurrent);
        T* p = peephole is null ? null : TensorMemory.Pointer<T>(peephole);
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        bool direct = Blas.Available;

        for (long t = 0; t < steps; t++)
        {
            // z_t += h_{t-1} U: all four gates in one product.
            if (direct)
            {
                T* hPrevious = t == 0 ? hStart : h + (t - 1) * stateStride;
                Blas.Gemm(false, false, batch, 4 * units, units, T.One, hPrevious, units, u, 4 * units, T.One, g + t * gateStride, 4 * units);
            }
            else
            {
                using var z = gates[t];
                using var previous = t == 0 ? h0.alias() : hidden[t - 1];
                z.addmm_(previous, recurrent, 1, 1);
            }
            T* cPrevious = t == 0 ? cStart : c + (t - 1) * stateStride;
            step(g + t * gateStride, cPrevious, c + t * stateStride, h + t * stateStride, p, batch, units);
        }
    }

    private static unsafe void Backward<T>(LstmFunctionOptions options, Tensor gates, Tensor cells, Tensor c0, Tensor hidden,
        Tensor gradHidden, Tensor gradCell, Tensor gradGates, Tensor gradRecurrentState, Tensor recurrent,
        Tensor? peephole, Tensor? gradPeephole) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long steps = gates.shape[0];
        int batch = (int)gates.shape[1], units = (int)hidden.shape[2];
        var step = LstmCellMath.Backward<T>(options);
        T* g = TensorMemory.Pointer<T>(gates), c = TensorMemory.Pointer<T>(cells), cStart = TensorMemory.Pointer<T>(c0);
        T* dh = TensorMemory.Pointer<T>(gradHidden), dc = TensorMemory.Pointer<T>(gradCell);
        T* dg = TensorMemory.Pointer<T>(gradGates), dhRec = TensorMemory.Pointer<T>(gradRecurrentState);
        T* p = peephole is null ? null : TensorMemory.Pointer<T>(peephole);
        T* dp = gradPeephole is null ? null : TensorMemory.Pointer<T>(gradPeephole);
        long gateStride = 4L * units * batch, stateStride = (long)units * batch;
        bool direct = Blas.Available;
        T* u = direct ? TensorMemory.Pointer<T>(recurrent) : null;

        for (long t = steps - 1; t >= 0; t--)
        {
            T* cPrevious = t == 0 ? cStart : c + (t - 1) * stateStride;
            step(g + t * gateStride, c + t * stateStride, cPrevious, dh + t * stateStride, dhRec, dc, dg + t * gateStride, p, dp, batch, units);
            // dL/dh_{t-1} from this step: dz_t Uᵀ.
            if (direct)
            {
                Blas.Gemm(false, true, batch, units, 4 * units, T.One, dg + t * gateStride, 4 * units, u, 4 * units, T.Zero, dhRec, units);
            }
            else
            {
                using var stepGrad = gradGates[t];
                gradRecurrentState.addmm_(stepGrad, recurrent.t(), 0, 1);
            }
        }
    }
}
