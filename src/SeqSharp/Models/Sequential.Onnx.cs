using Google.Protobuf;
using SeqSharp.Layers;
using SeqSharp.Onnx;
using SeqSharp.Saving;

namespace SeqSharp;

public partial class Sequential
{
    /// <summary>
    /// Writes the model as an ONNX graph for inference, which ONNX Runtime (and other ONNX tools)
    /// run without SeqSharp: input <c>input</c> of shape <c>(batch, ...)</c> with a dynamic batch
    /// dimension (and a dynamic time axis when the model takes any length), output <c>output</c>, in
    /// the model's element type (float32 or float64); a model that starts with an
    /// <see cref="Embedding"/> takes int64 token ids.
    /// </summary>
    /// <remarks>
    /// <para>Every SeqSharp layer but <see cref="Lambda"/> exports: Dense, Activation, SimpleRNN
    /// (ONNX <c>RNN</c>), LSTM (<c>LSTM</c>, peepholes as <c>P</c>), GRU (<c>GRU</c>,
    /// <c>linear_before_reset = 1</c> for <c>resetAfter</c>), Bidirectional, Conv1D (<c>Conv</c>),
    /// pooling (<c>MaxPool</c>, <c>AveragePool</c>, reductions), Embedding (<c>Gather</c>), Masking,
    /// TimeDistributed of any layer, LayerNormalization, BatchNormalization (its moving statistics),
    /// Flatten, Reshape, RepeatVector, Permute; Dropout, SpatialDropout1D and GaussianNoise are
    /// identities at inference and leave no node. Keras masks flow through the graph as through the
    /// model: recurrent layers skip masked steps wherever they are (see docs/formats.md for how).</para>
    /// <para>Activations inside recurrent layers must be ones ONNX's recurrent operators take
    /// (sigmoid, tanh, relu, linear, hard_sigmoid, elu, softsign, softplus); other layers take every
    /// SeqSharp activation. Stateful recurrent layers (an ONNX graph carries no state between calls),
    /// Lambda layers and user-defined layers are refused with a message naming them. The file is
    /// written through a temporary file, as <see cref="Model.Save"/> does.</para>
    /// </remarks>
    /// <param name="path">The file to write, usually ending in <c>.onnx</c> (replaced if it exists).</param>
    /// <param name="opset">The ONNX opset version, 14 to 21 (default 14, which ONNX Runtime 1.8 and newer runs).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside 14 to 21.</exception>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="NotSupportedException">A layer, option or activation without an ONNX form; nothing is written.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <example>
    /// <code>
    /// model.ExportOnnx("model.onnx");
    /// // C#: new InferenceSession("model.onnx").Run([NamedOnnxValue.CreateFromTensor("input", x)])
    /// </code>
    /// </example>
    public void ExportOnnx(string path, int opset = 14)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (opset is < OnnxExporter.MinOpset or > OnnxExporter.MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset,
                $"Expected an ONNX opset from {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}. Received: opset={opset}.");
        RequireBuiltWeights(nameof(ExportOnnx));
        var proto = OnnxExporter.Export(this, opset);
        AtomicFile.Write(path, proto.WriteTo);
    }
}
