using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using SeqSharp.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace SeqSharp.Tests.Functional;

/// <summary>
/// Batch sources for models with several inputs and outputs: generators and datasets whose batches
/// hold one tensor per input and per output, checked against the array path (itself checked against
/// float64 hand computations in MultiOutputTests) and against a float64 computation.
/// </summary>
public sealed class MultiSourceTests
{
    // A sequence input (None time axis) and a static input, a shared trunk, a regression and a class head.
    private static Model TwoInTwoOut(int seed)
    {
        torch.manual_seed(seed);
        var sequence = new Input(shape: [null, 3], name: "sequence");
        var context = new Input(shape: [2], name: "context");
        var joined = new Concatenate().Apply([new LSTM(5, name: "trunk").Apply(sequence), new Dense(3, name: "ctx").Apply(context)]);
        return new Model([sequence, context], [new Dense(1, name: "reg").Apply(joined), new Dense(3, activation: "softmax", name: "cls").Apply(joined)]);
    }

    private static void Compile(Model model) =>
        model.Compile(optimizer: new SGD(learningRate: 0.1), loss: ["mse", "sparse_categorical_crossentropy"], lossWeights: [1.0, 0.5], metrics: [["mae"], ["accuracy"]]);

    private static (Tensor Sequence, Tensor Context, Tensor Reg, Tensor Cls) Data(int n, int steps, int seed)
    {
        torch.manual_seed(seed);
        return (randn(n, steps, 3), randn(n, 2), randn(n, 1), randint(0, 3, [n]));
    }

    private static IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> Slices((Tensor S, Tensor C, Tensor R, Tensor K) d, int batch)
    {
        for (long start = 0; start < d.S.shape[0]; start += batch)
        {
            long n = Math.Min(batch, d.S.shape[0] - start);
            yield return ([d.S.narrow(0, start, n), d.C.narrow(0, start, n)], [d.R.narrow(0, start, n), d.K.narrow(0, start, n)]);
        }
    }

    [Fact]
    public void Fit_OnListBatches_TrainsExactlyAsFitOnTheArraysWithTheSameBatches()
    {
        var fromArrays = TwoInTwoOut(31);
        var fromSource = TwoInTwoOut(32);
        fromSource.SetWeights(fromArrays.GetWeights());
        Compile(fromArrays);
        Compile(fromSource);
        var train = Data(20, 6, 33);
        var validation = Data(7, 6, 34);

        var arrays = fromArrays.Fit([train.Sequence, train.Context], [train.Reg, train.Cls], batchSize: 8, epochs: 3, shuffle: false, verbose: 0,
            validationData: ([validation.Sequence, validation.Context], [validation.Reg, validation.Cls]));
        var source = fromSource.Fit(Slices(train, 8), epochs: 3, verbose: 0, validationData: Slices(validation, 4), workers: 1);

        foreach (var (a, b) in fromArrays.GetWeights().Zip(fromSource.GetWeights()))
            TensorAssert.Close(a, b, atol: 1e-6, what: "weights after 9 steps");
        foreach (var key in new[] { "loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy", "val_loss", "val_cls_loss" })
        {
            for (int epoch = 0; epoch < 3; epoch++)
                Assert.Equal(arrays[key][epoch], source[key][epoch], 5);
        }
    }

    [Fact]
    public void Evaluate_OnBatchesOfDifferentLengths_IsTheSampleWeightedMeanOfAFloat64Computation()
    {
        var model = TwoInTwoOut(41);
        Compile(model);
        var shortBatch = Data(5, 4, 42);
        var longBatch = Data(3, 9, 43);
        IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> Batches()
        {
            yield return ([shortBatch.Sequence, shortBatch.Context], [shortBatch.Reg, shortBatch.Cls]);
            yield return ([longBatch.Sequence, longBatch.Context], [longBatch.Reg, longBatch.Cls]);
        }
        var logs = model.Evaluate(Batches(), verbose: 0);

        // Per-sample losses in float64 from each batch's predictions, then the mean over all 8 samples.
        double mse = 0, sce = 0;
        foreach (var d in new[] { shortBatch, longBatch })
        {
            var outputs = model.PredictMulti([d.Sequence, d.Context], verbose: 0);
            var reg = outputs[0].to_type(ScalarType.Float64);
            var cls = outputs[1].to_type(ScalarType.Float64).clamp(1e-7, 1 - 1e-7);
            mse += (reg - d.Reg.to_type(ScalarType.Float64)).square().sum().item<double>();
            sce += -cls.log().gather(1, d.Cls.unsqueeze(1)).sum().item<double>();
        }
        Assert.Equal(mse / 8, logs["reg_loss"], 5);
        Assert.Equal(sce / 8, logs["cls_loss"], 5);
        Assert.Equal(mse / 8 + 0.5 * sce / 8, logs["loss"], 5);
    }

