using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// An activation for the fused kernels, as a type so that the kernels' loops are compiled once per
/// activation with the arithmetic inlined: <c>Apply</c> is f(x), <c>Derivative</c> is f'(x)
/// written in terms of y = f(x), for whole vectors and for single elements.
/// </summary>
internal interface IActivationOp
{
    static abstract Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>;
    static abstract Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T>;
    static abstract T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>;
    static abstract T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Element-wise vector functions the .NET library offers only for float and double, made generic.</summary>
internal static class VectorMath
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Exp<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return ExpSingle(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector.Exp(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"No vector exp for {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Log<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return Vector.Log(x.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector.Log(x.As<T, double>()).As<double, T>();
        throw new NotSupportedException($"No vector log for {typeof(T).Name}.");
    }

    /// <summary>
    /// e^x for float lanes, to about 2 units in the last place: x = n ln 2 + r with |r| ≤ ln 2 / 2
    /// (ln 2 split in two parts for exactness), e^r by a degree-6 polynomial (Cephes's expf
    /// coefficients), 2^n put into the exponent bits. Inputs below -87.34 give the smallest normal
    /// float (never a subnormal); inputs above about 88.38 give +∞ (the exact result overflows from
    /// 88.72: the only inputs that matter are the "exponential" activation's, where overflow is
    /// near anyway); never NaN for finite x. About three times as fast as <c>Vector.Exp</c>, which
    /// computes in double precision. The sigmoid and tanh kernels call it with x ≤ 0 only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> ExpSingle(Vector<float> x)
    {
        x = Vector.Min(Vector.Max(x, new Vector<float>(-87.33654f)), new Vector<float>(88.72283f));
        // Fused multiply-adds: one rounding per Horner step and half the instructions (the JIT does
        // not contract a * b + c by itself).
        var n = Vector.Floor(Vector.FusedMultiplyAdd(x, new Vector<float>(1.44269504088896341f), new Vector<float>(0.5f)));
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r);
        var p = new Vector<float>(1.9875691500e-4f);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.3981999507e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
        p = Vector.FusedMultiplyAdd(p, r * r, r) + Vector<float>.One;
        // 2^n: n + 127 in the exponent field. n is in [-126, 128] after the clamp; n = 128 (x above
        // about 88.38) sets the exponent field to all ones, which reads as +∞.
        var scale = Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23);
        return p * Vector.AsVectorSingle(scale);
    }

    /// <summary>e^x for x ≤ 0 (the activations arrange their arguments so): no overflow to handle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> ExpNonPositive<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return ExpSingle(x.As<T, float>()).As<float, T>();
        return Exp(x);
    }

    /// <summary>
    /// 1 / x. For float lanes with AVX: the hardware estimate refined by one Newton step (relative
    /// error about 2e-7, several times faster than a division); otherwise a division.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Reciprocal<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && Avx.IsSupported && Vector<float>.Count == 8)
        {
            var v = x.As<T, float>();
            var r = Avx.Reciprocal(v.AsVector256()).AsVector();
            return (r * (new Vector<float>(2f) - v * r)).As<float, T>();
        }
        return Vector<T>.One / x;
    }

    /// <summary>A scalar broadcast to a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Splat<T>(double value) where T : unmanaged, IFloatingPointIeee754<T> => new(T.CreateTruncating(value));
}

internal struct LinearOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> => x;
    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Vector<T>.One;
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x;
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => T.One;
}

internal struct ReluOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> => Vector.Max(x, Vector<T>.Zero);
    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero);
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x > T.Zero ? x : T.Zero;
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => y > T.Zero ? T.One : T.Zero;
}

internal struct TanhOp : IActivationOp
{
    // tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|) <= 1: no overflow for any x.
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = VectorMath.ExpNonPositive(Vector.Abs(x) * VectorMath.Splat<T>(-2));
        var r = (Vector<T>.One - e) * VectorMath.Reciprocal(Vector<T>.One + e);
        return Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero), -r, r);
    }

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Vector<T>.One - y * y;
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Tanh(x);
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => T.One - y * y;
}

internal struct SigmoidOp : IActivationOp
{
    // With e = exp(-|x|) <= 1: 1 / (1 + e) for x >= 0, e / (1 + e) below; no overflow for any x.
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = VectorMath.ExpNonPositive(-Vector.Abs(x));
        var inverse = VectorMath.Reciprocal(Vector<T>.One + e);
        return Vector.ConditionalSelect(Vector.LessThan(x, Vector<T>.Zero), e * inverse, inverse);
    }

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> => y * (Vector<T>.One - y);
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => y * (T.One - y);
}

/// <summary>Keras 3: 0 below -3, 1 above 3, x / 6 + 0.5 between.</summary>
internal struct HardSigmoidOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.Min(Vector.Max(x * VectorMath.Splat<T>(1.0 / 6) + VectorMath.Splat<T>(0.5), Vector<T>.Zero), Vector<T>.One);

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero) & Vector.LessThan(y, Vector<T>.One),
            new Vector<T>(T.One / T.CreateTruncating(6)), Vector<T>.Zero);

    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Clamp(x / T.CreateTruncating(6) + T.CreateTruncating(0.5), T.Zero, T.One);

    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> =>
        y > T.Zero && y < T.One ? T.One / T.CreateTruncating(6) : T.Zero;
}

