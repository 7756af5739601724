using SeqSharp.Callbacks;
using SeqSharp.Constraints;
using SeqSharp.Data;
using SeqSharp.Layers;
using SeqSharp.Losses;
using SeqSharp.Metrics;
using SeqSharp.Optimizers;
using SeqSharp.Regularizers;
using SeqSharp.Tests.TestSupport;

namespace SeqSharp.Tests.Docs;

// docs/keras-to-seqsharp.md shows the code between "docs:begin" and "docs:end" as is; the tests below run
// it, and DocsKerasToSeqSharp_ShowsTheTestedCodeVerbatim checks the page.

// docs:begin pydataset
sealed class Windows(Tensor series, int batchSize) : BatchDataset
{
    public override int? BatchCount => (int)((series.shape[0] - 24 + batchSize - 1) / batchSize);

    public override Batch GetBatch(int index)
    {
        long first = (long)index * batchSize;
        var starts = torch.arange(first, Math.Min(first + batchSize, series.shape[0] - 24));
        var x = series[starts.unsqueeze(1) + torch.arange(24)];   // (batch, 24, features)
        var y = series[starts + 24, 0];                           // (batch): feature 0, 24 steps later
        return (x, y);
    }

    public override void OnEpochEnd() { }                       // Keras on_epoch_end, optional
}
// docs:end pydataset

/// <summary>
/// Every C# snippet of docs/keras-to-seqsharp.md, run: each test holds one snippet between
/// <c>docs:begin</c> / <c>docs:end</c> markers and checks what the page says it does.
/// </summary>
[Collection(GlobalStateCollection.Name)]
public class KerasToSeqSharpTests
{
    private static (Tensor X, Tensor Y) Data(int samples, int steps = 12, int features = 3)
    {
        manual_seed(5);
        var x = randn(samples, steps, features);
        var y = x.mean([1L, 2L]).unsqueeze(1);
        return (x, y);
    }