    [Fact]
    public void Predict_OnListBatches_EqualsPredictOnTheArrays()
    {
        torch.manual_seed(51);
        var sequence = new Input(shape: [null, 3]);
        var context = new Input(shape: [2]);
        var model = new Model([sequence, context], new Dense(2).Apply(new Concatenate().Apply([new GRU(4).Apply(sequence), context])));
        var d = Data(11, 5, 52);
        var expected = model.Predict([d.Sequence, d.Context], verbose: 0);
        var batches = Enumerable.Range(0, 3).Select(k => (IReadOnlyList<Tensor>)[d.Sequence.narrow(0, 4 * k, Math.Min(4, 11 - 4 * k)), d.Context.narrow(0, 4 * k, Math.Min(4, 11 - 4 * k))]);
        TensorAssert.Close(expected, model.Predict(batches, verbose: 0), atol: 1e-6, what: "predictions");
    }

    [Fact]
    public void BatchDataset_OfListBatches_TrainsAsTheGenerator()
    {
        var fromGenerator = TwoInTwoOut(61);
        var fromDataset = TwoInTwoOut(62);
        fromDataset.SetWeights(fromGenerator.GetWeights());
        Compile(fromGenerator);
        Compile(fromDataset);
        var train = Data(12, 5, 63);
        fromGenerator.Fit(Slices(train, 4), epochs: 2, verbose: 0);
        fromDataset.Fit(new ListBatches(train, 4), epochs: 2, verbose: 0, shuffle: false);
        foreach (var (a, b) in fromGenerator.GetWeights().Zip(fromDataset.GetWeights()))
            TensorAssert.Close(a, b, atol: 1e-6, what: "weights");
    }

    [Fact]
    public void GetBatchRows_OfAListBatch_CutsEveryInputAndTarget()
    {
        // What each rank of a data-parallel run asks for: its rows of every part of the batch.
        var d = Data(10, 5, 81);
        var rows = new ListBatches(d, 8).GetBatchRows(0, 3, 4);
        Assert.Equal(2, rows.Inputs!.Count);
        Assert.Equal(2, rows.Targets!.Count);
        TensorAssert.Close(d.Sequence[3..7], rows.Inputs[0], atol: 0, what: "sequence rows");
        TensorAssert.Close(d.Context[3..7], rows.Inputs[1], atol: 0, what: "context rows");
        TensorAssert.Close(d.Reg[3..7], rows.Targets[0], atol: 0, what: "regression targets");
        Assert.Equal(d.Cls[3..7].data<long>().ToArray(), rows.Targets[1].data<long>().ToArray());
        Assert.Same(rows.Inputs[0], rows.X);
    }

    [Fact]
    public void BadBatch_IsNamedWithWhatWasExpected()
    {
        var model = TwoInTwoOut(71);
        Compile(model);
        var d = Data(4, 5, 72);
        IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> Batches()
        {
            yield return ([d.Sequence, d.Context], [d.Reg, d.Cls]);
            yield return ([d.Sequence], [d.Reg, d.Cls]);
        }
        var e = Assert.Throws<ArgumentException>(() => model.Fit(Batches(), epochs: 1, verbose: 0));
        Assert.Contains("Batch 1 of the training data", e.Message);
        Assert.Contains("2 input(s) (sequence, context)", e.Message);

        IEnumerable<(IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)> OneTarget()
        {
            yield return ([d.Sequence, d.Context], [d.Reg]);
        }
        e = Assert.Throws<ArgumentException>(() => model.Evaluate(OneTarget(), verbose: 0));
        Assert.Contains("Batch 0", e.Message);
        Assert.Contains("2 outputs (reg, cls)", e.Message);
        Assert.Throws<ArgumentException>(() => new Batch(Array.Empty<Tensor>()));
    }

    private sealed class ListBatches((Tensor S, Tensor C, Tensor R, Tensor K) data, int size) : BatchDataset
    {
        public override int? BatchCount => (int)((data.S.shape[0] + size - 1) / size);

        public override Batch GetBatch(int index)
        {
            long start = (long)index * size, n = Math.Min(size, data.S.shape[0] - start);
            return new Batch([data.S.narrow(0, start, n), data.C.narrow(0, start, n)], [data.R.narrow(0, start, n), data.K.narrow(0, start, n)]);
        }
    }
}
