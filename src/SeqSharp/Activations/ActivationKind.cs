namespace SeqSharp.Activations;

/// <summary>
/// Activations the fused recurrent kernels evaluate in managed code. Each has a derivative that can
/// be computed from the activation's output alone, so backward needs only the saved outputs.
/// </summary>
internal enum ActivationKind
{
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    HardSigmoid,
    HardSigmoidKeras2,
    Elu,
    Selu,
    Softplus,
    Softsign,
    Exponential,

    /// <summary>Not available to the fused kernels (softmax, swish, gelu).</summary>
    Other,
}
