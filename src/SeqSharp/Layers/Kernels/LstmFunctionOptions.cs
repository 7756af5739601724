using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>The non-tensor settings of an <see cref="LstmFunction"/> call.</summary>
/// <param name="Activation">The cell and output activation (Keras <c>activation</c>).</param>
/// <param name="RecurrentActivation">The gate activation (Keras <c>recurrent_activation</c>).</param>
internal sealed record LstmFunctionOptions(ActivationKind Activation, ActivationKind RecurrentActivation);
