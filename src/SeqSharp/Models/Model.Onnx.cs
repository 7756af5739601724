using Google.Protobuf;
using SeqSharp.Layers;
using SeqSharp.Onnx;
using SeqSharp.Saving;

namespace SeqSharp;

public partial class Model
{
    /// <summary>
    /// Writes the model as an ONNX graph for inference, which ONNX Runtime (and other ONNX tools)
    /// run without SeqSharp, in the model's element type (float32 or float64), with a dynamic batch
    /// dimension.
    /// <list type="bullet">
    /// <item><description>A <see cref="Sequential"/> model: input <c>input</c> of shape <c>(batch, ...)</c> (a
    /// dynamic time axis too when the model takes any length), output <c>output</c>; a model that
    /// starts with an <see cref="Embedding"/> takes int64 token ids.</description></item>
    /// <item><description>A functional model (<c>new Model(inputs, outputs)</c>): one graph input per model input,
    /// named as the <see cref="Input"/> (its <c>null</c> sizes, such as a None time axis, dynamic), and
    /// one graph output per model output, in order, named as <see cref="Model.OutputNames"/> (a
    /// repeated name gets <c>_1</c>, <c>_2</c>, ...: the outputs <c>[stateH, stateC]</c> of an LSTM
    /// named <c>encoder</c> are <c>encoder</c> and <c>encoder_1</c>). An input read only by Embedding
    /// layers takes int64 token ids. Recurrent states (<c>returnState</c>, <c>initialState</c>) are the
    /// ONNX operators' <c>Y_h</c> / <c>Y_c</c> and <c>initial_h</c> / <c>initial_c</c>; a layer applied
    /// twice reuses one set of initializers.</description></item>
    /// </list>
    /// </summary>
    /// <remarks>
    /// <para>Every SeqSharp layer but <see cref="Lambda"/> exports: Dense, Activation, SimpleRNN
    /// (ONNX <c>RNN</c>), LSTM (<c>LSTM</c>, peepholes as <c>P</c>), GRU (<c>GRU</c>,
    /// <c>linear_before_reset = 1</c> for <c>resetAfter</c>), Bidirectional, Conv1D (<c>Conv</c>),
    /// pooling (<c>MaxPool</c>, <c>AveragePool</c>, reductions), Embedding (<c>Gather</c>), Masking,
    /// TimeDistributed of any layer, LayerNormalization, BatchNormalization (its moving statistics),
    /// Flatten, Reshape, RepeatVector, Permute, the merge layers (Concatenate, Add, Subtract, Multiply,
    /// Average, Maximum, Minimum, Dot), Attention, AdditiveAttention and MultiHeadAttention (with
    /// <c>use_causal_mask</c> and <c>return_attention_scores</c>); Dropout, SpatialDropout1D and
    /// GaussianNoise are identities at inference and leave no node. Keras masks flow through the graph
    /// as through the model: recurrent layers skip masked steps wherever they are, merge and attention
    /// layers use and pass them as <c>Predict</c> does (see docs/formats.md for how).</para>
    /// <para>Activations inside recurrent layers must be ones ONNX's recurrent operators take
    /// (sigmoid, tanh, relu, linear, hard_sigmoid, elu, softsign, softplus); other layers take every
    /// SeqSharp activation. Refused with a message naming the layer, before anything is written:
    /// stateful recurrent layers (an ONNX graph carries no state between calls), Lambda and
    /// user-defined layers, call arguments that hold tensors (MultiHeadAttention's
    /// <c>attention_mask</c>), and layers of different float types in one model. The file is written
    /// through a temporary file, as <see cref="Model.Save"/> does.</para>
    /// </remarks>
    /// <param name="path">The file to write, usually ending in <c>.onnx</c> (replaced if it exists).</param>
    /// <param name="opset">The ONNX opset version, 14 to 21 (default 14, which ONNX Runtime 1.8 and newer runs).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside 14 to 21.</exception>
    /// <exception cref="InvalidOperationException">The model is not built.</exception>
    /// <exception cref="NotSupportedException">A layer, option, call argument or activation without an ONNX form; nothing is written.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <example>
    /// <code>
    /// model.ExportOnnx("model.onnx");
    /// // C#: new InferenceSession("model.onnx").Run([NamedOnnxValue.CreateFromTensor("input", x)])
    /// // A functional model: one NamedOnnxValue per input, by the Input's name ("encoder_inputs", ...).
    /// </code>
    /// </example>
    public void ExportOnnx(string path, int opset = 14)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (opset is < OnnxExporter.MinOpset or > OnnxExporter.MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), opset,
                $"Expected an ONNX opset from {OnnxExporter.MinOpset} to {OnnxExporter.MaxOpset}. Received: opset={opset}.");
        RequireBuiltWeights(nameof(ExportOnnx));
        var proto = this is Sequential sequential ? OnnxExporter.Export(sequential, opset) : OnnxExporter.ExportFunctional(this, opset);
        AtomicFile.Write(path, proto.WriteTo);
    }
}
