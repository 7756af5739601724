namespace SeqSharp.Layers;

/// <summary>Keras's (TensorFlow's) padding arithmetic along the time axis, shared by convolution and pooling.</summary>
internal static class ConvPadding
{
    /// <summary>Checks and normalises a padding name (case-insensitive, as Keras).</summary>
    public static string Normalize(string padding, bool allowCausal, string argument = "padding")
    {
        ArgumentNullException.ThrowIfNull(padding, argument);
        string value = padding.ToLowerInvariant();
        if (value is "valid" or "same" || (allowCausal && value == "causal"))
            return value;
        throw new ArgumentException(
            $"Expected padding {(allowCausal ? "\"valid\", \"same\" or \"causal\"" : "\"valid\" or \"same\"")}. Received: padding=\"{padding}\".", argument);
    }

    /// <summary>The window's extent: <c>dilation · (size - 1) + 1</c>.</summary>
    public static long Extent(long size, long dilation) => dilation * (size - 1) + 1;

    /// <summary>
    /// The output length: <c>ceil(length / stride)</c> for "same" and "causal", else
    /// <c>floor((length - extent) / stride) + 1</c> (0 or less when the input is too short).
    /// </summary>
    public static long OutputLength(string padding, long length, long size, long stride, long dilation) =>
        length == -1 ? -1
        : padding != "valid" ? (length + stride - 1) / stride
        : length < Extent(size, dilation) ? 0
        : (length - Extent(size, dilation)) / stride + 1;

    /// <summary>
    /// Zeros (or fill values) to add before and after the sequence: "same" splits
    /// <c>max((ceil(L/s) - 1)·s + extent - L, 0)</c> with the odd one after, as TensorFlow does;
    /// "causal" puts <c>extent - 1</c> before; "valid" adds none.
    /// </summary>
    public static (long Before, long After) Amounts(string padding, long length, long size, long stride, long dilation)
    {
        long extent = Extent(size, dilation);
        switch (padding)
        {
            case "same":
            {
                long total = Math.Max(((length + stride - 1) / stride - 1) * stride + extent - length, 0);
                return (total / 2, total - total / 2);
            }
            case "causal":
                return (extent - 1, 0);
            default:
                return (0, 0);
        }
    }
}
