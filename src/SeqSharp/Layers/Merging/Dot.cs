using static TorchSharp.torch;

namespace SeqSharp.Layers;

/// <summary>
/// The dot product of two inputs along one axis of each, sample by sample (Keras <c>Dot</c>,
/// Keras's <c>batch_dot</c>): for <c>x (batch, 3, 5)</c> and <c>y (batch, 10, 3)</c> with
/// <c>axes: [1, 2]</c>, <c>output[b, i, j] = Σₖ x[b, k, i] · y[b, j, k]</c>, of shape <c>(batch, 5, 10)</c>.
/// </summary>
/// <remarks>
/// <para>Axes count the batch axis as 0 (which cannot be summed over); negative axes count from the
/// end. The output has <c>x</c>'s axes without the summed one, then <c>y</c>'s without the batch
/// axis and the summed one; an output of one axis gets a second of size 1, <c>(batch, 1)</c>.</para>
/// <para>With <see cref="Normalize"/>, each input is first L2-normalised along its summed axis,
/// <c>x / sqrt(max(Σ x², 1e-14))</c>, so the output is the cosine similarity. No weights; the
/// output has no mask.</para>
/// </remarks>
/// <example>
/// <code>
/// var scores = new Dot(axes: [2, 2]).Call([query, keys]);   // (batch, Tq, d) · (batch, Tv, d) → (batch, Tq, Tv)
/// var cosine = new Dot(axes: 1, normalize: true).Call([a, b]);   // (batch, d), (batch, d) → (batch, 1)
/// </code>
/// </example>
public sealed class Dot : MultiInputLayer
{
    private readonly bool _singleAxis;

    /// <summary>Creates the layer, summing over the same axis of both inputs.</summary>
    /// <param name="axes">The axis of both inputs (batch axis 0 excluded; negative from the end).</param>
    /// <param name="normalize">Whether to L2-normalise both inputs along the axis first (cosine similarity).</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="axes"/> is 0, the batch axis.</exception>
    public Dot(int axes, bool normalize = false, string? name = null, ScalarType? dtype = null)
        : this([axes, axes], normalize, name, dtype, singleAxis: true)
    {
    }

    /// <summary>Creates the layer, summing over axis <c>axes[0]</c> of the first input and <c>axes[1]</c> of the second.</summary>
    /// <param name="axes">Two axes (batch axis 0 excluded; negative from the end).</param>
    /// <param name="normalize">Whether to L2-normalise both inputs along their axes first (cosine similarity).</param>
    /// <param name="name">Layer name; automatic when null.</param>
    /// <param name="dtype">Float32 (default) or Float64.</param>
    /// <exception cref="ArgumentException"><paramref name="axes"/> does not hold two axes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An axis is 0, the batch axis.</exception>
    public Dot(int[] axes, bool normalize = false, string? name = null, ScalarType? dtype = null)
        : this(axes, normalize, name, dtype, singleAxis: false)
    {
    }

