using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace SeqSharp.Layers.Kernels;

/// <summary>
/// The LSTM cell equations for one time step of a batch, in managed code: the single place where
/// the fused kernel's forward and backward arithmetic lives.
/// </summary>
/// <remarks>
/// Forward (Keras gate order i, f, c, o; peephole terms only with peepholes):
/// <code>
/// i = σ(z_i + p_i ⊙ c_{t-1})    f = σ(z_f + p_f ⊙ c_{t-1})    g = act(z_c)
/// c_t = f ⊙ c_{t-1} + i ⊙ g     o = σ(z_o + p_o ⊙ c_t)        h_t = o ⊙ act(c_t)
/// </code>
/// where <c>z = x_t W + h_{t-1} U + b</c> arrives pre-computed and σ is the recurrent activation.
/// Each step is one pass over memory per row, vectorised, with the two activations compiled in
/// (one specialisation per activation pair, created on first use).
/// </remarks>
internal static unsafe class LstmCellMath
{
    /// <summary>
    /// One step forward for <paramref name="rows"/> batch rows: <paramref name="gates"/> (rows × 4u
    /// pre-activations) becomes the activated gates [i f g o]; writes <paramref name="c"/> and
    /// <paramref name="h"/> (rows × u). <paramref name="peephole"/> is (3 × u) or null.
    /// </summary>
    public delegate void StepForward<T>(T* gates, T* cPrevious, T* c, T* h, T* peephole, int rows, int units) where T : unmanaged;

    /// <summary>
    /// One step backward for <paramref name="rows"/> batch rows. In: the step's activated gates, c_t,
    /// c_{t-1}, dL/dh_t from the output and from step t+1 (<c>dz_{t+1} Uᵀ</c>), dL/dc_t. Out:
    /// dL/dz_t into <paramref name="gradGates"/>, dL/dc_{t-1} into <paramref name="gradCell"/>, and
    /// the peephole gradients accumulated into <paramref name="gradPeephole"/> (when not null).
    /// </summary>
    public delegate void StepBackward<T>(T* gates, T* c, T* cPrevious, T* gradOutput, T* gradRecurrent, T* gradCell, T* gradGates,
        T* peephole, T* gradPeephole, int rows, int units) where T : unmanaged;

    private static readonly ConcurrentDictionary<(Type, LstmFunctionOptions), Delegate> Forwards = new();
    private static readonly StepForward<float> Forward512 = LstmCell512.Forward;
    private static readonly ConcurrentDictionary<(Type, LstmFunctionOptions), Delegate> Backwards = new();