    private static Sequential SmallModel(int steps = 12, int features = 3)
    {
        var model = new Sequential([new LSTM(8, inputShape: [steps, features]), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse");
        return model;
    }

    [Fact]
    public void Generator_WithStepsPerEpochAndValidationSteps()
    {
        var (x, y) = Data(200);
        var (xTrain, yTrain, xVal, yVal) = (x[..160], y[..160], x[160..], y[160..]);
        var model = SmallModel();

        // docs:begin generator
        IEnumerable<(Tensor X, Tensor Y)> Batches(Tensor x, Tensor y, int batchSize)
        {
            while (true)                                    // endless, like a Keras generator
            {
                for (long i = 0; i < x.shape[0]; i += batchSize)
                {
                    long n = Math.Min(batchSize, x.shape[0] - i);
                    yield return (x.narrow(0, i, n), y.narrow(0, i, n));
                }
            }
        }

        var history = model.Fit(Batches(xTrain, yTrain, 32), epochs: 5, stepsPerEpoch: 20,
            validationData: Batches(xVal, yVal, 32), validationSteps: 5, verbose: 0);
        // docs:end generator

        Assert.Equal(5, history["loss"].Count);
        Assert.Equal(5, history["val_loss"].Count);
        Assert.Equal(100, model.Optimizer!.Iterations);
    }

    [Fact]
    public void PyDataset_AndTimeseriesDataset_TrainWithoutMaterialisingWindows()
    {
        manual_seed(6);
        var series = randn(300, 3);
        var model = new Sequential([new LSTM(8, inputShape: [24, 3]), new Dense(1)]);
        model.Compile(optimizer: "adam", loss: "mse");

        // docs:begin pydataset-fit
        model.Fit(new Windows(series, 64), epochs: 2, workers: 2, verbose: 0);   // shuffles batch order each epoch
        // docs:end pydataset-fit
        // 276 windows: 5 batches per epoch.
        Assert.Equal(10, model.Optimizer!.Iterations);
        // Batch 1 by hand: windows start at 64..127 and end 23 steps later; target series[start + 24, 0].
        var batch = new Windows(series, 64).GetBatch(1);
        TensorAssert.Close(series[87, ..], batch.X[0, ^1], atol: 0, what: "last step of the first window of batch 1");
        Assert.Equal(series[64 + 24, 0].item<float>(), batch.Y![0].item<float>());

        // docs:begin timeseries
        using var train = Utils.TimeseriesDataset(series[..^24], series[24.., 0], sequenceLength: 24, batchSize: 64);
        model.Fit(train, epochs: 2, verbose: 0);            // windows are cut batch by batch
        // docs:end timeseries
        // 276 rows give 276 - 23 = 253 windows (Keras's count): 4 batches per epoch.
        Assert.Equal(253, train.Count);
        Assert.Equal(18, model.Optimizer!.Iterations);
    }

    [Fact]
    public void NoneTimeAxis_OneModelTakesAnyLength()
    {
        // docs:begin none-axis
        var model = new Sequential([
            new InputLayer(shape: [null, 14]),              // or: new GRU(32, inputShape: [null, 14])
            new GRU(32),
            new Dense(1),
        ]);
        Tensor a = model.Predict(torch.zeros(2, 50, 14), verbose: 0);    // (2, 1)
        Tensor b = model.Predict(torch.zeros(2, 120, 14), verbose: 0);   // (2, 1): another length, same model
        // docs:end none-axis
        Assert.Equal(new long[] { 2, 1 }, a.shape);
        Assert.Equal(new long[] { 2, 1 }, b.shape);
        var text = new StringWriter();
        model.Summary(text);
        Assert.Contains("(None, 32)", text.ToString());
        Assert.DoesNotContain("InputLayer", text.ToString());
    }

    [Fact]
    public void IntegerArrays_TrainAnEmbeddingClassifier()
    {
        // docs:begin integers
        var random = new Random(0);
        int[,] tokens = new int[256, 20];                  // token ids, as numpy holds them
        int[] labels = new int[256];
        for (int i = 0; i < 256; i++)
        {
            for (int t = 0; t < 20; t++)
                tokens[i, t] = random.Next(1, 1000);
            labels[i] = tokens[i, 0] % 2;
        }
        var model = new Sequential([
            new Embedding(inputDim: 1000, outputDim: 16, inputShape: [20]),
            new LSTM(16),
            new Dense(1, activation: "sigmoid"),
        ]);
        model.Compile(optimizer: "adam", loss: "binary_crossentropy", metrics: ["accuracy"]);
        model.Fit(tokens, labels, epochs: 2, batchSize: 32, verbose: 0);
        // docs:end integers
        Assert.Equal(16, model.Optimizer!.Iterations);

        // docs:begin ragged
        int[][] ragged = [[5, 8, 2], [7], [3, 9]];
        Tensor padded = Utils.PadSequences(ragged, maxlen: 20);  // (3, 20) int32, zeros in front
        // docs:end ragged
        Assert.Equal(new long[] { 3, 20 }, padded.shape);
        Assert.Equal(new[] { 0, 5, 8, 2 }, padded[0, 16..].data<int>().ToArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => model.Predict(ragged, verbose: 0));
        Assert.Contains("PadSequences", e.Message);
    }

    [Fact]
    public void Regularizers_AndConstraints_AddKerasPenalties()
    {
        manual_seed(7);
        // docs:begin regularizers
        var model = new Sequential([
            new LSTM(64, inputShape: [48, 14], kernelRegularizer: "l2", recurrentRegularizer: new L2(1e-4)),
            new LayerNormalization(gammaRegularizer: "l2", betaConstraint: new NonNeg()),
            new Dense(32, activation: "relu", kernelRegularizer: new L1L2(l1: 1e-5, l2: 1e-4), kernelConstraint: new MaxNorm(3)),
            new Dense(1, activityRegularizer: "l1"),
        ]);
        // docs:end regularizers
        var w = model.GetWeights().Select(t => t.to_type(ScalarType.Float64)).ToArray();
        // LSTM kernel, recurrent kernel, bias; LayerNormalization gamma, beta; Dense kernel, bias; Dense kernel, bias.
        double expected = 0.01 * w[0].square().sum().item<double>() + 1e-4 * w[1].square().sum().item<double>()
            + 0.01 * w[3].square().sum().item<double>()
            + 1e-5 * w[5].abs().sum().item<double>() + 1e-4 * w[5].square().sum().item<double>();
        Assert.Equal(expected, model.RegularizationLoss().item<float>(), expected * 1e-5);
    }

    [Fact]
    public void NewNames_CompileAndTrain()
    {
        var (x, y01) = Data(64, steps: 6, features: 2);
        var yBinary = (y01 > 0).to_type(ScalarType.Float32);
        // docs:begin names
        var model = new Sequential([
            new LSTM(16, inputShape: [6, 2], activation: "mish"),
            new Dense(8, activation: "leaky_relu"),
            new Dense(1, activation: "sigmoid"),
        ]);
        model.Compile(optimizer: "nadam", loss: "binary_crossentropy",
            metrics: [new Precision(), new Recall(), new AUC(curve: "PR"), "accuracy"]);
        model.Compile(optimizer: new Adamax(learningRate: 2e-3), loss: new Hinge(), metrics: ["auc"]);

        List<string> fromConfig = ["mae", "precision"];    // names held in a variable
        model.Compile(optimizer: "lion", loss: "squared_hinge", metrics: fromConfig);
        // docs:end names
        var history = model.Fit(x, yBinary, epochs: 1, verbose: 0);
        Assert.Contains("precision", history.Keys);
        Assert.Contains("mae", history.Keys);
    }

    [Fact]
    public void ModelMethods_PopGetLayerJsonAndSingleBatches()
    {
        var (x, y) = Data(16, steps: 5, features: 2);
        var (xb, yb) = (x[..8], y[..8]);
        // docs:begin methods
        var model = new Sequential([
            new LSTM(8, inputShape: [5, 2], name: "encoder"),
            new Dense(4, activation: "relu", name: "hidden"),
            new Dense(1, name: "head"),
        ]);
        Layer first = model.Layers[0];                     // the LSTM: no InputLayer in Layers, as in Keras 3
        Layer removed = model.Pop();                       // model.pop()
        model.Add(new Dense(1, name: "head"));
        Layer head = model.GetLayer("head");               // model.get_layer("head")
        string json = model.ToJson();                      // model.to_json()
        var copy = Sequential.FromJson(json);              // keras.models.model_from_json(json)

        model.Compile(optimizer: "adam", loss: "mse");
        double loss = model.TrainOnBatch(xb, yb);          // one step on one batch
        double testLoss = model.TestOnBatch(xb, yb);
        Tensor prediction = model.PredictOnBatch(xb);
        // docs:end methods
        Assert.Equal("encoder", first.Name);
        Assert.Equal(3, model.Layers.Count);
        Assert.NotSame(removed, head);
        Assert.Same(model.Layers[2], head);
        Assert.Equal(new[] { "encoder", "hidden", "head" }, copy.Layers.Select(l => l.Name));
        Assert.Equal(1, model.Optimizer!.Iterations);
        Assert.True(double.IsFinite(loss));
        // TestOnBatch is the mse of PredictOnBatch on the same batch, by hand.
        Assert.Equal((prediction - yb).square().mean().item<float>(), testLoss, 1e-5);
    }

    [Fact]
    public void Trainable_ChangedAfterTraining_NeedsCompileAgain()
    {
        var (x, y) = Data(32);
        var model = SmallModel();
        model.Fit(x, y, epochs: 1, verbose: 0);
        var frozenBefore = model.Layers[0].GetWeights()[0].clone();
        model.Layers[0].Trainable = false;
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, epochs: 1, verbose: 0));
        Assert.Contains("call Compile() again", e.Message);

        // docs:begin trainable
        model.Layers[0].Trainable = false;                 // freeze the LSTM
        model.Compile(optimizer: "adam", loss: "mse");     // as in Keras: compile again after a change
        model.Fit(x, y, epochs: 1, verbose: 0);
        // docs:end trainable
        TensorAssert.Close(frozenBefore, model.Layers[0].GetWeights()[0], atol: 0, what: "frozen LSTM kernel");
    }

