using SeqSharp.Layers;
using static TorchSharp.torch;

namespace SeqSharp.Interpretability;

/// <summary>The checks the interpretability tools make on a model and its input before running it.</summary>
internal static class ModelInput
{
    /// <summary>
    /// Checks that <paramref name="x"/> has samples and fits every layer (messages name the layer, the
    /// expected and the received shape), builds the model if needed, and returns the output sample shape.
    /// </summary>
    public static long[] Check(Model model, Tensor x, string argument)
    {
        if (model.Layers.Count == 0)
            throw new InvalidOperationException($"Model '{model.Name}' has no layers: call Add() first.");
        if (model.Inputs.Count > 1 || model.Outputs.Count > 1)
            throw new NotSupportedException(
                $"Model '{model.Name}' has {model.Inputs.Count} inputs and {model.Outputs.Count} outputs; attributions explain models with one input and one output. " +
                "Build a sub-model from one input to one output (new Model(input, output)) and explain that.");
        if (x.dim() < 2 || x.shape[0] == 0)
            throw new ArgumentException(
                $"Expected '{argument}' of rank >= 2 with at least one sample, batch axis first, e.g. (batch, timesteps, features). Received shape {ShapeText.Format(x.shape)}.",
                argument);
        long[] output;
        try
        {
            output = model.InferOutputShape(x.shape[1..], x.shape[0]);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{argument}' does not fit model '{model.Name}': {e.Message}", argument, e);
        }
        if (!model.Built && model is Sequential sequential)
            sequential.Build(x.shape[1..]);
        return output;
    }

    /// <summary>The input in the model's element type: floating-point inputs are cast to the first layer's dtype; a new tensor either way.</summary>
    public static Tensor Cast(Model model, Tensor x, string argument)
    {
        if (!x.is_floating_point())
            throw new ArgumentException(
                $"Attributions need a floating-point input '{argument}'. Received dtype {x.dtype}. " +
                "(Models that start with an Embedding take indices, which have no gradient; attribute to the embedding's output instead.)", argument);
        var dtype = model.Layers[0].DType;
        return x.detach().to_type(dtype, copy: true);
    }

    /// <summary>Refuses models with stateful recurrent layers, whose carried states every call would change.</summary>
    public static void ThrowIfStateful(Model model)
    {
        var stateful = model.Layers.FirstOrDefault(IsStateful);
        if (stateful is not null)
            throw new NotSupportedException(
                $"Layer '{stateful.Name}' is stateful: each evaluation of the model would advance its carried states. " +
                "Attributions need a model without stateful layers; rebuild the model with stateful: false and copy the weights (SetWeights).");
    }

    private static bool IsStateful(Layer layer) => layer is Rnn { Stateful: true } || layer.WrappedLayers.Any(IsStateful);
}
