using System.Numerics;
using System.Numerics.Tensors;
using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// Managed, vectorised forms of the fusable activations and of their derivatives expressed through
/// the activation's output, for the fused recurrent kernels.
/// </summary>
internal static class ActivationMath
{
    /// <summary>Applies the activation in place.</summary>
    public static void Apply<T>(ActivationKind kind, Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case ActivationKind.Linear:
                return;
            case ActivationKind.Tanh:
                TensorPrimitives.Tanh<T>(x, x);
                return;
            case ActivationKind.Sigmoid:
                TensorPrimitives.Sigmoid<T>(x, x);
                return;
            case ActivationKind.Relu:
                TensorPrimitives.Max<T>(x, T.Zero, x);
                return;
            case ActivationKind.Exponential:
                TensorPrimitives.Exp<T>(x, x);
                return;
            default:
                ApplyScalar(kind, x);
                return;
        }
    }

    private static void ApplyScalar<T>(ActivationKind kind, Span<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T half = T.CreateTruncating(0.5), sixth = T.One / T.CreateTruncating(6);
        T seluAlpha = T.CreateTruncating(ActivationRegistry.SeluAlpha), seluScale = T.CreateTruncating(ActivationRegistry.SeluScale);
        for (int k = 0; k < x.Length; k++)
        {
            T v = x[k];
            x[k] = kind switch
            {
                ActivationKind.HardSigmoid => T.Clamp(v * sixth + half, T.Zero, T.One),
                ActivationKind.Elu => v > T.Zero ? v : T.Exp(v) - T.One,
                ActivationKind.Selu => seluScale * (v > T.Zero ? v : seluAlpha * (T.Exp(v) - T.One)),
                // log(1 + e^v) without overflow: max(v, 0) + log(1 + e^-|v|).
                ActivationKind.Softplus => T.Max(v, T.Zero) + T.LogP1(T.Exp(-T.Abs(v))),
                ActivationKind.Softsign => v / (T.One + T.Abs(v)),
                _ => throw new InvalidOperationException($"Activation kind {kind} has no managed form."),
            };
        }
    }

    /// <summary>Multiplies <paramref name="grad"/> by f'(x), computed from y = f(x).</summary>
    public static void MultiplyByDerivative<T>(ActivationKind kind, ReadOnlySpan<T> y, Span<T> grad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated && kind is ActivationKind.Tanh or ActivationKind.Sigmoid or ActivationKind.Relu or ActivationKind.Exponential)
        {
            var one = Vector<T>.One;
            var zero = Vector<T>.Zero;
            int width = Vector<T>.Count;
            for (; k <= y.Length - width; k += width)
            {
                var v = new Vector<T>(y[k..]);
                var g = new Vector<T>(grad[k..]);
                var d = kind switch
                {
                    ActivationKind.Tanh => one - v * v,
                    ActivationKind.Sigmoid => v * (one - v),
                    ActivationKind.Relu => Vector.ConditionalSelect(Vector.GreaterThan(v, zero), one, zero),
                    _ => v,
                };
                (g * d).CopyTo(grad[k..]);
            }
        }
        for (; k < y.Length; k++)
            grad[k] *= Derivative(kind, y[k]);
    }

    /// <summary>f'(x) in terms of y = f(x).</summary>
    public static T Derivative<T>(ActivationKind kind, T y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (kind)
        {
            case ActivationKind.Linear: return T.One;
            case ActivationKind.Tanh: return T.One - y * y;
            case ActivationKind.Sigmoid: return y * (T.One - y);
            case ActivationKind.Relu: return y > T.Zero ? T.One : T.Zero;
            case ActivationKind.Exponential: return y;
            case ActivationKind.HardSigmoid: return y > T.Zero && y < T.One ? T.One / T.CreateTruncating(6) : T.Zero;
            case ActivationKind.Elu: return y > T.Zero ? T.One : y + T.One;
            case ActivationKind.Selu:
            {
                T scale = T.CreateTruncating(ActivationRegistry.SeluScale);
                return y > T.Zero ? scale : y + scale * T.CreateTruncating(ActivationRegistry.SeluAlpha);
            }
            // softplus'(x) = sigmoid(x) = 1 - e^-y.
            case ActivationKind.Softplus: return T.One - T.Exp(-y);
            // softsign'(x) = 1 / (1 + |x|)^2 = (1 - |y|)^2.
            case ActivationKind.Softsign:
            {
                T r = T.One - T.Abs(y);
                return r * r;
            }
            default: throw new InvalidOperationException($"Activation kind {kind} has no managed derivative.");
        }
    }
}
