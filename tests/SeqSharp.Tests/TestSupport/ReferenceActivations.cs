namespace SeqSharp.Tests.TestSupport;

/// <summary>
/// Keras's element-wise activations written out in plain double arithmetic, independent of
/// TorchSharp and of SeqSharp's kernels: the reference the activation and cell tests compare with.
/// </summary>
internal static class ReferenceActivations
{
    // Keras's constants (keras/src/activations/activations.py), typed in here on purpose.
    public const double SeluAlpha = 1.67326324235437728481704299167171;
    public const double SeluScale = 1.05070098735548049341933498529460;

    /// <summary>The element-wise activations (everything but softmax, log_softmax, sparsemax and glu, which mix a row).</summary>
    public static readonly IReadOnlyDictionary<string, Func<double, double>> ByName = new Dictionary<string, Func<double, double>>
    {
        ["linear"] = x => x,
        ["relu"] = x => x > 0 ? x : 0,
        ["tanh"] = Math.Tanh,
        ["sigmoid"] = Sigmoid,
        // Keras 3: relu6(x + 3) / 6.
        ["hard_sigmoid"] = x => Math.Min(Math.Max(x + 3, 0), 6) / 6,
        ["hard_sigmoid_keras2"] = x => Math.Min(Math.Max(0.2 * x + 0.5, 0), 1),
        ["elu"] = x => x > 0 ? x : Math.Exp(x) - 1,
        ["selu"] = x => SeluScale * (x > 0 ? x : SeluAlpha * (Math.Exp(x) - 1)),
        ["softplus"] = x => Math.Log(1 + Math.Exp(x)),
        ["softsign"] = x => x / (1 + Math.Abs(x)),
        ["exponential"] = Math.Exp,
        ["swish"] = x => x * Sigmoid(x),
        ["silu"] = x => x * Sigmoid(x),
        // The exact form, keras.activations.gelu(approximate=False).
        ["gelu"] = x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        // The rest of keras/src/activations/__init__.py (Keras 3.16), with the functions' defaults.
        ["leaky_relu"] = x => x > 0 ? x : 0.2 * x,
        ["relu6"] = x => Math.Min(Math.Max(x, 0), 6),
        ["mish"] = x => x * Math.Tanh(Math.Log(1 + Math.Exp(x))),
        ["hard_silu"] = x => x * Math.Min(Math.Max(x + 3, 0), 6) / 6,
        ["hard_swish"] = x => x * Math.Min(Math.Max(x + 3, 0), 6) / 6,
        ["hard_tanh"] = x => Math.Min(Math.Max(x, -1), 1),
        ["log_sigmoid"] = x => Math.Log(Sigmoid(x)),
        ["celu"] = x => x > 0 ? x : Math.Exp(x) - 1,
        ["tanh_shrink"] = x => x - Math.Tanh(x),
        ["soft_shrink"] = x => x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0,
        ["hard_shrink"] = x => Math.Abs(x) > 0.5 ? x : 0,
        ["sparse_plus"] = x => x <= -1 ? 0 : x < 1 ? (x + 1) * (x + 1) / 4 : x,
        ["squareplus"] = x => (x + Math.Sqrt(x * x + 4)) / 2,
        ["sparse_sigmoid"] = x => x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2,
    };

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>
    /// erf by its Maclaurin series, 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)); accurate to about 1e-14
    /// for |x| ≤ 3, which is all the tests use (.NET has no Math.Erf).
    /// </summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) > 3)
            throw new ArgumentOutOfRangeException(nameof(x), x, "The series is only used for |x| <= 3.");
        double term = x, sum = x;
        for (int n = 1; n < 100; n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