    private Dot(int[] axes, bool normalize, string? name, ScalarType? dtype, bool singleAxis) : base(name, dtype)
    {
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Length != 2)
            throw new ArgumentException($"Expected two axes, one per input, or a single integer. Received: axes=[{string.Join(", ", axes)}].", nameof(axes));
        if (axes.Contains(0))
            throw new ArgumentOutOfRangeException(nameof(axes), $"The batch axis (0) cannot be summed over. Received: axes=[{string.Join(", ", axes)}].");
        Axes = [axes[0], axes[1]];
        Normalize = normalize;
        _singleAxis = singleAxis;
    }

    /// <summary>The summed axis of each input (batch axis 0; negative from the end).</summary>
    public IReadOnlyList<int> Axes { get; }

    /// <summary>Whether the inputs are L2-normalised along their axes first.</summary>
    public bool Normalize { get; }

    /// <summary>Two.</summary>
    public override int? MaxInputs => 2;

    /// <summary>The two axes as indexes of the full shapes (batch axis included), or -1 when out of range.</summary>
    private (int A, int B) Resolve(int rankA, int rankB)
    {
        static int One(int axis, int rank)
        {
            int a = axis < 0 ? axis + rank : axis;
            return a >= 1 && a < rank ? a : -1;
        }
        return (One(Axes[0], rankA), One(Axes[1], rankB));
    }

    /// <inheritdoc />
    protected override void CheckShapes(IReadOnlyList<long[]> sampleShapes)
    {
        var (x, y) = (sampleShapes[0], sampleShapes[1]);
        string received = $"Received shapes {ShapeText.WithBatch(x)} and {ShapeText.WithBatch(y)}.";
        if (x.Length < 1 || y.Length < 1)
            throw new ArgumentException($"Layer '{Name}' (Dot) expects inputs of rank 2 or more. {received}");
        var (a, b) = Resolve(x.Length + 1, y.Length + 1);
        if (a < 0 || b < 0)
            throw new ArgumentException($"Layer '{Name}' (Dot) cannot sum over axes [{Axes[0]}, {Axes[1]}] of its inputs (the batch axis 0 excluded). {received}");
        long da = x[a - 1], db = y[b - 1];
        if (da != db && da != -1 && db != -1)
            throw new ArgumentException($"Layer '{Name}' (Dot) expects the summed axes to have the same size: axis {a} of the first input is {da}, axis {b} of the second is {db}. {received}");
    }

    /// <inheritdoc />
    public override long[] ComputeOutputShape(IReadOnlyList<long[]> sampleShapes)
    {
        CheckShapes(sampleShapes);
        var (x, y) = (sampleShapes[0], sampleShapes[1]);
        var (a, b) = Resolve(x.Length + 1, y.Length + 1);
        var output = x.Where((_, k) => k != a - 1).Concat(y.Where((_, k) => k != b - 1)).ToArray();
        return output.Length == 0 ? [1] : output;
    }

    /// <inheritdoc />
    protected override IReadOnlyList<Tensor> ForwardMulti(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks, IReadOnlyDictionary<string, object?> callArgs)
    {
        CallArguments.Check(this, callArgs);
        var (x, y) = (inputs[0], inputs[1]);
        var (a, b) = Resolve((int)x.dim(), (int)y.dim());
        if (Normalize)
        {
            x = L2Normalize(x, a);
            y = L2Normalize(y, b);
        }
        long batch = x.shape[0];
        var xm = x.movedim([a], [x.dim() - 1]);                     // (batch, x's other axes..., d)
        var ym = y.movedim([b], [1L]);                      // (batch, d, y's other axes...)
        var xRest = xm.shape[1..^1];
        var yRest = ym.shape[2..];
        var product = xm.reshape(batch, -1, xm.shape[^1]).bmm(ym.reshape(batch, ym.shape[1], -1));
        long[] shape = [batch, .. xRest, .. yRest];
        return [product.reshape(shape.Length == 1 ? [batch, 1] : shape)];
    }

    private static Tensor L2Normalize(Tensor x, long axis) => x * x.square().sum(axis, keepdim: true).clamp_min(1e-14).rsqrt();

    /// <inheritdoc />
    public override Dictionary<string, object?> GetConfig()
    {
        var config = base.GetConfig();
        config["axes"] = _singleAxis ? Axes[0] : new[] { Axes[0], Axes[1] };
        config["normalize"] = Normalize;
        return config;
    }

    internal static Dot FromConfig(LayerConfig c)
    {
        var axes = c.Longs("axes");
        bool normalize = c.Bool("normalize", false);
        return axes.Length switch
        {
            1 => new Dot(checked((int)axes[0]), normalize, c.Name, c.DType),
            _ => new Dot(axes.Select(v => checked((int)v)).ToArray(), normalize, c.Name, c.DType),
        };
    }
}
