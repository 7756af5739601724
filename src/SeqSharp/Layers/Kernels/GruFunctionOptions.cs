using SeqSharp.Activations;

namespace SeqSharp.Layers.Kernels;

/// <summary>The non-tensor settings of a <see cref="GruFunction"/> call.</summary>
/// <param name="Activation">The candidate activation (Keras <c>activation</c>).</param>
/// <param name="RecurrentActivation">The update and reset gate activation (Keras <c>recurrent_activation</c>).</param>
/// <param name="ResetAfter">Keras <c>reset_after</c>: the reset gate multiplies <c>h_{t-1} U_h + b_h</c> (true) or <c>h_{t-1}</c> before the product (false).</param>
internal sealed record GruFunctionOptions(ActivationKind Activation, ActivationKind RecurrentActivation, bool ResetAfter);
