using System.Runtime.CompilerServices;
using System.Numerics;
using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Span-level forms of the fusable activations (<see cref="IActivationOp"/>) selected by kind at run
/// time: in-place application and the derivative expressed through the output.
/// </summary>
internal static class ActivationMath
{
    /// <summary>Applies the activation in place.</summary>
    public static void Apply<T>(ActivationKind kind, Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case ActivationKind.Linear: return;
            case ActivationKind.Relu: Apply<T, ReluOp>(x); return;
            case ActivationKind.Tanh: Apply<T, TanhOp>(x); return;
            case ActivationKind.Sigmoid: Apply<T, SigmoidOp>(x); return;
            case ActivationKind.HardSigmoid: Apply<T, HardSigmoidOp>(x); return;
            case ActivationKind.HardSigmoidKeras2: Apply<T, HardSigmoidKeras2Op>(x); return;
            case ActivationKind.Elu: Apply<T, EluOp>(x); return;
            case ActivationKind.Selu: Apply<T, SeluOp>(x); return;
            case ActivationKind.Softplus: Apply<T, SoftplusOp>(x); return;
            case ActivationKind.Softsign: Apply<T, SoftsignOp>(x); return;
            case ActivationKind.Exponential: Apply<T, ExponentialOp>(x); return;
            default: throw new InvalidOperationException($"Activation kind {kind} has no managed form.");
        }
    }

    /// <summary>Multiplies <paramref name="grad"/> by f'(x), computed from y = f(x).</summary>
    public static void MultiplyByDerivative<T>(ActivationKind kind, ReadOnlySpan<T> y, Span<T> grad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case ActivationKind.Linear: return;
            case ActivationKind.Relu: MultiplyByDerivative<T, ReluOp>(y, grad); return;
            case ActivationKind.Tanh: MultiplyByDerivative<T, TanhOp>(y, grad); return;
            case ActivationKind.Sigmoid: MultiplyByDerivative<T, SigmoidOp>(y, grad); return;
            case ActivationKind.HardSigmoid: MultiplyByDerivative<T, HardSigmoidOp>(y, grad); return;
            case ActivationKind.HardSigmoidKeras2: MultiplyByDerivative<T, HardSigmoidKeras2Op>(y, grad); return;
            case ActivationKind.Elu: MultiplyByDerivative<T, EluOp>(y, grad); return;
            case ActivationKind.Selu: MultiplyByDerivative<T, SeluOp>(y, grad); return;
            case ActivationKind.Softplus: MultiplyByDerivative<T, SoftplusOp>(y, grad); return;
            case ActivationKind.Softsign: MultiplyByDerivative<T, SoftsignOp>(y, grad); return;
            case ActivationKind.Exponential: MultiplyByDerivative<T, ExponentialOp>(y, grad); return;
            default: throw new InvalidOperationException($"Activation kind {kind} has no managed derivative.");
        }
    }

    /// <summary>f'(x) in terms of y = f(x).</summary>
    public static T Derivative<T>(ActivationKind kind, T y) where T : unmanaged, IFloatingPointIeee754<T> => kind switch
    {
        ActivationKind.Linear => LinearOp.Derivative(y),
        ActivationKind.Relu => ReluOp.Derivative(y),
        ActivationKind.Tanh => TanhOp.Derivative(y),
        ActivationKind.Sigmoid => SigmoidOp.Derivative(y),
        ActivationKind.HardSigmoid => HardSigmoidOp.Derivative(y),
        ActivationKind.HardSigmoidKeras2 => HardSigmoidKeras2Op.Derivative(y),
        ActivationKind.Elu => EluOp.Derivative(y),
        ActivationKind.Selu => SeluOp.Derivative(y),
        ActivationKind.Softplus => SoftplusOp.Derivative(y),
        ActivationKind.Softsign => SoftsignOp.Derivative(y),
        ActivationKind.Exponential => ExponentialOp.Derivative(y),
        _ => throw new InvalidOperationException($"Activation kind {kind} has no managed derivative."),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Apply<T, TOp>(Span<T> x) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IActivationOp
    {
        int width = Vector<T>.Count, k = 0;
        for (; k <= x.Length - width; k += width)
            TOp.Apply(new Vector<T>(x[k..])).CopyTo(x[k..]);
        for (; k < x.Length; k++)
            x[k] = TOp.Apply(x[k]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyByDerivative<T, TOp>(ReadOnlySpan<T> y, Span<T> grad) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IActivationOp
    {
        int width = Vector<T>.Count, k = 0;
        for (; k <= y.Length - width; k += width)
        {
            var g = new Vector<T>(grad[k..]) * TOp.Derivative(new Vector<T>(y[k..]));
            g.CopyTo(grad[k..]);
        }
        for (; k < y.Length; k++)
            grad[k] *= TOp.Derivative(y[k]);
    }
}
