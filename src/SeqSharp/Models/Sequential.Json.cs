using SeqSharp.Saving;

namespace SeqSharp;

public partial class Sequential
{
    /// <summary>
    /// The model's architecture as JSON (Keras <c>to_json</c>): the same object as the
    /// <c>config.json</c> inside a <c>.keras</c> file (layer configs, build shape, and the compile
    /// settings when compiled), without the weights.
    /// </summary>
    /// <returns>A JSON string that <see cref="FromJson"/> (or Keras's <c>model_from_json</c>) turns back into a model.</returns>
    /// <exception cref="InvalidOperationException">The model is not built (its input shape is unknown).</exception>
    /// <exception cref="NotSupportedException">A layer, loss, metric or optimizer that a config cannot describe.</exception>
    /// <example>
    /// <code>
    /// string json = model.ToJson();
    /// File.WriteAllText("model.json", json);
    /// var again = Sequential.FromJson(File.ReadAllText("model.json"));   // new weights
    /// again.SetWeights(model.GetWeights());
    /// </code>
    /// </example>
    public string ToJson()
    {
        if (!Built)
            throw new InvalidOperationException($"Model '{Name}' is not built: give its first layer an inputShape, call Build(), or run it on data before ToJson().");
        return KerasJson.Write(KerasConfigWriter.Model(this));
    }

    /// <summary>
    /// Makes a model from JSON written by <see cref="ToJson"/> or by Keras's <c>model.to_json()</c>
    /// (Keras <c>keras.models.model_from_json</c>): the layers with newly initialized weights, built,
    /// and compiled when the JSON holds compile settings.
    /// </summary>
    /// <param name="json">The model's JSON.</param>
    /// <param name="customObjects">Custom layers, losses, metrics or functions by the names the JSON uses, as for <see cref="Load"/>.</param>
    /// <returns>A new model.</returns>
    /// <exception cref="InvalidDataException">The JSON is not a Keras Sequential model config; the message says what is wrong.</exception>
    public static Sequential FromJson(string json, IReadOnlyDictionary<string, object>? customObjects = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (customObjects is not null)
        {
            foreach (var (name, value) in customObjects)
                CustomObjects.Validate(name, value, nameof(customObjects));
        }
        using var scope = CustomObjectScope.Enter(customObjects);
        var root = KerasJson.Parse(json, "the JSON string");
        var config = new KerasConfigReader("the JSON string");
        var model = Assemble(config, root, compile: true, (root as IReadOnlyDictionary<string, object?>)?.GetValueOrDefault("compile_config"), "compile_config",
            _ => { });
        if (model is Sequential sequential)
            return sequential;
        model.Dispose();
        throw new InvalidDataException("The JSON holds a Keras functional model, not a Sequential one.");
    }
}
