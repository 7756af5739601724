using System.Reflection;
using SeqSharp.Losses;
using static SeqSharp.Tests.Losses.Hand;

namespace SeqSharp.Tests.Losses;

/// <summary>What every loss inherits from <see cref="Loss"/>: weighting, reductions, names, configs.</summary>
public class LossTests
{
    // (batch 2, timesteps 3, 1 feature), the shape of the sequence regressor's targets.
    private static readonly double[] Yt = [0.5, -1.0, 2.0, 1.5, 0.0, -0.5];
    private static readonly double[] Yp = [1.0, -0.5, 1.0, 1.0, 0.25, 0.5];
    private static readonly double[] SquaredErrors = Yt.Zip(Yp, (t, p) => (t - p) * (t - p)).ToArray();

    [Fact]
    public void Call_DefaultReduction_DividesSumByNumberOfValues()
    {
        var loss = new MeanSquaredError();
        Assert.Equal("sum_over_batch_size", loss.Reduction);
        var values = loss.Compute(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1));
        Assert.Equal([2L, 3L], values.shape);
        Close(SquaredErrors, values);
        Assert.Equal(SquaredErrors.Average(), loss.Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1)).item<double>(), 12);
    }

    [Fact]
    public void Call_SumReduction_SumsValues()
    {
        var value = new MeanSquaredError(reduction: "sum").Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1));
        Assert.Equal(0, value.dim());
        Assert.Equal(SquaredErrors.Sum(), value.item<double>(), 12);
    }

    [Fact]
    public void Call_NoneReduction_ReturnsWeightedValues()
    {
        double[] w = [0.5, 2.0];
        var value = new MeanSquaredError(reduction: "none").Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T(w, 2));
        Assert.Equal([2L, 3L], value.shape);
        Close(SquaredErrors.Select((e, i) => e * w[i / 3]).ToArray(), value);
    }

    [Fact]
    public void Call_MeanReduction_EqualsSumOverBatchSize()
    {
        var value = new MeanSquaredError(reduction: "mean").Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1));
        Assert.Equal(SquaredErrors.Average(), value.item<double>(), 12);
    }

    [Fact]
    public void Call_MeanWithSampleWeight_DividesByTotalWeight()
    {
        double[] w = [0.5, 2.0];
        var value = new MeanSquaredError(reduction: "mean_with_sample_weight").Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T(w, 2));
        double expected = SquaredErrors.Select((e, i) => e * w[i / 3]).Sum() / (3 * w.Sum());
        Assert.Equal(expected, value.item<double>(), 12);
    }

    [Fact]
    public void Call_PerSampleWeights_WeightEveryStepOfTheSample()
    {
        double[] w = [0.5, 2.0];
        var value = new MeanSquaredError().Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T(w, 2));
        double expected = SquaredErrors.Select((e, i) => e * w[i / 3]).Sum() / 6;
        Assert.Equal(expected, value.item<double>(), 12);
    }

    [Fact]
    public void Call_PerTimestepWeights_WeightEachStep()
    {
        double[] w = [1.0, 0.0, 2.0, 0.5, 1.5, 3.0];
        double expected = SquaredErrors.Select((e, i) => e * w[i]).Sum() / 6;
        var loss = new MeanSquaredError();
        Assert.Equal(expected, loss.Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T(w, 2, 3)).item<double>(), 12);
        // A trailing axis of size 1 on the weights is squeezed, as in Keras.
        Assert.Equal(expected, loss.Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T(w, 2, 3, 1)).item<double>(), 12);
    }

    [Fact]
    public void Call_ScalarWeight_ScalesTheLoss()
    {
        var value = new MeanSquaredError().Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), tensor(0.25, ScalarType.Float64));
        Assert.Equal(0.25 * SquaredErrors.Average(), value.item<double>(), 12);
    }

    [Fact]
    public void Call_TwoDimensionalInputsWithColumnWeights_WeighsSamples()
    {
        // (batch 2, features 3): one value per sample; weights of shape (batch, 1) as Keras users often pass them.
        double[] w = [3.0, 1.0];
        var value = new MeanSquaredError().Call(T(Yt, 2, 3), T(Yp, 2, 3), T(w, 2, 1));
        var perSample = RowMeans(SquaredErrors, 3);
        Assert.Equal((w[0] * perSample[0] + w[1] * perSample[1]) / 2, value.item<double>(), 12);
    }

    [Fact]
    public void Call_WeightsOfWrongShape_ThrowsSayingExpectedAndReceived()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), T([1.0, 2.0, 3.0], 3)));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("sample_weight.shape=[3]", ex.Message);
        Assert.Throws<ArgumentException>(() => new MeanSquaredError().Call(T(Yt, 2, 3, 1), T(Yp, 2, 3, 1), ones(2, 3, 2, dtype: ScalarType.Float64)));
    }

    [Fact]
    public void Call_MismatchedShapes_ThrowsWithBothShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Call(zeros(4, 3), zeros(4, 2)));
        Assert.Contains("y_true.shape=[4, 3]", ex.Message);
        Assert.Contains("y_pred.shape=[4, 2]", ex.Message);
        Assert.Contains("mean_squared_error", ex.Message);
    }

    [Fact]
    public void Call_Float64TargetsFloat32Predictions_ComputesInPredictionType()
    {
        var value = new MeanSquaredError().Call(T(Yt, 2, 3, 1), F32(Yp, 2, 3, 1));
        Assert.Equal(ScalarType.Float32, value.dtype);
        Assert.Equal(SquaredErrors.Average(), value.item<float>(), 6);
    }

    [Fact]
    public void Ctor_UnknownReduction_ThrowsListingValidOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MeanSquaredError(reduction: "average"));
        Assert.Contains("\"average\"", ex.Message);
        foreach (var valid in new[] { "sum_over_batch_size", "sum", "none" })
            Assert.Contains($"\"{valid}\"", ex.Message);
    }

    [Theory]
    [InlineData("mse", typeof(MeanSquaredError))]
    [InlineData("MSE", typeof(MeanSquaredError))]
    [InlineData("mean_squared_error", typeof(MeanSquaredError))]
    [InlineData("MeanSquaredError", typeof(MeanSquaredError))]
    [InlineData("mae", typeof(MeanAbsoluteError))]
    [InlineData("mean_absolute_error", typeof(MeanAbsoluteError))]
    [InlineData("mape", typeof(MeanAbsolutePercentageError))]
    [InlineData("mean_absolute_percentage_error", typeof(MeanAbsolutePercentageError))]
    [InlineData("msle", typeof(MeanSquaredLogarithmicError))]
    [InlineData("mean_squared_logarithmic_error", typeof(MeanSquaredLogarithmicError))]
    [InlineData("huber", typeof(Huber))]
    [InlineData("huber_loss", typeof(Huber))]
    [InlineData("log_cosh", typeof(LogCosh))]
    [InlineData("logcosh", typeof(LogCosh))]
    [InlineData("binary_crossentropy", typeof(BinaryCrossentropy))]
    [InlineData("bce", typeof(BinaryCrossentropy))]
    [InlineData("categorical_crossentropy", typeof(CategoricalCrossentropy))]
    [InlineData("sparse_categorical_crossentropy", typeof(SparseCategoricalCrossentropy))]
    [InlineData("SparseCategoricalCrossentropy", typeof(SparseCategoricalCrossentropy))]
    public void Get_KerasNameOrAlias_ReturnsThatLossWithDefaults(string name, Type expected)
    {
        var loss = Loss.Get(name);
        Assert.IsType(expected, loss);
        Assert.Equal("sum_over_batch_size", loss.Reduction);
        Loss converted = name;
        Assert.IsType(expected, converted);
    }

    [Fact]
    public void Get_UnknownName_ThrowsListingValidNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => Loss.Get("mean_square_error"));
        Assert.Contains("'mean_square_error'", ex.Message);
        Assert.Contains("mean_squared_error", ex.Message);
        Assert.Contains("sparse_categorical_crossentropy", ex.Message);
    }

    [Theory]
    [InlineData(typeof(MeanSquaredError), "mean_squared_error")]
    [InlineData(typeof(MeanAbsoluteError), "mean_absolute_error")]
    [InlineData(typeof(MeanAbsolutePercentageError), "mean_absolute_percentage_error")]
    [InlineData(typeof(MeanSquaredLogarithmicError), "mean_squared_logarithmic_error")]
    [InlineData(typeof(Huber), "huber_loss")]
    [InlineData(typeof(LogCosh), "log_cosh")]
    [InlineData(typeof(BinaryCrossentropy), "binary_crossentropy")]
    [InlineData(typeof(CategoricalCrossentropy), "categorical_crossentropy")]
    [InlineData(typeof(SparseCategoricalCrossentropy), "sparse_categorical_crossentropy")]
    public void Ctor_Defaults_UseKerasNameAndClassName(Type type, string name)
    {
        var loss = (Loss)Activator.CreateInstance(type, ConfigRoundTrip.DefaultArguments(type))!;
        Assert.Equal(name, loss.Name);
        Assert.Equal(type.Name, loss.ClassName);
    }

    [Fact]
    public void GetConfig_EveryLoss_RebuildsAnEqualLoss()
    {
        var types = typeof(Loss).Assembly.GetTypes().Where(t => t.IsPublic && !t.IsAbstract && t.IsSubclassOf(typeof(Loss))).ToList();
        Assert.Equal(15, types.Count);
        foreach (var type in types)
            ConfigRoundTrip.Check(type, loss => ((Loss)loss).GetConfig());
    }
}