/// <summary>Keras 1 and 2 (and ONNX's HardSigmoid defaults): 0 below -2.5, 1 above 2.5, 0.2 x + 0.5 between.</summary>
internal struct HardSigmoidKeras2Op : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.Min(Vector.Max(x * VectorMath.Splat<T>(0.2) + VectorMath.Splat<T>(0.5), Vector<T>.Zero), Vector<T>.One);

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero) & Vector.LessThan(y, Vector<T>.One),
            VectorMath.Splat<T>(0.2), Vector<T>.Zero);

    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Clamp(x * T.CreateTruncating(0.2) + T.CreateTruncating(0.5), T.Zero, T.One);

    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> =>
        y > T.Zero && y < T.One ? T.CreateTruncating(0.2) : T.Zero;
}

/// <summary>alpha = 1: x for x &gt; 0, e^x - 1 otherwise; derivative 1 or y + 1.</summary>
internal struct EluOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), x, VectorMath.Exp(Vector.Min(x, Vector<T>.Zero)) - Vector<T>.One);

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero), Vector<T>.One, y + Vector<T>.One);

    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x > T.Zero ? x : T.Exp(x) - T.One;
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => y > T.Zero ? T.One : y + T.One;
}

/// <summary>scale · elu_alpha(x) with Keras's constants; derivative scale or y + scale·alpha.</summary>
internal struct SeluOp : IActivationOp
{
    private const double Alpha = ActivationRegistry.SeluAlpha;
    private const double Scale = ActivationRegistry.SeluScale;

    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var negative = VectorMath.Splat<T>(Alpha) * (VectorMath.Exp(Vector.Min(x, Vector<T>.Zero)) - Vector<T>.One);
        return VectorMath.Splat<T>(Scale) * Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<T>.Zero), x, negative);
    }

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.GreaterThan(y, Vector<T>.Zero), VectorMath.Splat<T>(Scale), y + VectorMath.Splat<T>(Scale * Alpha));

    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.CreateTruncating(Scale) * (x > T.Zero ? x : T.CreateTruncating(Alpha) * (T.Exp(x) - T.One));

    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> =>
        y > T.Zero ? T.CreateTruncating(Scale) : y + T.CreateTruncating(Scale * Alpha);
}

/// <summary>log(1 + e^x) = max(x, 0) + log(1 + e^-|x|); derivative sigmoid(x) = 1 - e^-y.</summary>
internal struct SoftplusOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.Max(x, Vector<T>.Zero) + VectorMath.Log(Vector<T>.One + VectorMath.Exp(-Vector.Abs(x)));

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> => Vector<T>.One - VectorMath.Exp(-y);
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Max(x, T.Zero) + T.LogP1(T.Exp(-T.Abs(x)));
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => T.One - T.Exp(-y);
}

/// <summary>x / (1 + |x|); derivative 1 / (1 + |x|)² = (1 - |y|)².</summary>
internal struct SoftsignOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> => x / (Vector<T>.One + Vector.Abs(x));

    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = Vector<T>.One - Vector.Abs(y);
        return r * r;
    }

    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x / (T.One + T.Abs(x));

    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T r = T.One - T.Abs(y);
        return r * r;
    }
}

internal struct ExponentialOp : IActivationOp
{
    public static Vector<T> Apply<T>(Vector<T> x) where T : unmanaged, IFloatingPointIeee754<T> => VectorMath.Exp(x);
    public static Vector<T> Derivative<T>(Vector<T> y) where T : unmanaged, IFloatingPointIeee754<T> => y;
    public static T Apply<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Exp(x);
    public static T Derivative<T>(T y) where T : unmanaged, IFloatingPointIeee754<T> => y;
}

/// <summary>The op type of each fusable activation kind, for building specialised kernels.</summary>
internal static class ActivationOps
{
    public static Type For(ActivationKind kind) => kind switch
    {
        ActivationKind.Linear => typeof(LinearOp),
        ActivationKind.Relu => typeof(ReluOp),
        ActivationKind.Tanh => typeof(TanhOp),
        ActivationKind.Sigmoid => typeof(SigmoidOp),
        ActivationKind.HardSigmoid => typeof(HardSigmoidOp),
        ActivationKind.HardSigmoidKeras2 => typeof(HardSigmoidKeras2Op),
        ActivationKind.Elu => typeof(EluOp),
        ActivationKind.Selu => typeof(SeluOp),
        ActivationKind.Softplus => typeof(SoftplusOp),
        ActivationKind.Softsign => typeof(SoftsignOp),
        ActivationKind.Exponential => typeof(ExponentialOp),
        _ => throw new InvalidOperationException($"Activation kind {kind} has no fused form."),
    };
}