    [Fact]
    public void Cancellation_StopsAtTheNextBatchAndThrows()
    {
        var (x, y) = Data(64);
        var model = SmallModel();
        long steps = -1;
        // docs:begin cancel
        using var stop = new CancellationTokenSource();
        stop.CancelAfter(TimeSpan.FromHours(2));           // a time budget; or stop.Cancel() from a button or Ctrl+C handler
        var watch = new LambdaCallback(onEpochEnd: (epoch, logs) => { if (epoch == 2) stop.Cancel(); });
        try
        {
            model.Fit(x, y, epochs: 1000, callbacks: [watch], cancellationToken: stop.Token, verbose: 0);
        }
        catch (OperationCanceledException)
        {
            steps = model.Optimizer!.Iterations;             // the model keeps its last completed step
        }
        // docs:end cancel
        Assert.Equal(3 * 2, steps);   // 3 epochs of 2 batches, then no further batch
    }

    [Fact]
    public void DocsKerasToSeqSharp_ShowsTheTestedCodeVerbatim()
    {
        string root = RepositoryRoot();
        string source = File.ReadAllText(Path.Combine(root, "tests", "SeqSharp.Tests", "Docs", "KerasToSeqSharpTests.cs"));
        string docs = Lines(File.ReadAllText(Path.Combine(root, "docs", "keras-to-seqsharp.md")));
        int regions = 0;
        for (int at = source.IndexOf("// docs:begin ", StringComparison.Ordinal); at >= 0; at = source.IndexOf("// docs:begin ", at + 1, StringComparison.Ordinal))
        {
            int nameEnd = source.IndexOf('\n', at);
            string region = source[(at + "// docs:begin ".Length)..nameEnd].Trim();
            if (region.Contains('"'))
                continue;   // the marker text in this method
            string code = Lines(Between(source, $"// docs:begin {region}\n", $"// docs:end {region}"));
            Assert.True(docs.Contains(code), $"docs/keras-to-seqsharp.md does not show the '{region}' code of KerasToSeqSharpTests.cs as is:\n{code}");
            regions++;
        }
        Assert.True(regions >= 11, $"Found only {regions} docs regions.");
    }

    private static string Between(string text, string start, string end)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }

    /// <summary>The lines, trimmed (indentation differs between a test method and the docs).</summary>
    private static string Lines(string text) => string.Join("\n", text.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sequential.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Sequential.sln.");
    }
}