    /// <summary>The forward step specialised for the options' activations.</summary>
    public static StepForward<T> Forward<T>(LstmFunctionOptions options) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Float32 with tanh and sigmoid on AVX-512: the 512-bit step (not cached: it depends on a switch tests flip).
        if (typeof(T) == typeof(float) && LstmCell512.Serves(options))
            return (StepForward<T>)(Delegate)Forward512;
        return (StepForward<T>)Forwards.GetOrAdd((typeof(T), options), key => Specialise<StepForward<T>>(nameof(ForwardStep), key.Item2));
    }

    /// <summary>The backward step specialised for the options' activations.</summary>
    public static StepBackward<T> Backward<T>(LstmFunctionOptions options) where T : unmanaged, IFloatingPointIeee754<T> =>
        (StepBackward<T>)Backwards.GetOrAdd((typeof(T), options), key => Specialise<StepBackward<T>>(nameof(BackwardStep), key.Item2));

    private static TDelegate Specialise<TDelegate>(string method, LstmFunctionOptions options) where TDelegate : Delegate
    {
        var elementType = typeof(TDelegate).GetGenericArguments()[0];
        return typeof(LstmCellMath).GetMethod(method, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(elementType, ActivationOps.For(options.Activation), ActivationOps.For(options.RecurrentActivation))
            .CreateDelegate<TDelegate>();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardStep<T, TAct, TRec>(T* gates, T* cPrevious, T* c, T* h, T* peephole, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationOp where TRec : struct, IActivationOp
    {
        int width = Vector<T>.Count;
        T* pi = peephole, pf = peephole + units, po = peephole + 2 * units;
        for (int row = 0; row < rows; row++)
        {
            T* zi = gates + (long)row * 4 * units, zf = zi + units, zg = zf + units, zo = zg + units;
            T* cp = cPrevious + (long)row * units, cn = c + (long)row * units, hn = h + (long)row * units;
            int k = 0;
            for (; k <= units - width; k += width)
            {
                var cPrev = Load(cp + k);
                var ai = Load(zi + k);
                var af = Load(zf + k);
                if (peephole != null)
                {
                    ai += Load(pi + k) * cPrev;
                    af += Load(pf + k) * cPrev;
                }
                var i = TRec.Apply(ai);
                var f = TRec.Apply(af);
                var g = TAct.Apply(Load(zg + k));
                var cell = f * cPrev + i * g;
                var ao = Load(zo + k);
                if (peephole != null)
                    ao += Load(po + k) * cell;
                var o = TRec.Apply(ao);
                Store(zi + k, i);
                Store(zf + k, f);
                Store(zg + k, g);
                Store(zo + k, o);
                Store(cn + k, cell);
                Store(hn + k, o * TAct.Apply(cell));
            }
            ForwardTail<T, TAct, TRec>(k, units, zi, cp, cn, hn, peephole);
        }
    }

    /// <summary>
    /// The forward step of one row for units [<paramref name="k"/>, <paramref name="units"/>), one
    /// element at a time: the tail that the vector loops leave (<paramref name="zi"/> is the row's
    /// first gate block; the others follow it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ForwardTail<T, TAct, TRec>(int k, int units, T* zi, T* cp, T* cn, T* hn, T* peephole)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationOp where TRec : struct, IActivationOp
    {
        T* zf = zi + units, zg = zf + units, zo = zg + units;
        T* pi = peephole, pf = peephole + units, po = peephole + 2 * units;
        for (; k < units; k++)
        {
            T cPrev = cp[k];
            T i = TRec.Apply(peephole != null ? zi[k] + pi[k] * cPrev : zi[k]);
            T f = TRec.Apply(peephole != null ? zf[k] + pf[k] * cPrev : zf[k]);
            T g = TAct.Apply(zg[k]);
            T cell = f * cPrev + i * g;
            T o = TRec.Apply(peephole != null ? zo[k] + po[k] * cell : zo[k]);
            zi[k] = i;
            zf[k] = f;
            zg[k] = g;
            zo[k] = o;
            cn[k] = cell;
            hn[k] = o * TAct.Apply(cell);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardStep<T, TAct, TRec>(T* gates, T* c, T* cPrevious, T* gradOutput, T* gradRecurrent, T* gradCell, T* gradGates,
        T* peephole, T* gradPeephole, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationOp where TRec : struct, IActivationOp
    {
        int width = Vector<T>.Count;
        T* pi = peephole, pf = peephole + units, po = peephole + 2 * units;
        T* dpi = gradPeephole, dpf = gradPeephole + units, dpo = gradPeephole + 2 * units;
        for (int row = 0; row < rows; row++)
        {
            long gateRow = (long)row * 4 * units, stateRow = (long)row * units;
            T* gi = gates + gateRow, gf = gi + units, gg = gf + units, go = gg + units;
            T* di = gradGates + gateRow, df = di + units, dg = df + units, dO = dg + units;
            T* cn = c + stateRow, cp = cPrevious + stateRow, dhOut = gradOutput + stateRow, dhRec = gradRecurrent + stateRow, dc = gradCell + stateRow;
            int k = 0;
            for (; k <= units - width; k += width)
            {
                var i = Load(gi + k);
                var f = Load(gf + k);
                var g = Load(gg + k);
                var o = Load(go + k);
                var cell = Load(cn + k);
                var cPrev = Load(cp + k);
                var actC = TAct.Apply(cell);
                var dh = Load(dhOut + k) + Load(dhRec + k);

                // h = o ⊙ act(c)
                var dzo = dh * actC * TRec.Derivative(o);
                var dCell = Load(dc + k) + dh * o * TAct.Derivative(actC);
                if (peephole != null)
                {
                    dCell += dzo * Load(po + k);
                    Store(dpo + k, Load(dpo + k) + dzo * cell);
                }
                // c = f ⊙ c_prev + i ⊙ g
                var dzi = dCell * g * TRec.Derivative(i);
                var dzf = dCell * cPrev * TRec.Derivative(f);
                var dzg = dCell * i * TAct.Derivative(g);
                var dcPrev = dCell * f;
                if (peephole != null)
                {
                    dcPrev += dzi * Load(pi + k) + dzf * Load(pf + k);
                    Store(dpi + k, Load(dpi + k) + dzi * cPrev);
                    Store(dpf + k, Load(dpf + k) + dzf * cPrev);
                }
                Store(di + k, dzi);
                Store(df + k, dzf);
                Store(dg + k, dzg);
                Store(dO + k, dzo);
                Store(dc + k, dcPrev);
            }
            for (; k < units; k++)
            {
                T i = gi[k], f = gf[k], g = gg[k], o = go[k], cell = cn[k], cPrev = cp[k];
                T actC = TAct.Apply(cell);
                T dh = dhOut[k] + dhRec[k];
                T dzo = dh * actC * TRec.Derivative(o);
                T dCell = dc[k] + dh * o * TAct.Derivative(actC);
                if (peephole != null)
                {
                    dCell += dzo * po[k];
                    dpo[k] += dzo * cell;
                }
                T dzi = dCell * g * TRec.Derivative(i);
                T dzf = dCell * cPrev * TRec.Derivative(f);
                T dzg = dCell * i * TAct.Derivative(g);
                T dcPrev = dCell * f;
                if (peephole != null)
                {
                    dcPrev += dzi * pi[k] + dzf * pf[k];
                    dpi[k] += dzi * cPrev;
                    dpf[k] += dzf * cPrev;
                }
                di[k] = dzi;
                df[k] = dzf;
                dg[k] = dzg;
                dO[k] = dzo;
                dc[k] = dcPrev;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(T* p) where T : unmanaged => Unsafe.ReadUnaligned<Vector<T>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* p, Vector<T> v) where T : unmanaged => Unsafe.WriteUnaligned(p, v);
}
