using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Plotting;

/// <summary>
/// Checks the arguments of a plot call and turns tensors into arrays, before anything is drawn or
/// written: a bad call throws <see cref="ArgumentException"/> saying what was expected and received.
/// </summary>
internal static class PlotInput
{
    public static void CheckTarget(string path, int width, int height)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"Expected a positive image size in pixels. Received: width={width}, height={height}.",
                width <= 0 ? nameof(width) : nameof(height));
    }

    /// <summary>A series: a non-empty tensor of shape <c>(n)</c> or <c>(n, 1)</c>.</summary>
    public static double[] Series(Tensor values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        bool isSeries = values.dim() == 1 || (values.dim() == 2 && values.shape[1] == 1);
        if (!isSeries || values.numel() == 0)
            throw new ArgumentException($"Expected '{name}' as a non-empty series of shape (n) or (n, 1). Received: shape {Shape(values)}.", name);
        return ToDoubles(values);
    }

    /// <summary>A series given as an array: non-empty.</summary>
    public static double[] Series(double[] values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length == 0)
            throw new ArgumentException($"Expected '{name}' to hold at least one value. Received: an empty array.", name);
        return values;
    }

    /// <summary>Throws unless the series has the expected length.</summary>
    public static void SameLength(double[] values, int expected, string name, string reference)
    {
        if (values.Length != expected)
            throw new ArgumentException(
                $"Expected '{name}' to have as many values as '{reference}' ({expected}). Received: {values.Length}.", name);
    }

    /// <summary>A non-empty rank-2 tensor as <c>[rows, columns]</c>.</summary>
    public static double[,] Matrix(Tensor values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.dim() != 2 || values.numel() == 0)
            throw new ArgumentException($"Expected '{name}' as a non-empty 2-D tensor (rows, columns). Received: shape {Shape(values)}.", name);
        return ToMatrix(values, transpose: false);
    }

    /// <summary>A non-empty <c>[rows, columns]</c> array.</summary>
    public static double[,] Matrix(double[,] values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length == 0)
            throw new ArgumentException($"Expected '{name}' with at least one row and one column. Received: {values.GetLength(0)} x {values.GetLength(1)}.", name);
        return values;
    }

    /// <summary>
    /// One sample of a <c>(batch, timesteps, n)</c> tensor, or a <c>(timesteps, n)</c> tensor, as
    /// <c>[n, timesteps]</c>: one row per unit or feature, one column per step.
    /// </summary>
    public static double[,] SampleOverTime(Tensor values, int sample, string name, string what)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if ((values.dim() != 2 && values.dim() != 3) || values.numel() == 0)
            throw new ArgumentException(
                $"Expected '{name}' of shape (batch, timesteps, {what}) or (timesteps, {what}), non-empty. Received: shape {Shape(values)}.", name);
        if (values.dim() == 2)
        {
            if (sample != 0)
                throw new ArgumentException($"Expected sample=0 for a 2-D '{name}' (one sequence). Received: sample={sample}.", nameof(sample));
            return ToMatrix(values, transpose: true);
        }
        if (sample < 0 || sample >= values.shape[0])
            throw new ArgumentException(
                $"Expected a sample index from 0 to {values.shape[0] - 1} for '{name}' of shape {Shape(values)}. Received: sample={sample}.", nameof(sample));
        using var scope = NewDisposeScope();
        return ToMatrix(values[sample], transpose: true);
    }

    /// <summary>Throws unless every value is finite (a heatmap or a log axis cannot show the others).</summary>
    public static void Finite(double[,] values, string name)
    {
        foreach (double v in values)
        {
            if (!double.IsFinite(v))
                throw new ArgumentException($"Expected finite values in '{name}'. Received: {v.ToString(CultureInfo.InvariantCulture)}.", name);
        }
    }

    /// <summary>Every value of a tensor, flattened in row-major order, as doubles.</summary>
    public static double[] Flat(Tensor values) => ToDoubles(values);

    /// <summary>Throws unless every value is finite.</summary>
    public static void Finite(double[] values, string name)
    {
        foreach (double v in values)
        {
            if (!double.IsFinite(v))
                throw new ArgumentException($"Expected finite values in '{name}'. Received: {v.ToString(CultureInfo.InvariantCulture)}.", name);
        }
    }

    public static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";

    private static double[] ToDoubles(Tensor values)
    {
        using var scope = NewDisposeScope();
        return values.detach().cpu().to_type(ScalarType.Float64).contiguous().reshape(-1).data<double>().ToArray();
    }

    private static double[,] ToMatrix(Tensor values, bool transpose)
    {
        using var scope = NewDisposeScope();
        var m = values.detach().cpu().to_type(ScalarType.Float64);
        if (transpose)
            m = m.t();
        m = m.contiguous();
        int rows = (int)m.shape[0], cols = (int)m.shape[1];
        double[] flat = m.data<double>().ToArray();
        var result = new double[rows, cols];
        Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(double));
        return result;
    }
}
