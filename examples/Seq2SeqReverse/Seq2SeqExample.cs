using System.Diagnostics;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using static TorchSharp.torch;

namespace SeqSharp.Examples.Seq2SeqReverse;

/// <summary>How big a run is: the full example, or a quick one for tests.</summary>
/// <param name="Length">Digits per sequence.</param>
/// <param name="TrainSamples">Distinct training sequences.</param>
/// <param name="TestSamples">Held-out sequences, none of them in the training set.</param>
/// <param name="Units">Units of the encoder and the decoder LSTM.</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="Verbose">Fit's verbosity: 2 prints one line per epoch, 0 nothing.</param>
/// <param name="Seed">The seed of the data, the initial weights and the shuffling.</param>
public sealed record Seq2SeqOptions(int Length, int TrainSamples, int TestSamples, int Units, int Epochs, int Verbose, int Seed = 7)
{
    /// <summary>The example as <c>dotnet run</c> runs it: reversing 5 digits.</summary>
    public static Seq2SeqOptions Full => new(Length: 5, TrainSamples: 8000, TestSamples: 1000, Units: 64, Epochs: 20, Verbose: 2);

    /// <summary>A few seconds' run for the tests: 3 digits.</summary>
    public static Seq2SeqOptions Small => new(Length: 3, TrainSamples: 600, TestSamples: 200, Units: 32, Epochs: 12, Verbose: 0);
}

/// <summary>Held-out accuracy of greedy decoding: whole sequences right, digits right, digits right by output position.</summary>
public sealed record Seq2SeqResult(double SequenceAccuracy, double CharacterAccuracy, double[] CharacterAccuracyByPosition,
    double TeacherForcedAccuracy, TimeSpan TrainingTime);

/// <summary>The trained encoder-decoder and the two inference models built from its layers.</summary>
/// <param name="Training">Encoder and decoder inputs → decoder output, trained with teacher forcing.</param>
/// <param name="Encoder">Encoder input → its final states h and c.</param>
/// <param name="Decoder">Decoder input and states h, c → next-token probabilities and the new states.</param>
public sealed record Seq2SeqModels(Model Training, Model Encoder, Model Decoder);

/// <summary>
/// Keras's character-level sequence-to-sequence example (<c>lstm_seq2seq</c>) on digit sequences:
/// an LSTM encoder reads the digits, its final states start an LSTM decoder that writes them
/// reversed, and after training a separate encoder model and a one-step decoder model, made from
/// the trained layers, decode held-out sequences greedily, one digit at a time.
/// </summary>
public static class Seq2SeqExample
{
    /// <summary>
    /// The three models, untrained: the training model (teacher forcing) and the inference encoder
    /// and decoder, which share its layers and weights.
    /// </summary>
    public static Seq2SeqModels BuildModels(int units)
    {
        const int vocab = ReverseData.Vocabulary;

        // Training: the decoder reads the true previous digits (teacher forcing).
        var encoderInputs = new Input(shape: [null, vocab], name: "encoder_inputs");
        var (_, stateH, stateC) = new LSTM(units, returnState: true, name: "encoder").Apply(encoderInputs);
        var decoderInputs = new Input(shape: [null, vocab], name: "decoder_inputs");
        var decoderLstm = new LSTM(units, returnSequences: true, returnState: true, name: "decoder");
        var (decoded, _, _) = decoderLstm.Apply(decoderInputs, initialState: [stateH, stateC]);
        var decoderDense = new Dense(vocab, activation: "softmax", name: "next_digit");
        var outputs = decoderDense.Apply(decoded);
        var training = new Model(inputs: [encoderInputs, decoderInputs], outputs: outputs, name: "seq2seq");

        // Inference: the encoder alone gives the states; the decoder runs one step at a time from
        // given states, with the same (trained) layers applied to new inputs.
        var encoder = new Model(inputs: encoderInputs, outputs: [stateH, stateC], name: "encoder_model");
        var stepInputs = new Input(shape: [null, vocab], name: "decoder_step");
        var hIn = new Input(shape: [units], name: "decoder_state_h");
        var cIn = new Input(shape: [units], name: "decoder_state_c");
        var (stepOutput, hOut, cOut) = decoderLstm.Apply(stepInputs, initialState: [hIn, cIn]);
        var decoder = new Model(inputs: [stepInputs, hIn, cIn], outputs: [decoderDense.Apply(stepOutput), hOut, cOut], name: "decoder_model");
        return new Seq2SeqModels(training, encoder, decoder);
    }

