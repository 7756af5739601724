using static TorchSharp.torch;

namespace SeqSharp.Losses;

/// <summary>
/// The base of every loss (Keras <c>keras.losses.Loss</c>): <see cref="Compute"/> gives one value per
/// sample (per time step for some inputs), and <see cref="Call"/> weights and reduces them to the
/// scalar that training minimises. A string converts implicitly to the loss of that Keras name, so
/// <c>loss: "mse"</c> works.
/// </summary>
/// <remarks>
/// <para>Reductions (Keras 3): <c>"sum_over_batch_size"</c> (default) sums the weighted values and
/// divides by their number of elements; <c>"sum"</c> sums them; <c>"none"</c> returns them;
/// <c>"mean"</c> is the same as <c>"sum_over_batch_size"</c>; <c>"mean_with_sample_weight"</c>
/// divides the sum by the sum of the sample weights.</para>
/// <para>Element types: <c>y_true</c> is converted to <c>y_pred</c>'s type (float32 when
/// <c>y_pred</c> is not floating point); a float64 <c>y_pred</c> gives a float64 loss.</para>
/// </remarks>
/// <example>
/// <code>
/// Loss loss = "mse";
/// Tensor value = loss.Call(yTrue, yPred);   // scalar; value.backward() reaches yPred
/// </code>
/// </example>
public abstract class Loss
{
    /// <summary>Sets the name and the reduction.</summary>
    /// <param name="name">The loss name, e.g. <c>"mean_squared_error"</c>.</param>
    /// <param name="reduction"><c>"sum_over_batch_size"</c>, <c>"sum"</c>, <c>"none"</c>, <c>"mean"</c> or <c>"mean_with_sample_weight"</c>.</param>
    /// <exception cref="ArgumentException">An empty name or an unknown reduction; the message lists the valid ones.</exception>
    protected Loss(string name, string reduction)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException($"Expected a non-empty loss name. Received: name={(name is null ? "null" : $"\"{name}\"")}.", nameof(name));
        Name = name;
        Reduction = LossReduction.Standardize(reduction);
    }

    /// <summary>The loss name; Keras's default is the class name in snake case, e.g. <c>"mean_squared_error"</c>.</summary>
    public string Name { get; }

    /// <summary>How <see cref="Call"/> reduces the weighted values.</summary>
    public string Reduction { get; }

    /// <summary>The Keras class name, e.g. <c>"MeanSquaredError"</c>.</summary>
    public virtual string ClassName => GetType().Name;

    /// <summary>
    /// The unreduced loss (Keras <c>Loss.call</c>): for <c>y_pred</c> of shape <c>(batch, ..., d)</c>,
    /// values of shape <c>(batch, ...)</c>, the last axis reduced. Differentiable with respect to
    /// <paramref name="yPred"/>.
    /// </summary>
    /// <param name="yTrue">Targets, e.g. <c>(batch, timesteps, 1)</c>.</param>
    /// <param name="yPred">Predictions of the same shape (a trailing axis of size 1 on one side is ignored, as in Keras).</param>
    /// <exception cref="ArgumentException">Incompatible shapes; the message gives both.</exception>
    public abstract Tensor Compute(Tensor yTrue, Tensor yPred);

    /// <summary>
    /// The values of <see cref="Compute"/> and, for losses that leave some values out (Keras's mask
    /// on the values, e.g. <c>ignoreClass</c>), a mask of the same shape that is true where a value counts.
    /// </summary>
    /// <param name="yTrue">Targets.</param>
    /// <param name="yPred">Predictions.</param>
    protected virtual (Tensor Values, Tensor? Mask) ComputeWithMask(Tensor yTrue, Tensor yPred) => (Compute(yTrue, yPred), null);

    /// <summary>The loss (Keras <c>Loss.__call__</c>): <see cref="Compute"/>, then sample weights, then the reduction.</summary>
    /// <param name="yTrue">Targets.</param>
    /// <param name="yPred">Predictions.</param>
    /// <param name="sampleWeight">
    /// Optional weights: a scalar, <c>(batch,)</c>, or any prefix of the values' shape such as
    /// <c>(batch, timesteps)</c>; each weight multiplies the values it covers.
    /// </param>
    /// <returns>A scalar, or the weighted values for <c>"none"</c>.</returns>
    /// <exception cref="ArgumentException">Incompatible shapes of the targets, predictions or weights.</exception>
    public Tensor Call(Tensor yTrue, Tensor yPred, Tensor? sampleWeight = null)
    {
        var (values, mask) = ComputeWithMask(yTrue, yPred);
        return LossReduction.ReduceWeighted(values, sampleWeight, mask, Reduction, Who);
    }

    /// <summary>The constructor arguments by their Keras names: <c>name</c>, <c>reduction</c> and the loss's own.</summary>
    public virtual Dictionary<string, object?> GetConfig() => new()
    {
        ["name"] = Name,
        ["reduction"] = Reduction,
    };

    /// <summary>
    /// Rebuilds a loss from its Keras class name and config (what <see cref="GetConfig"/> returns, or
    /// Keras's <c>loss.get_config()</c> read from JSON): Keras's <c>cls(**config)</c>. Keras 3's
    /// <c>dtype</c> key is accepted when null or <c>"float32"</c> (losses follow the predictions' type).
    /// </summary>
    /// <param name="className">The Keras class name, e.g. <c>"MeanSquaredError"</c>, <c>"Huber"</c>.</param>
    /// <param name="config">The config; values may be CLR values or <c>JsonElement</c>s.</param>
    /// <returns>A new loss.</returns>
    /// <exception cref="ArgumentException">An unknown class (the message lists the known ones), an unknown key, or an invalid value.</exception>
    /// <exception cref="NotSupportedException">A <c>dtype</c> other than float32.</exception>
    public static Loss FromConfig(string className, IReadOnlyDictionary<string, object?> config) =>
        Saving.ConfigActivator.Create<Loss>("Loss", className, config,
            new Saving.ConfigActivator.Ignorable("dtype", v => v is null or "float32", "null or \"float32\""));

    /// <summary>
    /// The loss with this Keras name or alias: <c>"mse"</c>, <c>"mean_squared_error"</c>,
    /// <c>"MeanSquaredError"</c>, <c>"mae"</c>, <c>"mape"</c>, <c>"msle"</c>, <c>"huber"</c>,
    /// <c>"log_cosh"</c>, <c>"binary_crossentropy"</c>, <c>"categorical_crossentropy"</c>,
    /// <c>"sparse_categorical_crossentropy"</c>, ... with default arguments.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static Loss Get(string name) => LossRegistry.Get(name);

    /// <summary>
    /// A named loss from a function of <c>(y_true, y_pred)</c> that returns per-sample values, e.g. of
    /// shape <c>(batch,)</c> or <c>(batch, timesteps)</c>; they are weighted and reduced as Keras
    /// reduces a loss function given to <c>compile</c> (<c>"sum_over_batch_size"</c>: the mean of all
    /// values). As in Keras, <c>y_true</c> is converted to <c>y_pred</c>'s element type and a trailing
    /// axis of size 1 on one side is squeezed before the call.
    /// </summary>
    /// <remarks>
    /// <see cref="Model.Save"/> writes the loss as Keras writes a Python function,
    /// <c>{"module": "builtins", "class_name": "function", "config": name}</c>, so the file loads
    /// here with <c>customObjects</c> (or <see cref="CustomObjects.Register"/>) and in Keras with
    /// <c>custom_objects={name: fn}</c>.
    /// </remarks>
    /// <param name="name">The name the file uses (Keras: the Python function's name).</param>
    /// <param name="fn">Per-sample values from <c>(y_true, y_pred)</c>, differentiable with respect to <c>y_pred</c>.</param>
    /// <returns>The loss.</returns>
    /// <exception cref="ArgumentException">An empty name.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="fn"/> is null.</exception>
    /// <example>
    /// <code>
    /// var rmse = Loss.FromFunction("RMSE", (yTrue, yPred) => sqrt(mean(square(yPred - yTrue), [-1L])));
    /// model.Compile(optimizer: "adam", loss: rmse);
    /// </code>
    /// </example>
    public static Loss FromFunction(string name, Func<Tensor, Tensor, Tensor> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        return new FunctionLoss(name, fn, LossReduction.SumOverBatchSize);
    }

    /// <summary>Converts a Keras loss name (see <see cref="Get"/>).</summary>
    public static implicit operator Loss(string name) => Get(name);

    /// <summary>
    /// Checks a whole target set before training starts (<c>Fit</c>, <c>Evaluate</c>), so that targets
    /// this loss cannot take are refused before any weight changes: nothing by default; binary
    /// cross-entropy checks the range [0, 1], sparse categorical cross-entropy the class indices.
    /// </summary>
    /// <param name="y">The targets, in the model's element type and matched to its output shape.</param>
    /// <param name="outputShape">The model's output shape, samples first.</param>
    /// <param name="yName">The targets' argument name, for messages.</param>
    /// <exception cref="ArgumentException">A target outside the loss's range.</exception>
    internal virtual void CheckTargets(Tensor y, long[] outputShape, string yName) { }

    /// <summary>For metrics that wrap a loss: the values and the mask.</summary>
    internal (Tensor Values, Tensor? Mask) ComputeValuesAndMask(Tensor yTrue, Tensor yPred) => ComputeWithMask(yTrue, yPred);

    /// <summary>"Loss", or "Metric" when a metric computes its values with this loss, for messages.</summary>
    internal string Subject { get; set; } = "Loss";

    /// <summary>The prefix of messages about this loss.</summary>
    private protected string Who => $"{Subject} '{Name}'";
}
