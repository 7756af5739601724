using SeqSharp.Examples.Seq2SeqReverse;

namespace SeqSharp.Tests.Examples;

[Collection(ExampleCollection.Name)]
public class Seq2SeqReverseTests
{
    [Fact]
    public void Run_SmallForm_DecodesHeldOutSequencesFarAboveChance()
    {
        var log = new StringWriter();
        var result = ExampleCollection.SingleThreaded(() => Seq2SeqExample.Run(Seq2SeqOptions.Small, log));
        // Chance: 10% of the digits, 0.1% of the 3-digit sequences.
        Assert.True(result.CharacterAccuracy > 0.75, $"digit accuracy {result.CharacterAccuracy:P1}\n{log}");
        Assert.True(result.SequenceAccuracy > 0.5, $"sequence accuracy {result.SequenceAccuracy:P1}\n{log}");
        Assert.Equal(Seq2SeqOptions.Small.Length, result.CharacterAccuracyByPosition.Length);
        string text = log.ToString();
        Assert.Contains("decoder_inputs[0][0], encoder[0][1], encoder[0][2]", text);   // the summary's Connected to column
        Assert.Contains("greedy decoding, whole sequences right", text);
    }

    [Fact]
    public void InferenceModels_FedTheTrueDigitsStepByStep_GiveTheTrainingModelsProbabilities()
    {
        // The inference encoder and one-step decoder share the training model's layers: fed the
        // true previous digit at each step, with the states carried from step to step, they must
        // reproduce the teacher-forced model's output at every step (untrained weights suffice).
        Utils.ClearSession();
        Utils.SetRandomSeed(3);
        var models = Seq2SeqExample.BuildModels(units: 8);
        var (train, _) = ReverseData.Sequences(length: 4, train: 6, test: 1, seed: 3);
        var (encoderX, decoderX, _, _) = ReverseData.Encode(train);
        var expected = models.Training.Predict([encoderX, decoderX], verbose: 0);        // (6, 4, 11)

        var states = models.Encoder.PredictMulti(encoderX, verbose: 0);
        Assert.Equal(new long[] { 6, 8 }, states[0].shape);
        var (h, c) = (states[0], states[1]);
        for (int step = 0; step < 4; step++)
        {
            var result = models.Decoder.PredictMulti([decoderX[.., step..(step + 1)], h, c], verbose: 0);
            Assert.Equal(new long[] { 6, 1, ReverseData.Vocabulary }, result[0].shape);
            double difference = (result[0][.., 0] - expected[.., step]).abs().max().item<float>();
            Assert.True(difference < 1e-5, $"step {step}: largest difference {difference:E2}");
            (h, c) = (result[1], result[2]);
        }
        // Not trivially equal: the steps' outputs differ from one another.
        Assert.True((expected[.., 0] - expected[.., 3]).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void Encode_DecoderReadsStartThenTheReversalShiftedAndPredictsTheReversal()
    {
        var (encoderX, decoderX, decoderY, ids) = ReverseData.Encode([[1, 2, 3], [7, 0, 5]]);
        Assert.Equal(new long[] { 2, 3, ReverseData.Vocabulary }, encoderX.shape);
        Assert.Equal(new long[] { 1, 2, 3, 7, 0, 5 }, encoderX.argmax(-1).data<long>().ToArray());
        Assert.Equal(new long[] { ReverseData.Start, 3, 2, ReverseData.Start, 5, 0 }, decoderX.argmax(-1).data<long>().ToArray());
        Assert.Equal(new long[] { 3, 2, 1, 5, 0, 7 }, decoderY.argmax(-1).data<long>().ToArray());
        Assert.Equal(new long[] { 3, 2, 1, 5, 0, 7 }, ids.data<long>().ToArray());
        Assert.Equal(6.0f, decoderX.sum().item<float>());                                   // one-hot: one 1 per step
    }

    [Fact]
    public void Sequences_AreDistinctAndTheHeldOutOnesAreNeverInTraining()
    {
        var (train, test) = ReverseData.Sequences(length: 3, train: 500, test: 200, seed: 1);
        var all = train.Concat(test).Select(s => string.Concat(s)).ToList();
        Assert.Equal(700, all.Distinct().Count());
        Assert.All(train.Concat(test), s => Assert.All(s, d => Assert.InRange(d, 0, 9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReverseData.Sequences(length: 2, train: 90, test: 20, seed: 1));
    }
}