    /// <summary>
    /// Greedy decoding (Keras's <c>decode_sequence</c>, for a whole batch at once): the encoder's
    /// states start the decoder, which is fed the start token and then, step by step, the digit it
    /// found most probable.
    /// </summary>
    /// <returns>The decoded token ids <c>(samples, length)</c>.</returns>
    public static Tensor DecodeGreedy(Seq2SeqModels models, Tensor encoderX, int length)
    {
        long samples = encoderX.shape[0];
        int batch = (int)Math.Min(samples, 1024);
        var states = models.Encoder.PredictMulti(encoderX, batchSize: batch, verbose: 0);
        var (h, c) = (states[0], states[1]);
        var next = full(samples, 1, ReverseData.Start, ScalarType.Int64);
        var decoded = new List<Tensor>();
        for (int step = 0; step < length; step++)
        {
            var result = models.Decoder.PredictMulti([ReverseData.OneHot(next), h, c], batchSize: batch, verbose: 0);
            next = result[0].argmax(-1);                  // (samples, 1)
            (h, c) = (result[1], result[2]);
            decoded.Add(next);
        }
        return cat(decoded, 1);
    }

    public static Seq2SeqResult Run(Seq2SeqOptions options, TextWriter log) => Run(options, log, out _);

    public static Seq2SeqResult Run(Seq2SeqOptions options, TextWriter log, out Seq2SeqModels models)
    {
        Utils.SetRandomSeed(options.Seed);
        var (trainSequences, testSequences) = ReverseData.Sequences(options.Length, options.TrainSamples, options.TestSamples, options.Seed);
        var (encoderX, decoderX, decoderY, _) = ReverseData.Encode(trainSequences);
        var (testEncoderX, testDecoderX, testDecoderY, testIds) = ReverseData.Encode(testSequences);
        log.WriteLine($"Reverse sequences of {options.Length} digits: {options.TrainSamples} training sequences, {options.TestSamples} held-out ones (none seen in training).");
        log.WriteLine($"One-hot over {ReverseData.Vocabulary} tokens (10 digits and a start token); encoder and decoder LSTMs of {options.Units} units.");
        log.WriteLine();

        models = BuildModels(options.Units);
        var model = models.Training;
        model.Compile(optimizer: new Adam(learningRate: 0.005), loss: "categorical_crossentropy", metrics: ["accuracy"]);
        model.Summary(log);
        log.WriteLine();
        var clock = Stopwatch.StartNew();
        model.Fit([encoderX, decoderX], decoderY, batchSize: 64, epochs: options.Epochs, verbose: options.Verbose,
            validationData: ([testEncoderX, testDecoderX], testDecoderY));
        var trainingTime = clock.Elapsed;

        // Teacher-forced accuracy (the decoder sees the true previous digits) is what training
        // reports; greedy decoding (it sees its own) is what a user gets.
        double teacherForced = model.Evaluate([testEncoderX, testDecoderX], testDecoderY, batchSize: 1024, verbose: 0)["accuracy"];
        var decoded = DecodeGreedy(models, testEncoderX, options.Length);
        var right = decoded.eq(testIds);
        double sequenceAccuracy = right.all(1).to_type(ScalarType.Float64).mean().item<double>();
        double characterAccuracy = right.to_type(ScalarType.Float64).mean().item<double>();
        var byPosition = right.to_type(ScalarType.Float64).mean([0]).data<double>().ToArray();
        var result = new Seq2SeqResult(sequenceAccuracy, characterAccuracy, byPosition, teacherForced, trainingTime);

        log.WriteLine();
        log.WriteLine($"Held-out accuracy after {options.Epochs} epochs ({trainingTime.TotalSeconds:F0} s of training):");
        log.WriteLine($"  greedy decoding, whole sequences right   {sequenceAccuracy,7:P1}   (chance {Math.Pow(0.1, options.Length):P3})");
        log.WriteLine($"  greedy decoding, digits right            {characterAccuracy,7:P1}   (chance 10%)");
        log.WriteLine($"  teacher-forced digits right              {teacherForced,7:P1}");
        log.WriteLine($"  digits right by output position          {string.Join("  ", byPosition.Select((a, i) => $"{i + 1}: {a:P0}"))}");
        log.WriteLine();
        log.WriteLine("Some held-out sequences: input → decoded (expected)");
        for (int i = 0; i < Math.Min(5, testSequences.Length); i++)
        {
            var output = decoded[i].data<long>().ToArray();
            string expected = string.Concat(testSequences[i].Reverse());
            log.WriteLine($"  {string.Concat(testSequences[i])} → {string.Concat(output)}  ({expected}){(string.Concat(output) == expected ? "" : "  ✗")}");
        }
        return result;
    }
}
