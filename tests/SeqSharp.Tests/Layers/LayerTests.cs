using SeqSharp.Initializers;
using SeqSharp.Layers;
using SeqSharp.Optimizers;
using TorchSharp.Modules;
using SGD = SeqSharp.Optimizers.SGD;

namespace SeqSharp.Tests.Layers;

/// <summary>The base class's handling of weight kinds, freezing and summaries.</summary>
public class LayerTests
{
    /// <summary>y = x ⊙ scale; in training mode also counts its calls in a non-trainable weight.</summary>
    private sealed class CountingScale() : Layer(null, null, null)
    {
        public Parameter? Scale { get; private set; }
        public Parameter? Calls { get; private set; }
        public override InputSpec InputSpec => new(MinRank: 2);

        protected override void BuildCore(long[] sampleShape)
        {
            Calls = AddWeight("calls", [1], new Zeros(), trainable: false);
            Scale = AddWeight("scale", [sampleShape[^1]], new Ones());
        }

        public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

        public override Tensor forward(Tensor x)
        {
            if (training)
            {
                using var _ = no_grad();
                Calls!.add_(1);
            }
            return x * Scale!;
        }
    }

    [Fact]
    public void Weights_NonTrainableCreatedFirst_TrainableComeFirstInKerasOrder()
    {
        var layer = new CountingScale();
        layer.Build([3]);
        Assert.Same(layer.Scale, layer.Weights[0]);
        Assert.Same(layer.Calls, layer.Weights[1]);
        Assert.Equal([layer.Scale!], layer.TrainableWeights);
        Assert.Equal([layer.Calls!], layer.NonTrainableWeights);
        Assert.False(layer.Calls!.requires_grad);
        Assert.True(layer.Scale!.requires_grad);
        Assert.Equal(4, layer.CountParams());
    }

    [Fact]
    public void Trainable_FalseThenTrue_NeverMakesNonTrainableWeightsTrainable()
    {
        var layer = new CountingScale();
        layer.Build([3]);
        layer.Trainable = false;
        Assert.Empty(layer.TrainableWeights);
        Assert.Equal(2, layer.NonTrainableWeights.Count);
        Assert.False(layer.Scale!.requires_grad);
        layer.Trainable = true;
        Assert.True(layer.Scale.requires_grad);
        Assert.False(layer.Calls!.requires_grad);
    }

    [Fact]
    public void Fit_NonTrainableWeight_NotGivenToOptimizerAndUpdatedOnlyByLayer()
    {
        manual_seed(1);
        var layer = new CountingScale();
        var model = new Sequential([new Dense(3, inputShape: [2]), layer]);
        var optimizer = new SGD(learningRate: 0.1);
        model.Compile(optimizer: optimizer, loss: "mse");
        var x = randn(8, 2);
        var y = randn(8, 3);
        model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);

        Assert.Equal(2.0f, layer.Calls!.item<float>());            // two training batches, none counted by the optimizer
        Assert.NotEqual(1.0f, layer.Scale!.data<float>()[0]);       // the trainable weight moved
        // Optimizer state: iterations, learning rate, and nothing per variable for plain SGD; its
        // shape signature covers Dense's two weights and the scale only.
        optimizer.Build([.. model.Layers.SelectMany(l => l.TrainableWeights)]);
    }

    [Fact]
    public void SummaryText_NonTrainableWeights_CountedAsNonTrainable()
    {
        var model = new Sequential([new Dense(3, inputShape: [2]), new CountingScale()]);
        string text = model.SummaryText();
        Assert.Contains("Total params: 13 ", text);
        Assert.Contains("Trainable params: 12 ", text);
        Assert.Contains("Non-trainable params: 1 ", text);
        model.Layers[0].Trainable = false;
        text = model.SummaryText();
        Assert.Contains("Trainable params: 3 ", text);
        Assert.Contains("Non-trainable params: 10 ", text);
    }

    [Fact]
    public void Constructor_NewLayerAndModel_StartInInferenceModeLikeKeras()
    {
        var layer = new CountingScale();
        Assert.False(layer.training);
        var model = new Sequential([layer]);
        Assert.False(model.training);
        layer.Call(ones(2, 3));
        Assert.Equal(0.0f, layer.Calls!.item<float>());
    }

    /// <summary>A pass-through layer with configurable mask behaviour that records the masks it saw.</summary>
    private sealed class MaskProbe(bool supportsMasking = false, bool makesMask = false, bool returnsStates = false) : Layer(null, null, null)
    {
        public List<Tensor?> Seen { get; } = [];
        public override InputSpec InputSpec => new(MinRank: 2);
        protected override bool SupportsMasking => supportsMasking;
        protected internal override bool ReturnsStates => returnsStates;
        protected override void BuildCore(long[] sampleShape) { }
        public override long[] ComputeOutputShape(long[] sampleShape) => sampleShape;

        public override Tensor forward(Tensor x)
        {
            Seen.Add(null);
            return x.alias();
        }

        protected override Tensor ForwardMasked(Tensor x, Tensor mask)
        {
            Seen.Add(mask);
            return x.alias();
        }

        protected internal override Tensor? ComputeMask(Tensor input, Tensor? mask) =>
            makesMask ? input.ne(0).any(-1) : base.ComputeMask(input, mask);
    }

    [Fact]
    public void Forward_MaskFromFirstLayer_PassedThroughSupportingLayersAndDroppedByOthers()
    {
        var maker = new MaskProbe(makesMask: true);
        var passer = new MaskProbe(supportsMasking: true);
        var user = new MaskProbe();
        var after = new MaskProbe();
        var model = new Sequential([maker, passer, user, after]);
        var x = tensor(new float[] { 1, 2, 0, 0, 3, 0 }, [1, 3, 2]);
        model.Call(x);

        Assert.Null(maker.Seen.Single());
        bool[] expected = [true, false, true];
        Assert.Equal(new long[] { 1, 3 }, passer.Seen.Single()!.shape);
        Assert.Equal(expected, passer.Seen.Single()!.data<bool>().ToArray());
        Assert.Equal(expected, user.Seen.Single()!.data<bool>().ToArray());   // a layer gets the mask even if it does not pass it on
        Assert.Null(after.Seen.Single());                                // ... but the next one does not
    }

    [Fact]
    public void CallWithMask_MaskOfOtherBatchSize_ThrowsNamingShapes()
    {
        var layer = new MaskProbe(supportsMasking: true, makesMask: false);
        var e = Assert.Throws<ArgumentException>(() => layer.CallWithMask(zeros(2, 3, 4), ones(5, 3)));
        Assert.Contains("[5, 3]", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
    }

    [Fact]
    public void CallWithMask_FloatMask_ConvertedToBoolean()
    {
        var layer = new MaskProbe(supportsMasking: true);
        var (_, mask) = layer.CallWithMask(zeros(1, 3, 2), tensor(new float[] { 1, 0, 2 }).reshape(1, 3));
        Assert.Equal(ScalarType.Bool, mask!.dtype);
        Assert.Equal(new[] { true, false, true }, mask.data<bool>().ToArray());
    }

    [Fact]
    public void Add_LayerReturningStates_RefusedWithAdvice()
    {
        var model = new Sequential();
        var e = Assert.Throws<ArgumentException>(() => model.Add(new MaskProbe(returnsStates: true)));
        Assert.Contains("returnState", e.Message);
        Assert.Contains("CallWithState", e.Message);
        Assert.Empty(model.Layers);
    }
}
