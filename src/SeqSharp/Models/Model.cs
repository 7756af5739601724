using SeqSharp.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp;

/// <summary>
/// A model (Keras <c>Model</c>): layers with a training loop. <c>new Model(inputs, outputs)</c> makes
/// a graph of layers from symbolic <see cref="KerasTensor"/>s (Keras's Functional API), and
/// <see cref="Sequential"/> is the linear stack. Both share one training loop (<c>Compile</c>,
/// <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>, the callbacks), weights, regularization and the
/// logging, as Keras 3's <c>Trainer</c> serves its <c>Functional</c> and <c>Sequential</c> models.
/// </summary>
/// <remarks>
/// A new model is in inference mode (<c>eval()</c>), as Keras calls a model with
/// <c>training=False</c> by default; <c>Fit</c> runs its own calls in training mode without
/// changing the flag.
/// </remarks>
public partial class Model : nn.Module<Tensor, Tensor>
{
    /// <summary>Names the model (subclasses choose their automatic names) and puts it in inference mode.</summary>
    private protected Model(string name) : base(name)
    {
        Name = name;
        eval();
    }

    /// <summary>The model's name.</summary>
    public string Name { get; }

    /// <summary>The model's layers in order, without <see cref="InputLayer"/>s (as Keras 3's <c>model.layers</c>).</summary>
    public virtual IReadOnlyList<Layer> Layers => GraphLayers.Where(l => l is not InputLayer).ToList();

    /// <summary>Every layer including input layers, for the file writers.</summary>
    internal virtual IReadOnlyList<Layer> AllLayers => GraphLayers;

    /// <summary>Each layer once (a shared layer appears once), in order: the weights' order.</summary>
    internal virtual IReadOnlyList<Layer> UniqueLayers => GraphLayers;

    /// <summary>Whether every layer has its weights.</summary>
    public virtual bool Built => GraphBuilt;

    /// <summary>The input sample shape (no batch axis; -1 for a size known only when called) of a single-input model, when known.</summary>
    public virtual long[]? InputShape => Inputs.Count == 1 ? Inputs[0].SampleShape : null;

    /// <summary>The output sample shape (no batch axis) of a single-output model, when known.</summary>
    public virtual long[]? OutputShape => Outputs.Count == 1 ? Outputs[0].SampleShape : null;

    /// <summary>
    /// Runs the model on <paramref name="x"/> (batch axis first), building it on first use;
    /// differentiable. Uses the current mode: inference (<c>eval()</c>, the mode a new model and a
    /// model after <c>Fit</c> are in) or training (<c>train()</c>, dropout and noise active).
    /// </summary>
    /// <exception cref="ArgumentException">The input does not fit the first layer.</exception>
    public Tensor Call(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        BuildFor(x);
        return forward(x);
    }

    /// <summary>Builds the model for an input batch if it is not built yet.</summary>
    private protected virtual void BuildFor(Tensor x)
    {
    }

    /// <summary>Refuses a model without layers.</summary>
    private protected virtual void RequireLayers()
    {
    }

    /// <summary>The element type inputs are cast to (the first layer's).</summary>
    internal virtual ScalarType InputDType => GraphInputDType;

    /// <summary>The logger category of the model's events.</summary>
    internal virtual string LoggerCategory => "SeqSharp.Model";

    /// <summary>The output sample shape for an input sample shape, checking every layer without building any.</summary>
    /// <param name="sampleShape">The input shape without the batch axis.</param>
    /// <param name="batch">The batch size shown in error messages (-1 when unknown).</param>
    internal virtual long[] InferOutputShape(long[] sampleShape, long batch = -1) => GraphInferOutputShape(sampleShape, batch);

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => GraphForward(x);

    /// <inheritdoc />
    public override string ToString() => $"{GetType().Name} '{Name}'";
}
