using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>What the hinge losses share: Keras's conversion of 0/1 labels to -1/1.</summary>
internal static class HingeLabels
{
    /// <summary>
    /// When every label in the batch is 0 or 1, returns <c>2y - 1</c>; otherwise the labels unchanged
    /// (they are taken to be -1/1 already), as Keras's <c>convert_binary_labels_to_hinge</c> does.
    /// </summary>
    public static Tensor ToSigned(Tensor yTrue)
    {
        bool binary = yTrue.eq(0).logical_or(yTrue.eq(1)).all().item<bool>();
        return binary ? yTrue * 2.0 - 1.0 : yTrue;
    }
}
